import type { TableClient } from '@azure/data-tables';
import { keySafe, type UnmappedNumber } from '../importer';

/** The bot's own table: every card that offers to map a number, and which card announced each number. */
export const ALERT_CARDS_TABLE = 'alertcards';

/** A number as a card showed it: enough to draw the card again without the importer's row. */
export type ShownNumber = Omit<UnmappedNumber, 'pendingItemIds'>;

/** An outcome a card shows under a number; `ok` ones are final (the number has its mailbox). */
export interface ShownResult {
  text: string;
  ok: boolean;
}

export interface OfferingCard {
  conversationId: string;
  activityId: string;
  /** alert: posted after a run about the numbers it announced; list: an answer to "unmapped". */
  kind: 'alert' | 'list';
  numbers: ShownNumber[];
  results: Record<string, ShownResult>;
}

/**
 * Cards still offering "Map" (partition = conversation), so a mapping made anywhere can replace
 * each of them in place; and, per conversation, the alert card that announced each number, so a
 * number is announced once and its card kept current rather than posted again after every run.
 */
export class AlertCardStore {
  constructor(private readonly table: TableClient) {}

  async save(card: OfferingCard): Promise<void> {
    await this.table.upsertEntity(
      {
        partitionKey: keySafe(card.conversationId),
        rowKey: `card|${keySafe(card.activityId)}`,
        conversationId: card.conversationId,
        activityId: card.activityId,
        kind: card.kind,
        numbers: JSON.stringify(card.numbers),
        results: JSON.stringify(card.results),
        open: isOpen(card),
      },
      'Replace',
    );
  }

  async get(conversationId: string, activityId: string): Promise<OfferingCard | undefined> {
    try {
      return fromEntity(await this.table.getEntity(keySafe(conversationId), `card|${keySafe(activityId)}`));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Cards with at least one number still waiting for a mailbox, in every conversation. */
  async *open(): AsyncIterable<OfferingCard> {
    for await (const e of this.table.listEntities({ queryOptions: { filter: 'open eq true' } })) yield fromEntity(e);
  }

  /** The numbers already announced by an alert in this conversation. */
  async announced(conversationId: string): Promise<Set<string>> {
    const numbers = new Set<string>();
    const partition = keySafe(conversationId).replace(/'/g, "''");
    for await (const e of this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${partition}' and RowKey ge 'num|' and RowKey lt 'num}'` } })) numbers.add(e.number as string);
    return numbers;
  }

  async markAnnounced(conversationId: string, numbers: readonly string[], activityId: string): Promise<void> {
    for (const number of numbers) {
      await this.table.upsertEntity({ partitionKey: keySafe(conversationId), rowKey: `num|${keySafe(number)}`, number, activityId }, 'Replace');
    }
  }

  /** The number has its mailbox: should it lose it again, it is announced afresh. */
  async unannounce(conversationId: string, number: string): Promise<void> {
    try {
      await this.table.deleteEntity(keySafe(conversationId), `num|${keySafe(number)}`);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }

  /** The conversation is gone: nothing there can be updated any more. */
  async dropConversation(conversationId: string): Promise<void> {
    const partition = keySafe(conversationId).replace(/'/g, "''");
    for await (const e of this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${partition}'` } })) await this.table.deleteEntity(e.partitionKey!, e.rowKey!);
  }
}

export function isOpen(card: Pick<OfferingCard, 'numbers' | 'results'>): boolean {
  return card.numbers.some((n) => !card.results[n.number]?.ok);
}

function fromEntity(e: Record<string, unknown>): OfferingCard {
  const numbers = (JSON.parse(e.numbers as string) as (ShownNumber & { firstSeen: string; lastSeen: string })[]).map((n) => ({
    ...n,
    firstSeen: new Date(n.firstSeen),
    lastSeen: new Date(n.lastSeen),
  }));
  return {
    conversationId: e.conversationId as string,
    activityId: e.activityId as string,
    kind: e.kind as OfferingCard['kind'],
    numbers,
    results: JSON.parse(e.results as string) as Record<string, ShownResult>,
  };
}
