import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import type { Client } from '@microsoft/microsoft-graph-client';
import { RetryPolicy, parseRetryAfter, type FailureClass } from '../retryPolicy';
import { type MailboxSink } from '../sink/mailboxSink';
import { ARCHIVE_KEY_PROPERTY, CLIENT_SUBMIT_TIME, MESSAGE_DELIVERY_TIME, MESSAGE_FLAGS } from '../sink/messageProperties';
import { SESSION_MIN_BYTES } from '../sink/attachmentPlan';

/**
 * The tenant preflight: in the admin's own tenant, against the one test mailbox the admin names,
 * each Graph behaviour the archiver relies on is tried for real and reported as passed or failed
 * with Graph's own answer. Several of them are not documented (a non-draft item made by a create,
 * an upload session on a non-draft item, the session minimum), so only a real tenant can say.
 * Every request names that mailbox only; what it creates it removes.
 */
export type PreflightCheckName = 'token' | 'permissions' | 'user' | 'mailbox' | 'folder' | 'nonDraftMessage' | 'keyLookup' | 'inlineAttachment' | 'uploadSession' | 'cleanup';

export interface PreflightCheck {
  name: PreflightCheckName;
  /** What was checked, for the admin. */
  title: string;
  status: 'passed' | 'failed' | 'skipped';
  /** What was found. */
  detail: string;
  /** Graph's (or Entra's) own answer, when one refused. */
  error?: { status: number; code: string; message: string };
  /** Passed, but something the admin should change. */
  warning?: string;
}

export interface PreflightReport {
  mailbox: string;
  startedAt: Date;
  /** Every check passed. */
  ok: boolean;
  checks: PreflightCheck[];
}

export interface PreflightContext {
  client: Client;
  credential: TokenCredential;
  /** Reused for the archive folder, found (hidden or not) or created as a run does it. */
  sink: MailboxSink;
  folderName: string;
  fetch?: typeof fetch;
  retry?: RetryPolicy;
  abortSignal?: AbortSignal;
}

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const MB = 1024 * 1024;
/** Past the 3 MB Graph documents for sessions, so it proves a session whatever the tenant's true minimum. */
const UPLOAD_BYTES = 5 * 1000 * 1000;
const RANGE_BYTES = 4 * MB;

const TITLES: Record<PreflightCheckName, string> = {
  token: 'An app-only token for Microsoft Graph',
  permissions: 'Application permissions User.Read.All and Mail.ReadWrite',
  user: 'The test mailbox is a Microsoft 365 user',
  mailbox: 'The user has an Exchange Online mailbox Graph can reach',
  folder: 'The archive folder is found (hidden or not) or created',
  nonDraftMessage: 'A message created as a non-draft item with its sent and received times',
  keyLookup: 'The archive-key extended property finds that message',
  inlineAttachment: 'A small attachment added to the non-draft message',
  uploadSession: 'A 5 MB attachment added to the non-draft message by upload session',
  cleanup: 'Everything the preflight created is removed',
};

const ORDER = Object.keys(TITLES) as PreflightCheckName[];

class CheckFailed extends Error {
  constructor(
    message: string,
    readonly error?: PreflightCheck['error'],
  ) {
    super(message);
  }
}

