import type { RetryPolicy } from '../retryPolicy';
import { MailboxPacer, type MailboxLimits, type MailboxUsage, type PacerStats } from './mailboxPacer';
import { classify, failureOf } from './graphFailures';
import { throttleKindOf } from './throttleMessages';

export interface PacingSummary {
  /** Mailboxes (and directory lookups) the sink paced. */
  mailboxes: number;
  /** Requests sent, 429s among them, and bytes uploaded, over all mailboxes. */
  requests: number;
  throttled: number;
  uploadBytes: number;
  /** Requests the service accepted and bytes uploaded for the mailbox that bounds the run. */
  busiest?: { mailbox: string; requests: number; uploadBytes: number; throttled: number; lowerBoundMs: number };
}

/** Every Graph request of the sink goes through here: the mailbox's pacer, and the one retry policy. */
export class PacedGraph {
  private readonly pacers = new Map<string, MailboxPacer>();

  constructor(
    readonly retry: RetryPolicy,
    private readonly limits: MailboxLimits,
  ) {}

  /** One Graph call through the mailbox's pacer and the retry policy. */
  call<T>(mailbox: string, bytes: number, signal: AbortSignal | undefined, mode: 'retry' | 'retry-unknown', op: () => Promise<T>): Promise<T> {
    return this.retry.run(
      () => this.paced(mailbox, bytes, signal, op),
      (err) => classify(err, mode),
      { abortSignal: signal },
    );
  }

  /** One attempt through the mailbox's pacer; a 429 slows the mailbox down. */
  async paced<T>(mailbox: string, bytes: number, signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
    const pacer = this.pacerFor(mailbox);
    const release = await pacer.acquire(bytes, signal);
    try {
      const result = await op();
      pacer.succeeded();
      return result;
    } catch (err) {
      const f = failureOf(err);
      if (f.status === 429) pacer.throttled(throttleKindOf(String((err as Error).message ?? '')), f.retryAfterMs ?? 1000);
      throw err;
    } finally {
      release();
    }
  }

  /** Requests, upload bytes and 429s per mailbox, for the run's figures. */
  stats(): Map<string, PacerStats> {
    return new Map([...this.pacers].map(([k, p]) => [k, p.stats]));
  }

  /**
   * The run's Graph traffic in a few figures, and the mailbox whose limits bound the run: it
   * cannot end before that mailbox's requests and upload bytes fit through its windows.
   */
  pacingSummary(): PacingSummary {
    const summary: PacingSummary = { mailboxes: 0, requests: 0, throttled: 0, uploadBytes: 0 };
    const perRequestMs = this.limits.requestWindowMs / this.limits.requestsPerWindow;
    const perByteMs = this.limits.uploadWindowMs / this.limits.uploadBytesPerWindow;
    for (const [mailbox, { stats: s }] of this.pacers) {
      const throttled = Object.values(s.throttled).reduce((a, b) => a + b, 0);
      summary.mailboxes++;
      summary.requests += s.requests;
      summary.throttled += throttled;
      summary.uploadBytes += s.uploadBytes;
      // Requests the service turned away with a 429 used none of its window.
      const accepted = s.requests - throttled;
      const lowerBoundMs = Math.max(accepted * perRequestMs, s.uploadBytes * perByteMs);
      if (!summary.busiest || lowerBoundMs > summary.busiest.lowerBoundMs) summary.busiest = { mailbox, requests: accepted, uploadBytes: s.uploadBytes, throttled, lowerBoundMs };
    }
    return summary;
  }

  /** A mailbox's use of its windows, for the worker that writes it next. */
  usageOf(mailbox: string): MailboxUsage {
    return this.pacerFor(mailbox).usage();
  }

  /** Starts a mailbox from what the worker that wrote it last used. */
  assumeUsage(mailbox: string, usage: MailboxUsage): void {
    this.pacerFor(mailbox).assume(usage);
  }

  private pacerFor(mailbox: string): MailboxPacer {
    let pacer = this.pacers.get(mailbox);
    if (!pacer) {
      pacer = new MailboxPacer(this.limits);
      this.pacers.set(mailbox, pacer);
    }
    return pacer;
  }
}
