import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import { ImporterError, MappingFileError, deliveryConfigured, isAdmin, mappingReportCsv, nextRunAt, type ConnectorSettings, type Importer, type RunLogger, type RunRecord } from '../../importer';
import {
  MAX_JSON_BYTES,
  MAX_MAPPING_UPLOAD_BYTES,
  applyMappingQuery,
  backfillBody,
  connectorPatch,
  credentialsBody,
  dailyStatsQuery,
  deliveryBody,
  describeIssues,
  exportMappingQuery,
  mapNumberBody,
  preflightBody,
  restoreMappingBody,
  runId,
  runsQuery,
  unmapNumberBody,
} from '../shared/apiSchemas';
import { stepLabel, unfinishedSteps, type SetupState } from '../shared/setupProgress';
import { BodyTooLarge, readCappedBody } from './requestBody';
import { mountSettingsRoutes, namesOf } from './settingsRoutes';
import { TokenRefusal, UserTokenValidator, type TabCaller, type UserTokenOptions } from './userToken';

export type TabAuthentication = ({ mode: 'authenticated' } & UserTokenOptions) | { mode: 'localUnauthenticated' };

export interface TabApiOptions {
  importer: Importer;
  auth: TabAuthentication;
  log: RunLogger;
}

/** The tab's REST API: mounted on the server, stopped with it (its reads and checks are abandoned; runs are the importer's to stop). */
export interface TabApi {
  mount(server: Server): void;
  stop(): Promise<void>;
}

