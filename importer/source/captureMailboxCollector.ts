import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ResponseType, type Client } from '@microsoft/microsoft-graph-client';
import { ImporterError } from '../errors';
import { parseRetryAfter, type FailureClass, type RetryPolicy } from '../retryPolicy';
import type { RunLogger } from '../run/importRun';
import type { ConnectorStore } from '../state/connectorStore';
import { unwrapJournalReport, type UnwrappedCapture } from './captureUnwrap';
import { CollectionFailedError, type CollectOptions, type CollectReport, type Collector } from './collector';
import { takeIntoInbox, type IntakeStores } from './inboxIntake';

export interface CaptureMailboxOptions {
  connectorId: string;
  /** The capture mailbox's address (settings.captureMailbox). */
  mailbox: string;
  client: Client;
  stores: IntakeStores & { connectors: ConnectorStore };
  retry: RetryPolicy;
  log: RunLogger;
  /** Messages per delta page asked for (Prefer: odata.maxpagesize); Graph may send fewer. */
  pageSize?: number;
  /** Messages read at once: Graph allows 4 concurrent requests per app and mailbox. */
  concurrency?: number;
  unwrap?: (raw: Readable) => Promise<UnwrappedCapture>;
}

/** The cursor as kept in the connector table: the link to follow next, and the mailbox it belongs to. */
interface DeltaCursor {
  mailbox: string;
  link: string;
}

interface DeltaPage {
  value?: { id: string; receivedDateTime?: string; '@removed'?: unknown }[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

const CURSOR_NAME = 'smtp';
const DEFAULT_PAGE_SIZE = 50;
const DEFAULT_CONCURRENCY = 4;

/**
 * TeleMessage's SMTP destination: a mailbox in the customer's tenant (e.g. a shared mailbox
 * telemessage-capture@contoso.com) that receives one email per archived item, or a thread's day,
 * or either wrapped in a journal report. Its Inbox is read with a Graph delta query; each new
 * email's MIME is streamed from `$value` into the raw store (a journal report unwrapped to the
 * original it carries) and recorded in the inbox. The delta link is the cursor: it moves, ETag
 * checked, only after every item of the page it follows is recorded. The mailbox is only read.
 */
export class CaptureMailboxCollector implements Collector {
  readonly kind = 'smtp' as const;

  constructor(private readonly options: CaptureMailboxOptions) {}

  async collect({ now, abortSignal }: CollectOptions): Promise<CollectReport> {
    const { connectorId, stores, mailbox } = this.options;
    const report: CollectReport = { kind: 'smtp', collected: 0, alreadyCollected: 0, rejected: [] };
    try {
      const saved = await stores.connectors.getCursor(connectorId, CURSOR_NAME, { abortSignal });
      const cursor = saved && parseCursor(saved.value);
      // A cursor of another mailbox (the setting changed) is no cursor for this one.
      let link = cursor?.mailbox === mailbox ? cursor.link : this.startLink();
      let etag = saved?.etag;
      report.cursorBefore = describeLink(cursor?.mailbox === mailbox ? cursor.link : undefined);
      let resynced = false;
      for (;;) {
        abortSignal?.throwIfAborted();
        let page: DeltaPage;
        try {
          page = await this.page(link, abortSignal);
        } catch (err) {
          // An expired delta (or skip) token: start over. Every item seen again is already in the inbox, so nothing is recorded twice.
          if (statusOf(err) !== 410 || resynced || link === this.startLink()) throw err;
          resynced = true;
          this.options.log.warn({ connectorId, mailbox, code: codeOf(err) }, 'capture mailbox delta token expired: reading the folder again from the start');
          link = this.startLink();
          continue;
        }
        await this.takePage(page, report, now, abortSignal);
        const next = page['@odata.nextLink'] ?? page['@odata.deltaLink'];
        if (!next) throw new ImporterError('SourceProtocolError', 'Microsoft Graph answered a delta page with neither @odata.nextLink nor @odata.deltaLink.');
        // Every item of this page is in the inbox now: the cursor may pass it.
        etag = await stores.connectors.saveCursor(connectorId, CURSOR_NAME, JSON.stringify({ mailbox, link: next } satisfies DeltaCursor), etag);
        link = next;
        if (!page['@odata.nextLink']) break;
      }
      report.cursorAfter = describeLink(link);
      if (resynced) report.cursorAfter += ' (resynced from the start after the delta token expired)';
      return report;
    } catch (err) {
      if (abortSignal?.aborted) throw err;
      throw new CollectionFailedError(`The capture mailbox ${mailbox} could not be read: ${describe(err)}`, report);
    }
  }

  /** The first delta request: new messages only ever matter, so changes and removals are not asked for. */
  private startLink(): string {
    return `/users/${encodeURIComponent(this.options.mailbox)}/mailFolders/inbox/messages/delta?changeType=created&$select=id,receivedDateTime`;
  }

  private async page(link: string, abortSignal?: AbortSignal): Promise<DeltaPage> {
    return this.options.retry.run(
      async () => {
        const res = (await this.get(link, abortSignal)
          .header('Prefer', `odata.maxpagesize=${this.options.pageSize ?? DEFAULT_PAGE_SIZE}`)
          .get()) as Response;
        if (!res.ok) throw await graphFailure(res);
        return (await res.json()) as DeltaPage;
      },
      classify,
      { abortSignal },
    );
  }

  /** The page's messages, a few at once; the page is done only when every one of them is. */
  private async takePage(page: DeltaPage, report: CollectReport, now: () => Date, abortSignal?: AbortSignal): Promise<void> {
    const messages = (page.value ?? []).filter((m) => !m['@removed'] && typeof m.id === 'string');
    let next = 0;
    const worker = async () => {
      while (next < messages.length) {
        const message = messages[next++];
        await this.takeMessage(message.id, message.receivedDateTime, report, now, abortSignal);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? DEFAULT_CONCURRENCY, messages.length) }, worker));
  }

