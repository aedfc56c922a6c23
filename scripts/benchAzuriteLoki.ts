// Preloaded into the bench's Azurite process (NODE_OPTIONS=--require), never into the importer.
// Azurite keeps blob and entity metadata in LokiJS, where two operations cost O(rows stored):
//  - a lookup is a compound query whose first field is the account (blobs) or the partition
//    (entities); Loki uses a binary index for the first field only and scans the rest;
//  - replacing an entity removes and re-inserts it, and a removal renumbers every index entry.
// At 150,000 raw items and half a million ledger rows, that, not the importer, is what the bench
// would measure. Azure Storage's point operations do not slow down as an account fills, so these
// two are made O(log n) with the same results: the lookup puts its most selective indexed field
// first ($and is commutative), and a replace that keeps the keys updates the row in place.
import path from 'node:path';

interface LokiCollection {
  binaryIndices: Record<string, unknown>;
  findOne(query: unknown): unknown;
}

interface EntityRow {
  PartitionKey: string;
  RowKey: string;
  properties: Record<string, unknown>;
  lastModifiedTime: string;
  eTag: string;
}

interface TableStore {
  transactionRollbackTheseEntities: EntityRow[];
  getEntityCollection(account: string, table: string, context: unknown): LokiCollection;
  encodeIfMatch(etag: string): string;
}

/** Indexed fields that name one blob, block or entity, most selective first. */
const SELECTIVE_FIELDS = ['blobName', 'name', 'RowKey'];

const azuriteDir = path.dirname(require.resolve('azurite/package.json'));
const loki = require(require.resolve('lokijs', { paths: [azuriteDir] })) as { Collection: { prototype: LokiCollection } };
const tableStore = require(path.join(azuriteDir, 'dist', 'src', 'table', 'persistence', 'LokiTableMetadataStore.js')).default as { prototype: TableStore };
const errors = require(path.join(azuriteDir, 'dist', 'src', 'table', 'errors', 'StorageErrorFactory.js')).default as {
  getEntityNotFound(context: unknown): Error;
  getPreconditionFailed(context: unknown): Error;
};

const findOne = loki.Collection.prototype.findOne;
loki.Collection.prototype.findOne = function (this: LokiCollection, query: unknown): unknown {
  if (query && typeof query === 'object' && !Array.isArray(query)) {
    const fields = query as Record<string, unknown>;
    const first = SELECTIVE_FIELDS.find((k) => k in fields && this.binaryIndices[k] !== undefined && typeof fields[k] === 'string');
    if (first && Object.keys(fields)[0] !== first) return findOne.call(this, { [first]: fields[first], ...fields });
  }
  return findOne.call(this, query);
};

/** Azurite's updateTableEntity, with the row changed in place instead of removed and re-inserted. */
tableStore.prototype['updateTableEntity' as keyof TableStore] = async function (
  this: TableStore,
  context: unknown,
  table: string,
  account: string,
  entity: EntityRow,
  ifMatch: string | undefined,
  batchId: string | undefined,
): Promise<EntityRow> {
  const doc = this.getEntityCollection(account, table, context).findOne({ PartitionKey: entity.PartitionKey, RowKey: entity.RowKey }) as EntityRow | null;
  if (!doc) throw errors.getEntityNotFound(context);
  const encodedIfMatch = ifMatch === undefined ? undefined : this.encodeIfMatch(ifMatch);
  if (!(encodedIfMatch === undefined || encodedIfMatch === '*' || this.encodeIfMatch(doc.eTag) === encodedIfMatch)) throw errors.getPreconditionFailed(context);
  // A failed transaction restores the row from this copy, as Azurite does with the row it removed.
  if (batchId !== '') this.transactionRollbackTheseEntities.push({ PartitionKey: doc.PartitionKey, RowKey: doc.RowKey, properties: doc.properties, lastModifiedTime: doc.lastModifiedTime, eTag: doc.eTag });
  entity.properties.Timestamp = entity.lastModifiedTime;
  entity.properties['Timestamp@odata.type'] = 'Edm.DateTime';
  doc.properties = entity.properties;
  doc.lastModifiedTime = entity.lastModifiedTime;
  doc.eTag = entity.eTag;
  return doc;
} as never;
