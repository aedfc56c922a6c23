/**
 * The one retry policy: callers say how to classify a failure, the policy decides when to try
 * again. Retry-After is honoured; without it, exponential backoff with full jitter.
 */
export type FailureClass =
  /** Not applied, safe to repeat (429, 503 with Retry-After, connection refused). */
  | { kind: 'retry'; retryAfterMs?: number }
  /** May have been applied (lost response, timeout, 5xx): repeat only after checking. */
  | { kind: 'unknown'; retryAfterMs?: number }
  /** Retrying will not help. */
  | { kind: 'fatal' };

export interface RetryOptions {
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  abortSignal?: AbortSignal;
  /** Called before each retry; for an `unknown` failure this is where the caller checks. */
  onRetry?: (attempt: number, failure: FailureClass, error: unknown) => Promise<void> | void;
  random?: () => number;
}

export class RetryPolicy {
  readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(options: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number } = {}) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
  }

  delayFor(attempt: number, failure: FailureClass, random: () => number = Math.random): number {
    if (failure.kind !== 'fatal' && failure.retryAfterMs !== undefined) return failure.retryAfterMs;
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(random() * ceiling);
  }

  async run<T>(operation: (attempt: number) => Promise<T>, classify: (error: unknown) => FailureClass, options: RetryOptions = {}): Promise<T> {
    const maxAttempts = options.maxAttempts ?? this.maxAttempts;
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation(attempt);
      } catch (error) {
        const failure = classify(error);
        if (failure.kind === 'fatal' || attempt >= maxAttempts || options.abortSignal?.aborted) throw error;
        await sleep(this.delayFor(attempt, failure, options.random), options.abortSignal);
        await options.onRetry?.(attempt, failure, error);
      }
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retry-After as seconds (possibly fractional) or an HTTP date, in ms. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
