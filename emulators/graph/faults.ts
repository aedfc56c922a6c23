import { GRAPH_OPERATIONS, GraphOperation, WRITE_OPERATIONS } from './operations';

/**
 * Injected failures. A rule applies to the next `count` matching requests, or to a `fraction`
 * of them (drawn from a seeded generator, so runs repeat), or to all of them when neither is set.
 *  - error: answer 500, 503 (with Retry-After) or 504 without doing anything;
 *  - timeout: hold the request `holdMs`, then reset the socket without doing anything;
 *  - lostResponse: do the work, then reset the socket instead of answering;
 *  - expireUploadSession: the upload session of the next matching range is past its expiry, as if
 *    its lifetime had run out (the range is refused with 401 and the session is gone).
 */
export interface FaultRule {
  kind: 'error' | 'timeout' | 'lostResponse' | 'expireUploadSession';
  status?: 500 | 503 | 504;
  retryAfterSeconds?: number;
  holdMs?: number;
  count?: number;
  fraction?: number;
  /** Defaults: every operation; for lostResponse the creates and upload chunks. */
  operations?: GraphOperation[];
}

export type FaultDecision = { kind: 'error'; status: 500 | 503 | 504; retryAfterSeconds?: number } | { kind: 'timeout'; holdMs: number } | { kind: 'storm'; retryAfterSeconds: number };

interface ActiveRule {
  rule: FaultRule;
  remaining: number | undefined;
}

export function validateFaultRule(raw: unknown): FaultRule {
  if (raw === null || typeof raw !== 'object') throw new Error('a fault rule must be an object');
  const rule = raw as FaultRule;
  if (!['error', 'timeout', 'lostResponse', 'expireUploadSession'].includes(rule.kind)) throw new Error(`unknown fault kind '${rule.kind}'`);
  if (rule.kind === 'error' && ![500, 503, 504].includes(rule.status ?? 503)) {
    throw new Error('error faults answer 500, 503 or 504');
  }
  if (rule.count !== undefined && !(Number.isInteger(rule.count) && rule.count > 0)) {
    throw new Error('count must be a positive integer');
  }
  if (rule.fraction !== undefined && !(rule.fraction >= 0 && rule.fraction <= 1)) {
    throw new Error('fraction must be between 0 and 1');
  }
  for (const operation of rule.operations ?? []) {
    if (!GRAPH_OPERATIONS.includes(operation)) throw new Error(`unknown operation '${operation}'`);
  }
  return rule;
}

/** mulberry32: small, fast and good enough to make fractions repeatable. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultPlan {
  private rules: ActiveRule[] = [];
  private random: () => number;
  private stormUntil = 0;

  constructor(
    private seed: number,
    private readonly now: () => number = Date.now,
  ) {
    this.random = seededRandom(seed);
  }

  add(rule: FaultRule): void {
    this.rules.push({ rule: validateFaultRule(rule), remaining: rule.count });
  }

  clear(): void {
    this.rules = [];
    this.stormUntil = 0;
  }

  reseed(seed: number): void {
    this.seed = seed;
    this.random = seededRandom(seed);
  }

  /** Every request answers 429 for the next `seconds`. */
  startStorm(seconds: number): void {
    this.stormUntil = this.now() + seconds * 1000;
  }

  describe(): { seed: number; rules: FaultRule[]; stormSecondsLeft: number } {
    return {
      seed: this.seed,
      rules: this.rules.map(({ rule, remaining }) => ({ ...rule, ...(remaining !== undefined && { count: remaining }) })),
      stormSecondsLeft: Math.max(0, (this.stormUntil - this.now()) / 1000),
    };
  }

  /** Decides, before any work, whether this request fails. Timeouts apply to whole HTTP requests only. */
  beforeWork(operation: GraphOperation, wholeHttpRequest: boolean): FaultDecision | undefined {
    const stormLeft = this.stormUntil - this.now();
    if (stormLeft > 0) return { kind: 'storm', retryAfterSeconds: stormLeft / 1000 };
    const hit = this.take((rule) => rule.kind === 'error' || (rule.kind === 'timeout' && wholeHttpRequest), operation);
    if (!hit) return undefined;
    if (hit.kind === 'timeout') return { kind: 'timeout', holdMs: hit.holdMs ?? 30_000 };
    const status = hit.status ?? 503;
    return { kind: 'error', status, retryAfterSeconds: status === 503 ? (hit.retryAfterSeconds ?? 1) : undefined };
  }

  /** Decides whether the upload session of this range has expired before it arrives. */
  expireUploadSession(): boolean {
    return this.take((rule) => rule.kind === 'expireUploadSession', 'uploadChunk') !== undefined;
  }

  /** Decides, after the work succeeded, whether the response is lost. */
  loseResponse(operation: GraphOperation): boolean {
    return this.take((rule) => rule.kind === 'lostResponse', operation) !== undefined;
  }

  private take(kindMatches: (rule: FaultRule) => boolean, operation: GraphOperation): FaultRule | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (!kindMatches(rule)) continue;
      const operations = rule.operations ?? (rule.kind === 'lostResponse' ? WRITE_OPERATIONS : undefined);
      if (operations && !operations.includes(operation)) continue;
      if (rule.fraction !== undefined && this.random() >= rule.fraction) continue;
      if (active.remaining !== undefined) {
        active.remaining--;
        if (active.remaining === 0) this.rules = this.rules.filter((r) => r !== active);
      }
      return rule;
    }
    return undefined;
  }
}
