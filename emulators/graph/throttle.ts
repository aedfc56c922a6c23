/**
 * Outlook's service limits, applied per (application, mailbox) as Graph documents them:
 * concurrent requests, requests per window and uploaded bytes per window.
 */
export interface ThrottleLimits {
  concurrentRequests: number;
  requestsPerWindow: number;
  requestWindowSeconds: number;
  uploadBytesPerWindow: number;
  uploadWindowSeconds: number;
}

export const OUTLOOK_LIMITS: ThrottleLimits = {
  concurrentRequests: 4,
  requestsPerWindow: 10_000,
  requestWindowSeconds: 600,
  uploadBytesPerWindow: 150 * 1024 * 1024,
  uploadWindowSeconds: 300,
};

export type ThrottleReason = 'concurrency' | 'rate' | 'upload';

export type Admission = { admitted: true; release: () => void } | { admitted: false; reason: ThrottleReason; retryAfterSeconds: number };

/** Timestamped amounts inside a sliding window, oldest first. */
class SlidingWindow {
  private readonly times: number[] = [];
  private readonly amounts: number[] = [];
  private head = 0;
  private sum = 0;

  constructor(private readonly lengthMs: number) {}

  total(now: number): number {
    while (this.head < this.times.length && this.times[this.head] <= now - this.lengthMs) {
      this.sum -= this.amounts[this.head];
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.amounts.splice(0, this.head);
      this.head = 0;
    }
    return this.sum;
  }

  add(now: number, amount: number): void {
    this.times.push(now);
    this.amounts.push(amount);
    this.sum += amount;
  }

  /** Milliseconds until enough entries leave the window for `amount` more to fit under `limit`. */
  waitFor(now: number, amount: number, limit: number): number {
    let remaining = this.total(now);
    for (let i = this.head; i < this.times.length; i++) {
      remaining -= this.amounts[i];
      if (remaining + amount <= limit) return this.times[i] + this.lengthMs - now;
    }
    return this.lengthMs;
  }
}

interface Bucket {
  inFlight: number;
  requests: SlidingWindow;
  uploads: SlidingWindow;
}

export class MailboxThrottle {
  private readonly buckets = new Map<string, Bucket>();
  private readonly requestWindowMs: number;
  private readonly uploadWindowMs: number;

  /** `timeScale` shortens every window (0.01 = 100x faster) so benchmarks keep the shape. */
  constructor(
    private readonly limits: ThrottleLimits,
    private readonly timeScale: number,
    private readonly now: () => number = Date.now,
  ) {
    this.requestWindowMs = limits.requestWindowSeconds * 1000 * timeScale;
    this.uploadWindowMs = limits.uploadWindowSeconds * 1000 * timeScale;
  }

  admit(appId: string, mailboxId: string, uploadBytes: number): Admission {
    const bucket = this.bucket(`${appId}\u0000${mailboxId}`);
    const now = this.now();
    if (bucket.inFlight >= this.limits.concurrentRequests) {
      // Concurrency frees as soon as a request finishes; Graph suggests a short wait.
      return { admitted: false, reason: 'concurrency', retryAfterSeconds: this.timeScale };
    }
    if (bucket.requests.total(now) + 1 > this.limits.requestsPerWindow) {
      const waitMs = bucket.requests.waitFor(now, 1, this.limits.requestsPerWindow);
      return { admitted: false, reason: 'rate', retryAfterSeconds: waitMs / 1000 };
    }
    const uploaded = bucket.uploads.total(now);
    // An upload bigger than the whole allowance still goes through once the window is empty.
    if (uploadBytes > 0 && uploaded > 0 && uploaded + uploadBytes > this.limits.uploadBytesPerWindow) {
      const waitMs = bucket.uploads.waitFor(now, uploadBytes, this.limits.uploadBytesPerWindow);
      return { admitted: false, reason: 'upload', retryAfterSeconds: waitMs / 1000 };
    }
    bucket.requests.add(now, 1);
    if (uploadBytes > 0) bucket.uploads.add(now, uploadBytes);
    bucket.inFlight++;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (!released) bucket.inFlight--;
        released = true;
      },
    };
  }

  /** Forgets all history; requests in flight release into buckets no longer consulted. */
  reset(): void {
    this.buckets.clear();
  }

  private bucket(key: string): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = {
        inFlight: 0,
        requests: new SlidingWindow(this.requestWindowMs),
        uploads: new SlidingWindow(this.uploadWindowMs),
      };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}

/**
 * Graph sends whole seconds. With a time scale below 1 the wait is usually under a second, so
 * it is sent with millisecond precision instead; the Graph SDK's retry handler reads it with
 * Number(), so both forms work with the real client.
 */
export function retryAfterHeader(seconds: number, fractional: boolean): string {
  if (!fractional) return String(Math.max(1, Math.ceil(seconds)));
  return String(Math.max(0.001, Math.ceil(seconds * 1000) / 1000));
}
