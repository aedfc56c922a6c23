import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { DeliveryOutcome } from '../model';
import type { UnmappedKind } from '../mapping/item/unmappedKind';
import type { ItemOutcome } from './dailyCountsStore';
import { keySafe } from './tableNames';
import { TableTransaction } from './tableTransaction';

/** An item's state: `final` once every delivery of it is final (or it can never be delivered). */
export interface ItemRecord {
  itemId: string;
  archivedAt: Date;
  status: 'pending' | 'final';
  rawSha256?: string;
  kind?: string;
  /** Why nothing was delivered (malformed, no mapped participant), when that is the case. */
  reason?: string;
  /** What became of the item as a whole, as of this write (derived from status and reason in rows written before it). */
  outcome?: ItemOutcome;
  /** Mapping version the fan-out was computed with; a new mapping may add deliveries. */
  mappingVersion?: string;
  hadUnmapped?: boolean;
  /** The participants (numbers, or emails without one) that mapped nowhere, as last processed. */
  unmappedNumbers?: string[];
  /** The raw copy's size, so the item can be replayed from it. */
  rawSize?: number;
  runId: string;
  /** An admin's word that this failed item will never be imported (malformed at the source, say): no longer outstanding, still listed. */
  acknowledgement?: FailureAcknowledgement;
}

export interface FailureAcknowledgement {
  by: string;
  at: Date;
  reason: string;
}

/** One participant of one item that maps to no mailbox: kept with the item, so never lost. */
export interface UnmappedRow {
  number: string;
  itemId: string;
  at: Date;
  name?: string;
  email?: string;
  reason: string;
  kind?: UnmappedKind;
}

export interface DeliveryRecord {
  archiveKey: string;
  itemId: string;
  mailbox: string;
  status: 'pending' | DeliveryOutcome;
  /** A failure that retrying will not mend (the mailbox refuses the item, say). */
  permanent?: boolean;
  messageId?: string;
  attempts: number;
  reason?: string;
  runId: string;
}

const ITEM = 'item|';
const DELIVERY = 'dlv|';
const UNMAPPED = 'unm|';
const MAX_BATCH = 100;

/**
 * What became of each item and each (item, mailbox) delivery, partitioned by connector and the
 * item's archive day: stable across runs and windows, so a replay finds what is already final.
 * An item and its deliveries are written together in entity-group transactions.
 */
export class DeliveryLedger {
  private readonly writers = new Map<string, PartitionWriter>();
  /** Sends the item writes' transactions, one per several items; the SDK's costs more CPU than the rest of a write. */
  private readonly commit: (actions: TransactionAction[]) => Promise<unknown>;

  constructor(private readonly table: TableClient) {
    const direct = TableTransaction.for(table);
    this.commit = (actions) => (direct && TableTransaction.handles(actions) ? direct.submit(actions) : table.submitTransaction(actions));
  }

  static partition(connectorId: string, archivedAt: Date): string {
    return `${keySafe(connectorId)}|${archivedAt.toISOString().slice(0, 10)}`;
  }

