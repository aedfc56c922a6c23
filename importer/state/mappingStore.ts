import type { TableClient } from '@azure/data-tables';
import type { ContainerClient } from '@azure/storage-blob';
import { randomUUID } from 'node:crypto';
import { ImporterError } from '../errors';
import type { MappingEntry } from '../mapping/admin/csvMapping';
import type { ConnectorStore } from './connectorStore';
import { keySafe } from './tableNames';

/** How a version came to be. */
export type MappingOrigin = 'upload' | 'mapNumber' | 'unmapNumber' | 'restore';

/** One stored version of a connector's custom mapping, as the version list shows it. */
export interface MappingVersion {
  version: string;
  connectorId: string;
  createdAt: Date;
  /** Entra object id of the person who made it. */
  createdBy: string;
  origin: MappingOrigin;
  /** Numbers mapped. */
  rows: number;
  /** For a restore: the version it copies. */
  restoredFrom?: string;
  /** What a single edit changed, in a few words. */
  note?: string;
}

// Inverted time: the newest version is the first row of the connector's partition.
const MAX_TIME = 9_999_999_999_999;
const LEGACY_BATCH = 100;

/**
 * Custom mapping versions. A version's entries are one write-once blob (a 100,000-row mapping is
 * one upload and one download, where table rows would take a thousand transactions); its
 * description is a row of the mappings table, listed newest first. A version is invisible until
 * the connector's pointer moves to it in one ETag-checked update: a run reads either the old
 * mapping or the new one, never half of each. Versions are never changed or deleted once active.
 */
export class MappingStore {
  constructor(
    private readonly table: TableClient,
    private readonly blobs: ContainerClient,
    private readonly connectors: ConnectorStore,
  ) {}

  /** Stores `entries` whole as a new version, not yet active. */
  async write(
    connectorId: string,
    entries: readonly MappingEntry[],
    meta: Omit<MappingVersion, 'version' | 'connectorId' | 'createdAt' | 'rows'>,
    options: { abortSignal?: AbortSignal } = {},
  ): Promise<MappingVersion> {
    const createdAt = new Date();
    const version = `${String(MAX_TIME - createdAt.getTime()).padStart(13, '0')}-${randomUUID().slice(0, 8)}`;
    const body = Buffer.from(entries.map((e) => `${e.number},${e.mailbox}\n`).join(''), 'utf8');
    await this.blobs.getBlockBlobClient(blobName(version)).upload(body, body.length, {
      conditions: { ifNoneMatch: '*' },
      blobHTTPHeaders: { blobContentType: 'text/csv; charset=utf-8' },
      abortSignal: options.abortSignal,
    });
    const record: MappingVersion = { ...meta, version, connectorId, createdAt, rows: entries.length };
    await this.table.createEntity(
      {
        partitionKey: versionsPartition(connectorId),
        rowKey: version,
        createdAt: createdAt.toISOString(),
        createdBy: meta.createdBy,
        origin: meta.origin,
        rows: entries.length,
        restoredFrom: meta.restoredFrom,
        note: meta.note,
      },
      { abortSignal: options.abortSignal },
    );
    return record;
  }

  /**
   * Makes `version` the active mapping with one ETag-checked update of the connector's pointer;
   * someone else's change since `expectedSettingsEtag` makes it `Conflict` and changes nothing.
   */
  async activate(connectorId: string, version: string, expectedSettingsEtag: string | undefined): Promise<void> {
    const current = await this.connectors.getOrDefault(connectorId);
    if (current.etag !== expectedSettingsEtag) {
      throw new ImporterError('Conflict', 'The connector was changed by someone else while the mapping was being changed; reload and try again.');
    }
    await this.connectors.save({ ...current.value, mappingVersion: version }, current.etag);
  }

  /** Stores `entries` as a new version and makes it active; returns the version id. */
  async replace(connectorId: string, entries: readonly MappingEntry[], expectedSettingsEtag: string | undefined, createdBy = 'system'): Promise<string> {
    const { version } = await this.write(connectorId, entries, { createdBy, origin: 'upload' });
    await this.activate(connectorId, version, expectedSettingsEtag);
    return version;
  }