/** A refusal with its HTTP status and a stable code; the message is what the admin reads. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const LOCAL_CALLER: TabCaller = { oid: 'local-dev', name: 'Local development (unauthenticated)' };
const RUN_LOG_ROWS = 500;

// Importer errors the admin can act on, with the status that says what kind of problem it is.
const IMPORTER_STATUS: Partial<Record<ImporterError['code'], number>> = {
  NotFound: 404,
  Conflict: 412,
  RunInProgress: 409,
  ConfirmationRequired: 409,
  InvalidMappingCsv: 422,
  InvalidPhoneNumber: 422,
  InvalidMailbox: 422,
  UnknownMailbox: 422,
  InvalidMailboxAddress: 422,
  InvalidSetting: 422,
  LastAdmin: 409,
  MailboxNotEnabled: 422,
  SourceAuthFailed: 422,
  SourceUnavailable: 502,
  SourceProtocolError: 502,
  ShuttingDown: 503,
};

export function createTabApi(options: TabApiOptions): TabApi {
  const { importer, log } = options;
  const validator = options.auth.mode === 'authenticated' ? new UserTokenValidator(options.auth) : undefined;
  void validator?.warm();
  const stopping = new AbortController();

  /** The caller, once their token is valid and they are one of the connector's admins. */
  async function admin(req: Request): Promise<TabCaller> {
    if (!validator) return LOCAL_CALLER;
    const caller = await validator.validate(req.headers.authorization);
    const settings = (await importer.connector.settings()).value;
    const admins = settings.admins ?? [];
    if (!isAdmin(settings, caller.oid)) {
      // Named so the person refused knows whom to ask; the ids stay for an admin center search.
      const names = await namesOf(importer, admins, stopping.signal);
      throw new ApiError(
        403,
        'NotAnAdmin',
        `You are signed in${caller.username ? ` as ${caller.username}` : ''}, but only the connector's admins can use this page. One of them can add your object id (${caller.oid}) to the connector's admins, in this tab's settings.`,
        { admins, adminNames: names, caller: { oid: caller.oid, name: caller.name, username: caller.username } },
      );
    }
    return caller;
  }

  type Handler = (req: Request, res: Response, caller: TabCaller) => Promise<void>;
  // restify 12 takes an async handler with two arguments and ends the chain when it settles.
  const route = (handler: Handler) => async (req: Request, res: Response) => {
    try {
      res.header('cache-control', 'no-store');
      await handler(req, res, await admin(req));
    } catch (err) {
      if (res.headersSent) return void res.end();
      refuse(res, err);
    }
  };

  function refuse(res: Response, err: unknown): void {
    if (err instanceof TokenRefusal) {
      res.header('www-authenticate', 'Bearer error="invalid_token"');
      return void res.json(401, { error: { code: err.code, message: err.message } });
    }
    if (err instanceof ApiError) return void res.json(err.status, { error: { code: err.code, message: err.message, ...err.extra } });
    if (err instanceof BodyTooLarge) return void res.json(413, { error: { code: err.code, message: err.message } });
    if (err instanceof MappingFileError) {
      return void res.json(422, {
        error: { code: err.code, reason: err.reason, message: err.message, problems: err.problems, reportCsv: err.problems.length ? mappingReportCsv(err.problems) : undefined },
      });
    }
    if (err instanceof ImporterError && IMPORTER_STATUS[err.code]) return void res.json(IMPORTER_STATUS[err.code]!, { error: { code: err.code, message: err.message, details: err.details } });
    // Anything else stays in the log: its message may name internals.
    log.error({ err: { message: (err as Error).message, code: (err as { code?: string }).code } }, 'tab API request failed');
    res.json(500, { error: { code: 'InternalError', message: 'The archiver could not do that; the server log has the details.' } });
  }

  function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
    const result = schema.safeParse(value);
    if (!result.success) throw new ApiError(400, 'InvalidRequest', `The ${what} is not valid: ${describeIssues(result.error)}.`);
    return result.data;
  }

  async function jsonBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.output<S>> {
    const body = await readCappedBody(req, MAX_JSON_BYTES);
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8') || 'null');
    } catch {
      throw new ApiError(400, 'InvalidRequest', 'The request body is not JSON.');
    }
    return parse(schema, value, 'request');
  }

  const query = (req: Request) => (req.query ?? {}) as Record<string, unknown>;

  function ifMatch(req: Request): string {
    const etag = req.headers['if-match'];
    if (typeof etag !== 'string' || !etag)
      throw new ApiError(428, 'PreconditionRequired', "Send the connector's ETag (from GET /api/tab/connector) as If-Match, so a change made by someone else in between is not overwritten.");
    return etag;
  }

  /**
   * Starts a run and answers once it is recorded; what it refuses before that (another run, no
   * sign-in) is the answer. The importer's run starter owns the run from then on: the server's stop stops it.
   */
  function startRun(start: (watch: { onStarted: (run: RunRecord) => void }) => Promise<RunRecord>): Promise<RunRecord> {
    return new Promise<RunRecord>((resolve, reject) => {
      start({ onStarted: resolve })
        .then((run) => resolve(run))
        .catch((err: Error) => {
          reject(err);
          log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'a run started from the tab did not complete');
        });
    });
  }

  // The TeleMessage step is done once the chosen delivery has what it needs (a sign-in, a capture mailbox, a landing container).
  const setupState = (settings: ConnectorSettings): SetupState => ({ ...settings, telemessageConfigured: deliveryConfigured(settings) });

  /** How TeleMessage delivers, named for the admin; for the API, the username only, never the password. */
  const telemessageStatus = () => importer.delivery.status();

  /** What is failing across every window, as `status` and the chart count it (docs/counts.md). */
  async function failureTotals() {
    const { outstanding, acknowledged } = await importer.runs.failures({ abortSignal: stopping.signal });
    return { outstandingItems: new Set(outstanding.map((f) => f.itemId)).size, acknowledgedItems: new Set(acknowledged.map((f) => f.itemId)).size };
  }

  async function connectorView() {
    const { value, etag } = await importer.connector.settings();
    const [lastRun] = await importer.runs.list({ top: 1 });
    return {
      etag,
      body: {
        settings: {
          scheduleUtc: value.scheduleUtc,
          scheduleTimeZone: value.scheduleTimeZone,
          folderName: value.folderName,
          automaticMapping: value.automaticMapping,
          defaultCountry: value.defaultCountry,
          tenantDomains: value.tenantDomains,
          admins: value.admins ?? [],
          mappingVersion: value.mappingVersion,
          termsAcceptedAt: value.termsAcceptedAt,
          mappingConfirmedAt: value.mappingConfirmedAt,
          consentedAt: value.consentedAt,
          setupCompletedAt: value.setupCompletedAt,
        },
        telemessage: await telemessageStatus(),
        status: { lastRun, running: lastRun?.status === 'running', nextRunAt: nextRunAt(value.scheduleUtc, new Date()), failures: await failureTotals() },
      },
    };
  }

  function csv(res: Response, filename: string): void {
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"`, 'cache-control': 'no-store' });
  }

  async function streamCsv(res: Response, filename: string, lines: AsyncIterable<string>): Promise<void> {
    const iterator = lines[Symbol.asyncIterator]();
    // The first line is read before the headers go, so a missing run or version is still a 404.
    const first = await iterator.next();
    csv(res, filename);
    if (!first.done) res.write(first.value);
    for (let line = await iterator.next(); !line.done; line = await iterator.next()) {
      if (!res.write(line.value)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  }

  function mount(server: Server): void {
    server.get(
      '/api/tab/me',
      route(async (_req, res, caller) => void res.json(200, { ...caller, admin: true })),
    );

    server.get(
      '/api/tab/connector',
      route(async (_req, res) => {
        const view = await connectorView();
        if (view.etag) res.header('etag', view.etag);
        res.json(200, { ...view.body, etag: view.etag });
      }),
    );

    server.patch(
      '/api/tab/connector',
      route(async (req, res, caller) => {
        const etag = ifMatch(req);
        const patch = await jsonBody(req, connectorPatch);
        const { termsAccepted, mappingConfirmed, consented, setupCompleted, ...changes } = patch;
        const now = new Date().toISOString();
        const updates = { ...changes, ...(termsAccepted && { termsAcceptedAt: now }), ...(mappingConfirmed && { mappingConfirmedAt: now }), ...(consented && { consentedAt: now }) };
        if (setupCompleted) {
          // Finishing needs every step saved, this request's own changes included.
          const missing = unfinishedSteps(setupState({ ...(await importer.connector.settings()).value, ...updates }));
          if (missing.length) throw new ApiError(409, 'SetupIncomplete', `The setup cannot be finished yet: ${missing.map(stepLabel).join(', ')} still to do.`, { missing });
        }
        await importer.connector.update({ ...updates, ...(setupCompleted && { setupCompletedAt: now }) }, caller.oid, { etag });
        const view = await connectorView();
        if (view.etag) res.header('etag', view.etag);
        res.json(200, { ...view.body, etag: view.etag });
      }),
    );

    server.get(
      '/api/tab/runs',
      route(async (req, res) => {
        const q = parse(runsQuery, query(req), 'query');
        const runs = await importer.runs.list({ top: q.pageSize + 1, after: q.after });
        const page = runs.slice(0, q.pageSize);
        res.json(200, { runs: page, next: runs.length > q.pageSize ? page[page.length - 1].runId : undefined });
      }),
    );

    server.post(
      '/api/tab/runs',
      route(async (req, res, caller) => {
        await jsonBody(req, z.object({}).strict().nullable());
        const run = await startRun((w) => importer.runs.start(caller.oid, { trigger: 'manual', ...w }));
        res.json(202, { run });
      }),
    );

    server.get(
      '/api/tab/runs/:runId',
      route(async (req, res) => {
        const id = parse(runId, req.params.runId, 'run id');
        const run = await importer.runs.get(id);
        const log = [];
        let more = false;
        for await (const row of importer.runs.log(id)) {
          if (log.length >= RUN_LOG_ROWS) {
            more = true;
            break;
          }
          log.push(row);
        }
        res.json(200, { run, log, logTruncated: more });
      }),
    );

    server.get(
      '/api/tab/runs/:runId/log.csv',
      route(async (req, res) => {
        const id = parse(runId, req.params.runId, 'run id');
        await importer.runs.get(id);
        await streamCsv(res, `run-${id}.csv`, importer.runs.logCsv(id));
      }),
    );

    server.post(
      '/api/tab/runs/:runId/rerun',
      route(async (req, res, caller) => {
        const id = parse(runId, req.params.runId, 'run id');
        await jsonBody(req, z.object({}).strict().nullable());
        await importer.runs.get(id);
        const run = await startRun((w) => importer.runs.rerun(id, caller.oid, w));
        res.json(202, { run });
      }),
    );

    server.post(
      '/api/tab/backfill',
      route(async (req, res, caller) => {
        const window = await jsonBody(req, backfillBody);
        const run = await startRun((w) => importer.runs.backfill({ from: new Date(window.from), to: new Date(window.to) }, caller.oid, w));
        res.json(202, { run });
      }),
    );

    server.get(
      '/api/tab/failures',
      route(async (_req, res) => void res.json(200, await importer.runs.failures({ abortSignal: stopping.signal }))),
    );

    server.post(
      '/api/tab/failures/:itemId/acknowledge',
      route(async (req, res, caller) => {
        const etag = ifMatch(req);
        const itemId = parse(z.string().min(1).max(300), req.params.itemId, 'item id');
        const body = await jsonBody(req, z.object({ reason: z.string().trim().min(1, 'say why').max(500) }).strict());
        // A stale page is refused: the admin acknowledges what they saw, not what changed since.
        if ((await importer.connector.settings()).etag !== etag) throw new ImporterError('Conflict', 'The connector was changed by someone else; reload and try again.');
        res.json(200, { acknowledged: await importer.runs.acknowledgeFailure(itemId, body.reason, caller.oid, { abortSignal: stopping.signal }) });
      }),
    );

    server.get(
      '/api/tab/unmapped',
      route(async (_req, res) => void res.json(200, await importer.mapping.unmappedReport())),
    );

    server.post(
      '/api/tab/mapping/numbers',
      route(async (req, res, caller) => {
        const etag = ifMatch(req);
        const body = await jsonBody(req, mapNumberBody);
        res.json(200, await importer.mapping.mapNumber(body.number, body.mailbox, caller.oid, { etag, abortSignal: stopping.signal }));
      }),
    );

    server.del(
      '/api/tab/mapping/numbers/:number',
      route(async (req, res, caller) => {
        const etag = ifMatch(req);
        const body = parse(unmapNumberBody, { number: req.params.number }, 'number');
        res.json(200, await importer.mapping.unmapNumber(body.number, caller.oid, { etag, abortSignal: stopping.signal }));
      }),
    );

    server.post(
      '/api/tab/mapping/preview',
      route(async (req, res) => {
        const file = await readCappedBody(req, MAX_MAPPING_UPLOAD_BYTES);
        const preview = await importer.mapping.preview(file, { abortSignal: stopping.signal });
        res.json(200, { ...preview, reportCsv: preview.check.problems.length ? mappingReportCsv(preview.check.problems) : undefined });
      }),
    );

    server.put(
      '/api/tab/mapping',
      route(async (req, res, caller) => {
        const etag = ifMatch(req);
        const q = parse(applyMappingQuery, query(req), 'query');
        const file = await readCappedBody(req, MAX_MAPPING_UPLOAD_BYTES);
        res.json(200, await importer.mapping.apply(file, caller.oid, { etag, confirmRemovals: q.confirmRemovals, abortSignal: stopping.signal }));
      }),
    );

    server.get(
      '/api/tab/mapping/versions',
      route(async (_req, res) => void res.json(200, { versions: await importer.mapping.versions({ top: 100, abortSignal: stopping.signal }) })),
    );

    server.post(
      '/api/tab/mapping/restore',
      route(async (req, res, caller) => {
        const etag = ifMatch(req);
        const body = await jsonBody(req, restoreMappingBody);
        res.json(200, await importer.mapping.restore(body.version, caller.oid, { etag, confirmRemovals: body.confirmRemovals, abortSignal: stopping.signal }));
      }),
    );

    server.get(
      '/api/tab/mapping.csv',
      route(async (req, res) => {
        const q = parse(exportMappingQuery, query(req), 'query');
        await streamCsv(res, q.version ? `mapping-${q.version}.csv` : 'mapping.csv', importer.mapping.export({ version: q.version, abortSignal: stopping.signal }));
      }),
    );

    server.get(
      '/api/tab/telemessage',
      route(async (_req, res) => void res.json(200, await telemessageStatus())),
    );

    server.put(
      '/api/tab/telemessage',
      route(async (req, res, caller) => {
        const etag = ifMatch(req);
        const body = await jsonBody(req, credentialsBody);
        // A stale page is refused before TeleMessage is asked; the importer checks the ETag again as it stores.
        if ((await importer.connector.settings()).etag !== etag) throw new ImporterError('Conflict', 'The connector was changed by someone else; reload and try again.');
        // TeleMessage answers first: a wrong password is refused and nothing is stored.
        await importer.connector.checkTeleMessageCredentials(body.username, body.password, { abortSignal: stopping.signal });
        await importer.connector.setTeleMessageCredentials(body.username, body.password, caller.oid, { etag });
        res.json(200, await telemessageStatus());
      }),
    );

    server.put(
      '/api/tab/delivery',
      route(async (req, res, caller) => {
        const etag = ifMatch(req);
        const body = await jsonBody(req, deliveryBody);
        await importer.delivery.set(body, caller.oid, { etag });
        const view = await connectorView();
        if (view.etag) res.header('etag', view.etag);
        res.json(200, { ...view.body, etag: view.etag });
      }),
    );

    // Read-only (a delta read, one $value; a listing, one manifest): it changes nothing, so it needs no If-Match.
    server.post(
      '/api/tab/delivery/check',
      route(async (req, res) => {
        const body = await jsonBody(req, deliveryBody);
        if (body.delivery === 'api') throw new ApiError(400, 'InvalidRequest', 'The archive API is checked by signing in to TeleMessage (PUT /api/tab/telemessage).');
        res.json(200, await importer.delivery.check(body, { abortSignal: stopping.signal }));
      }),
    );

    server.post(
      '/api/tab/preflight',
      route(async (req, res, caller) => {
        const body = await jsonBody(req, preflightBody);
        res.json(200, await importer.connector.preflight(body.mailbox, caller.oid, { abortSignal: stopping.signal }));
      }),
    );

    mountSettingsRoutes(server, { importer, route, ifMatch, jsonBody, parse, query, signal: stopping.signal });

    server.get(
      '/api/tab/stats/daily',
      route(async (req, res) => {
        const q = parse(dailyStatsQuery, query(req), 'query');
        res.json(200, { days: await importer.runs.dailyCounts(q.days) });
      }),
    );
  }

  return {
    mount,
    stop: async () => {
      stopping.abort();
    },
  };
}
