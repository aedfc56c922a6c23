/**
 * Per-mailbox pacing under Outlook's limits (per app and mailbox): concurrent requests, requests
 * per sliding window, uploaded bytes per sliding window. The pacer keeps its own account of both
 * windows so requests wait here instead of drawing 429s; when the service still answers 429 it
 * pauses the mailbox for Retry-After and tightens its own limits (AIMD), loosening them again as
 * requests succeed.
 */
export interface MailboxLimits {
  concurrentRequests: number;
  requestsPerWindow: number;
  requestWindowMs: number;
  uploadBytesPerWindow: number;
  uploadWindowMs: number;
}

export const OUTLOOK_MAILBOX_LIMITS: MailboxLimits = {
  concurrentRequests: 4,
  requestsPerWindow: 10_000,
  requestWindowMs: 600_000,
  uploadBytesPerWindow: 150 * 1024 * 1024,
  uploadWindowMs: 300_000,
};

export type ThrottleKind = 'concurrency' | 'rate' | 'upload' | 'other';

class SlidingLog {
  private times: number[] = [];
  private amounts: number[] = [];
  private head = 0;
  total = 0;

  constructor(readonly lengthMs: number) {}

  expire(now: number): void {
    while (this.head < this.times.length && this.times[this.head] <= now - this.lengthMs) this.total -= this.amounts[this.head++];
    if (this.head > 4096) {
      this.times = this.times.slice(this.head);
      this.amounts = this.amounts.slice(this.head);
      this.head = 0;
    }
  }

  add(now: number, amount: number): void {
    this.times.push(now);
    this.amounts.push(amount);
    this.total += amount;
  }

  /**
   * The window's amounts in `count` equal buckets, oldest first, the last ending now: a summary
   * another process can take over (mailboxUsage).
   */
  buckets(now: number, count: number): number[] {
    this.expire(now);
    const width = this.lengthMs / count;
    const sums = new Array<number>(count).fill(0);
    for (let i = this.head; i < this.times.length; i++) sums[Math.min(count - 1, Math.max(0, Math.floor((this.times[i] - (now - this.lengthMs)) / width)))] += this.amounts[i];
    return sums;
  }

  /** Takes a summary's buckets for the whole log, each counted at its bucket's end: expiring no sooner than the real entries. */
  replace(at: number, sums: readonly number[]): void {
    const width = this.lengthMs / sums.length;
    this.times = [];
    this.amounts = [];
    this.head = 0;
    this.total = 0;
    sums.forEach((amount, i) => {
      if (amount > 0) this.add(Math.min(at, at - this.lengthMs + (i + 1) * width), amount);
    });
  }

  /** When `amount` more fits under `limit` (now, if it already does). */
  fitsAt(now: number, amount: number, limit: number): number {
    this.expire(now);
    if (this.total + amount <= limit) return now;
    let remaining = this.total;
    for (let i = this.head; i < this.times.length; i++) {
      remaining -= this.amounts[i];
      if (remaining + amount <= limit) return this.times[i] + this.lengthMs;
    }
    return now + this.lengthMs;
  }
}

interface Waiter {
  bytes: number;
  enqueuedAt: number;
  resolve: (release: () => void) => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * What a mailbox used of its windows, in buckets, for the next holder of its lease: the process
 * that writes the mailbox after this one starts from this, not from nothing, so the mailbox stays
 * within its limits across worker processes.
 */
export interface MailboxUsage {
  at: number;
  requests: number[];
  uploadBytes: number[];
}

const USAGE_BUCKETS = 10;

export interface PacerStats {
  requests: number;
  uploadBytes: number;
  throttled: Record<ThrottleKind, number>;
  waitedMs: number;
}

export class MailboxPacer {
  private inFlight = 0;
  private pausedUntil = 0;
  private readonly requests: SlidingLog;
  private readonly uploads: SlidingLog;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Fractions of the nominal limits currently used; lowered on 429s, raised on success. */
  private rateFactor = 1;
  private concurrency: number;
  private successesSinceThrottle = 0;
  readonly stats: PacerStats = { requests: 0, uploadBytes: 0, throttled: { concurrency: 0, rate: 0, upload: 0, other: 0 }, waitedMs: 0 };

