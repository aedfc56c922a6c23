import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { DeliveryOutcome } from '../model';
import { keySafe } from './tableNames';

/** An item's state: `final` once every delivery of it is final (or it can never be delivered). */
export interface ItemRecord {
  itemId: string;
  archivedAt: Date;
  status: 'pending' | 'final';
  rawSha256?: string;
  kind?: string;
  /** Why nothing was delivered (malformed, no mapped participant), when that is the case. */
  reason?: string;
  /** Mapping version the fan-out was computed with; a new mapping may add deliveries. */
  mappingVersion?: string;
  hadUnmapped?: boolean;
  /** The participants (numbers, or emails without one) that mapped nowhere, as last processed. */
  unmappedNumbers?: string[];
  runId: string;
}

/** One participant of one item that maps to no mailbox: kept with the item, so never lost. */
export interface UnmappedRow {
  number: string;
  itemId: string;
  at: Date;
  name?: string;
  email?: string;
  reason: string;
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
  constructor(private readonly table: TableClient) {}

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
   * Writes the item with its deliveries and its unmapped participants; the item row goes last so
   * it never claims more than is stored. `staleUnmapped` are numbers an earlier pass of the item
   * recorded as unmapped that now map (after a mapping change).
   */
  async save(
    connectorId: string,
    item: ItemRecord,
    deliveries: readonly DeliveryRecord[],
    unmapped: readonly UnmappedRow[] = [],
    staleUnmapped: readonly string[] = [],
  ): Promise<void> {
    const pk = DeliveryLedger.partition(connectorId, item.archivedAt);
    const actions: TransactionAction[] = deliveries.map((d) => ['upsert', toDeliveryEntity(pk, d, item.archivedAt), 'Replace']);
    for (const u of unmapped) actions.push(['upsert', toUnmappedEntity(pk, u), 'Replace']);
    for (const n of staleUnmapped) actions.push(['delete', { partitionKey: pk, rowKey: unmappedKey(n, item.itemId) }]);
    actions.push(['upsert', toItemEntity(pk, { ...item, unmappedNumbers: item.unmappedNumbers ?? unmapped.map((u) => u.number) }), 'Replace']);
    for (let i = 0; i < actions.length; i += MAX_BATCH) await this.table.submitTransaction(actions.slice(i, i + MAX_BATCH));
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
      };
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
  return { partitionKey: pk, rowKey: unmappedKey(u.number, u.itemId), number: u.number, itemId: u.itemId, at: u.at.toISOString(), name: u.name, email: u.email, reason: u.reason };
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
    mappingVersion: r.mappingVersion,
    hadUnmapped: r.hadUnmapped,
    unmappedNumbers: r.unmappedNumbers && r.unmappedNumbers.length ? JSON.stringify(r.unmappedNumbers) : undefined,
    runId: r.runId,
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
    mappingVersion: e.mappingVersion as string | undefined,
    hadUnmapped: e.hadUnmapped as boolean | undefined,
    unmappedNumbers: e.unmappedNumbers ? (JSON.parse(String(e.unmappedNumbers)) as string[]) : undefined,
    runId: String(e.runId),
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

export function isFinal(d: DeliveryRecord): boolean {
  return d.status === 'imported' || d.status === 'partial' || d.status === 'duplicate' || (d.status === 'failed' && d.permanent === true);
}