  async load(version: string | undefined, options: { abortSignal?: AbortSignal } = {}): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    if (!version) return map;
    if (isLegacy(version)) {
      for await (const e of this.legacyEntries(version)) map.set(e.number, e.mailbox);
      return map;
    }
    // Read whole and split in one pass: a 100,000-row version is one 4 MB blob, not 100,000 awaits.
    const text = await this.read(version, options.abortSignal);
    for (let start = 0; start < text.length;) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const comma = text.indexOf(',', start);
      if (comma > start && comma < end) map.set(text.slice(start, comma), text.slice(comma + 1, end));
      start = end + 1;
    }
    return map;
  }

  /** A version's entries, in the order they were written. */
  async *entries(version: string | undefined, options: { abortSignal?: AbortSignal } = {}): AsyncIterable<MappingEntry> {
    if (!version) return;
    if (isLegacy(version)) {
      yield* this.legacyEntries(version);
      return;
    }
    const text = await this.read(version, options.abortSignal);
    for (const line of text.split('\n')) {
      if (!line) continue;
      const comma = line.indexOf(',');
      yield { number: line.slice(0, comma), mailbox: line.slice(comma + 1) };
    }
  }

  private async read(version: string, abortSignal?: AbortSignal): Promise<string> {
    try {
      return (await this.blobs.getBlockBlobClient(blobName(version)).downloadToBuffer(0, undefined, { abortSignal })).toString('utf8');
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) throw new ImporterError('NotFound', `No mapping version "${version}".`);
      throw err;
    }
  }

  /** The connector's versions, newest first, page by page. */
  async *versions(connectorId: string, options: { abortSignal?: AbortSignal } = {}): AsyncIterable<MappingVersion> {
    const filter = `PartitionKey eq '${versionsPartition(connectorId).replace(/'/g, "''")}'`;
    for await (const e of this.table.listEntities({ queryOptions: { filter }, abortSignal: options.abortSignal })) yield fromEntity(connectorId, e);
  }

  async getVersion(connectorId: string, version: string): Promise<MappingVersion> {
    try {
      return fromEntity(connectorId, await this.table.getEntity(versionsPartition(connectorId), version));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) throw new ImporterError('NotFound', `No mapping version "${version}" for connector "${connectorId}".`);
      throw err;
    }
  }

  /** Removes a version that never became active (its activation lost a race). */
  async discard(connectorId: string, version: string): Promise<void> {
    await this.table.deleteEntity(versionsPartition(connectorId), version).catch(ignoreMissing);
    await this.blobs.getBlockBlobClient(blobName(version)).deleteIfExists();
  }

  /** Versions written before versions were blobs: one row per number, partition = version. */
  private async *legacyEntries(version: string): AsyncIterable<MappingEntry> {
    const rows = this.table.listEntities<{ mailbox: string }>({ queryOptions: { filter: `PartitionKey eq '${version.replace(/'/g, "''")}'` } }).byPage({ maxPageSize: LEGACY_BATCH * 10 });
    for await (const page of rows) for (const row of page) yield { number: row.rowKey!, mailbox: row.mailbox };
  }
}

const VERSIONS = 'versions|';

function versionsPartition(connectorId: string): string {
  return `${VERSIONS}${keySafe(connectorId)}`;
}

/** Version ids are unique across connectors (time and a random part), so a blob is named by its version alone. */
function blobName(version: string): string {
  return `${version}.csv`;
}

/** Legacy ids read `<connector>|<ISO time>|<uuid>`. */
function isLegacy(version: string): boolean {
  return version.includes('|');
}

function ignoreMissing(err: { statusCode?: number }): void {
  if (err.statusCode !== 404) throw err;
}

function fromEntity(connectorId: string, e: Record<string, unknown>): MappingVersion {
  return {
    version: String(e.rowKey),
    connectorId,
    createdAt: new Date(String(e.createdAt)),
    createdBy: String(e.createdBy),
    origin: e.origin as MappingOrigin,
    rows: Number(e.rows),
    restoredFrom: (e.restoredFrom as string | undefined) ?? undefined,
    note: (e.note as string | undefined) ?? undefined,
  };
}
