import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { startAzurite, type RunningAzurite } from '../../emulators/storage/azurite';
import { AuditTrail } from '../../importer/audit/auditTrail';

describe('audit trail', () => {
  let azurite: RunningAzurite;
  let container: ContainerClient;
  beforeAll(async () => {
    azurite = await startAzurite();
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('audit');
    await container.createIfNotExists();
  });
  afterAll(() => azurite.stop());

  it('appends who did what, before and after, and reads it back in order across days', async () => {
    const trail = new AuditTrail(container);
    await trail.append({ actor: 'oid-admin', action: 'config.changed', connectorId: 'c1', at: new Date('2026-11-24T23:59:00Z'), before: { schedule: '02:00' }, after: { schedule: '03:00' } });
    await trail.append({ actor: 'scheduler', action: 'run.started', connectorId: 'c1', at: new Date('2026-11-25T03:00:00Z'), detail: { runId: 'r1' } });
    await trail.append({ actor: 'oid-other', action: 'run.started', connectorId: 'c2', at: new Date('2026-11-25T03:00:00Z') });
    const entries = await trail.list('c1', new Date('2026-11-24T00:00:00Z'), new Date('2026-11-26T00:00:00Z'));
    expect(entries.map((e) => [e.actor, e.action])).toEqual([
      ['oid-admin', 'config.changed'],
      ['scheduler', 'run.started'],
    ]);
    expect(entries[0].after).toEqual({ schedule: '03:00' });
    // What is written is an append blob: it cannot be overwritten in place by a block upload.
    const props = await container.getBlobClient('c1/2026-11-25.jsonl').getProperties();
    expect(props.blobType).toBe('AppendBlob');
  });

  it('records that a secret changed, never its value', async () => {
    const trail = new AuditTrail(container);
    await trail.append({
      actor: 'oid-admin',
      action: 'telemessage.signin',
      connectorId: 'c3',
      before: { username: 'a', password: 'old-pass-123' },
      after: { username: 'b', password: 'new-pass-456' },
    });
    const raw = (await container.getAppendBlobClient(`c3/${new Date().toISOString().slice(0, 10)}.jsonl`).downloadToBuffer()).toString();
    expect(raw).not.toMatch(/old-pass-123|new-pass-456/);
    expect(JSON.parse(raw.trim()).after).toEqual({ username: 'b', password: '[set]' });
  });
});
