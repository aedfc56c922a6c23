/**
 * The abort signal of one HTTP request: the caller's signal plus a deadline. The deadline can be
 * lifted once the response has started, so a long download is bounded by an idle timeout
 * instead, while the caller can still abort it.
 */
export class RequestDeadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private expired = false;

  constructor(
    timeoutMs: number,
    private readonly callerSignal?: AbortSignal,
  ) {
    if (callerSignal?.aborted) this.controller.abort(callerSignal.reason);
    callerSignal?.addEventListener('abort', this.onCallerAbort, { once: true });
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(new Error(`no response within ${timeoutMs / 1000} s`));
    }, timeoutMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True when the deadline, not the caller, ended the request. */
  get timedOut(): boolean {
    return this.expired;
  }

  liftDeadline(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Call when the request and its body are done with. */
  release(): void {
    this.liftDeadline();
    this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }

  private readonly onCallerAbort = (): void => {
    this.controller.abort(this.callerSignal?.reason);
  };
}
