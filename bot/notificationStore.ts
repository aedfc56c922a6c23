import type { TableClient } from '@azure/data-tables';
import { keySafe } from '../importer';

/** Which card of a run: the summary, or the alert about numbers without a mailbox. */
export type CardKind = 'summary' | 'alert';

export interface NotificationRow {
  runId: string;
  kind: CardKind;
  conversationId: string;
  /** sending: claimed, the post's outcome unknown; sent: posted (activityId kept to update it in place); dropped: the conversation is gone. */
  state: 'sending' | 'sent' | 'dropped';
  activityId?: string;
  at: Date;
}

const DONE = 'done';

/**
 * A run's cards per conversation (partition = run id). A run's cards are due from the moment its
 * record is final; each is claimed before it is posted and marked sent after, so a restart
 * between the end of a run and the post still sends it, and a sent card is never sent again.
 */
export class NotificationStore {
  constructor(private readonly table: TableClient) {}

  async get(runId: string, kind: CardKind, conversationId: string): Promise<NotificationRow | undefined> {
    try {
      return fromEntity(await this.table.getEntity(runId, rowKey(kind, conversationId)));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Claims a card for posting; false when another poster holds or finished it. */
  async claim(runId: string, kind: CardKind, conversationId: string): Promise<boolean> {
    try {
      await this.table.createEntity({ partitionKey: runId, rowKey: rowKey(kind, conversationId), kind, conversationId, state: 'sending', at: new Date().toISOString() });
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 409) return false;
      throw err;
    }
  }

  async mark(runId: string, kind: CardKind, conversationId: string, state: 'sent' | 'dropped', activityId?: string): Promise<void> {
    await this.table.upsertEntity({ partitionKey: runId, rowKey: rowKey(kind, conversationId), kind, conversationId, state, activityId: activityId ?? '', at: new Date().toISOString() }, 'Replace');
  }

  async isDone(runId: string): Promise<boolean> {
    try {
      await this.table.getEntity(runId, DONE);
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw err;
    }
  }

  /** Every conversation's cards of the run are final: later scans skip it. */
  async markDone(runId: string): Promise<void> {
    await this.table.upsertEntity({ partitionKey: runId, rowKey: DONE, at: new Date().toISOString() }, 'Replace');
  }

  async *forRun(runId: string): AsyncIterable<NotificationRow> {
    for await (const e of this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${runId.replace(/'/g, "''")}'` } })) {
      if (e.rowKey !== DONE) yield fromEntity(e);
    }
  }
}

function rowKey(kind: CardKind, conversationId: string): string {
  return `${kind}|${keySafe(conversationId)}`;
}

function fromEntity(e: Record<string, unknown>): NotificationRow {
  return {
    runId: e.partitionKey as string,
    kind: e.kind as CardKind,
    conversationId: e.conversationId as string,
    state: e.state as NotificationRow['state'],
    activityId: (e.activityId as string) || undefined,
    at: new Date(e.at as string),
  };
}
