import type { TableClient, TransactionAction } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { ImporterError } from '../errors';
import type { MappingEntry } from '../mapping/csvMapping';
import type { ConnectorStore } from './connectorStore';

const BATCH = 100;

/**
 * Custom mapping versions. A version is written whole under its own partition, invisible until
 * the connector's pointer moves to it in one ETag-checked update: a run reads either the old
 * mapping or the new one, never half of each.
 */
export class MappingStore {
  constructor(
    private readonly table: TableClient,
    private readonly connectors: ConnectorStore,
  ) {}

  /** Stores `entries` as a new version and makes it active; returns the version id. */
  async replace(connectorId: string, entries: readonly MappingEntry[], expectedSettingsEtag: string | undefined): Promise<string> {
    const version = `${connectorId}|${new Date().toISOString()}|${randomUUID().slice(0, 8)}`;
    for (let i = 0; i < entries.length; i += BATCH) {
      const actions: TransactionAction[] = entries
        .slice(i, i + BATCH)
        .map((e) => ['create', { partitionKey: version, rowKey: e.number, mailbox: e.mailbox }]);
      await this.table.submitTransaction(actions);
    }
    const current = await this.connectors.getOrDefault(connectorId);
    if (current.etag !== expectedSettingsEtag) {
      // Someone changed the connector since the caller read it: leave their state alone.
      await this.drop(version);
      throw new ImporterError('Conflict', 'The connector was changed by someone else while the mapping was uploaded; reload and try again.');
    }
    await this.connectors.save({ ...current.value, mappingVersion: version }, current.etag);
    return version;
  }

  async load(version: string | undefined): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    if (!version) return map;
    const rows = this.table.listEntities<{ mailbox: string }>({ queryOptions: { filter: `PartitionKey eq '${version.replace(/'/g, "''")}'` } });
    for await (const row of rows) map.set(row.rowKey!, row.mailbox);
    return map;
  }

  private async drop(version: string): Promise<void> {
    const keys: string[] = [];
    for await (const row of this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${version}'`, select: ['RowKey'] } })) keys.push(row.rowKey!);
    for (let i = 0; i < keys.length; i += BATCH) {
      await this.table.submitTransaction(keys.slice(i, i + BATCH).map((rowKey) => ['delete', { partitionKey: version, rowKey }]));
    }
  }
}
