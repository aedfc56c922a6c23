import type { TableClient, TransactionAction } from '@azure/data-tables';

/** One line of a run's log, as in Microsoft's connector log: which item, whose, for whom, why. */
export interface RunLogRow {
  itemId: string;
  /** The participant at the source: number, or email where there is no number. */
  sourceUserId: string;
  /** The mailbox, when one was involved. */
  m365UserId?: string;
  /** `acknowledged`: a failure an admin accepted (it still fails, and is listed, never hidden). */
  outcome: 'failed' | 'partial' | 'unmapped' | 'malformed' | 'acknowledged';
  reason: string;
  at: Date;
}

const MAX_BATCH = 100;

/** Failed, partial and unmapped lines of each run, partition = run id, written in batches. */
export class RunLogStore {
  private seq = 0;
  constructor(private readonly table: TableClient) {}

  async append(runId: string, rows: readonly RunLogRow[]): Promise<void> {
    const entities = rows.map((r) => ({
      partitionKey: runId,
      // Time first, then a counter: rows read back in the order they happened.
      rowKey: `${r.at.toISOString()}|${process.pid}|${String(this.seq++).padStart(9, '0')}`,
      itemId: r.itemId,
      sourceUserId: r.sourceUserId,
      m365UserId: r.m365UserId,
      outcome: r.outcome,
      reason: r.reason,
      at: r.at.toISOString(),
    }));
    for (let i = 0; i < entities.length; i += MAX_BATCH) {
      const actions: TransactionAction[] = entities.slice(i, i + MAX_BATCH).map((e) => ['create', e]);
      await this.table.submitTransaction(actions);
    }
  }

  async *rows(runId: string): AsyncIterable<RunLogRow> {
    for await (const e of this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${runId.replace(/'/g, "''")}'` } })) {
      yield {
        itemId: String(e.itemId),
        sourceUserId: String(e.sourceUserId),
        m365UserId: e.m365UserId as string | undefined,
        outcome: e.outcome as RunLogRow['outcome'],
        reason: String(e.reason),
        at: new Date(String(e.at)),
      };
    }
  }
}

/** The run log as CSV, with the columns of Microsoft's connector log. */
export async function* runLogCsv(rows: AsyncIterable<RunLogRow>): AsyncIterable<string> {
  yield 'Item ID,Source user ID,Microsoft 365 user ID,Outcome,Reason,Time (UTC)\r\n';
  for await (const r of rows) {
    yield [r.itemId, r.sourceUserId, r.m365UserId ?? '', r.outcome, r.reason, r.at.toISOString()].map(csvField).join(',') + '\r\n';
  }
}

function csvField(value: string): string {
  // Quote when needed, and defuse spreadsheet formulas (a cell starting with = + - @).
  const formula = /^[=+\-@]/.test(value) && !/^\+\d{4,15}$/.test(value);
  const safe = formula ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
