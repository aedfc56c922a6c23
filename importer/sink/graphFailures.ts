import type { AttachmentInfo } from '../model';
import { ImporterError } from '../errors';
import { parseRetryAfter, type FailureClass } from '../retryPolicy';

// How the sink reads a Graph failure: retry, check first, or give up; and what it tells the admin.

export const LENGTH_MISMATCH = 'AttachmentLengthMismatch';
/** An upload session that cannot be continued: the attachment is checked for, then a new session started. */
export const SESSION_ENDED = 'UploadSessionEnded';

/** A Graph failure reduced to what the sink decides on. */
export interface Failure {
  status: number;
  code: string;
  retryAfterMs?: number;
}

export class SinkFailure extends Error {
  constructor(
    readonly failure: Failure,
    message: string,
  ) {
    super(message);
  }
}

export function lengthMismatch(a: AttachmentInfo): SinkFailure {
  return new SinkFailure({ status: 0, code: LENGTH_MISMATCH }, `The raw copy of "${a.name}" is not the ${a.size} bytes the item said.`);
}

export async function httpFailure(res: Response): Promise<SinkFailure> {
  let code = '';
  let message = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? '';
    message = body.error?.message ?? message;
  } catch {
    // Not JSON: the status says enough.
  }
  return new SinkFailure({ status: res.status, code, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) }, message);
}

/**
 * A refused range. On the upload URL a 401 or 404 means the session is gone (it expired, or it
 * ended), and a 416 that it is not where we are: none of them is mended by sending the range again.
 */
export async function uploadFailure(res: Response): Promise<SinkFailure> {
  const failure = await httpFailure(res);
  if (res.status !== 401 && res.status !== 404 && res.status !== 416) return failure;
  // Status 0: not the message's refusal, so never kept outside for it; the delivery is retried.
  return new SinkFailure({ ...failure.failure, status: 0, code: SESSION_ENDED }, `The upload session ended (${res.status} ${failure.failure.code}): ${failure.message}`);
}

/** Graph's answer for a directory user whose mailbox is not in Exchange Online (none, on-premises, soft-deleted). */
export const MAILBOX_NOT_ENABLED = 'MailboxNotEnabledForRESTAPI';

export function mailboxNotEnabled(err: unknown): ImporterError | undefined {
  const f = failureOf(err);
  if (f.code !== MAILBOX_NOT_ENABLED) return undefined;
  return new ImporterError('MailboxNotEnabled', `no Exchange Online mailbox: Microsoft Graph answered ${f.status} ${f.code} (${(err as Error).message})`);
}

export function statusOf(err: unknown): number {
  return failureOf(err).status;
}

export function failureOf(err: unknown): Failure {
  if (err instanceof SinkFailure) return err.failure;
  const e = err as { statusCode?: number; code?: string; headers?: Headers | Record<string, string> };
  const headers = e.headers;
  const retryAfter = headers && (typeof (headers as Headers).get === 'function' ? (headers as Headers).get('retry-after') : (headers as Record<string, string>)['retry-after']);
  return { status: typeof e.statusCode === 'number' && e.statusCode > 0 ? e.statusCode : 0, code: typeof e.code === 'string' ? e.code : '', retryAfterMs: parseRetryAfter(retryAfter) };
}

/**
 * 429 and a refused connection never applied anything: repeat. A lost answer, a timeout or a 5xx
 * may have applied the request: `retry-unknown` callers check before repeating.
 */
export function classify(err: unknown, mode: 'retry' | 'retry-unknown'): FailureClass {
  const f = failureOf(err);
  // The raw copy disagrees with the parsed item: no attempt will change that.
  if (f.code === LENGTH_MISMATCH) return { kind: 'fatal' };
  if (f.status === 429) return { kind: 'retry', retryAfterMs: 0 };
  if (f.status === 0 || f.status >= 500) {
    if ((err as { name?: string }).name === 'AbortError') return { kind: 'fatal' };
    return mode === 'retry-unknown' ? { kind: 'unknown', retryAfterMs: f.retryAfterMs } : { kind: 'retry', retryAfterMs: f.retryAfterMs };
  }
  if (f.status === 401) return { kind: 'retry' }; // a token that just expired; the credential renews it
  return { kind: 'fatal' };
}

export function isPermanent(f: Failure): boolean {
  return f.status >= 400 && f.status < 500 && f.status !== 429 && f.status !== 401 && f.status !== 408;
}

/** Why the mailbox will not take an attachment for good, or rethrows what retrying may mend. */
export function refusal(err: unknown): string {
  const f = failureOf(err);
  if (f.code === 'ErrorMessageSizeExceeded' || f.status === 413) return 'the mailbox refused it: the message would exceed its maximum size';
  if (isPermanent(f)) return `Microsoft Graph refused it (${f.code || f.status})`;
  throw err;
}
