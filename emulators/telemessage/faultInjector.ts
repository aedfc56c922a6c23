import { z } from 'zod';
import { SeededRandom } from './seededRandom';

/** Fault knobs; each can be set at start, by method, or by POST /_emulator/faults. */
export interface FaultSettings {
  /** Every sign-in fails with 401 invalid_credentials, as if the password had been changed. */
  rejectLogins: boolean;
  /** Every token dies after serving this many requests (0 = only its lifetime limits it). */
  expireTokensAfterRequests: number;
  /** The next N API requests answer `failStatus`. */
  failNextRequests: number;
  /** This share of API requests (deterministic in the seed) answers `failStatus`. */
  failRatio: number;
  failStatus: number;
  /** Added before every API response. */
  latencyMs: number;
  /** The next N downloads send their headers and `cutAfterBytes` body bytes, then drop the connection. */
  cutNextDownloads: number;
  cutAfterBytes: number;
}

export interface InjectedFaults {
  rejectedLogins: number;
  expiredTokens: number;
  serverErrors: number;
  delayedResponses: number;
  cutDownloads: number;
}

const NO_FAULTS: FaultSettings = {
  rejectLogins: false,
  expireTokensAfterRequests: 0,
  failNextRequests: 0,
  failRatio: 0,
  failStatus: 503,
  latencyMs: 0,
  cutNextDownloads: 0,
  cutAfterBytes: 0,
};

const count = z.number().int().min(0);
const faultSettingsSchema = z
  .strictObject({
    rejectLogins: z.boolean(),
    expireTokensAfterRequests: count,
    failNextRequests: count,
    failRatio: z.number().min(0).max(1),
    failStatus: z.number().int().min(500).max(599),
    latencyMs: count.max(600_000),
    cutNextDownloads: count,
    cutAfterBytes: count,
  })
  .partial();

/** Checks a partial knob update; throws a RangeError naming every bad field. */
export function parseFaultSettings(input: unknown): Partial<FaultSettings> {
  const result = faultSettingsSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
    throw new RangeError(`invalid fault settings: ${problems.join('; ')}`);
  }
  return result.data;
}

/** Holds the knobs, decides per request whether a fault fires, and counts what fired. */
export class FaultInjector {
  private settings: FaultSettings;
  private injectedCounts: InjectedFaults = emptyCounts();

  constructor(
    private readonly seed: string,
    initial: Partial<FaultSettings> = {},
  ) {
    this.settings = { ...NO_FAULTS, ...parseFaultSettings(initial) };
  }

  current(): FaultSettings {
    return { ...this.settings };
  }

  injected(): InjectedFaults {
    return { ...this.injectedCounts };
  }

  update(partial: Partial<FaultSettings>): FaultSettings {
    this.settings = { ...this.settings, ...parseFaultSettings(partial) };
    return this.current();
  }

  /** Knobs back to none and counts to zero. */
  reset(): void {
    this.settings = { ...NO_FAULTS };
    this.injectedCounts = emptyCounts();
  }

  latencyMs(): number {
    if (this.settings.latencyMs > 0) this.injectedCounts.delayedResponses += 1;
    return this.settings.latencyMs;
  }

  /** The status to fail API request number `requestNumber` with, if it must fail. */
  serverError(requestNumber: number): number | undefined {
    const { failNextRequests, failRatio, failStatus } = this.settings;
    const fails = failNextRequests > 0 || (failRatio > 0 && new SeededRandom([this.seed, 'fault', requestNumber]).chance(failRatio));
    if (!fails) return undefined;
    if (failNextRequests > 0) this.settings.failNextRequests -= 1;
    this.injectedCounts.serverErrors += 1;
    return failStatus;
  }

  rejectLogin(): boolean {
    if (this.settings.rejectLogins) this.injectedCounts.rejectedLogins += 1;
    return this.settings.rejectLogins;
  }

  expireTokensAfterRequests(): number {
    return this.settings.expireTokensAfterRequests;
  }

  tokenUsedUp(): void {
    this.injectedCounts.expiredTokens += 1;
  }

  /** Bytes to send before dropping this download, if it is to be cut. */
  cutDownload(): number | undefined {
    if (this.settings.cutNextDownloads === 0) return undefined;
    this.settings.cutNextDownloads -= 1;
    this.injectedCounts.cutDownloads += 1;
    return this.settings.cutAfterBytes;
  }
}

function emptyCounts(): InjectedFaults {
  return { rejectedLogins: 0, expiredTokens: 0, serverErrors: 0, delayedResponses: 0, cutDownloads: 0 };
}
