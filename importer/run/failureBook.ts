import { ImporterError } from '../errors';
import { acquireRunLease } from '../state/runLease';
import type { ImporterStores } from './importerStores';
import { failureLinesOf, ledgerItems, type FailureLine } from './runCounts';

/** What is failing across every archive window: outstanding until imported or acknowledged; acknowledged ones stay listed. */
export interface FailureListing {
  outstanding: FailureLine[];
  acknowledged: FailureLine[];
  /** More lines than `top` exist: the counts in the runs and the chart have them all. */
  truncated: boolean;
}

export interface FailureListOptions {
  /** Lines of each list (500 unless set). */
  top?: number;
  abortSignal?: AbortSignal;
}

const MAX_REASON = 500;

/**
 * Failures are kept per archive window in the ledger, not per run: a rerun that skips a failed
 * item leaves it failed. Only a successful import or an admin's acknowledgement (audited, for an
 * item that can never be imported) ends it.
 */
export async function listFailures(stores: ImporterStores, connectorId: string, options: FailureListOptions = {}): Promise<FailureListing> {
  const top = options.top ?? 500;
  const listing: FailureListing = { outstanding: [], acknowledged: [], truncated: false };
  for (const day of await stores.dailyCounts.daysWithFailures(connectorId)) {
    const from = new Date(`${day}T00:00:00.000Z`);
    for await (const entry of ledgerItems(stores, { connectorId, window: { from, to: new Date(from.getTime() + 86_400_000) } })) {
      options.abortSignal?.throwIfAborted();
      for (const line of failureLinesOf(entry)) {
        const list = line.acknowledgement ? listing.acknowledged : listing.outstanding;
        if (list.length < top) list.push(line);
        else listing.truncated = true;
      }
    }
  }
  return listing;
}

/**
 * An admin's word that a failed item will never be imported: audited, listed as acknowledged, no
 * longer outstanding. Refused while a run holds the connector (it may be importing the item).
 */
export async function acknowledgeFailure(
  stores: ImporterStores,
  connectorId: string,
  request: { itemId: string; reason: string; requestedBy: string; leaseSeconds?: number; abortSignal?: AbortSignal },
): Promise<FailureLine[]> {
  const reason = request.reason.trim();
  if (!reason) throw new ImporterError('InvalidSetting', 'Say why this failure is acknowledged: the reason is kept in the audit trail.');
  if (reason.length > MAX_REASON) throw new ImporterError('InvalidSetting', `The reason is ${reason.length} characters long; at most ${MAX_REASON} are kept.`);
  const lease = await acquireRunLease(stores.locks, connectorId, { durationSeconds: request.leaseSeconds });
  try {
    const { outstanding } = await listFailures(stores, connectorId, { top: Number.MAX_SAFE_INTEGER, abortSignal: request.abortSignal });
    const lines = outstanding.filter((f) => f.itemId === request.itemId);
    if (!lines.length) throw new ImporterError('NotFound', `No outstanding failure of item "${request.itemId}": it was imported, acknowledged already, or never failed.`);
    const { item, deliveries } = await stores.ledger.getItem(connectorId, request.itemId, lines[0].archivedAt);
    if (!item) throw new ImporterError('NotFound', `No item "${request.itemId}" in the ledger.`);
    const acknowledgement = { by: request.requestedBy, at: new Date(), reason };
    await stores.ledger.save(connectorId, { ...item, outcome: 'failed', acknowledgement }, []);
    const day = item.archivedAt.toISOString().slice(0, 10);
    await stores.dailyCounts.refreshDay(connectorId, day, stores.ledger.outcomesOn(connectorId, day), `acknowledged by ${request.requestedBy}`);
    await stores.audit.append({
      actor: request.requestedBy,
      action: 'failure.acknowledged',
      connectorId,
      detail: {
        itemId: item.itemId,
        archivedAt: item.archivedAt.toISOString(),
        reason,
        failures: lines.map((l) => ({ mailbox: l.mailbox, reason: l.reason.slice(0, 300) })),
        deliveries: deliveries.length,
      },
    });
    return lines.map((l) => ({ ...l, acknowledgement }));
  } finally {
    await lease.release();
  }
}
