import type { Readable } from 'node:stream';
import { z } from 'zod';
import { ImporterError } from '../errors';
import { KeptAliveHttp } from '../keptAliveHttp';
import type { SourceItemRef, TimeWindow } from '../model';
import { RetryPolicy, type FailureClass } from '../retryPolicy';
import type { ArchiveSource, SourceCallOptions } from './archiveSource';
import { DownloadBody } from './downloadBody';
import { RequestDeadline } from './requestDeadline';
import { TeleMessageHttpError, discardBody, readHttpError } from './telemessageHttpError';
import { TeleMessageSession } from './telemessageSession';

export interface TeleMessageSourceOptions {
  /** e.g. https://archive.telemessage.com, no trailing slash needed. */
  baseUrl: string;
  username: string;
  /** Read from the secret store for each sign-in; the source never keeps the password. */
  password: () => Promise<string>;
  /** Items per listing page, 1–1000; default 500. */
  pageSize?: number;
  retry?: RetryPolicy;
  fetch?: typeof fetch;
  /** Deadline for sign-in, each listing page, and a download's response headers; default 60 s. */
  requestTimeoutMs?: number;
  /** A download fails when no bytes arrive for this long while being read; default 60 s. */
  downloadIdleTimeoutMs?: number;
}

const listingPage = z.object({
  items: z.array(
    z.object({
      id: z.string().min(1),
      archivedAt: z.string().refine((value) => !Number.isNaN(Date.parse(value))),
      type: z.string(),
      sizeBytes: z.number().int().nonnegative(),
    }),
  ),
  nextCursor: z.string().min(1).optional(),
});
type ListingPage = z.infer<typeof listingPage>;

/**
 * One pool of kept-alive connections to TeleMessage for the process: a download a request, so
 * fetch's cost (about twice the CPU) counted on every item. Every answer streams, so a
 * download's idle timeout and a transfer cut short are seen as they happen.
 */
const keptAlive = new KeptAliveHttp({ wholeAnswerBytes: 0 });

/**
 * TeleMessage's archive API (docs/telemessage-api.md): paged listing by archive time and
 * streamed raw downloads. Sign-in is lazy and repeated once when a token dies; failures that
 * may pass (5xx, 429, network, no answer in time) go through the retry policy.
 */
export class TeleMessageSource implements ArchiveSource {
  private readonly baseUrl: string;
  private readonly pageSize: number;
  private readonly retry: RetryPolicy;
  private readonly fetch: typeof fetch;
  private readonly requestTimeoutMs: number;
  private readonly downloadIdleTimeoutMs: number;
  private readonly session: TeleMessageSession;

