import type { TableClient } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import type { RunCounts, RunTrigger, TimeWindow } from '../model';
import { ImporterError } from '../errors';
import type { CollectReport } from '../source/collector';
import type { FailureLine } from '../run/runCounts';

export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed' | 'interrupted';

export interface RunRecord {
  runId: string;
  connectorId: string;
  trigger: RunTrigger;
  window: TimeWindow;
  status: RunStatus;
  counts: RunCounts;
  /** Entra object id of the person who asked, or "scheduler". */
  requestedBy: string;
  startedAt: Date;
  endedAt?: Date;
  rerunOf?: string;
  /** What the raw store's immutability looked like for this run, read back, never assumed. */
  immutability?: string;
  error?: string;
  verification?: string;
  /** For a delivered source (capture mailbox, SFTP): what the run collected before it imported. */
  collection?: CollectReport;
  /** What is still failing among the run's items when it ended, and why (the first MAX_FAILURES_KEPT). */
  stillFailing?: FailureLine[];
  /** A replay of held items: which items it covers (its counts cover only these). */
  itemIds?: string[];
  /** Items the source held for the window as the run began, where it can say (a delivered source's inbox, held items): progress is "done of total". */
  itemsTotal?: number;
}

/** Rejected batches kept on a run record: the row has 64 KiB per column; the run log has them all. */
const MAX_REJECTED_KEPT = 50;

export const EMPTY_COUNTS: RunCounts = {
  availableFromSource: 0,
  afterFanOut: 0,
  imported: 0,
  partiallyImported: 0,
  alreadyArchived: 0,
  skippedDuplicates: 0,
  deliveriesFailed: 0,
  itemsImported: 0,
  itemsPartial: 0,
  failed: 0,
  failuresOutstanding: 0,
  failuresAcknowledged: 0,
  notImported: 0,
  itemsAlreadyArchived: 0,
  itemsHeld: 0,
  unmapped: 0,
  unmappedArchivedLines: 0,
  unmappedEmployees: 0,
  unmappedOutsideParties: 0,
  unmappedNumbers: 0,
};

/** Failure lines kept on a run record (the run log has them all): enough for a card and a page. */
export const MAX_FAILURES_KEPT = 50;
/** Held item ids a replay keeps, so its counts can be taken again; a larger replay is counted over its window. */
const MAX_ITEM_IDS_KEPT = 1000;

// Inverted time makes the newest run the first row of the partition.
const MAX_TIME = 9_999_999_999_999;

/** Runs of a connector, newest first: the partition is the connector, the row key inverted time. */
export class RunsStore {
  constructor(private readonly table: TableClient) {}

  async create(run: Omit<RunRecord, 'runId' | 'status' | 'counts' | 'startedAt'> & { startedAt?: Date }): Promise<RunRecord> {
    const startedAt = run.startedAt ?? new Date();
    const runId = `${String(MAX_TIME - startedAt.getTime()).padStart(13, '0')}-${randomUUID().slice(0, 8)}`;
    const record: RunRecord = { ...run, runId, startedAt, status: 'running', counts: { ...EMPTY_COUNTS } };
    await this.table.createEntity(toEntity(record));
    return record;
  }

  async update(record: RunRecord): Promise<void> {
    await this.table.upsertEntity(toEntity(record), 'Replace');
  }

  async get(connectorId: string, runId: string): Promise<RunRecord> {
    try {
      return fromEntity(await this.table.getEntity(connectorId, runId));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) throw new ImporterError('NotFound', `No run "${runId}" for connector "${connectorId}".`);
      throw err;
    }
  }

  /** The newest runs first; `after` (a run id) starts the list with the run older than it, for paging. */
  async list(connectorId: string, top = 30, after?: string): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;
    // Row keys are inverted start times: the runs older than `after` are the keys greater than it.
    const filter = `PartitionKey eq ${quote(connectorId)}${after ? ` and RowKey gt ${quote(after)}` : ''}`;
    const pages = this.table.listEntities({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(top, 1000) });
    for await (const page of pages) {
      for (const entity of page) {
        runs.push(fromEntity(entity));
        if (runs.length >= top) return runs;
      }
    }
    return runs;
  }
}

function toEntity(r: RunRecord): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  return {
    partitionKey: r.connectorId,
    rowKey: r.runId,
    trigger: r.trigger,
    windowFrom: r.window.from.toISOString(),
    windowTo: r.window.to.toISOString(),
    status: r.status,
    counts: JSON.stringify(r.counts),
    requestedBy: r.requestedBy,
    startedAt: r.startedAt.toISOString(),
    endedAt: r.endedAt?.toISOString(),
    rerunOf: r.rerunOf,
    immutability: r.immutability,
    error: r.error,
    verification: r.verification,
    stillFailing: r.stillFailing && JSON.stringify(r.stillFailing.slice(0, MAX_FAILURES_KEPT).map((f) => ({ ...f, reason: f.reason.slice(0, 300) }))),
    itemIds: r.itemIds && r.itemIds.length <= MAX_ITEM_IDS_KEPT ? JSON.stringify(r.itemIds) : undefined,
    itemsTotal: r.itemsTotal,
    collection:
      r.collection &&
      JSON.stringify({ ...r.collection, rejected: r.collection.rejected.slice(0, MAX_REJECTED_KEPT).map((b) => ({ ...b, name: b.name.slice(0, 300), reason: b.reason.slice(0, 500) })) }),
  };
}

function fromEntity(e: Record<string, unknown>): RunRecord {
  const s = (k: string) => (e[k] === undefined || e[k] === null ? undefined : String(e[k]));
  return {
    runId: String(e.rowKey),
    connectorId: String(e.partitionKey),
    trigger: e.trigger as RunTrigger,
    window: { from: new Date(String(e.windowFrom)), to: new Date(String(e.windowTo)) },
    status: e.status as RunStatus,
    counts: { ...EMPTY_COUNTS, ...(JSON.parse(String(e.counts ?? '{}')) as Partial<RunCounts>) },
    requestedBy: String(e.requestedBy),
    startedAt: new Date(String(e.startedAt)),
    endedAt: s('endedAt') ? new Date(s('endedAt')!) : undefined,
    rerunOf: s('rerunOf'),
    immutability: s('immutability'),
    error: s('error'),
    verification: s('verification'),
    collection: s('collection') ? (JSON.parse(s('collection')!) as CollectReport) : undefined,
    stillFailing: s('stillFailing') ? (JSON.parse(s('stillFailing')!) as FailureLine[]).map(revive) : undefined,
    itemIds: s('itemIds') ? (JSON.parse(s('itemIds')!) as string[]) : undefined,
    itemsTotal: typeof e.itemsTotal === 'number' ? e.itemsTotal : undefined,
  };
}

function revive(f: FailureLine): FailureLine {
  return { ...f, archivedAt: new Date(f.archivedAt), acknowledgement: f.acknowledgement && { ...f.acknowledgement, at: new Date(f.acknowledgement.at) } };
}
