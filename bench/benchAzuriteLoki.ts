// Preloaded into the bench's Azurite process (NODE_OPTIONS=--require), never into the importer.
// Azurite keeps blob and entity metadata in LokiJS, where two operations cost O(rows stored):
//  - a lookup is a compound query whose first field is the account (blobs) or the partition
//    (entities); Loki uses a binary index for the first field only and scans the rest;
//  - replacing an entity removes and re-inserts it, and a removal renumbers every index entry.
//  - a query scans every row of every partition, and sorts all matches, for each page it returns;
//  - an insert puts its row first among equal values in each index (one partition, one account),
//    moving every entry of that index along.
// At 150,000 raw items and half a million ledger rows, that, not the importer, is what the bench
// would measure. Azure Storage's point operations and key-range queries do not slow down as an
// account fills, so these are made O(log n) (plus the rows returned) with the same results: the
// lookup puts its most selective indexed field first ($and is commutative), a replace that keeps
// the keys updates the row in place, a query on one partition's row-key range reads that range
// from the row-key index, already in order, then applies Azurite's own filter to it, and an insert
// goes last among equal values (their order in an index means nothing).
import path from 'node:path';

interface LokiCollection {
  binaryIndices: Record<string, { values: number[] }>;
  data: Record<string, unknown>[];
  findOne(query: unknown): unknown;
  adaptiveBinaryIndexInsert(dataPosition: number, indexName: string): void;
}

interface EntityRow {
  PartitionKey: string;
  RowKey: string;
  properties: Record<string, unknown>;
  lastModifiedTime: string;
  eTag: string;
}

interface LokiResultset {
  find(query: unknown): LokiResultset;
  /** Positions in the collection's data, in the order the find produced them. */
  filteredrows: number[];
}

interface TableStore {
  transactionRollbackTheseEntities: EntityRow[];
  getEntityCollection(account: string, table: string, context: unknown): LokiCollection & { chain(): LokiResultset; data: EntityRow[] };
  encodeIfMatch(etag: string): string;
  getMaxResultsOption(queryOptions: { filter?: string }): number;
  decodeContinuationHeader(value: string | undefined): string | undefined;
  adjustQueryResultforTop(result: EntityRow[], maxResults: number): { nextPartitionKeyResponse?: string; nextRowKeyResponse?: string };
  queryTableEntities(context: unknown, account: string, table: string, queryOptions: { filter?: string }, nextPartitionKey?: string, nextRowKey?: string): Promise<unknown>;
}

/** Indexed fields that name one blob, block or entity, most selective first. */
const SELECTIVE_FIELDS = ['blobName', 'name', 'RowKey'];

const azuriteDir = path.dirname(require.resolve('azurite/package.json'));
const loki = require(require.resolve('lokijs', { paths: [azuriteDir] })) as {
  Collection: { prototype: LokiCollection };
  Comparators: { lt(a: unknown, b: unknown, equal: boolean): boolean };
};
const tableStore = require(path.join(azuriteDir, 'dist', 'src', 'table', 'persistence', 'LokiTableMetadataStore.js')).default as { prototype: TableStore };
const queryGenerator = require(path.join(azuriteDir, 'dist', 'src', 'table', 'persistence', 'LokiTableStoreQueryGenerator.js')).default as {
  generateQueryForPersistenceLayer(queryOptions: unknown, context: unknown): (row: EntityRow) => boolean;
};
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

const adaptiveBinaryIndexInsert = loki.Collection.prototype.adaptiveBinaryIndexInsert;
loki.Collection.prototype.adaptiveBinaryIndexInsert = function (this: LokiCollection, dataPosition: number, indexName: string): void {
  const value = this.data[dataPosition][indexName];
  // Dotted paths and dates keep Loki's own handling.
  if (indexName.includes('.') || value instanceof Date) return adaptiveBinaryIndexInsert.call(this, dataPosition, indexName);
  const index = this.binaryIndices[indexName].values;
  let low = 0;
  let high = index.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (loki.Comparators.lt(value, this.data[index[middle]][indexName], false)) high = middle;
    else low = middle + 1;
  }
  index.splice(low, 0, dataPosition);
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
  if (batchId !== '')
    this.transactionRollbackTheseEntities.push({ PartitionKey: doc.PartitionKey, RowKey: doc.RowKey, properties: doc.properties, lastModifiedTime: doc.lastModifiedTime, eTag: doc.eTag });
  entity.properties.Timestamp = entity.lastModifiedTime;
  entity.properties['Timestamp@odata.type'] = 'Edm.DateTime';
  doc.properties = entity.properties;
  doc.lastModifiedTime = entity.lastModifiedTime;
  doc.eTag = entity.eTag;
  return doc;
} as never;

/** `PartitionKey eq 'p' and RowKey ge 'a' and RowKey lt 'b'`, possibly followed by more conditions. */
const KEY_RANGE = /^PartitionKey eq '((?:[^']|'')*)' and RowKey ge '((?:[^']|'')*)' and RowKey lt '((?:[^']|'')*)'(?: and |$)/;
const unquote = (value: string) => value.replace(/''/g, "'");
const queryTableEntities = tableStore.prototype.queryTableEntities;

/** Azurite's queryTableEntities, reading a key-range query's rows from the row-key index. */
tableStore.prototype.queryTableEntities = async function (this: TableStore, context, account, table, queryOptions, nextPartitionKey, nextRowKey) {
  const range = KEY_RANGE.exec(queryOptions.filter ?? '');
  const partition = range && unquote(range[1]);
  const nextPartition = this.decodeContinuationHeader(nextPartitionKey);
  if (!range || (nextPartition !== undefined && nextPartition !== partition)) {
    return queryTableEntities.call(this, context, account, table, queryOptions, nextPartitionKey, nextRowKey);
  }
  const where = queryGenerator.generateQueryForPersistenceLayer(queryOptions, context);
  const maxResults = this.getMaxResultsOption(queryOptions);
  const nextRow = this.decodeContinuationHeader(nextRowKey);
  const from = nextRow !== undefined && nextRow > unquote(range[2]) ? nextRow : unquote(range[2]);
  const collection = this.getEntityCollection(account, table, context);
  // The index gives the range in row-key order; Loki's own where() would reverse it.
  const result: EntityRow[] = [];
  for (const position of collection.chain().find({ RowKey: { $between: [from, unquote(range[3])] } }).filteredrows) {
    const row = collection.data[position];
    if (where(row) && result.push(row) > maxResults) break;
  }
  const response = this.adjustQueryResultforTop(result, maxResults);
  return [result, response.nextPartitionKeyResponse, response.nextRowKeyResponse];
};
