import type { TableClient } from '@azure/data-tables';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderRawMessage } from '../../emulators/telemessage/rfc822';
import type { ExpectedItem } from '../../emulators/telemessage/server';
import type { CollectOptions, CollectReport, Collector } from '../../importer/source/collector';
import { takeIntoInbox } from '../../importer/source/inboxIntake';
import { InboxSource } from '../../importer/source/inboxSource';
import { InboxStore, type InboxEntry } from '../../importer/state/inboxStore';
import type { RunRecord } from '../../importer';
import { TABLES } from '../../importer/state/tableNames';
import { archiveKeyOf } from '../../importer/sink/messageProperties';
import { ARCHIVE_KEY_PROPERTY } from '../../importer/sink/messageProperties';
import { CONNECTOR, expectedMailboxes, harnessImporter, startHarness, type Harness } from '../support/importerHarness';

const entry = (id: string, collectedAt: string, extra: Partial<InboxEntry> = {}): InboxEntry => ({
  id,
  collectedAt: new Date(collectedAt),
  deliveredAt: new Date(collectedAt),
  type: 'SMS',
  sizeBytes: 10,
  sha256: 'a'.repeat(64),
  origin: `capture:${id}`,
  ...extra,
});

async function listed(store: InboxStore, from: string, to: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.list(CONNECTOR, { from: new Date(from), to: new Date(to) })) out.push(`${e.collectedAt.toISOString()} ${e.id}`);
  return out;
}

