import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, RestError } from '@azure/storage-blob';
import { startAzurite, type RunningAzurite } from '../../emulators/storage/azurite';

describe('embedded Azurite', () => {
  let azurite: RunningAzurite;
  beforeAll(async () => {
    azurite = await startAzurite({ inMemory: true });
  });
  afterAll(() => azurite.stop());

  it('serves Table Storage through the connection string alone, with ETag-checked updates', async () => {
    const table = TableClient.fromConnectionString(azurite.connectionString, 'runs', { allowInsecureConnection: true });
    await table.createTable();
    const created = await table.createEntity({ partitionKey: 'connector-1', rowKey: '0001', status: 'running' });
    await table.updateEntity({ partitionKey: 'connector-1', rowKey: '0001', status: 'succeeded' }, 'Merge', { etag: created.etag });
    // A writer holding the old ETag loses: that is what keeps two server instances honest.
    await expect(table.updateEntity({ partitionKey: 'connector-1', rowKey: '0001', status: 'failed' }, 'Merge', { etag: created.etag })).rejects.toMatchObject({ statusCode: 412 });
    expect((await table.getEntity('connector-1', '0001')).status).toBe('succeeded');
  });

  it('serves Blob Storage with write-once uploads (If-None-Match: *)', async () => {
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const container = blobs.getContainerClient('raw');
    await container.createIfNotExists();
    const blob = container.getBlockBlobClient('raw/abc');
    await blob.upload('first', 5, { conditions: { ifNoneMatch: '*' } });
    await expect(blob.upload('second', 6, { conditions: { ifNoneMatch: '*' } })).rejects.toMatchObject({ statusCode: 409 });
    expect((await blob.downloadToBuffer()).toString()).toBe('first');
  });

  it('answers 501 to legal holds, which the product must detect and record rather than assume', async () => {
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const container = blobs.getContainerClient('held');
    await container.createIfNotExists();
    const blob = container.getBlockBlobClient('item');
    await blob.upload('x', 1);
    const err = await blob.setLegalHold(true).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RestError);
    expect((err as RestError).statusCode).toBe(501);
  });
});
