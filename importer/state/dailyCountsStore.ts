import type { TableClient } from '@azure/data-tables';
import type { ItemKind } from '../model';
import { keySafe } from './tableNames';

/** What became of one item, whatever number of mailboxes it went to; `failed` is outstanding, `acknowledged` a failure an admin accepted. */
export type ItemOutcome = 'imported' | 'partial' | 'failed' | 'acknowledged' | 'notImported';
/** An item's kind as parsed; `unknown` for a malformed item, whose kind could not be read. */
export type CountedKind = ItemKind | 'unknown';

export const COUNTED_KINDS: readonly CountedKind[] = ['sms', 'mms', 'chat', 'voiceRecording', 'voiceCallLog', 'unknown'];
export const ITEM_OUTCOMES: readonly ItemOutcome[] = ['imported', 'partial', 'failed', 'acknowledged', 'notImported'];

export type OutcomeCounts = Record<ItemOutcome, number>;

/** One UTC archive day: how many items of each kind ended in each outcome, as the ledger holds them now. */
export interface DailyCounts {
  /** YYYY-MM-DD (UTC), the day TeleMessage archived the items. */
  day: string;
  kinds: Record<CountedKind, OutcomeCounts>;
  /** When the day was last counted from the ledger, and by which run; absent for a day without items. */
  countedAt?: Date;
  countedBy?: string;
}

export function emptyDay(day: string): DailyCounts {
  const kinds = {} as Record<CountedKind, OutcomeCounts>;
  for (const kind of COUNTED_KINDS) kinds[kind] = { imported: 0, partial: 0, failed: 0, acknowledged: 0, notImported: 0 };
  return { day, kinds };
}

/**
 * Items per archive day, kind and outcome. A day's row is set (never added to) from the ledger's
 * item rows of that day by each run that touched it, so a rerun, a replay of held items or a run
 * after a crash counts each item once, in the outcome it has now.
 */
export class DailyCountsStore {
  constructor(private readonly table: TableClient) {}

  /** Counts `items` (every item row of `day`) and stores them as the day's figures. */
  async refreshDay(connectorId: string, day: string, items: AsyncIterable<{ kind?: string; outcome: ItemOutcome }>, runId: string): Promise<void> {
    const counts = emptyDay(day);
    let total = 0;
    for await (const item of items) {
      const kind = (COUNTED_KINDS as readonly string[]).includes(item.kind ?? '') ? (item.kind as CountedKind) : 'unknown';
      counts.kinds[kind][item.outcome]++;
      total++;
    }
    const key = { partitionKey: keySafe(connectorId), rowKey: day };
    if (total === 0) {
      await this.table.deleteEntity(key.partitionKey, key.rowKey).catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404) throw err;
      });
      return;
    }
    await this.table.upsertEntity({ ...key, kinds: JSON.stringify(counts.kinds), items: total, countedAt: new Date().toISOString(), countedBy: runId }, 'Replace');
  }

  /** The days (YYYY-MM-DD), oldest first, that hold a failed item, outstanding or acknowledged: where to look for failures. */
  async daysWithFailures(connectorId: string): Promise<string[]> {
    const days: string[] = [];
    const filter = `PartitionKey eq '${keySafe(connectorId)}'`;
    for await (const e of this.table.listEntities({ queryOptions: { filter, select: ['RowKey', 'kinds'] } })) {
      const kinds = Object.values(JSON.parse(String(e.kinds ?? '{}')) as Record<string, Partial<OutcomeCounts>>);
      if (kinds.some((k) => (k.failed ?? 0) + (k.acknowledged ?? 0) > 0)) days.push(String(e.rowKey));
    }
    return days;
  }

  /** Every day of [fromDay, toDay] (YYYY-MM-DD, both included), oldest first; a day without items is all zeros. */
  async list(connectorId: string, fromDay: string, toDay: string): Promise<DailyCounts[]> {
    const stored = new Map<string, DailyCounts>();
    const filter = `PartitionKey eq '${keySafe(connectorId)}' and RowKey ge '${fromDay}' and RowKey le '${toDay}'`;
    for await (const e of this.table.listEntities({ queryOptions: { filter } })) {
      const day = emptyDay(String(e.rowKey));
      const kinds = JSON.parse(String(e.kinds ?? '{}')) as Partial<Record<CountedKind, Partial<OutcomeCounts>>>;
      for (const kind of COUNTED_KINDS) Object.assign(day.kinds[kind], kinds[kind]);
      stored.set(day.day, { ...day, countedAt: new Date(String(e.countedAt)), countedBy: e.countedBy as string | undefined });
    }
    const days: DailyCounts[] = [];
    for (let d = new Date(`${fromDay}T00:00:00Z`); d.toISOString().slice(0, 10) <= toDay; d.setUTCDate(d.getUTCDate() + 1)) {
      const day = d.toISOString().slice(0, 10);
      days.push(stored.get(day) ?? emptyDay(day));
    }
    return days;
  }
}