export async function runTenantPreflight(mailbox: string, ctx: PreflightContext): Promise<PreflightReport> {
  const startedAt = new Date();
  const checks = new Map<PreflightCheckName, PreflightCheck>();
  const signal = ctx.abortSignal;
  const retry = ctx.retry ?? new RetryPolicy({ maxAttempts: 5 });
  const fetchImpl = ctx.fetch ?? fetch;
  const graph = <T>(op: () => Promise<T>): Promise<T> => retry.run(op, transientOnly, { abortSignal: signal });

  /** Runs one check unless one it needs failed; its failure is recorded, never thrown. */
  const check = async <T>(name: PreflightCheckName, needs: PreflightCheckName[], work: () => Promise<{ value: T; detail: string; warning?: string }>): Promise<T | undefined> => {
    const unmet = needs.find((n) => checks.get(n)?.status !== 'passed');
    if (unmet) {
      checks.set(name, { name, title: TITLES[name], status: 'skipped', detail: `not run: "${TITLES[unmet]}" did not pass` });
      return undefined;
    }
    try {
      const { value, detail, warning } = await work();
      checks.set(name, { name, title: TITLES[name], status: 'passed', detail, ...(warning && { warning }) });
      return value;
    } catch (err) {
      signal?.throwIfAborted();
      const error = err instanceof CheckFailed ? err.error : graphAnswer(err);
      checks.set(name, { name, title: TITLES[name], status: 'failed', detail: (err as Error).message, ...(error && { error }) });
      return undefined;
    }
  };

  const roles = await check('token', [], async () => {
    const token = await ctx.credential.getToken(GRAPH_SCOPE, { abortSignal: signal });
    if (!token) throw new CheckFailed('Entra ID issued no token');
    const found = tokenRoles(token.token);
    return { value: found, detail: `issued; roles in the token: ${found.length ? found.join(', ') : 'none'}` };
  });

  await check('permissions', ['token'], async () => {
    const have = new Set(roles ?? []);
    if (!have.has('User.Read.All')) {
      throw new CheckFailed('User.Read.All is not granted (with admin consent) to the app: participants cannot be matched to Microsoft 365 users');
    }
    if (have.has('Mail.ReadWrite')) {
      return {
        value: undefined,
        detail: 'User.Read.All granted; Mail.ReadWrite granted in Entra ID',
        warning:
          'Mail.ReadWrite in the token is a tenant-wide grant that RBAC for Applications cannot scope: remove it from the app registration and grant it only through an Exchange Online management role assignment scoped to the archived mailboxes',
      };
    }
    return { value: undefined, detail: 'User.Read.All granted; Mail.ReadWrite not in the token, as with RBAC for Applications (the checks below prove access to this mailbox)' };
  });

  const user = await check('user', ['token'], async () => {
    const found = await graph(
      () =>
        ctx.client
          .api(`/users/${encodeURIComponent(mailbox)}`)
          .select('id,userPrincipalName,mail')
          .get() as Promise<{ id: string; userPrincipalName: string }>,
    );
    return { value: found, detail: `${found.userPrincipalName} (${found.id})` };
  });
  const base = user && `/users/${user.id}`;

  await check('mailbox', ['user'], async () => {
    const inbox = await graph(() => ctx.client.api(`${base}/mailFolders/inbox`).select('id').get() as Promise<{ id: string }>);
    return { value: inbox.id, detail: 'the Inbox answers' };
  });

  const folder = await check('folder', ['mailbox'], async () => {
    const existing = await ctx.sink.findFolder(user!.id, signal);
    const id = existing ?? (await ctx.sink.ensureFolder(user!.id, signal));
    return { value: { id, created: existing === undefined }, detail: existing ? `"${ctx.folderName}" already there; it stays` : `"${ctx.folderName}" created (it is removed at the end)` };
  });

  const at = new Date(Math.floor((Date.now() - 3_600_000) / 1000) * 1000);
  const archiveKey = `preflight-${randomUUID()}`;
  let createdMessage: string | undefined;
  const message = await check('nonDraftMessage', ['folder'], async () => {
    const created = await graph(
      () =>
        ctx.client.api(`${base}/mailFolders/${folder!.id}/messages`).post({
          subject: 'Enterprise Number Archiver preflight (removed at the end)',
          body: { contentType: 'text', content: 'A test item of the tenant preflight. It is deleted when the preflight ends.' },
          isRead: true,
          singleValueExtendedProperties: [
            { id: MESSAGE_FLAGS, value: '1' },
            { id: CLIENT_SUBMIT_TIME, value: at.toISOString() },
            { id: MESSAGE_DELIVERY_TIME, value: at.toISOString() },
            { id: ARCHIVE_KEY_PROPERTY, value: archiveKey },
          ],
        }) as Promise<{ id: string }>,
    );
    const read = await graph(
      () => ctx.client.api(`${base}/messages/${created.id}`).select('isDraft,sentDateTime,receivedDateTime').get() as Promise<{ isDraft: boolean; sentDateTime: string; receivedDateTime: string }>,
    );
    const problems = [
      ...(read.isDraft ? ['it is a draft (isDraft true): the message flags set at create were not applied'] : []),
      ...(Date.parse(read.sentDateTime) !== at.getTime() ? [`sentDateTime is ${read.sentDateTime}, not ${at.toISOString()}`] : []),
      ...(Date.parse(read.receivedDateTime) !== at.getTime() ? [`receivedDateTime is ${read.receivedDateTime}, not ${at.toISOString()}`] : []),
    ];
    // Created either way: cleanup must remove it even when the check fails.
    createdMessage = created.id;
    if (problems.length) throw new CheckFailed(`created, but ${problems.join('; ')}`);
    return { value: created.id, detail: `isDraft false, sent and received ${at.toISOString()}` };
  });

  await check('keyLookup', ['nonDraftMessage'], async () => {
    const ids = await ctx.sink.messagesWithKey(user!.id, folder!.id, archiveKey, signal);
    if (ids.length !== 1 || ids[0] !== message) throw new CheckFailed(`the lookup by ${ARCHIVE_KEY_PROPERTY} found ${ids.length} message(s), not the one created`);
    return { value: undefined, detail: 'found exactly the message created' };
  });

  await check('inlineAttachment', ['nonDraftMessage'], async () => {
    const text = Buffer.from('Enterprise Number Archiver preflight attachment\r\n');
    const added = await graph(
      () =>
        ctx.client.api(`${base}/messages/${message}/attachments`).post({
          '@odata.type': '#microsoft.graph.fileAttachment',
          name: 'preflight.txt',
          contentType: 'text/plain',
          contentBytes: text.toString('base64'),
        }) as Promise<{ id: string; size?: number }>,
    );
    return { value: added.id, detail: `attached (${text.length} bytes)` };
  });

  await check('uploadSession', ['nonDraftMessage'], async () => {
    const session = await graph(
      () =>
        ctx.client.api(`${base}/messages/${message}/attachments/createUploadSession`).post({
          AttachmentItem: { attachmentType: 'file', name: 'preflight.bin', size: UPLOAD_BYTES, contentType: 'application/octet-stream' },
        }) as Promise<{ uploadUrl: string }>,
    );
    const bytes = Buffer.alloc(UPLOAD_BYTES, 0x5a);
    for (let start = 0; start < UPLOAD_BYTES; start += RANGE_BYTES) {
      const end = Math.min(start + RANGE_BYTES, UPLOAD_BYTES) - 1;
      const res = await fetchImpl(session.uploadUrl, {
        method: 'PUT',
        headers: { 'content-range': `bytes ${start}-${end}/${UPLOAD_BYTES}`, 'content-type': 'application/octet-stream' },
        body: bytes.subarray(start, end + 1),
        signal,
      });
      if (res.status >= 400) throw new CheckFailed(`the range ${start}-${end} was refused`, await fetchAnswer(res));
      await res.arrayBuffer();
      if (end + 1 === UPLOAD_BYTES && res.status !== 201) throw new CheckFailed(`the last range was answered ${res.status}, not 201 Created`);
    }
    const listed = await graph(() => ctx.client.api(`${base}/messages/${message}/attachments`).select('name,size').get() as Promise<{ value: { name: string; size: number }[] }>);
    if (!listed.value.some((a) => a.name === 'preflight.bin')) throw new CheckFailed('every range was taken, but the message lists no such attachment');
    const detail = `${UPLOAD_BYTES} bytes in ${Math.ceil(UPLOAD_BYTES / RANGE_BYTES)} ranges; the message lists the attachment`;
    // The archiver opens sessions from 2 MiB, under the documented 3 MB: open one, then cancel it unused.
    const minimum = await graph(
      () =>
        ctx.client.api(`${base}/messages/${message}/attachments/createUploadSession`).post({
          AttachmentItem: { attachmentType: 'file', name: 'preflight-minimum.bin', size: SESSION_MIN_BYTES, contentType: 'application/octet-stream' },
        }) as Promise<{ uploadUrl: string }>,
    ).then(
      async (small) => {
        await (await fetchImpl(small.uploadUrl, { method: 'DELETE', signal })).arrayBuffer();
        return undefined;
      },
      (err: unknown) => graphAnswer(err) ?? { status: 0, code: '', message: (err as Error).message },
    );
    if (!minimum) return { value: undefined, detail: `${detail}; a ${SESSION_MIN_BYTES}-byte session is taken too` };
    return {
      value: undefined,
      detail,
      warning: `a ${SESSION_MIN_BYTES}-byte (2 MiB) session was refused (${minimum.status} ${minimum.code}: ${minimum.message}): attachments from 2 MiB to 3 MB will stay in Blob Storage, listed in a note on their message`,
    };
  });

  // Cleanup runs whatever failed before: nothing of the preflight stays in the mailbox.
  const cleanupNeeds: PreflightCheckName[] = createdMessage || folder?.created ? [] : ['folder'];
  await check('cleanup', cleanupNeeds, async () => {
    const done: string[] = [];
    if (createdMessage) {
      await graph(() => ctx.client.api(`${base}/messages/${createdMessage}/permanentDelete`).post({}));
      const gone = await ctx.client
        .api(`${base}/messages/${createdMessage}`)
        .select('id')
        .get()
        .then(
          () => false,
          (err: unknown) => graphAnswer(err)?.status === 404,
        );
      if (!gone) throw new CheckFailed('the test message is still there after permanentDelete');
      done.push('test message deleted for good');
    }
    if (folder?.created) {
      await graph(() => ctx.client.api(`${base}/mailFolders/${folder.id}/permanentDelete`).post({}));
      done.push(`"${ctx.folderName}" removed (the preflight had created it)`);
    } else if (folder) {
      done.push(`"${ctx.folderName}" left as it was`);
    }
    return { value: undefined, detail: done.join('; ') };
  });

  const list = ORDER.map((name) => checks.get(name)!);
  return { mailbox, startedAt, ok: list.every((c) => c.status === 'passed'), checks: list };
}

