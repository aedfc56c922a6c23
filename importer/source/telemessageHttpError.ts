import { parseRetryAfter } from '../retryPolicy';

/** Longest error body read; TeleMessage's are small JSON objects. */
const ERROR_BODY_LIMIT = 16 * 1024;

/** A TeleMessage answer that is not a success, kept apart so the retry policy can classify it. */
export class TeleMessageHttpError extends Error {
  constructor(
    readonly status: number,
    /** TeleMessage's `error` code (`server_error`, `not_found`, …), when it sent one. */
    readonly errorCode: string | undefined,
    readonly retryAfterMs: number | undefined,
    serverMessage: string | undefined,
  ) {
    super(`${status}${errorCode ? ` ${errorCode}` : ''}${serverMessage ? `: ${serverMessage}` : ''}`);
    this.name = 'TeleMessageHttpError';
  }

  /** Worth another try: the service is failing or busy, not refusing this request. */
  get transient(): boolean {
    return this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

/** Reads `{ error, message }` from a failed response; the contract says neither echoes a secret. */
export async function readHttpError(response: Response): Promise<TeleMessageHttpError> {
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  let text = '';
  try {
    text = (await response.text()).slice(0, ERROR_BODY_LIMIT);
  } catch {
    // The status says enough when the body cannot be read.
  }
  let body: { error?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not JSON (a proxy's HTML page, say): report the status alone.
  }
  return new TeleMessageHttpError(response.status, typeof body.error === 'string' ? body.error : undefined, retryAfterMs, typeof body.message === 'string' ? body.message.slice(0, 500) : undefined);
}

/** Lets the connection go back to the pool without reading a body nobody needs. */
export async function discardBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Already closed.
  }
}
