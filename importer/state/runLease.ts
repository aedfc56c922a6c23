import type { BlobLeaseClient, ContainerClient } from '@azure/storage-blob';
import { ImporterError } from '../errors';

/**
 * One run of a connector at a time, across server instances: a blob lease, renewed while the
 * run goes on, released at the end. A holder that dies stops renewing, so its lease expires and
 * the next run takes over.
 */
export interface RunLease {
  /** Aborted when the lease is lost (renewal failed): the run must stop writing. */
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

export interface RunLeaseOptions {
  /** 15 to 60 seconds, as Blob Storage allows. */
  durationSeconds?: number;
}

export async function acquireRunLease(locks: ContainerClient, connectorId: string, options: RunLeaseOptions = {}): Promise<RunLease> {
  const duration = options.durationSeconds ?? 60;
  const blob = locks.getBlockBlobClient(`run-lock/${connectorId}`);
  try {
    await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
  const leases = blob.getBlobLeaseClient();
  try {
    await leases.acquireLease(duration);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 409) {
      throw new ImporterError('RunInProgress', `A run of connector "${connectorId}" is already in progress.`);
    }
    throw err;
  }

  const renewal = keepRenewing(leases, duration, () => new ImporterError('RunInProgress', `The run lease of connector "${connectorId}" was lost.`));

  return {
    signal: renewal.signal,
    release: async () => {
      renewal.stop();
      await leases.releaseLease().catch(() => undefined);
    },
  };
}

/**
 * Renews a blob lease every third of its duration until stopped; `signal` aborts (with `lost()`)
 * when a renewal fails, for the holder to stop writing what the lease guards.
 */
export function keepRenewing(leases: BlobLeaseClient, durationSeconds: number, lost: () => Error): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  let stopped = false;
  const timer = setInterval(
    () => {
      leases.renewLease().catch(() => {
        clearInterval(timer);
        if (!stopped) controller.abort(lost());
      });
    },
    (durationSeconds * 1000) / 3,
  );
  timer.unref();
  return {
    signal: controller.signal,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
