import { uploadBadZip } from '../../emulators/telemessage/zipCrafting';
import { zipName } from '../../emulators/telemessage/zipDrop';
import { expectedUnmapped, startHarness, type Harness } from '../support/importerHarness';
import { runArchiveCli } from '../support/archiveCli';
import { auditArchive } from '../support/archiveAudit';
import { expectKillsRefusedWhileHeld, importThroughKills, killPoints, verifiedFinalRun } from '../support/crashLoop';
import { DAY, mixedDay } from '../support/mixedDay';

const SEED = 'exactly-once-kills-sftp';
const KILLS = 8;
const LANDING = 'telemessage';

describe('an importer taking ZIPs from the SFTP landing container, killed at random points of a run, again and again', () => {
  let h: Harness;
  let env: Record<string, string>;
  beforeAll(async () => {
    h = await startHarness(mixedDay(SEED, 160));
    const current = await h.stores.connectors.getOrDefault('default');
    await h.stores.connectors.save({ ...current.value, delivery: 'sftp' }, current.etag);
    env = { ...h.env, SFTP_STORAGE_CONNECTION_STRING: h.azurite.connectionString, SFTP_CONTAINER: LANDING, SFTP_SETTLE_SECONDS: '1' };
  });
  afterAll(() => h.close());

  it('ends with every delivered item in every mapped mailbox exactly once, and the bad ZIP set aside once', async () => {
    const landing = await h.storage.container(LANDING);
    const zippedAt = new Date('2026-11-25T00:10:00Z');
    const zips = await h.telemessage.deliverZips(landing, DAY.from, DAY.to, { maxItemsPerZip: 30, zippedAt, firstFileNumber: 2 });
    expect(zips.length).toBeGreaterThanOrEqual(5);
    const bad = zipName(zippedAt, 1);
    const strangers = [1, 2].map((n) => ({ name: `stranger-${n}.eml`, bytes: Buffer.from(`X-TELEMESSAGE-ArchiveMessageID: STRANGER-${n}\r\nSubject: x\r\n\r\nnot to be imported\r\n`) }));
    await uploadBadZip(landing, bad, 'count-too-low', strangers);
    const before = auditArchive(h, DAY, SEED);
    expect(before.deliveries).toBeGreaterThan(150);

    // No window: each run first takes what the landing container holds, then imports it.
    h.env = env;
    const report = await importThroughKills(h, [], killPoints(SEED, KILLS, before.deliveries));
    expectKillsRefusedWhileHeld(report, KILLS);

    const audit = auditArchive(h, DAY, SEED);
    expect(audit.problems).toEqual([]);
    expect(audit.attachments).toBeGreaterThan(30);

    await verifiedFinalRun(report, env);

    const delivered = h.telemessage.listExpected(DAY.from, DAY.to);
    const unmapped = await h.stores.unmapped.list('default');
    expect(new Map(unmapped.map((u) => [u.number, u.itemCount]))).toEqual(expectedUnmapped(h, delivered));
    for (const n of [1, 2]) expect(await h.stores.inbox.get('default', `STRANGER-${n}`)).toBeUndefined();
    expect((await h.stores.landingZips.get('default', bad))?.status).toBe('rejected');
    const names: string[] = [];
    for await (const b of landing.listBlobsFlat({ prefix: 'rejected/' })) names.push(b.name);
    expect(names.sort()).toEqual([`rejected/${bad}`, `rejected/${bad}.reason.txt`]);

    // A last run finds every ZIP taken and imports nothing.
    const again = await runArchiveCli([], env);
    expect(again.code).toBe(0);
    const [last] = await h.stores.runs.list('default', 1);
    expect(last.collection).toMatchObject({ kind: 'sftp', collected: 0, alreadyCollected: 0, rejected: [] });
    expect(last.counts.imported).toBe(0);
    expect(auditArchive(h, DAY, SEED).problems).toEqual([]);
  }, 600_000);
});
