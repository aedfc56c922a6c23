import type { TableClient } from '@azure/data-tables';
import type { ConversationReference } from '@microsoft/agents-activity';
import { keySafe } from '../importer';

export interface StoredConversation {
  conversationId: string;
  reference: Partial<ConversationReference>;
  /** personal chat, or a team channel */
  scope: 'personal' | 'channel' | 'groupChat';
  /** When the bot was first installed there: runs that ended before it are not posted to it. */
  installedAt: Date;
  /** Entra object id of whoever installed it or last wrote in it. */
  lastUserId?: string;
  /** Their Teams name, so a card can say who did something even after a restart. */
  lastUserName?: string;
}

/**
 * Conversation references for proactive cards, durable in Table Storage: saved on install,
 * refreshed on each message, removed on uninstall or when a post answers 403/404.
 */
export class ConversationStore {
  constructor(
    private readonly table: TableClient,
    private readonly connectorId: string,
  ) {}

  /**
   * Saves or refreshes a reference; true only for the one call that stored it first (Teams sends
   * installationUpdate and conversationUpdate together, and only one may say hello).
   */
  async save(conversation: Omit<StoredConversation, 'installedAt'>): Promise<boolean> {
    const entity = {
      partitionKey: this.connectorId,
      rowKey: keySafe(conversation.conversationId),
      conversationId: conversation.conversationId,
      reference: JSON.stringify(conversation.reference),
      scope: conversation.scope,
      lastUserId: conversation.lastUserId ?? '',
      lastUserName: conversation.lastUserName ?? '',
    };
    try {
      await this.table.createEntity({ ...entity, installedAt: new Date().toISOString() });
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 409) throw err;
    }
    // Merge keeps installedAt as it was.
    await this.table.upsertEntity(entity, 'Merge');
    return false;
  }

  async get(conversationId: string): Promise<StoredConversation | undefined> {
    try {
      return fromEntity(await this.table.getEntity(this.connectorId, keySafe(conversationId)));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  async remove(conversationId: string): Promise<void> {
    try {
      await this.table.deleteEntity(this.connectorId, keySafe(conversationId));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }

  async *list(): AsyncIterable<StoredConversation> {
    for await (const e of this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${this.connectorId.replace(/'/g, "''")}'` } })) yield fromEntity(e);
  }
}

function fromEntity(e: Record<string, unknown>): StoredConversation {
  return {
    conversationId: e.conversationId as string,
    reference: JSON.parse(e.reference as string) as Partial<ConversationReference>,
    scope: e.scope as StoredConversation['scope'],
    installedAt: new Date(e.installedAt as string),
    lastUserId: (e.lastUserId as string) || undefined,
    lastUserName: (e.lastUserName as string) || undefined,
  };
}