  constructor(
    private readonly limits: MailboxLimits = OUTLOOK_MAILBOX_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.requests = new SlidingLog(limits.requestWindowMs);
    this.uploads = new SlidingLog(limits.uploadWindowMs);
    this.concurrency = limits.concurrentRequests;
  }

  /** Waits for a slot to send one request carrying `bytes` of body; call the result when it is answered. */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { bytes, enqueuedAt: this.now(), resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** The service said 429: nobody starts before Retry-After, and the pace tightens. */
  throttled(kind: ThrottleKind, retryAfterMs: number): void {
    this.stats.throttled[kind]++;
    this.successesSinceThrottle = 0;
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + retryAfterMs);
    if (kind === 'concurrency') this.concurrency = Math.max(1, this.concurrency - 1);
    else if (kind === 'rate' || kind === 'upload') this.rateFactor = Math.max(0.5, this.rateFactor * 0.9);
    this.pump();
  }

  /** A request went through: after a run of successes, loosen back towards the nominal limits. */
  succeeded(): void {
    if (++this.successesSinceThrottle < 50) return;
    this.successesSinceThrottle = 0;
    this.concurrency = Math.min(this.limits.concurrentRequests, this.concurrency + 1);
    this.rateFactor = Math.min(1, this.rateFactor + 0.02);
  }

  /** This mailbox's use of its windows, for the next process that writes it. */
  usage(): MailboxUsage {
    const at = this.now();
    return { at, requests: this.requests.buckets(at, USAGE_BUCKETS), uploadBytes: this.uploads.buckets(at, USAGE_BUCKETS) };
  }

  /** Takes over what the previous holder of the mailbox used: it has every earlier holder's use in it. */
  assume(usage: MailboxUsage): void {
    const at = Math.min(usage.at, this.now());
    this.requests.replace(at, usage.requests);
    this.uploads.replace(at, usage.uploadBytes);
    this.pump();
  }

  get queued(): number {
    return this.queue.length;
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length) {
      const now = this.now();
      const head = this.queue[0];
      if (this.inFlight >= this.concurrency) return; // a release pumps again
      const requestLimit = Math.max(1, Math.floor(this.limits.requestsPerWindow * this.rateFactor));
      const uploadLimit = Math.max(1, Math.floor(this.limits.uploadBytesPerWindow * this.rateFactor));
      let readyAt = Math.max(this.pausedUntil, this.requests.fitsAt(now, 1, requestLimit));
      // One upload bigger than the whole allowance goes once the window is empty, as the service allows.
      if (head.bytes > 0 && !(this.uploads.fitsAt(now, 0, 0) <= now && head.bytes > uploadLimit)) {
        readyAt = Math.max(readyAt, this.uploads.fitsAt(now, head.bytes, uploadLimit));
      }
      if (readyAt > now) {
        // A small margin covers the time between our send and the service's count.
        this.timer = setTimeout(() => this.pump(), readyAt - now + margin(this.limits));
        return;
      }
      this.queue.shift();
      if (head.signal && head.onAbort) head.signal.removeEventListener('abort', head.onAbort);
      this.requests.add(now, 1);
      if (head.bytes > 0) this.uploads.add(now, head.bytes);
      this.stats.requests++;
      this.stats.uploadBytes += head.bytes;
      this.stats.waitedMs += now - head.enqueuedAt;
      this.inFlight++;
      let released = false;
      head.resolve(() => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.pump();
      });
    }
  }
}

function margin(limits: MailboxLimits): number {
  return Math.max(2, Math.round(limits.requestWindowMs * 0.002));
}