  constructor(options: TeleMessageSourceOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.pageSize = options.pageSize ?? 500;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1 || this.pageSize > 1000) throw new RangeError('pageSize must be an integer from 1 to 1000');
    this.retry = options.retry ?? new RetryPolicy();
    this.fetch = options.fetch ?? keptAlive.fetch;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.downloadIdleTimeoutMs = options.downloadIdleTimeoutMs ?? 60_000;
    this.session = new TeleMessageSession({
      baseUrl: this.baseUrl,
      username: options.username,
      password: options.password,
      fetch: this.fetch,
      timeoutMs: this.requestTimeoutMs,
    });
  }

  async *list(window: TimeWindow, options: SourceCallOptions = {}): AsyncIterable<SourceItemRef> {
    if (window.from.getTime() > window.to.getTime()) throw new RangeError('the window must not end before it starts');
    if (window.from.getTime() === window.to.getTime()) return;
    let cursor: string | undefined;
    do {
      const query = new URLSearchParams({ from: window.from.toISOString(), to: window.to.toISOString(), pageSize: String(this.pageSize) });
      if (cursor) query.set('cursor', cursor);
      const page = await this.withRetries('listing', options.abortSignal, () => this.listPage(`/api/v1/archive/items?${query}`, options.abortSignal));
      for (const item of page.items) {
        // A page already fetched still stops at the abort, not at its end.
        options.abortSignal?.throwIfAborted();
        yield { id: item.id, archivedAt: new Date(item.archivedAt), type: item.type, sizeBytes: item.sizeBytes };
      }
      cursor = page.nextCursor;
    } while (cursor);
  }

  async download(ref: SourceItemRef, options: SourceCallOptions = {}): Promise<Readable> {
    const { abortSignal } = options;
    // Only the request is retried: once the body flows, a broken transfer is the caller's to restart.
    return this.withRetries(`download of ${ref.id}`, abortSignal, async () => {
      const { response, deadline } = await this.open(`/api/v1/archive/items/${encodeURIComponent(ref.id)}/raw`, abortSignal);
      deadline.liftDeadline();
      const length = Number(response.headers.get('content-length') ?? NaN);
      return new DownloadBody(response.body, {
        itemId: ref.id,
        expectedBytes: Number.isSafeInteger(length) ? length : undefined,
        idleTimeoutMs: this.downloadIdleTimeoutMs,
        abortSignal,
        onClose: () => deadline.release(),
      });
    });
  }

  private async listPage(path: string, abortSignal: AbortSignal | undefined): Promise<ListingPage> {
    const { response, deadline } = await this.open(path, abortSignal);
    try {
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const page = listingPage.safeParse(body);
      if (!page.success) throw new ImporterError('SourceProtocolError', 'TeleMessage answered the listing with a body that is not a page of items.');
      return page.data;
    } finally {
      deadline.release();
    }
  }

  /**
   * An authorized GET that answered 2xx, its deadline still running (the caller releases it).
   * A refused token is replaced once; a second refusal of a fresh token is not a passing fault.
   */
  private async open(path: string, abortSignal: AbortSignal | undefined): Promise<{ response: Response; deadline: RequestDeadline }> {
    const deadline = new RequestDeadline(this.requestTimeoutMs, abortSignal);
    try {
      const get = (token: string) => this.fetch(`${this.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: deadline.signal });
      let token = await this.session.token(deadline.signal);
      let response = await get(token);
      if (response.status === 401) {
        await discardBody(response);
        this.session.invalidate(token);
        token = await this.session.token(deadline.signal);
        response = await get(token);
        if (response.status === 401) {
          await discardBody(response);
          this.session.invalidate(token);
          throw new ImporterError('SourceAuthFailed', 'TeleMessage refused a freshly issued access token; check that the account may read the archive.');
        }
      }
      if (!response.ok) throw await readHttpError(response);
      return { response, deadline };
    } catch (error) {
      deadline.release();
      throw error;
    }
  }

  private async withRetries<T>(action: string, abortSignal: AbortSignal | undefined, operation: () => Promise<T>): Promise<T> {
    let attempts = 0;
    try {
      return await this.retry.run(
        () => {
          attempts++;
          return operation();
        },
        (error) => classify(error, abortSignal),
        { abortSignal },
      );
    } catch (error) {
      throw explain(error, action, attempts, abortSignal);
    }
  }
}

function classify(error: unknown, abortSignal: AbortSignal | undefined): FailureClass {
  if (abortSignal?.aborted) return { kind: 'fatal' };
  if (error instanceof TeleMessageHttpError) return error.transient ? { kind: 'retry', retryAfterMs: error.retryAfterMs } : { kind: 'fatal' };
  if (error instanceof ImporterError) return { kind: 'fatal' };
  // A network failure or no answer in time: sign-in and GETs are safe to repeat.
  return { kind: 'retry' };
}

/** The error a caller (and an admin reading the run log) gets, never carrying a secret. */
function explain(error: unknown, action: string, attempts: number, abortSignal: AbortSignal | undefined): unknown {
  if (abortSignal?.aborted) return abortSignal.reason;
  if (error instanceof ImporterError) return error;
  const tries = attempts === 1 ? '' : ` (${attempts} attempts)`;
  if (error instanceof TeleMessageHttpError) {
    if (error.status === 404) return new ImporterError('NotFound', `TeleMessage has no such archived item for the ${action} (${error.message}).`);
    if (error.transient) return new ImporterError('SourceUnavailable', `TeleMessage kept failing the ${action}${tries}; last answer ${error.message}.`);
    return new ImporterError('SourceProtocolError', `TeleMessage refused the ${action}: ${error.message}.`);
  }
  return new ImporterError('SourceUnavailable', `TeleMessage could not be reached for the ${action}${tries}: ${networkReason(error)}.`);
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = (error as Error)?.message ?? String(error);
  return cause?.code ? `${message} (${cause.code})` : message;
}