describe('the inbox of delivered items', () => {
  let h: Harness;
  let table: TableClient;
  let inbox: InboxStore;
  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 30, hugeAttachments: [] } } });
    table = await h.storage.table(TABLES.inbox);
    inbox = new InboxStore(table);
  });
  afterAll(() => h.close());

  it('records an item once: the same id offered again returns the first record and adds nothing', async () => {
    const first = await inbox.record(CONNECTOR, entry('<id-1@tm>', '2026-11-20T10:00:00.000Z'));
    const again = await inbox.record(CONNECTOR, entry('<id-1@tm>', '2026-11-21T11:00:00.000Z', { sha256: 'b'.repeat(64), origin: 'zip:x.zip/1.eml' }));
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.entry).toEqual(first.entry);
    expect(await listed(inbox, '2026-11-20T00:00:00Z', '2026-11-22T00:00:00Z')).toEqual(['2026-11-20T10:00:00.000Z <id-1@tm>']);
  });

  it("mends a crash between its two rows: the next record of the id makes it listable at that collection's time, inside the windows still to come", async () => {
    let failUpsert = true;
    const crashing = new Proxy(table, {
      get(target, prop, receiver) {
        if (prop === 'upsertEntity' && failUpsert) {
          return async () => {
            failUpsert = false;
            throw new Error('process killed');
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await expect(new InboxStore(crashing).record(CONNECTOR, entry('id-crash', '2026-11-20T12:00:00.000Z'))).rejects.toThrow('process killed');
    // The id row is there, the time row is not: no window lists it yet.
    expect(await listed(inbox, '2026-11-20T00:00:00Z', '2026-11-22T00:00:00Z')).not.toContain('2026-11-20T12:00:00.000Z id-crash');
    const retried = await inbox.record(CONNECTOR, entry('id-crash', '2026-11-21T09:00:00.000Z'));
    // It was never listable, so never imported: it is recorded now, at this collection's time (a
    // checkpoint may have moved past its first time meanwhile), and only once.
    expect(retried.created).toBe(true);
    expect(retried.entry.collectedAt.toISOString()).toBe('2026-11-21T09:00:00.000Z');
    expect(await listed(inbox, '2026-11-20T00:00:00Z', '2026-11-22T00:00:00Z')).toEqual(['2026-11-20T10:00:00.000Z <id-1@tm>', '2026-11-21T09:00:00.000Z id-crash']);
    const again = await inbox.record(CONNECTOR, entry('id-crash', '2026-11-21T10:00:00.000Z'));
    expect(again).toMatchObject({ created: false, entry: { collectedAt: new Date('2026-11-21T09:00:00.000Z') } });
  });

  it('lists by collection window, half-open, across days, in time order', async () => {
    for (const [id, at] of [
      ['w-c', '2026-11-10T23:59:59.999Z'],
      ['w-a', '2026-11-10T08:00:00.000Z'],
      ['w-b', '2026-11-10T08:00:00.000Z'],
      ['w-d', '2026-11-11T00:00:00.000Z'],
      ['w-e', '2026-11-12T00:00:00.000Z'],
    ])
      await inbox.record(CONNECTOR, entry(id, at));
    expect(await listed(inbox, '2026-11-10T08:00:00Z', '2026-11-12T00:00:00Z')).toEqual([
      '2026-11-10T08:00:00.000Z w-a',
      '2026-11-10T08:00:00.000Z w-b',
      '2026-11-10T23:59:59.999Z w-c',
      '2026-11-11T00:00:00.000Z w-d',
    ]);
    expect(await listed(inbox, '2026-11-10T08:00:00.001Z', '2026-11-11T00:00:00Z')).toEqual(['2026-11-10T23:59:59.999Z w-c']);
  });

  it('serves a listed item from its staged raw copy', async () => {
    const eml = Buffer.from('Message-ID: <staged@tm>\r\nX-TELEMESSAGE-MessageType: MMS\r\nSubject: hi\r\n\r\nbody\r\n');
    const { entry: taken, created } = await takeIntoInbox(
      h.stores,
      CONNECTOR,
      { body: Readable.from([eml]), deliveredAt: new Date('2026-11-09T01:00:00Z'), origin: 'capture:m1' },
      { collectedAt: new Date('2026-11-09T02:00:00Z') },
    );
    expect(created).toBe(true);
    expect(taken).toMatchObject({ id: 'staged@tm', type: 'MMS', sizeBytes: eml.length, origin: 'capture:m1' });
    const source = new InboxSource(CONNECTOR, h.stores);
    const refs = [];
    for await (const ref of source.list({ from: new Date('2026-11-09T00:00:00Z'), to: new Date('2026-11-10T00:00:00Z') })) refs.push(ref);
    expect(refs).toEqual([{ id: 'staged@tm', archivedAt: new Date('2026-11-09T02:00:00Z'), type: 'MMS', sizeBytes: eml.length }]);
    const chunks: Buffer[] = [];
    for await (const c of await source.download(refs[0])) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks)).toEqual(eml);
  });
});

/** A collector written for the test: hands over the emulator's generated items as TeleMessage would deliver them. */
class GeneratedDeliveries implements Collector {
  readonly kind = 'smtp' as const;
  calls = 0;
  constructor(
    private readonly h: Harness,
    private readonly items: () => ExpectedItem[],
  ) {}

  async collect(options: CollectOptions): Promise<CollectReport> {
    this.calls++;
    const report: CollectReport = { kind: 'smtp', collected: 0, alreadyCollected: 0, rejected: [] };
    for (const item of this.items()) {
      const raw = renderRawMessage(item, 'harness');
      const { created } = await takeIntoInbox(
        this.h.stores,
        CONNECTOR,
        { body: raw.stream(), expectedSize: raw.size, deliveredAt: new Date(item.archivedAt), origin: `capture:${item.id}` },
        { collectedAt: options.now(), abortSignal: options.abortSignal },
      );
      if (created) report.collected++;
      else report.alreadyCollected++;
    }
    return report;
  }
}

describe('a run of a delivered source', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 40, hugeAttachments: [] } } });
    const current = await h.stores.connectors.getOrDefault(CONNECTOR);
    await h.stores.connectors.save({ ...current.value, delivery: 'smtp', captureMailbox: 'telemessage-capture@contoso.example' }, current.etag);
  });
  afterAll(() => h.close());

  it('imports what was collected exactly once; a second run imports nothing; verify finds nothing missing', async () => {
    const delivered = h.telemessage.listExpected('2026-11-23T00:00:00Z', '2026-11-25T00:00:00Z');
    const collector = new GeneratedDeliveries(h, () => delivered);
    const importer = await harnessImporter(h, { now: () => h.telemessage.now(), collectors: { smtp: () => collector } });

    const run = await importer.runs.start('oid-admin');
    expect(collector.calls).toBe(1);
    expect(run.collection).toEqual({ kind: 'smtp', collected: delivered.length, alreadyCollected: 0, rejected: [], durationMs: expect.any(Number) });
    // Collected "now" (the pinned clock): the window reaches past it.
    expect(run.window.to.getTime()).toBeGreaterThan(h.telemessage.now().getTime());
    expect(run.counts.availableFromSource).toBe(delivered.length);
    const key = ARCHIVE_KEY_PROPERTY.toLowerCase();
    let fanOut = 0;
    for (const item of delivered.filter((e) => !e.malformation)) {
      for (const mailbox of expectedMailboxes(h, item)) {
        fanOut++;
        const copies = h.graph.mailbox(mailbox).messages.filter((m) => m.extendedProperties.some((p) => p.id.toLowerCase() === key && p.value === archiveKeyOf(item.id, mailbox)));
        expect({ item: item.id, mailbox, copies: copies.length }).toEqual({ item: item.id, mailbox, copies: 1 });
      }
    }
    expect(run.counts.imported).toBe(fanOut);
    expect(h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0)).toBe(fanOut);
    expect((await importer.runs.get(run.runId)).collection?.collected).toBe(delivered.length);
    // The inbox gave the window's total before the import began: `npm start` prints "done of total".
    expect((await importer.runs.get(run.runId)).itemsTotal).toBe(delivered.length);

    const second = await importer.runs.start('oid-admin');
    expect(second.collection).toEqual({ kind: 'smtp', collected: 0, alreadyCollected: delivered.length, rejected: [], durationMs: expect.any(Number) });
    expect(second.window.from).toEqual(run.window.to);
    expect(second.counts.availableFromSource).toBe(0);
    expect(second.counts.imported).toBe(0);
    expect(h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0)).toBe(fanOut);

    const report = await importer.runs.verify(run.runId);
    expect(report.itemsListed).toBe(delivered.length);
    expect(report.missing).toEqual([]);
    expect(report.duplicated).toEqual([]);
    expect(report.ok).toBe(true);
  }, 300_000);

  it('refuses a delivery it does not know and a capture mailbox that is no address, changing nothing', async () => {
    const importer = await harnessImporter(h);
    const before = await importer.connector.settings();
    await expect(importer.connector.update({ delivery: 'ftp' as never }, 'oid-admin', { etag: before.etag })).rejects.toMatchObject({
      code: 'InvalidSetting',
      message: 'The delivery must be one of api, smtp, sftp.',
    });
    await expect(importer.connector.update({ captureMailbox: 'capture mailbox' }, 'oid-admin', { etag: before.etag })).rejects.toMatchObject({ code: 'InvalidSetting' });
    expect(await importer.connector.settings()).toEqual(before);
  });

  it('fails the run with the collector’s reason, and a rerun never collects', async () => {
    const broken: Collector = { kind: 'smtp', collect: () => Promise.reject(new Error('The capture mailbox could not be read: 403 ErrorAccessDenied')) };
    const importer = await harnessImporter(h, { now: () => h.telemessage.now(), collectors: { smtp: () => broken } });
    const before = await h.stores.connectors.getCheckpoint(CONNECTOR);
    const failed = await importer.runs.start('oid-admin');
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('The capture mailbox could not be read: 403 ErrorAccessDenied');
    expect((await h.stores.connectors.getCheckpoint(CONNECTOR))?.value).toEqual(before?.value);
    const [first] = (await importer.runs.list({ top: 10 })).filter((r) => r.status === 'succeeded').slice(-1);
    const rerun = await importer.runs.rerun(first.runId, 'oid-admin');
    expect(rerun.status).toBe('succeeded');
    expect(rerun.collection).toBeUndefined();
    expect(rerun.counts.imported).toBe(0);
  }, 300_000);

  it('is recorded as running while it collects: whoever started it sees it going, before the collection ends', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let collecting = false;
    const slow: Collector = {
      kind: 'smtp',
      collect: async () => {
        collecting = true;
        await held;
        return { kind: 'smtp', collected: 0, alreadyCollected: 0, rejected: [] };
      },
    };
    const importer = await harnessImporter(h, { now: () => h.telemessage.now(), collectors: { smtp: () => slow } });
    let started: RunRecord | undefined;
    const run = importer.runs.start('oid-admin', { onStarted: (r) => (started = r) });
    while (!collecting) await sleep(20);
    expect(started).toBeDefined();
    const [listed] = await importer.runs.list({ top: 1 });
    expect(listed).toMatchObject({ runId: started!.runId, status: 'running' });
    expect(listed.collection).toBeUndefined();
    release();
    const ended = await run;
    expect(ended).toMatchObject({ runId: started!.runId, status: 'succeeded', collection: { kind: 'smtp', collected: 0, durationMs: expect.any(Number) } });
    expect((await importer.runs.get(ended.runId)).collection?.durationMs).toBeGreaterThanOrEqual(0);
  }, 300_000);
});
