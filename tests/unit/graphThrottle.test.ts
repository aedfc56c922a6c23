import { Admission, MailboxThrottle, OUTLOOK_LIMITS, retryAfterHeader, ThrottleLimits } from '../../emulators/graph/throttle';

// A hand-driven clock, so windows are checked exactly and without waiting.
function throttleWith(limits: Partial<ThrottleLimits>, timeScale = 1) {
  const clock = { now: 0 };
  const throttle = new MailboxThrottle({ ...OUTLOOK_LIMITS, ...limits }, timeScale, () => clock.now);
  return { throttle, clock };
}

function admitted(admission: Admission): () => void {
  if (!admission.admitted) throw new Error(`refused for ${admission.reason}`);
  return admission.release;
}

describe('MailboxThrottle', () => {
  it('admits four concurrent requests per (app, mailbox) and refuses the fifth until one finishes', () => {
    const { throttle } = throttleWith({});
    const releases = [1, 2, 3, 4].map(() => admitted(throttle.admit('app', 'susan', 0)));
    expect(throttle.admit('app', 'susan', 0)).toMatchObject({ admitted: false, reason: 'concurrency', retryAfterSeconds: 1 });
    expect(throttle.admit('other-app', 'susan', 0).admitted).toBe(true);
    expect(throttle.admit('app', 'bob', 0).admitted).toBe(true);
    releases[0]();
    releases[0]();
    expect(throttle.admit('app', 'susan', 0).admitted).toBe(true);
    expect(throttle.admit('app', 'susan', 0).admitted).toBe(false);
  });

  it('counts requests in a sliding window and says when the oldest leaves it', () => {
    const { throttle, clock } = throttleWith({ requestsPerWindow: 3, requestWindowSeconds: 10 });
    for (const t of [0, 1000, 2000]) {
      clock.now = t;
      admitted(throttle.admit('app', 'susan', 0))();
    }
    clock.now = 3000;
    expect(throttle.admit('app', 'susan', 0)).toMatchObject({ admitted: false, reason: 'rate', retryAfterSeconds: 7 });
    clock.now = 10_000;
    expect(throttle.admit('app', 'susan', 0).admitted).toBe(true);
    expect(throttle.admit('app', 'susan', 0).admitted).toBe(false);
  });

  it('shrinks windows and waits by the time scale', () => {
    const { throttle, clock } = throttleWith({ requestsPerWindow: 1, requestWindowSeconds: 600 }, 0.01);
    admitted(throttle.admit('app', 'susan', 0))();
    clock.now = 1000;
    expect(throttle.admit('app', 'susan', 0)).toMatchObject({ admitted: false, retryAfterSeconds: 5 });
    clock.now = 6000;
    expect(throttle.admit('app', 'susan', 0).admitted).toBe(true);
  });

  it('limits uploaded bytes per window, waiting until enough old uploads leave it', () => {
    const { throttle, clock } = throttleWith({ uploadBytesPerWindow: 100, uploadWindowSeconds: 10 });
    admitted(throttle.admit('app', 'susan', 60))();
    clock.now = 1000;
    admitted(throttle.admit('app', 'susan', 30))();
    clock.now = 2000;
    expect(throttle.admit('app', 'susan', 50)).toMatchObject({ admitted: false, reason: 'upload', retryAfterSeconds: 8 });
    expect(throttle.admit('app', 'susan', 10).admitted).toBe(true);
    clock.now = 10_000;
    expect(throttle.admit('app', 'susan', 50).admitted).toBe(true);
  });

  it('lets one upload larger than the whole allowance through once the window is empty', () => {
    const { throttle } = throttleWith({ uploadBytesPerWindow: 100 });
    expect(throttle.admit('app', 'susan', 500).admitted).toBe(true);
    expect(throttle.admit('app', 'susan', 1)).toMatchObject({ admitted: false, reason: 'upload' });
  });

  it('forgets everything on reset', () => {
    const { throttle } = throttleWith({ requestsPerWindow: 1 });
    admitted(throttle.admit('app', 'susan', 0))();
    throttle.reset();
    expect(throttle.admit('app', 'susan', 0).admitted).toBe(true);
  });
});

describe('retryAfterHeader', () => {
  it('sends whole seconds, at least one, at real time', () => {
    expect(retryAfterHeader(0.2, false)).toBe('1');
    expect(retryAfterHeader(7.01, false)).toBe('8');
  });

  it('sends milliseconds precision when time is scaled down', () => {
    expect(retryAfterHeader(0.0701, true)).toBe('0.071');
    expect(retryAfterHeader(0, true)).toBe('0.001');
  });
});
