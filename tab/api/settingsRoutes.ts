import type { Server } from 'restify';
import { csvLine, type AuditEntry, type Importer } from '../../importer';
import { addAdminBody, adminId, auditQuery } from '../shared/apiSchemas';
import { actorName, auditSentence, type Names } from '../shared/auditWords';
import type { RouteKit } from './routeKit';
import type { AdminAdded, AdminsView, AuditPage } from '../shared/apiResponses';

/** Object ids' display names as far as Graph answers; a Graph that cannot answer leaves the ids as they are. */
export async function namesOf(importer: Importer, ids: Iterable<string>, signal?: AbortSignal): Promise<Names> {
  try {
    const people = await importer.admins.names(ids, { abortSignal: signal });
    return Object.fromEntries([...people].map(([id, p]) => [id, p.displayName ?? p.userPrincipalName]));
  } catch {
    return {};
  }
}

/** Every object id an entry names: its actor, and the admins a settings change or an admin change names. */
function idsIn(entries: AuditEntry[]): Set<string> {
  const ids = new Set<string>();
  for (const e of entries) {
    ids.add(e.actor);
    for (const side of [e.before, e.after]) {
      const admins = (side as { admins?: unknown } | undefined)?.admins;
      if (Array.isArray(admins)) for (const a of admins) if (typeof a === 'string') ids.add(a);
    }
    if (typeof e.detail?.admin === 'string') ids.add(e.detail.admin);
  }
  return ids;
}

/**
 * The settings page's admins list (by display name, added and removed with If-Match) and the
 * audit trail, in words and as CSV.
 */
export function mountSettingsRoutes(server: Server, kit: RouteKit): void {
  const { importer, route, ifMatch } = kit;

  async function adminsView() {
    const [admins, { etag }] = await Promise.all([importer.admins.list({ abortSignal: kit.signal }), importer.connector.settings()]);
    return { admins, etag };
  }

  server.get(
    '/api/tab/admins',
    route(async (_req, res) => void res.json(200, (await adminsView()) satisfies AdminsView)),
  );

  server.post(
    '/api/tab/admins',
    route(async (req, res, caller) => {
      const etag = ifMatch(req);
      const body = await kit.jsonBody(req, addAdminBody);
      const added = await importer.admins.add(body.user, caller.oid, etag, { abortSignal: kit.signal });
      const view = await adminsView();
      if (view.etag) res.header('etag', view.etag);
      res.json(200, { added, ...view } satisfies AdminAdded);
    }),
  );

  server.del(
    '/api/tab/admins/:id',
    route(async (req, res, caller) => {
      const etag = ifMatch(req);
      const id = kit.parse(adminId, req.params.id, 'admin');
      await importer.admins.remove(id, caller.oid, etag);
      const view = await adminsView();
      if (view.etag) res.header('etag', view.etag);
      res.json(200, view satisfies AdminsView);
    }),
  );

  /** The audit entries of the asked window, with the display names of everyone they name. */
  async function namedAudit(req: Parameters<typeof kit.query>[0]) {
    const window = kit.parse(auditQuery, kit.query(req), 'query');
    const entries = await importer.audit.list(window.from, window.to);
    return { entries, names: await namesOf(importer, idsIn(entries), kit.signal) };
  }

  server.get(
    '/api/tab/audit',
    route(async (req, res) => {
      const { entries, names } = await namedAudit(req);
      res.json(200, { entries: entries.map((e) => ({ ...e, who: actorName(e.actor, names), text: auditSentence(e, names) })), names } satisfies AuditPage);
    }),
  );

  server.get(
    '/api/tab/audit.csv',
    route(async (req, res) => {
      const { entries, names } = await namedAudit(req);
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="audit-trail.csv"', 'cache-control': 'no-store' });
      res.write(csvLine(['When (UTC)', 'Who', 'Who (object id)', 'Action', 'What happened']));
      for (const e of entries) res.write(csvLine([e.at, actorName(e.actor, names), e.actor, e.action, auditSentence(e, names)]));
      res.end();
    }),
  );
}
