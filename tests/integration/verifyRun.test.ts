import { BlockBlobClient } from '@azure/storage-blob';
import { createGraphClient } from '../../importer/sink/graphClient';
import { ARCHIVE_KEY_PROPERTY } from '../../importer/sink/messageProperties';
import { runImport } from '../../importer/run/importRun';
import { verifyRun } from '../../importer/run/verifyRun';
import { CONTAINERS } from '../../importer/state/tableNames';
import { APP, CONNECTOR, TENANT, startHarness, type Harness } from '../support/importerHarness';

describe('verifying a run', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 40, hugeAttachments: [] } } });
  });
  afterAll(() => h.close());

  const verify = async (runId: string) => {
    const ctx = h.context();
    return verifyRun({ run: await h.stores.runs.get(CONNECTOR, runId), stores: h.stores, source: ctx.source, sink: ctx.createSink('Enterprise Number Archiver') });
  };

  it('finds a clean run clean, then reports a deleted message, a second copy and an altered raw copy', async () => {
    const run = await runImport(h.context(), { trigger: 'schedule', requestedBy: 'scheduler' });
    const clean = await verify(run.runId);
    expect(clean).toMatchObject({ ok: true, missing: [], duplicated: [], altered: [], pending: 0 });
    expect(clean.itemsListed).toBe(run.counts.availableFromSource);
    expect(clean.deliveriesChecked).toBe(run.counts.imported + run.counts.partiallyImported);

    // Someone deletes one archived message, and copies another.
    const graph = createGraphClient({ tenantId: TENANT, clientId: APP.clientId, clientSecret: APP.clientSecret, authorityHost: h.signin.authorityHost, graphBaseUrl: h.graph.url });
    const box = h.graph.mailboxes().find((m) => m.messageCount >= 2)!;
    const [deleted, copied] = h.graph.mailbox(box.userPrincipalName).messages;
    await graph.api(`/users/${box.userId}/messages/${deleted.id}`).delete();
    const keyOf = (m: typeof copied) => m.extendedProperties.find((p) => p.id.toLowerCase() === ARCHIVE_KEY_PROPERTY.toLowerCase())!.value;
    await graph.api(`/users/${box.userId}/mailFolders/${copied.folderId}/messages`).post({
      subject: copied.subject,
      singleValueExtendedProperties: [
        { id: ARCHIVE_KEY_PROPERTY, value: keyOf(copied) },
        { id: 'Integer 0x0E07', value: '1' },
      ],
    });
    // And a raw copy is overwritten behind the importer's back.
    const raw = await h.storage.container(CONTAINERS.raw);
    const first = (await raw.listBlobsFlat().next()).value!;
    await new BlockBlobClient(h.azurite.connectionString, CONTAINERS.raw, first.name).upload('tampered', 8);

    const report = await verify(run.runId);
    expect(report.ok).toBe(false);
    expect(report.missing.map((f) => [f.mailbox, f.detail])).toEqual([[box.userPrincipalName, 'recorded as archived, not found in the mailbox']]);
    expect(report.duplicated.map((f) => [f.mailbox, f.detail])).toEqual([[box.userPrincipalName, '2 copies']]);
    expect(report.altered).toHaveLength(1);
    expect(report.altered[0].detail).toContain(first.name);
  });

  it('reports items the source lists that no run processed', async () => {
    const window = { from: new Date('2026-11-23T00:00:00Z'), to: new Date('2026-11-24T00:00:00Z') };
    const unprocessed = await h.stores.runs.create({ connectorId: CONNECTOR, trigger: 'backfill', window, requestedBy: 'test' });
    const report = await verify(unprocessed.runId);
    expect(report.itemsListed).toBe(h.telemessage.listExpected(window.from, window.to).length);
    expect(report.missing).toHaveLength(report.itemsListed);
    expect(report.missing[0].detail).toBe('listed by the source but never processed');
  });
});
