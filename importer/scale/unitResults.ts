import type { TableClient, TransactionAction } from '@azure/data-tables';
import { keySafe } from '../state/tableNames';
import { readOutcomes, type DeliveryUnit, type UnitOutcome } from './deliveryUnit';

/** Table transactions take at most 100 actions. */
const BATCH = 100;

export interface UnitResult {
  unitId: string;
  outcomes: UnitOutcome[];
}

/**
 * What workers report of their units, for the run that put them on the queue to take: one row
 * per unit, in the run's partition, deleted once the run has it. A unit done twice (its worker
 * died after writing) writes the same row again; the run takes each unit once.
 */
export class UnitResults {
  constructor(private readonly table: TableClient) {}

  async put(unit: DeliveryUnit, outcomes: UnitOutcome[], worker: string): Promise<void> {
    await this.table.upsertEntity({ partitionKey: keySafe(unit.runId), rowKey: keySafe(unit.unitId), unitId: unit.unitId, outcomes: JSON.stringify(outcomes), worker }, 'Replace');
  }

  /** Every unit reported for the run since the last call; the rows are deleted as they are taken. */
  async take(runId: string, signal?: AbortSignal): Promise<UnitResult[]> {
    const partition = keySafe(runId);
    const rows: { rowKey: string; unitId: string; outcomes: string }[] = [];
    const listing = this.table.listEntities<{ unitId: string; outcomes: string }>({ queryOptions: { filter: `PartitionKey eq '${partition.replace(/'/g, "''")}'` }, abortSignal: signal });
    for await (const row of listing) rows.push({ rowKey: row.rowKey!, unitId: row.unitId, outcomes: row.outcomes });
    for (let i = 0; i < rows.length; i += BATCH) {
      const actions: TransactionAction[] = rows.slice(i, i + BATCH).map((r) => ['delete', { partitionKey: partition, rowKey: r.rowKey }]);
      await this.table.submitTransaction(actions, { abortSignal: signal });
    }
    return rows.map((r) => ({ unitId: r.unitId, outcomes: readOutcomes(r.outcomes) ?? [] }));
  }
}
