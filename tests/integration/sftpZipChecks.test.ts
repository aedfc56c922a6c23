import { Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import { renderRawMessage } from '../../emulators/telemessage/rfc822';
import { emlName, manifestText, writeZip, zipName } from '../../emulators/telemessage/zipDrop';
import { uploadBadZip, type BadZipCase, type EmlFile } from '../../emulators/telemessage/zipCrafting';
import { CollectionFailedError } from '../../importer/source/collector';
import { SftpZipCollector } from '../../importer/source/sftp/sftpZipCollector';
import { InboxStore } from '../../importer/state/inboxStore';
import { TABLES } from '../../importer/state/tableNames';
import { quietLog, startHarness, type Harness } from '../support/importerHarness';

const ZIPPED_AT = new Date('2026-11-24T06:00:00Z');
const NOW = () => new Date('2026-11-24T07:00:00Z');

/** The reason an admin reads for each bad ZIP. */
const CASES: [BadZipCase, RegExp][] = [
  ['count-too-high', /says Count: 4 but lists 3 files/],
  ['count-too-low', /says Count: 2 but lists 3 files/],
  ['listed-missing', /lists "[^"]+\.eml", which is not in the ZIP/],
  ['unlisted-extra', /holds "[^"]+\.eml", which the manifest does not list/],
  ['zero-byte', /"[^"]+\.eml" is a zero-byte file/],
  ['dot-dot', /The entry "\.\.\/[^"]+" climbs out of the ZIP/],
  ['absolute', /The entry "\/[^"]+" is an absolute path/],
  ['bomb', /"bomb\.eml" inflates to 2147483648 bytes; at most 1073741824 are accepted per entry/],
  ['lying-bomb', /"bomb\.eml" inflates to more than the 65536 bytes its header declares: refused as a ZIP bomb/],
  ['truncated', /central directory cannot be read \(a truncated ZIP, or not a ZIP\)/],
  ['no-manifest', /has no manifest \(\.mf\) file/],
  ['duplicate-name', /The entry name "[^"]+\.eml" appears more than once/],
];

describe('the SFTP collector checks each ZIP before taking anything from it', () => {
  let h: Harness;
  let items: ReturnType<Harness['telemessage']['listExpected']>;
  let next = 0;
  /** Three EMLs no other ZIP of the test holds. */
  const emls = async (n = 3): Promise<{ files: EmlFile[]; ids: string[] }> => {
    const picked = items.slice(next, next + n);
    next += n;
    const files: EmlFile[] = [];
    for (const item of picked) files.push({ name: emlName(item.id), bytes: await bytesOf(item) });
    return { files, ids: picked.map((item) => item.id) };
  };
  const bytesOf = async (item: (typeof items)[number]) => {
    const chunks: Buffer[] = [];
    for await (const c of renderRawMessage(item, 'harness').stream()) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const goodZip = async (container: ContainerClient, fileNumber: number, files: EmlFile[]) => {
    const name = zipName(ZIPPED_AT, fileNumber);
    await writeZip(
      container,
      name,
      files.map((f) => ({ name: f.name, size: f.bytes.length, open: () => Readable.from([f.bytes]) })),
      manifestText(files.map((f) => f.name)),
    );
    return name;
  };
  const collector = (connectorId: string, container: ContainerClient, overrides: Partial<ConstructorParameters<typeof SftpZipCollector>[0]> = {}) =>
    new SftpZipCollector({ connectorId, container, raw: h.stores.raw, inbox: h.stores.inbox, zips: h.stores.landingZips, log: quietLog, pause: async () => undefined, ...overrides });
  const inboxHas = async (connectorId: string, id: string) => (await h.stores.inbox.get(connectorId, id)) !== undefined;
  const blobNames = async (container: ContainerClient) => {
    const names: string[] = [];
    for await (const b of container.listBlobsFlat()) names.push(b.name);
    return names.sort();
  };

  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 120, hugeAttachments: [], malformedRatio: 0 } } });
    items = h.telemessage.listExpected('2026-11-23T00:00:00Z', '2026-11-25T00:00:00Z');
  });
  afterAll(() => h.close());

  it('sets each bad ZIP aside with its reason, imports nothing from it, and still takes the good ZIPs between them', async () => {
    const container = await h.storage.container('landing-cases');
    const bad: { name: string; kind: BadZipCase; reason: RegExp; ids: string[] }[] = [];
    const good: string[] = [];
    let fileNumber = 1;
    for (const [kind, reason] of CASES) {
      const { files, ids } = await emls();
      const name = zipName(ZIPPED_AT, fileNumber++);
      await uploadBadZip(container, name, kind, files);
      bad.push({ name, kind, reason, ids });
      const ok = await emls(2);
      await goodZip(container, fileNumber++, ok.files);
      good.push(...ok.ids);
    }

    const report = await collector('cases', container).collect({ now: NOW });

    expect(report.collected).toBe(good.length);
    expect(report.rejected.map((r) => r.name)).toEqual(bad.map((b) => b.name));
    for (const b of bad) {
      const rejected = report.rejected.find((r) => r.name === b.name)!;
      expect({ kind: b.kind, reason: rejected.reason }).toEqual({ kind: b.kind, reason: expect.stringMatching(b.reason) });
      for (const id of b.ids) expect({ kind: b.kind, id, inInbox: await inboxHas('cases', id) }).toEqual({ kind: b.kind, id, inInbox: false });
      const text = (await container.getBlobClient(`rejected/${b.name}.reason.txt`).downloadToBuffer()).toString();
      expect(text).toMatch(b.reason);
      expect(text).toMatch(/nothing from this ZIP was imported/);
      expect((await h.stores.landingZips.get('cases', b.name))?.status).toBe('rejected');
    }
    for (const id of good) expect({ id, inInbox: await inboxHas('cases', id) }).toEqual({ id, inInbox: true });
    // Only the set-aside copies and their reasons remain beside the good ZIPs, which stay where TeleMessage put them.
    const names = await blobNames(container);
    expect(names.filter((n) => n.startsWith('rejected/'))).toEqual(bad.flatMap((b) => [`rejected/${b.name}`, `rejected/${b.name}.reason.txt`]).sort());
    expect(names.filter((n) => !n.startsWith('rejected/'))).toHaveLength(CASES.length);

    const again = await collector('cases', container).collect({ now: NOW });
    expect(again).toMatchObject({ collected: 0, alreadyCollected: 0, rejected: [] });
  });

  it('leaves a ZIP that is still being written, and takes it once it stops changing', async () => {
    const container = await h.storage.container('landing-writing');
    const { files, ids } = await emls(4);
    const name = await goodZip(container, 1, files);
    const whole = await container.getBlobClient(name).downloadToBuffer();
    // TeleMessage has written the first part when the collector first lists the container.
    await container.getBlockBlobClient(name).upload(whole.subarray(0, 100), 100);
    const finishWriting = async () => {
      await container.getBlockBlobClient(name).upload(whole, whole.length);
    };
    const first = await collector('writing', container, { pause: finishWriting }).collect({ now: NOW });
    expect(first).toMatchObject({ collected: 0, rejected: [] });
    expect(await blobNames(container)).toEqual([name]);
    const second = await collector('writing', container).collect({ now: NOW });
    expect(second).toMatchObject({ collected: 4, rejected: [] });
    for (const id of ids) expect(await inboxHas('writing', id)).toBe(true);
  });

  it('leaves a ZIP rewritten while it is read for the next collection, refusing nothing', async () => {
    const container = await h.storage.container('landing-rewritten');
    const { files, ids } = await emls(3);
    const name = await goodZip(container, 1, files);
    const whole = await container.getBlobClient(name).downloadToBuffer();
    let reads = 0;
    // The collector's view of the container: after the first read (the central directory),
    // TeleMessage uploads the ZIP again, same bytes, a new version.
    const watched = Object.create(container) as ContainerClient;
    watched.getBlobClient = (blobName: string) => {
      const blob = container.getBlobClient(blobName);
      const download = blob.download.bind(blob);
      blob.download = async (...args) => {
        const first = ++reads === 1;
        const res = await download(...args);
        if (first) await container.getBlockBlobClient(name).upload(whole, whole.length);
        return res;
      };
      return blob;
    };
    const first = await collector('rewritten', watched).collect({ now: NOW });
    expect(reads).toBeGreaterThan(1);
    expect(first).toMatchObject({ collected: 0, rejected: [] });
    expect(await blobNames(container)).toEqual([name]);
    const second = await collector('rewritten', container).collect({ now: NOW });
    expect(second).toMatchObject({ collected: 3, rejected: [] });
    for (const id of ids) expect(await inboxHas('rewritten', id)).toBe(true);
  });

  it('takes a ZIP again after a crash part way through it, recording each item once', async () => {
    const container = await h.storage.container('landing-crash');
    const { files, ids } = await emls(6);
    await goodZip(container, 1, files);
    let records = 0;
    const table = await h.storage.table(TABLES.inbox);
    const crashing = new InboxStore(table);
    const record = crashing.record.bind(crashing);
    crashing.record = async (...args) => {
      if (++records > 3) throw new Error('process killed');
      return record(...args);
    };
    await expect(collector('crash', container, { inbox: crashing }).collect({ now: NOW })).rejects.toBeInstanceOf(CollectionFailedError);
    expect(await h.stores.landingZips.get('crash', zipName(ZIPPED_AT, 1))).toBeUndefined();

    const again = await collector('crash', container).collect({ now: NOW });
    expect(again.collected + again.alreadyCollected).toBe(6);
    expect(again.alreadyCollected).toBeGreaterThanOrEqual(1);
    for (const id of ids) expect(await inboxHas('crash', id)).toBe(true);
    const origins = [];
    for await (const e of h.stores.inbox.list('crash', { from: new Date('2026-11-24T00:00:00Z'), to: new Date('2026-11-25T00:00:00Z') })) origins.push(e.origin);
    expect(origins.sort()).toEqual(files.map((f) => `zip:${zipName(ZIPPED_AT, 1)}/${f.name}`).sort());
  });
});