  async getItem(connectorId: string, itemId: string, archivedAt: Date): Promise<{ item?: ItemRecord; deliveries: DeliveryRecord[] }> {
    const pk = DeliveryLedger.partition(connectorId, archivedAt);
    let item: ItemRecord | undefined;
    try {
      item = fromItemEntity(await this.table.getEntity(pk, ITEM + keySafe(itemId)));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
    if (!item) return { deliveries: [] };
    const deliveries: DeliveryRecord[] = [];
    const filter = `PartitionKey eq '${pk}' and RowKey ge '${DELIVERY}' and RowKey lt 'dlv}' and itemId eq '${itemId.replace(/'/g, "''")}'`;
    for await (const e of this.table.listEntities({ queryOptions: { filter } })) deliveries.push(fromDeliveryEntity(e));
    return { item, deliveries };
  }

  /**
   * Whether any item archived on `day` (YYYY-MM-DD) has a row: a day without one has nothing to
   * replay, so a run holding the lease may skip the per-item lookups for that day.
   */
  async hasItemsOn(connectorId: string, day: string): Promise<boolean> {
    const pk = `${keySafe(connectorId)}|${day}`;
    const filter = `PartitionKey eq '${pk}' and RowKey ge '${ITEM}' and RowKey lt 'item}'`;
    // A page may come back empty with a continuation; only the end of the query says "none".
    for await (const page of this.table.listEntities({ queryOptions: { filter, select: ['RowKey'] } }).byPage({ maxPageSize: 1 })) {
      if (page.length) return true;
    }
    return false;
  }

  /**
   * Writes the item with its deliveries and its unmapped participants; the item row goes last so
   * it never claims more than is stored. `staleUnmapped` are numbers an earlier pass of the item
   * recorded as unmapped that now map (after a mapping change).
   */
  async save(connectorId: string, item: ItemRecord, deliveries: readonly DeliveryRecord[], unmapped: readonly UnmappedRow[] = [], staleUnmapped: readonly string[] = []): Promise<void> {
    const pk = DeliveryLedger.partition(connectorId, item.archivedAt);
    const actions: TransactionAction[] = deliveries.map((d) => ['upsert', toDeliveryEntity(pk, d, item.archivedAt), 'Replace']);
    for (const u of unmapped) actions.push(['upsert', toUnmappedEntity(pk, u), 'Replace']);
    for (const n of staleUnmapped) actions.push(['delete', { partitionKey: pk, rowKey: unmappedKey(n, item.itemId) }]);
    actions.push(['upsert', toItemEntity(pk, { ...item, unmappedNumbers: item.unmappedNumbers ?? unmapped.map((u) => u.number) }), 'Replace']);
    let writer = this.writers.get(pk);
    if (!writer) {
      writer = new PartitionWriter(this.commit, () => this.writers.delete(pk));
      this.writers.set(pk, writer);
    }
    await writer.write(actions);
  }

  /** The unmapped participants of a connector's items archived on `day` (YYYY-MM-DD). */
  async *unmappedOn(connectorId: string, day: string): AsyncIterable<UnmappedRow> {
    const pk = `${keySafe(connectorId)}|${day}`;
    const filter = `PartitionKey eq '${pk}' and RowKey ge '${UNMAPPED}' and RowKey lt 'unm}'`;
    for await (const e of this.table.listEntities({ queryOptions: { filter } })) {
      yield {
        number: String(e.number),
        itemId: String(e.itemId),
        at: new Date(String(e.at)),
        name: e.name as string | undefined,
        email: e.email as string | undefined,
        reason: String(e.reason ?? ''),
        kind: e.kind as UnmappedKind | undefined,
      };
    }
  }

  /** The kind and outcome of every item of a connector archived on `day` (YYYY-MM-DD): what the daily counts are made of. */
  async *outcomesOn(connectorId: string, day: string): AsyncIterable<{ kind?: string; outcome: ItemOutcome }> {
    const pk = `${keySafe(connectorId)}|${day}`;
    const filter = `PartitionKey eq '${pk}' and RowKey ge '${ITEM}' and RowKey lt 'item}'`;
    for await (const e of this.table.listEntities({ queryOptions: { filter, select: ['kind', 'status', 'reason', 'outcome', 'acknowledgedAt'] } })) {
      yield { kind: e.kind as string | undefined, outcome: outcomeOf(e) };
    }
  }

  /** Every item row of a connector's items archived on `day` (YYYY-MM-DD): what run counts and failure lists are made of. */
  async *itemsOn(connectorId: string, day: string): AsyncIterable<ItemRecord> {
    const pk = `${keySafe(connectorId)}|${day}`;
    const filter = `PartitionKey eq '${pk}' and RowKey ge '${ITEM}' and RowKey lt 'item}'`;
    for await (const e of this.table.listEntities({ queryOptions: { filter } })) yield fromItemEntity(e);
  }

  /** The ids of a connector's items archived on `day` in which `number` mapped nowhere. */
  async *itemsHeldFor(connectorId: string, day: string, number: string): AsyncIterable<string> {
    const pk = `${keySafe(connectorId)}|${day}`;
    const prefix = `${UNMAPPED}${keySafe(number)}|`;
    const filter = `PartitionKey eq '${pk}' and RowKey ge '${prefix}' and RowKey lt '${prefix.slice(0, -1)}}'`;
    for await (const e of this.table.listEntities({ queryOptions: { filter, select: ['itemId'] } })) yield String(e.itemId);
  }

  /** An item's own row, found by its archive day. */
  async itemOn(connectorId: string, day: string, itemId: string): Promise<ItemRecord | undefined> {
    try {
      return fromItemEntity(await this.table.getEntity(`${keySafe(connectorId)}|${day}`, ITEM + keySafe(itemId)));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Every delivery of a connector's items archived in [from, to): for verification and reports. */
  async *deliveriesIn(connectorId: string, from: Date, to: Date): AsyncIterable<DeliveryRecord & { archivedAt: Date }> {
    for (const day of daysOf(from, to)) {
      const pk = `${keySafe(connectorId)}|${day}`;
      const filter = `PartitionKey eq '${pk}' and RowKey ge '${DELIVERY}' and RowKey lt 'dlv}'`;
      for await (const e of this.table.listEntities({ queryOptions: { filter } })) {
        yield { ...fromDeliveryEntity(e), archivedAt: new Date(String(e.archivedAt)) };
      }
    }
  }
}

interface QueuedWrite {
  actions: TransactionAction[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * How long a write waits for others to share its transaction, when the partition is idle. A
 * transaction costs the importer about 1 ms of CPU whatever it holds (some 0.04 ms more per
 * entity): at 10 ms the bench day's items shared one between two or three writes.
 */
const LINGER_MS = 25;

/**
 * Group commit for one partition: writes of several items that arrive together share one
 * entity-group transaction (up to MAX_BATCH entities), one transaction at a time, in arrival
 * order. A day's items all fall in one partition, so this turns two transactions per item into a
 * few per hundred. A write never shares a transaction with another touching the same row, and a
 * shared transaction that fails is retried write by write, so one bad write fails alone.
 */
class PartitionWriter {
  private readonly queue: QueuedWrite[] = [];
  private draining = false;

  constructor(
    private readonly commit: (actions: TransactionAction[]) => Promise<unknown>,
    private readonly onIdle: () => void,
  ) {}

  write(actions: TransactionAction[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ actions, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (this.queue.length) {
      if (pendingActions(this.queue) < MAX_BATCH) await new Promise((resolve) => setTimeout(resolve, LINGER_MS));
      const group = this.takeGroup();
      if (group.length === 1) {
        await this.commitAlone(group[0]);
        continue;
      }
      try {
        await this.commit(group.flatMap((w) => w.actions));
        group.forEach((w) => w.resolve());
      } catch {
        for (const w of group) await this.commitAlone(w);
      }
    }
    this.draining = false;
    this.onIdle();
  }

  /** The writes at the head of the queue that fit one transaction together. */
  private takeGroup(): QueuedWrite[] {
    const group: QueuedWrite[] = [];
    const rows = new Set<string>();
    let count = 0;
    while (this.queue.length) {
      const next = this.queue[0];
      const keys = next.actions.map(([, entity]) => entity.rowKey as string);
      if (group.length && (count + next.actions.length > MAX_BATCH || keys.some((k) => rows.has(k)))) break;
      group.push(this.queue.shift()!);
      keys.forEach((k) => rows.add(k));
      count += next.actions.length;
    }
    return group;
  }

  /** One write in its own transactions, in order: the item row, last, never claims more than is stored. */
  private async commitAlone(w: QueuedWrite): Promise<void> {
    try {
      for (let i = 0; i < w.actions.length; i += MAX_BATCH) await this.commit(w.actions.slice(i, i + MAX_BATCH));
      w.resolve();
    } catch (error) {
      w.reject(error);
    }
  }
}

function pendingActions(queue: readonly QueuedWrite[]): number {
  return queue.reduce((n, w) => n + w.actions.length, 0);
}

/** The UTC days (YYYY-MM-DD) that [from, to) touches: the ledger's partitions for a window. */
export function daysOf(from: Date, to: Date): string[] {
  const days: string[] = [];
  const d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  while (d < to) {
    days.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return days;
}

function unmappedKey(number: string, itemId: string): string {
  return `${UNMAPPED}${keySafe(number)}|${keySafe(itemId)}`;
}

function toUnmappedEntity(pk: string, u: UnmappedRow) {
  return { partitionKey: pk, rowKey: unmappedKey(u.number, u.itemId), number: u.number, itemId: u.itemId, at: u.at.toISOString(), name: u.name, email: u.email, reason: u.reason, kind: u.kind };
}

function toItemEntity(pk: string, r: ItemRecord) {
  return {
    partitionKey: pk,
    rowKey: ITEM + keySafe(r.itemId),
    itemId: r.itemId,
    archivedAt: r.archivedAt.toISOString(),
    status: r.status,
    rawSha256: r.rawSha256,
    kind: r.kind,
    reason: r.reason,
    // Acknowledged is derived from the acknowledgement, never stored as an outcome.
    outcome: r.outcome === 'acknowledged' ? 'failed' : r.outcome,
    mappingVersion: r.mappingVersion,
    hadUnmapped: r.hadUnmapped,
    unmappedNumbers: r.unmappedNumbers && r.unmappedNumbers.length ? JSON.stringify(r.unmappedNumbers) : undefined,
    rawSize: r.rawSize,
    runId: r.runId,
    acknowledgedBy: r.acknowledgement?.by,
    acknowledgedAt: r.acknowledgement?.at.toISOString(),
    acknowledgedReason: r.acknowledgement?.reason,
  };
}

function fromItemEntity(e: Record<string, unknown>): ItemRecord {
  return {
    itemId: String(e.itemId),
    archivedAt: new Date(String(e.archivedAt)),
    status: e.status as ItemRecord['status'],
    rawSha256: e.rawSha256 as string | undefined,
    kind: e.kind as string | undefined,
    reason: e.reason as string | undefined,
    outcome: outcomeOf(e),
    mappingVersion: e.mappingVersion as string | undefined,
    hadUnmapped: e.hadUnmapped as boolean | undefined,
    unmappedNumbers: e.unmappedNumbers ? (JSON.parse(String(e.unmappedNumbers)) as string[]) : undefined,
    rawSize: typeof e.rawSize === 'number' ? e.rawSize : undefined,
    runId: String(e.runId),
    acknowledgement: e.acknowledgedAt ? { by: String(e.acknowledgedBy), at: new Date(String(e.acknowledgedAt)), reason: String(e.acknowledgedReason ?? '') } : undefined,
  };
}

function toDeliveryEntity(pk: string, d: DeliveryRecord, archivedAt: Date) {
  return {
    partitionKey: pk,
    rowKey: DELIVERY + d.archiveKey,
    itemId: d.itemId,
    mailbox: d.mailbox,
    status: d.status,
    permanent: d.permanent,
    messageId: d.messageId,
    attempts: d.attempts,
    reason: d.reason,
    runId: d.runId,
    archivedAt: archivedAt.toISOString(),
  };
}

function fromDeliveryEntity(e: Record<string, unknown>): DeliveryRecord {
  return {
    archiveKey: String(e.rowKey).slice(DELIVERY.length),
    itemId: String(e.itemId),
    mailbox: String(e.mailbox),
    status: e.status as DeliveryRecord['status'],
    permanent: e.permanent as boolean | undefined,
    messageId: e.messageId as string | undefined,
    attempts: Number(e.attempts ?? 0),
    reason: e.reason as string | undefined,
    runId: String(e.runId),
  };
}

const OUTCOMES: readonly string[] = ['imported', 'partial', 'failed', 'notImported'];

/** An item row's outcome; a failure an admin acknowledged is no longer outstanding. */
function outcomeOf(e: Record<string, unknown>): ItemOutcome {
  const outcome = recordedOutcomeOf(e);
  return outcome === 'failed' && e.acknowledgedAt ? 'acknowledged' : outcome;
}

/** Rows written before outcomes were recorded say it through status and reason. */
function recordedOutcomeOf(e: Record<string, unknown>): ItemOutcome {
  if (typeof e.outcome === 'string' && OUTCOMES.includes(e.outcome)) return e.outcome as ItemOutcome;
  if (e.status !== 'final') return 'failed';
  const reason = String(e.reason ?? '');
  if (reason.startsWith('Malformed')) return 'failed';
  if (reason.startsWith('No participant maps')) return 'notImported';
  return 'imported';
}

/** What an item's deliveries, all of them, make of it: failed while any is not imported, partial while any lacks an attachment. */
export function outcomeOfDeliveries(deliveries: readonly DeliveryRecord[]): ItemOutcome {
  if (!deliveries.length) return 'notImported';
  if (deliveries.some((d) => !isFinal(d) || d.status === 'failed')) return 'failed';
  return deliveries.some((d) => d.status === 'partial') ? 'partial' : 'imported';
}

export function isFinal(d: DeliveryRecord): boolean {
  return d.status === 'imported' || d.status === 'partial' || d.status === 'duplicate' || (d.status === 'failed' && d.permanent === true);
}
