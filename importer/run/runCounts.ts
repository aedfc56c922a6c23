import type { RunCounts, TimeWindow } from '../model';
import { daysOf, type DeliveryRecord, type FailureAcknowledgement, type ItemRecord, type UnmappedRow } from '../state/deliveryLedger';
import { EMPTY_COUNTS, MAX_FAILURES_KEPT, type RunRecord } from '../state/runsStore';
import type { ImporterStores } from './importerStores';

/** One item of a run as the ledger holds it: its row, its deliveries, its unmapped participants. */
export interface LedgerItem {
  item: ItemRecord;
  deliveries: DeliveryRecord[];
  unmapped: UnmappedRow[];
}

/** What a run covers: its window, and for a replay of held items, only those items. */
export interface CountScope {
  connectorId: string;
  window: TimeWindow;
  itemIds?: readonly string[];
}

/** A failed item and why: what "still failing" lists, per item, never per run. */
export interface FailureLine {
  itemId: string;
  archivedAt: Date;
  /** The mailbox whose delivery failed; absent when the item itself failed (malformed, say). */
  mailbox?: string;
  reason: string;
  /** The run that last handled the item. */
  runId: string;
  acknowledgement?: FailureAcknowledgement;
}

const archived = (d: DeliveryRecord) => d.status === 'imported' || d.status === 'partial' || d.status === 'duplicate';

/**
 * The one definition of every figure of docs/counts.md: the counts of run `runId` over `items`,
 * as the ledger holds them. The run record, the CLI, the tab, the card and the verification all
 * come from here, so they cannot disagree.
 */
export async function countRun(items: AsyncIterable<LedgerItem> | Iterable<LedgerItem>, runId: string): Promise<RunCounts> {
  const c: RunCounts = { ...EMPTY_COUNTS };
  const numbers = new Set<string>();
  for await (const { item, deliveries, unmapped } of items) {
    c.availableFromSource++;
    let wroteOne = false;
    for (const d of deliveries) {
      c.afterFanOut++;
      if (!archived(d)) c.deliveriesFailed++;
      else if (d.runId !== runId || d.status === 'duplicate') c.alreadyArchived++;
      else {
        wroteOne = true;
        if (d.status === 'partial') c.partiallyImported++;
        else c.imported++;
      }
    }
    switch (item.outcome) {
      case 'imported':
      case 'partial':
        if (item.outcome === 'partial') c.itemsPartial++;
        else c.itemsImported++;
        if (!wroteOne) c.itemsAlreadyArchived++;
        break;
      case 'acknowledged':
        c.failed++;
        c.failuresAcknowledged++;
        break;
      case 'notImported':
        c.notImported++;
        break;
      default:
        c.failed++;
        c.failuresOutstanding++;
    }
    let held = false;
    for (const u of unmapped) {
      c.unmapped++;
      numbers.add(u.number);
      if (u.kind === 'archivedLine') c.unmappedArchivedLines++;
      else if (u.kind === 'employee') c.unmappedEmployees++;
      else c.unmappedOutsideParties++;
      held ||= u.kind === 'archivedLine' || u.kind === 'employee';
    }
    if (held) c.itemsHeld++;
  }
  c.skippedDuplicates = c.alreadyArchived;
  c.unmappedNumbers = numbers.size;
  return c;
}

/** The identities of docs/counts.md that `c` breaks, in words; empty when it keeps them all. */
export function brokenIdentities(c: RunCounts): string[] {
  const broken: string[] = [];
  if (c.afterFanOut !== c.imported + c.partiallyImported + c.alreadyArchived + c.deliveriesFailed)
    broken.push('deliveries after fan-out ≠ imported + partially imported + already archived + failed deliveries');
  if (c.availableFromSource !== c.itemsImported + c.itemsPartial + c.failed + c.notImported) broken.push('items from source ≠ items imported + partially imported + failed + not imported');
  if (c.failed !== c.failuresOutstanding + c.failuresAcknowledged) broken.push('failed items ≠ outstanding + acknowledged');
  if (c.itemsAlreadyArchived > c.itemsImported + c.itemsPartial) broken.push('items already archived > items imported or partially imported');
  if (c.unmapped !== c.unmappedArchivedLines + c.unmappedEmployees + c.unmappedOutsideParties) broken.push('unmapped participants ≠ archived lines + employees + outside parties');
  return broken;
}

