import { uploadBadZip } from '../../emulators/telemessage/zipCrafting';
import { zipName } from '../../emulators/telemessage/zipDrop';
import { ARCHIVE_KEY_PROPERTY, archiveKeyOf } from '../../importer/sink/messageProperties';
import { CONNECTOR, expectedMailboxes, harnessImporter, startHarness, type Harness } from '../support/importerHarness';

const LANDING = 'telemessage';

/** The two days the emulator archived, delivered by SFTP as ZIPs, end to end through the importer. */
describe('TeleMessage delivering by SFTP: ZIPs of EMLs in the landing container', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 30, hugeAttachments: [5 * 1024 * 1024] } } });
    const current = await h.stores.connectors.getOrDefault(CONNECTOR);
    await h.stores.connectors.save({ ...current.value, delivery: 'sftp' }, current.etag);
  });
  afterAll(() => h.close());

  it('imports every item into every participant’s mailbox once, sets a bad ZIP aside, imports nothing on a second run, and verifies', async () => {
    const landing = await h.storage.container(LANDING);
    const delivered = h.telemessage.listExpected('2026-11-23T00:00:00Z', '2026-11-25T00:00:00Z');
    const zips = await h.telemessage.deliverZips(landing, '2026-11-23T00:00:00Z', '2026-11-25T00:00:00Z', {
      maxItemsPerZip: 12,
      maxBytesPerZip: 4 * 1024 * 1024,
      zippedAt: new Date('2026-11-25T00:30:00Z'),
      firstFileNumber: 2,
    });
    expect(zips.length).toBeGreaterThanOrEqual(4);
    expect(zips.flatMap((z) => z.itemIds)).toEqual(delivered.map((i) => i.id));
    // File number 1 comes first and is bad: the ZIPs after it still go in.
    const badName = zipName(new Date('2026-11-25T00:30:00Z'), 1);
    const strangers = [1, 2, 3].map((n) => ({
      name: `stranger-${n}.eml`,
      bytes: Buffer.from(`Message-ID: <stranger-${n}@tm>\r\nX-TELEMESSAGE-ArchiveMessageID: STRANGER-${n}\r\nSubject: x\r\n\r\nnot to be imported\r\n`),
    }));
    await uploadBadZip(landing, badName, 'unlisted-extra', strangers);

    const importer = await harnessImporter(h, {
      now: () => h.telemessage.now(),
      landing: { storage: { connectionString: h.azurite.connectionString }, container: LANDING, settleMs: 50 },
    });
    const run = await importer.runs.start('oid-admin');
    // A ZIP set aside is something TeleMessage sent that is not in: the run says so.
    expect(run.status).toBe('partial');
    expect(run.collection).toMatchObject({ kind: 'sftp', collected: delivered.length, alreadyCollected: 0 });
    expect(run.collection?.rejected).toEqual([{ name: badName, reason: expect.stringMatching(/holds "stranger-1\.eml", which the manifest does not list/), at: expect.any(String) }]);
    expect(run.counts.availableFromSource).toBe(delivered.length);
    for (const n of [1, 2, 3]) expect(await h.stores.inbox.get(CONNECTOR, `STRANGER-${n}`)).toBeUndefined();

    const key = ARCHIVE_KEY_PROPERTY.toLowerCase();
    let fanOut = 0;
    for (const item of delivered.filter((e) => !e.malformation)) {
      for (const mailbox of expectedMailboxes(h, item)) {
        fanOut++;
        const copies = h.graph.mailbox(mailbox).messages.filter((m) => m.extendedProperties.some((p) => p.id.toLowerCase() === key && p.value === archiveKeyOf(item.id, mailbox)));
        expect({ item: item.id, mailbox, copies: copies.length }).toEqual({ item: item.id, mailbox, copies: 1 });
      }
    }
    expect(h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0)).toBe(fanOut);
    const origin = (await h.stores.inbox.get(CONNECTOR, delivered[0].id))?.origin;
    expect(origin).toBe(`zip:${zips[0].name}/${delivered[0].id}.eml`);

    const second = await importer.runs.start('oid-admin');
    expect(second.collection).toEqual({
      kind: 'sftp',
      collected: 0,
      alreadyCollected: 0,
      rejected: [],
      cursorBefore: zips[zips.length - 1].name,
      cursorAfter: zips[zips.length - 1].name,
      durationMs: expect.any(Number),
    });
    expect(second.counts.availableFromSource).toBe(0);
    expect(h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0)).toBe(fanOut);

    const report = await importer.runs.verify(run.runId);
    expect(report.itemsListed).toBe(delivered.length);
    expect(report.missing).toEqual([]);
    expect(report.duplicated).toEqual([]);
    expect(report.ok).toBe(true);
  }, 180_000);
});
