import type { ContainerClient } from '@azure/storage-blob';
import type { MailboxUsage } from '../sink/mailboxPacer';
import { keySafe } from '../state/tableNames';
import { keepRenewing } from '../state/runLease';

/**
 * One worker at a time writes a mailbox: a blob lease per connector and mailbox, renewed while
 * the worker writes, released after its unit. Graph's limits are per app and mailbox, so within
 * the lease one process's pacer keeps them (four requests at once); the windows (10,000 requests
 * per 10 minutes, 150 MB per 5 minutes) pass from holder to holder in the blob's metadata.
 */
export interface MailboxLease {
  /** What the mailbox's earlier holders used of its windows, when one said. */
  readonly usage: MailboxUsage | undefined;
  /** Aborted when the lease is lost (renewal failed): stop writing the mailbox. */
  readonly signal: AbortSignal;
  /** Leaves what this holder used for the next, and lets the mailbox go. */
  release(usage?: MailboxUsage): Promise<void>;
}

const USAGE_KEY = 'pacing';
/** Lock blobs this process knows exist: created once, never again asked for. */
const existing = new Set<string>();

/** The mailbox's lease, or undefined when another worker holds it. */
export async function tryMailboxLease(locks: ContainerClient, connectorId: string, userId: string, durationSeconds: number): Promise<MailboxLease | undefined> {
  const name = `mailbox-lock/${keySafe(connectorId)}/${keySafe(userId)}`;
  const blob = locks.getBlockBlobClient(name);
  if (!existing.has(`${locks.url}/${name}`)) {
    try {
      await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
    }
    existing.add(`${locks.url}/${name}`);
  }
  const leases = blob.getBlobLeaseClient();
  try {
    await leases.acquireLease(durationSeconds);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 409) return undefined;
    throw err;
  }
  const conditions = { leaseId: leases.leaseId };
  let usage: MailboxUsage | undefined;
  try {
    usage = readUsage((await blob.getProperties({ conditions })).metadata?.[USAGE_KEY]);
  } catch (err) {
    await leases.releaseLease().catch(() => undefined);
    throw err;
  }

  const renewal = keepRenewing(leases, durationSeconds, () => new Error(`The lease of mailbox ${userId} was lost.`));

  return {
    usage,
    signal: renewal.signal,
    release: async (left) => {
      renewal.stop();
      if (left && !renewal.signal.aborted) await blob.setMetadata({ [USAGE_KEY]: JSON.stringify(left) }, { conditions }).catch(() => undefined);
      await leases.releaseLease().catch(() => undefined);
    },
  };
}

function readUsage(text: string | undefined): MailboxUsage | undefined {
  if (!text) return undefined;
  try {
    const u = JSON.parse(text) as MailboxUsage;
    const numbers = (a: unknown) => Array.isArray(a) && a.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0);
    return typeof u.at === 'number' && numbers(u.requests) && numbers(u.uploadBytes) ? u : undefined;
  } catch {
    return undefined;
  }
}