/**
 * The ledger's items of `scope`, a day at a time (a day's deliveries and unmapped rows are
 * grouped in memory, never the whole window), with their deliveries and unmapped participants.
 */
export async function* ledgerItems(stores: ImporterStores, scope: CountScope): AsyncIterable<LedgerItem> {
  const only = scope.itemIds && new Set(scope.itemIds);
  const { from, to } = scope.window;
  for (const day of daysOf(from, to)) {
    const start = new Date(`${day}T00:00:00.000Z`);
    const deliveries = new Map<string, DeliveryRecord[]>();
    for await (const d of stores.ledger.deliveriesIn(scope.connectorId, start, new Date(start.getTime() + 86_400_000))) push(deliveries, d.itemId, d);
    const unmapped = new Map<string, UnmappedRow[]>();
    for await (const u of stores.ledger.unmappedOn(scope.connectorId, day)) push(unmapped, u.itemId, u);
    for await (const item of stores.ledger.itemsOn(scope.connectorId, day)) {
      if (item.archivedAt < from || item.archivedAt >= to || (only && !only.has(item.itemId))) continue;
      yield { item, deliveries: deliveries.get(item.itemId) ?? [], unmapped: unmapped.get(item.itemId) ?? [] };
    }
  }
}

/** The failures among `items`: one line per failed delivery, or per item when the item itself failed. */
export function failureLinesOf(entry: LedgerItem): FailureLine[] {
  const { item, deliveries } = entry;
  if (item.outcome !== 'failed' && item.outcome !== 'acknowledged') return [];
  const line = { itemId: item.itemId, archivedAt: item.archivedAt, runId: item.runId, acknowledgement: item.acknowledgement };
  const failedDeliveries = deliveries.filter((d) => !archived(d));
  if (!failedDeliveries.length) return [{ ...line, reason: item.reason ?? 'Not completed yet: the next run or a rerun tries it again' }];
  return failedDeliveries.map((d) => ({
    ...line,
    mailbox: d.mailbox,
    runId: d.runId,
    reason: d.reason ?? (d.status === 'pending' ? 'Not completed yet: the next run or a rerun tries it again' : 'failed'),
  }));
}

/**
 * Sets the run's counts from the ledger through the one definition (docs/counts.md), and lists
 * what is still failing among its items; a failure an earlier run met gets a line in this run's
 * log too, so the log and the card say what is still failing and why.
 */
export async function takeRunCounts(stores: ImporterStores, connectorId: string, run: RunRecord): Promise<void> {
  const failures: FailureLine[] = [];
  const items = ledgerItems(stores, { connectorId, window: run.window, itemIds: run.itemIds });
  run.counts = await countRun(tapFailures(items, failures), run.runId);
  run.stillFailing = failures.slice(0, MAX_FAILURES_KEPT);
  const earlier = failures.filter((f) => f.runId !== run.runId).slice(0, MAX_EARLIER_FAILURE_LINES);
  const at = new Date();
  await stores.runLog.append(
    run.runId,
    earlier.map((f) => ({
      itemId: f.itemId,
      sourceUserId: '',
      m365UserId: f.mailbox,
      outcome: f.acknowledgement ? ('acknowledged' as const) : ('failed' as const),
      reason: (f.acknowledgement ? `Acknowledged by ${f.acknowledgement.by}: ${f.acknowledgement.reason} (failed: ${f.reason})` : `Still failing: ${f.reason}`).slice(0, 500),
      at,
    })),
  );
}

/** Failure lines written to a run's log for failures earlier runs met: the run record keeps a count of them all. */
const MAX_EARLIER_FAILURE_LINES = 1000;

async function* tapFailures(items: AsyncIterable<LedgerItem>, into: FailureLine[]): AsyncIterable<LedgerItem> {
  for await (const entry of items) {
    if (into.length < MAX_EARLIER_FAILURE_LINES) into.push(...failureLinesOf(entry));
    yield entry;
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
