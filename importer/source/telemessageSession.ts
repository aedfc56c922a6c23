import { z } from 'zod';
import { ImporterError } from '../errors';
import { RequestDeadline } from './requestDeadline';
import { discardBody, readHttpError } from './telemessageHttpError';

export interface TeleMessageSessionOptions {
  baseUrl: string;
  username: string;
  /** Read from the secret store for each sign-in, never kept. */
  password: () => Promise<string>;
  fetch: typeof fetch;
  timeoutMs: number;
}

const tokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive().optional(),
});

/** Renew once this share of a token's lifetime has passed, so no call is spent on a dying one. */
const RENEW_AT_SHARE = 0.9;

/**
 * The TeleMessage access token: signed in lazily, shared by concurrent calls (one sign-in at a
 * time), and dropped when a call reports it dead.
 */
export class TeleMessageSession {
  private current: { token: string; renewAfter: number } | undefined;
  private signingIn: Promise<string> | undefined;

  constructor(private readonly options: TeleMessageSessionOptions) {}

  async token(abortSignal?: AbortSignal): Promise<string> {
    if (this.current && Date.now() < this.current.renewAfter) return this.current.token;
    // One caller giving up must not cancel the sign-in the others are waiting for.
    this.signingIn ??= this.signIn().finally(() => (this.signingIn = undefined));
    return abortable(this.signingIn, abortSignal);
  }

  /** The token was refused; the next call signs in again (unless someone already did). */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async signIn(): Promise<string> {
    const { baseUrl, username, timeoutMs } = this.options;
    const deadline = new RequestDeadline(timeoutMs);
    try {
      const password = await this.options.password();
      const response = await this.options.fetch(`${baseUrl}/api/v1/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ username, password }),
        signal: deadline.signal,
      });
      if (response.status === 401) {
        await discardBody(response);
        throw new ImporterError(
          'SourceAuthFailed',
          `TeleMessage refused the sign-in of "${username}": the username or password is wrong, or the password was changed. Update the TeleMessage sign-in in the connector's setup.`,
        );
      }
      if (!response.ok) throw await readHttpError(response);
      const text = await response.text();
      const parsed = tokenResponse.safeParse(parseJson(text));
      if (!parsed.success) throw new ImporterError('SourceProtocolError', 'TeleMessage answered the sign-in without a usable access token.');
      const lifetimeMs = (parsed.data.expires_in ?? 900) * 1000;
      this.current = { token: parsed.data.access_token, renewAfter: Date.now() + lifetimeMs * RENEW_AT_SHARE };
      return parsed.data.access_token;
    } finally {
      deadline.release();
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