  private async takeMessage(messageId: string, receivedDateTime: string | undefined, report: CollectReport, now: () => Date, abortSignal?: AbortSignal): Promise<void> {
    const deliveredAt = receivedDateTime && !Number.isNaN(Date.parse(receivedDateTime)) ? new Date(receivedDateTime) : now();
    const origin = `capture:${messageId}`;
    const take = async (unwrap: boolean) => {
      const mime = await this.mime(messageId, abortSignal);
      try {
        const { message } = unwrap ? await (this.options.unwrap ?? unwrapJournalReport)(mime) : { message: mime };
        return await takeIntoInbox(this.options.stores, this.options.connectorId, { body: message, deliveredAt, origin }, { collectedAt: now(), abortSignal });
      } finally {
        mime.destroy();
      }
    };
    let taken;
    try {
      taken = await this.options.retry.run(() => take(true), classifyTake, { abortSignal });
    } catch (err) {
      if (statusOf(err) === 404) {
        // Deleted from the capture mailbox between the listing and the read: nothing left to take.
        report.rejected.push({ name: origin, reason: 'It was deleted from the capture mailbox before it could be read.', at: now().toISOString() });
        return;
      }
      if (!(err instanceof ImporterError && err.code === 'MalformedItem')) throw err;
      // A journal report that cannot be unwrapped is kept as it came: the import holds and reports it, nothing is dropped.
      taken = await this.options.retry.run(() => take(false), classifyTake, { abortSignal });
      if (taken.created) report.rejected.push({ name: origin, reason: `Kept as received, not unwrapped: ${err.message}`, at: now().toISOString() });
    }
    if (taken.created) report.collected++;
    else report.alreadyCollected++;
  }

  /** The message's MIME, streamed: `GET /users/{id}/messages/{id}/$value`. */
  private async mime(messageId: string, abortSignal?: AbortSignal): Promise<Readable> {
    const res = (await this.get(`/users/${encodeURIComponent(this.options.mailbox)}/messages/${encodeURIComponent(messageId)}/$value`, abortSignal).get()) as Response;
    if (!res.ok) throw await graphFailure(res);
    if (!res.body) throw new ImporterError('SourceProtocolError', `Microsoft Graph sent no MIME for message ${messageId}.`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }

  private get(path: string, abortSignal?: AbortSignal) {
    const request = this.options.client.api(path).responseType(ResponseType.RAW);
    return abortSignal ? request.option('signal', abortSignal) : request;
  }
}

/** A refusal from Graph, with what the retry policy and the admin need. */
class GraphReadFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly retryAfterMs: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

async function graphFailure(res: Response): Promise<GraphReadFailure> {
  let code = '';
  let message = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? '';
    message = `${res.status} ${code}: ${body.error?.message ?? ''}`.trim();
  } catch {
    // Not JSON: the status says enough.
  }
  return new GraphReadFailure(res.status, code, parseRetryAfter(res.headers.get('retry-after')), message);
}

function statusOf(err: unknown): number {
  return err instanceof GraphReadFailure ? err.status : 0;
}

function codeOf(err: unknown): string {
  return err instanceof GraphReadFailure ? err.code : '';
}

/** Reads are safe to repeat: 429 after its Retry-After, 5xx and lost connections with backoff; the rest is final. */
function classify(err: unknown): FailureClass {
  if (err instanceof GraphReadFailure) {
    if (err.status === 429 || err.status === 503) return { kind: 'retry', retryAfterMs: err.retryAfterMs };
    if (err.status >= 500 || err.status === 401) return { kind: 'retry', retryAfterMs: err.retryAfterMs };
    return { kind: 'fatal' };
  }
  if (err instanceof ImporterError || (err as { name?: string }).name === 'AbortError') return { kind: 'fatal' };
  // A connection refused or cut: nothing was changed, since nothing here changes anything.
  return { kind: 'retry' };
}

/** Taking an item: also storage trouble is worth another try; a malformed report is not. */
function classifyTake(err: unknown): FailureClass {
  if (err instanceof ImporterError && err.code !== 'SourceUnavailable') return { kind: 'fatal' };
  const status = (err as { statusCode?: number }).statusCode;
  if (!(err instanceof GraphReadFailure) && typeof status === 'number' && status >= 400 && status < 500) return { kind: 'fatal' };
  return classify(err);
}

function parseCursor(value: string): DeltaCursor | undefined {
  try {
    const c = JSON.parse(value) as Partial<DeltaCursor>;
    return typeof c.mailbox === 'string' && typeof c.link === 'string' ? { mailbox: c.mailbox, link: c.link } : undefined;
  } catch {
    return undefined;
  }
}

/** For the run record: which kind of link, and a short fingerprint of it; never the link itself (it carries the sync state). */
function describeLink(link: string | undefined): string {
  if (!link) return 'start';
  const kind = /[?&]\$deltatoken=/i.test(link) ? 'delta' : /[?&]\$skiptoken=/i.test(link) ? 'page' : 'start';
  return kind === 'start' ? 'start' : `${kind}:${createHash('sha256').update(link).digest('hex').slice(0, 12)}`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
