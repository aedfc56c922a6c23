import type { TableClient } from '@azure/data-tables';
import type { TimeWindow } from '../model';
import { daysOf } from './deliveryLedger';
import { keySafe } from './tableNames';

/** One item TeleMessage delivered, staged raw and recorded once: what the import's windows select on. */
export interface InboxEntry {
  /** The item id: X-TELEMESSAGE-ArchiveMessageID, else the Message-ID, else `sha256:<raw sha>`. */
  id: string;
  /** When we recorded it: the time the import's windows select on. */
  collectedAt: Date;
  /** When TeleMessage delivered it (capture email's receivedDateTime; the ZIP's last-modified). */
  deliveredAt: Date;
  /** TeleMessage's message type when the headers name it (SMS, MMS, …), else ''. */
  type: string;
  sizeBytes: number;
  sha256: string;
  /** Where it came from, for the run log and the admin: `capture:<graph message id>`, `zip:<zip name>/<entry name>`. */
  origin: string;
}

const PAGE = 1000;

/**
 * The inbox: every delivered item once, by id, and again by collection time for the import's
 * listing. The id row is written first and decides "once"; the time row follows. A crash between
 * the two is mended by the next record() of the same id, which gives the item that collection's
 * time, so an item can never be recorded yet invisible to every window still to come.
 */
export class InboxStore {
  constructor(private readonly table: TableClient) {}

  /**
   * Records the entry once: when the id is already there and listable, returns the entry already
   * recorded (and records nothing new). An id row a crash left without its time row was never
   * listable, so never imported: it takes this collection's time, which the coming window covers
   * (its first time may be behind the checkpoint by now), and counts as newly recorded.
   */
  async record(connectorId: string, entry: InboxEntry, options: { abortSignal?: AbortSignal } = {}): Promise<{ entry: InboxEntry; created: boolean }> {
    const { abortSignal } = options;
    const key = { partitionKey: keySafe(connectorId), rowKey: keySafe(entry.id) };
    let recorded = entry;
    try {
      await this.table.createEntity({ ...key, ...toColumns(entry) }, { abortSignal });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
      const existing = await this.table.getEntity(key.partitionKey, key.rowKey, { abortSignal });
      const earlier = fromColumns(existing);
      if (await this.listable(connectorId, earlier, abortSignal)) return { entry: earlier, created: false };
      recorded = { ...earlier, collectedAt: entry.collectedAt };
      await this.table.updateEntity({ ...key, ...toColumns(recorded) }, 'Replace', { etag: existing.etag, abortSignal });
    }
    await this.table.upsertEntity({ partitionKey: timePartition(connectorId, recorded.collectedAt), rowKey: timeRow(recorded), ...toColumns(recorded) }, 'Replace', { abortSignal });
    return { entry: recorded, created: true };
  }

  private async listable(connectorId: string, entry: InboxEntry, abortSignal: AbortSignal | undefined): Promise<boolean> {
    try {
      await this.table.getEntity(timePartition(connectorId, entry.collectedAt), timeRow(entry), { abortSignal, queryOptions: { select: ['id'] } });
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw err;
    }
  }

  /** The entry recorded under `id`, if any. */
  async get(connectorId: string, id: string, options: { abortSignal?: AbortSignal } = {}): Promise<InboxEntry | undefined> {
    try {
      return fromColumns(await this.table.getEntity(keySafe(connectorId), keySafe(id), { abortSignal: options.abortSignal }));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Entries with collectedAt in [from, to), in (collectedAt, id) order, paged underneath. */
  async *list(connectorId: string, window: TimeWindow, options: { abortSignal?: AbortSignal } = {}): AsyncIterable<InboxEntry> {
    for await (const page of this.pages(connectorId, window, undefined, options.abortSignal)) for (const e of page) yield fromColumns(e);
  }

  /** How many entries `list` yields for `window`: only their keys are read. */
  async count(connectorId: string, window: TimeWindow, options: { abortSignal?: AbortSignal } = {}): Promise<number> {
    let n = 0;
    for await (const page of this.pages(connectorId, window, ['RowKey'], options.abortSignal)) n += page.length;
    return n;
  }

  private async *pages(connectorId: string, window: TimeWindow, select: string[] | undefined, abortSignal: AbortSignal | undefined) {
    for (const day of daysOf(window.from, window.to)) {
      const pk = `${keySafe(connectorId)}|${day}`;
      // Row keys start with the ISO time, which sorts as time does; `<to ISO>|…` sorts after `<to ISO>`.
      const filter = `PartitionKey eq '${pk}' and RowKey ge '${window.from.toISOString()}' and RowKey lt '${window.to.toISOString()}'`;
      yield* this.table.listEntities({ queryOptions: { filter, select }, abortSignal }).byPage({ maxPageSize: PAGE });
    }
  }
}

function timePartition(connectorId: string, collectedAt: Date): string {
  return `${keySafe(connectorId)}|${collectedAt.toISOString().slice(0, 10)}`;
}

function timeRow(entry: InboxEntry): string {
  return `${entry.collectedAt.toISOString()}|${keySafe(entry.id)}`;
}

function toColumns(e: InboxEntry): Record<string, string | number> {
  return {
    id: e.id,
    collectedAt: e.collectedAt.toISOString(),
    deliveredAt: e.deliveredAt.toISOString(),
    type: e.type,
    sizeBytes: e.sizeBytes,
    sha256: e.sha256,
    origin: e.origin,
  };
}

function fromColumns(e: Record<string, unknown>): InboxEntry {
  return {
    id: String(e.id),
    collectedAt: new Date(String(e.collectedAt)),
    deliveredAt: new Date(String(e.deliveredAt)),
    type: String(e.type ?? ''),
    sizeBytes: Number(e.sizeBytes),
    sha256: String(e.sha256),
    origin: String(e.origin ?? ''),
  };
}