/** 429s and 503s change nothing and are waited out; any other answer is the check's finding. */
function transientOnly(err: unknown): FailureClass {
  const status = graphAnswer(err)?.status;
  return status === 429 || status === 503 ? { kind: 'retry', retryAfterMs: retryAfterOf(err) } : { kind: 'fatal' };
}

function retryAfterOf(err: unknown): number | undefined {
  const headers = (err as { headers?: Headers }).headers;
  return typeof headers?.get === 'function' ? parseRetryAfter(headers.get('retry-after')) : undefined;
}

/** Graph's answer in a Graph SDK error; undefined for failures with no answer (network, Entra). */
function graphAnswer(err: unknown): PreflightCheck['error'] | undefined {
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (typeof e?.statusCode !== 'number' || e.statusCode <= 0) return undefined;
  return { status: e.statusCode, code: e.code ?? '', message: e.message ?? '' };
}

async function fetchAnswer(res: Response): Promise<PreflightCheck['error']> {
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    return { status: res.status, code: body.error?.code ?? '', message: body.error?.message ?? '' };
  } catch {
    return { status: res.status, code: '', message: res.statusText };
  }
}

/** The application roles in an access token (its payload, read only: Entra signed it, Graph checks it). */
function tokenRoles(token: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string').sort() : [];
  } catch {
    return [];
  }
}
