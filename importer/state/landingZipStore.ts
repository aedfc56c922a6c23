import type { TableClient } from '@azure/data-tables';
import { keySafe } from './tableNames';

/** A ZIP from the SFTP landing container, once it was taken or set aside: the SFTP collector's cursor. */
export interface LandingZipRecord {
  name: string;
  /** The version handled: a ZIP rewritten under the same name is a new delivery, checked again. */
  etag: string;
  sizeBytes: number;
  status: 'taken' | 'rejected';
  /** The manifest's Count: (0 when the ZIP was refused before it was read). */
  count: number;
  collected: number;
  alreadyCollected: number;
  /** Why it was set aside. */
  reason?: string;
  at: Date;
}

/** The table of ZIPs taken and rejected, by connector and ZIP name. */
export class LandingZipStore {
  constructor(private readonly table: TableClient) {}

  async get(connectorId: string, name: string, options: { abortSignal?: AbortSignal } = {}): Promise<LandingZipRecord | undefined> {
    try {
      return fromColumns(await this.table.getEntity(keySafe(connectorId), keySafe(name), { abortSignal: options.abortSignal }));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Written after everything from the ZIP is in the inbox: a crash before it means the ZIP is taken again, harmlessly. */
  async record(connectorId: string, zip: LandingZipRecord, options: { abortSignal?: AbortSignal } = {}): Promise<void> {
    await this.table.upsertEntity(
      {
        partitionKey: keySafe(connectorId),
        rowKey: keySafe(zip.name),
        name: zip.name,
        // Not `etag`: the table client hands back the row's own ETag under that name.
        zipEtag: zip.etag,
        sizeBytes: zip.sizeBytes,
        status: zip.status,
        count: zip.count,
        collected: zip.collected,
        alreadyCollected: zip.alreadyCollected,
        reason: zip.reason ?? '',
        at: zip.at.toISOString(),
      },
      'Replace',
      { abortSignal: options.abortSignal },
    );
  }

  /** Every ZIP handled for the connector, in name order. */
  async *list(connectorId: string, options: { abortSignal?: AbortSignal } = {}): AsyncIterable<LandingZipRecord> {
    const filter = `PartitionKey eq '${keySafe(connectorId)}'`;
    for await (const e of this.table.listEntities({ queryOptions: { filter }, abortSignal: options.abortSignal })) yield fromColumns(e);
  }
}

function fromColumns(e: Record<string, unknown>): LandingZipRecord {
  return {
    name: String(e.name),
    etag: String(e.zipEtag ?? ''),
    sizeBytes: Number(e.sizeBytes ?? 0),
    status: e.status === 'rejected' ? 'rejected' : 'taken',
    count: Number(e.count ?? 0),
    collected: Number(e.collected ?? 0),
    alreadyCollected: Number(e.alreadyCollected ?? 0),
    ...(e.reason ? { reason: String(e.reason) } : {}),
    at: new Date(String(e.at)),
  };
}
