import { MailboxPacer } from '../../importer/sink/mailboxPacer';

const limits = { concurrentRequests: 2, requestsPerWindow: 5, requestWindowMs: 300, uploadBytesPerWindow: 1000, uploadWindowMs: 300 };

async function send(pacer: MailboxPacer, bytes: number, log: { start: number; end: number; bytes: number }[], holdMs = 20) {
  const release = await pacer.acquire(bytes);
  const start = Date.now();
  await new Promise((r) => setTimeout(r, holdMs));
  log.push({ start, end: Date.now(), bytes });
  release();
}

function maxConcurrent(log: { start: number; end: number }[]): number {
  return Math.max(...log.map((a) => log.filter((b) => b.start <= a.start && b.end > a.start).length));
}

function maxInWindow(log: { start: number; bytes: number }[], windowMs: number, pick: (e: { bytes: number }) => number): number {
  return Math.max(...log.map((a) => log.filter((b) => b.start >= a.start && b.start < a.start + windowMs).reduce((s, e) => s + pick(e), 0)));
}

/** Runs the senders on jest's clock: the times the test reads are the pacer's own, free of the host's scheduling jitter. */
async function onFakeClock<T>(work: () => Promise<T>): Promise<T> {
  const done = work();
  await jest.runAllTimersAsync();
  return done;
}

describe('mailbox pacer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('never has more requests in flight than the mailbox allows, nor more per window', async () => {
    const pacer = new MailboxPacer(limits);
    const log: { start: number; end: number; bytes: number }[] = [];
    await onFakeClock(() => Promise.all(Array.from({ length: 12 }, () => send(pacer, 0, log))));
    expect(log).toHaveLength(12);
    expect(maxConcurrent(log)).toBeLessThanOrEqual(2);
    expect(maxInWindow(log, limits.requestWindowMs, () => 1)).toBeLessThanOrEqual(5);
  });

  it('keeps uploaded bytes per window under the limit, but lets one oversized upload through alone', async () => {
    const pacer = new MailboxPacer(limits);
    const log: { start: number; end: number; bytes: number }[] = [];
    await onFakeClock(() => Promise.all([400, 400, 400, 1500, 100].map((b) => send(pacer, b, log, 5))));
    const windows = log.map((a) => log.filter((b) => b.start >= a.start && b.start < a.start + limits.uploadWindowMs));
    for (const w of windows) {
      const total = w.reduce((s, e) => s + e.bytes, 0);
      if (w.some((e) => e.bytes > 1000)) expect(w.filter((e) => e.bytes > 0)).toHaveLength(1);
      else expect(total).toBeLessThanOrEqual(1000);
    }
    expect(pacer.stats.uploadBytes).toBe(2800);
  });

  it('holds everyone back for Retry-After after a 429, and narrows concurrency after a concurrency 429', async () => {
    const pacer = new MailboxPacer({ ...limits, requestsPerWindow: 1000 });
    pacer.throttled('concurrency', 150);
    const before = Date.now();
    const log: { start: number; end: number; bytes: number }[] = [];
    await onFakeClock(() => Promise.all(Array.from({ length: 4 }, () => send(pacer, 0, log))));
    expect(Math.min(...log.map((e) => e.start))).toBeGreaterThanOrEqual(before + 150);
    expect(maxConcurrent(log)).toBe(1);
    expect(pacer.stats.throttled.concurrency).toBe(1);
  });

  it('lets a waiting caller give up', async () => {
    const pacer = new MailboxPacer({ ...limits, concurrentRequests: 1 });
    const hold = await pacer.acquire(0);
    const abort = new AbortController();
    const waiting = pacer.acquire(0, abort.signal);
    abort.abort(new Error('run stopped'));
    await expect(waiting).rejects.toThrow('run stopped');
    hold();
    expect(pacer.queued).toBe(0);
  });
});

describe('a mailbox handed from one worker process to the next', () => {
  const window = { concurrentRequests: 4, requestsPerWindow: 10, requestWindowMs: 60_000, uploadBytesPerWindow: 1000, uploadWindowMs: 30_000 };
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it("starts from what the last holder used of Graph's windows, so the two together stay within them", async () => {
    const first = new MailboxPacer(window);
    for (let i = 0; i < 10; i++) (await first.acquire(100))();
    // The summary travels as text (the lease blob's metadata).
    const usage = JSON.parse(JSON.stringify(first.usage())) as ReturnType<MailboxPacer['usage']>;
    expect(usage.requests.reduce((a, b) => a + b, 0)).toBe(10);
    expect(usage.uploadBytes.reduce((a, b) => a + b, 0)).toBe(1000);

    const next = new MailboxPacer(window);
    next.assume(usage);
    let sent = false;
    void next.acquire(0).then((release) => {
      sent = true;
      release();
    });
    await jest.advanceTimersByTimeAsync(59_000);
    expect(sent).toBe(false);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(sent).toBe(true);

    // Without the summary, the same request would have gone at once: that is what the hand-over prevents.
    const unaware = new MailboxPacer(window);
    let went = false;
    void unaware.acquire(0).then(() => (went = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(went).toBe(true);
  });

  it('lets earlier use expire bucket by bucket, not all at the hand-over', async () => {
    const first = new MailboxPacer(window);
    for (let i = 0; i < 5; i++) (await first.acquire(0))();
    await jest.advanceTimersByTimeAsync(30_000);
    for (let i = 0; i < 5; i++) (await first.acquire(0))();
    const next = new MailboxPacer(window);
    next.assume(first.usage());
    // The first five leave the window 30 s later (one bucket late at most), the last five 60 s later.
    let sent = 0;
    for (let i = 0; i < 5; i++) void next.acquire(0).then((release) => (sent++, release()));
    await jest.advanceTimersByTimeAsync(37_000);
    expect(sent).toBe(5);
  });
});
