import { GraphOperation } from './operations';

/** Counts of what the emulator did, for tests and benchmarks to read back. */
export interface GraphEmulatorStats {
  /** Requests whose handler ran (whatever it answered), by operation. */
  served: { total: number; byOperation: Partial<Record<GraphOperation, number>> };
  /** Requests turned away before any work, by reason. */
  refused: {
    concurrency: number;
    rate: number;
    upload: number;
    storm: number;
    injected500: number;
    injected503: number;
    injected504: number;
    timeouts: number;
    unauthenticated: number;
    forbidden: number;
    /** Upload ranges (or session reads) that found their session expired or its token wrong. */
    expiredUploadSession: number;
  };
  /** Requests that did their work and then had their response dropped. */
  lostResponses: number;
}

export type RefusalReason = keyof GraphEmulatorStats['refused'];

export class StatsRecorder {
  private stats = StatsRecorder.empty();

  private static empty(): GraphEmulatorStats {
    return {
      served: { total: 0, byOperation: {} },
      refused: {
        concurrency: 0,
        rate: 0,
        upload: 0,
        storm: 0,
        injected500: 0,
        injected503: 0,
        injected504: 0,
        timeouts: 0,
        unauthenticated: 0,
        forbidden: 0,
        expiredUploadSession: 0,
      },
      lostResponses: 0,
    };
  }

  served(operation: GraphOperation): void {
    this.stats.served.total++;
    this.stats.served.byOperation[operation] = (this.stats.served.byOperation[operation] ?? 0) + 1;
  }

  refused(reason: RefusalReason): void {
    this.stats.refused[reason]++;
  }

  lostResponse(): void {
    this.stats.lostResponses++;
  }

  snapshot(): GraphEmulatorStats {
    return structuredClone(this.stats);
  }

  reset(): void {
    this.stats = StatsRecorder.empty();
  }
}
