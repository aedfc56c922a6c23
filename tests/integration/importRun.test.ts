import { runImport } from '../../importer/run/importRun';
import { archiveKeyOf, ARCHIVE_KEY_PROPERTY } from '../../importer/sink/messageProperties';
import { CONNECTOR, expectedMailboxes, startHarness, type Harness } from '../support/importerHarness';
import type { MessageSnapshot } from '../../emulators/graph/inspection';

const KEY = ARCHIVE_KEY_PROPERTY.toLowerCase();
const keyOf = (m: MessageSnapshot) => m.extendedProperties.find((p) => p.id.toLowerCase() === KEY)?.value;

/** Every mailbox's messages by archive key. */
function mailboxContents(h: Harness): Map<string, Map<string, MessageSnapshot[]>> {
  const out = new Map<string, Map<string, MessageSnapshot[]>>();
  for (const summary of h.graph.mailboxes()) {
    const byKey = new Map<string, MessageSnapshot[]>();
    for (const m of h.graph.mailbox(summary.userPrincipalName).messages) {
      const k = keyOf(m) ?? `no-key:${m.id}`;
      byKey.set(k, [...(byKey.get(k) ?? []), m]);
    }
    out.set(summary.userPrincipalName.toLowerCase(), byKey);
  }
  return out;
}

/** Every well-formed item is in each of its mapped participants' mailboxes exactly once. */
function expectEachOnce(h: Harness, items: ReturnType<Harness['telemessage']['listExpected']>): void {
  const contents = mailboxContents(h);
  for (const item of items.filter((e) => !e.malformation)) {
    for (const mailbox of expectedMailboxes(h, item)) expect(contents.get(mailbox)?.get(archiveKeyOf(item.id, mailbox))).toHaveLength(1);
  }
}

describe('a daily import', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('archives every kind into every mapped participant’s mailbox, once, as non-draft items with their real times', async () => {
    const run = await runImport(h.context(), { trigger: 'schedule', requestedBy: 'scheduler' });
    expect(run.window).toEqual({ from: new Date('2026-11-24T00:00:00Z'), to: new Date('2026-11-25T00:00:00Z') });

    const expected = h.telemessage.listExpected(run.window.from, run.window.to);
    const wellFormed = expected.filter((e) => !e.malformation);
    expect(new Set(wellFormed.map((e) => e.type))).toEqual(new Set(['SMS', 'MMS', 'CHAT', 'VOICE_RECORDING', 'VOICE_CALL_LOG']));
    const contents = mailboxContents(h);
    let fanOut = 0;
    let notImported = 0;
    for (const item of wellFormed) {
      const mailboxes = expectedMailboxes(h, item);
      if (mailboxes.length === 0) notImported++;
      fanOut += mailboxes.length;
      for (const mailbox of mailboxes) {
        const copies = contents.get(mailbox)?.get(archiveKeyOf(item.id, mailbox)) ?? [];
        expect({ item: item.id, mailbox, copies: copies.length }).toEqual({ item: item.id, mailbox, copies: 1 });
        const [m] = copies;
        expect(m.isDraft).toBe(false);
        expect(m.folderPath).toContain('Enterprise Number Archiver');
        expect(new Date(m.sentDateTime).toISOString()).toBe(new Date(item.sentAt).toISOString());
        expect(m.attachments.map((a) => [a.name, a.size]).sort()).toEqual(item.attachments.map((a) => [a.filename, a.size]).sort());
      }
    }
    // Nothing else landed anywhere.
    const total = [...contents.values()].reduce((n, byKey) => n + [...byKey.values()].reduce((s, c) => s + c.length, 0), 0);
    expect(total).toBe(fanOut);

    const malformed = expected.length - wellFormed.length;
    expect(run.status).toBe(malformed ? 'partial' : 'succeeded');
    expect(run.counts).toMatchObject({
      availableFromSource: expected.length,
      afterFanOut: fanOut,
      imported: fanOut,
      partiallyImported: 0,
      skippedDuplicates: 0,
      failed: malformed,
      notImported,
    });
    expect(run.counts.unmapped).toBeGreaterThan(0);
    expect(run.immutability).toMatch(/not supported by this storage/);
    expect((await h.stores.connectors.getCheckpoint(CONNECTOR))!.value.toISOString()).toBe('2026-11-25T00:00:00.000Z');

    const log = [];
    for await (const row of h.stores.runLog.rows(run.runId)) log.push(row);
    expect(log.filter((r) => r.outcome === 'malformed')).toHaveLength(malformed);
    // One line per item that reached no mailbox; every unmapped participant is in the unmapped report.
    expect(log.filter((r) => r.outcome === 'unmapped').length).toBe(notImported);
    const unmapped = await h.stores.unmapped.list(CONNECTOR);
    expect(unmapped.reduce((n, u) => n + u.itemCount, 0)).toBe(run.counts.unmapped);
    expect(unmapped.every((u) => u.itemCount > 0 && u.reason.length > 0)).toBe(true);
  });

  it('a rerun replays only what is not final, and writes nothing twice', async () => {
    const [first] = await h.stores.runs.list(CONNECTOR, 1);
    const before = h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0);
    const rerun = await runImport(h.context(), { trigger: 'rerun', requestedBy: 'oid-admin', rerunOf: first.runId });
    expect(rerun.window).toEqual(first.window);
    expect(rerun.counts.imported).toBe(0);
    expect(rerun.counts.skippedDuplicates).toBe(first.counts.afterFanOut);
    expect(h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0)).toBe(before);
    const runs = await h.stores.runs.list(CONNECTOR);
    expect(runs.map((r) => r.trigger)).toEqual(['rerun', 'schedule']);
  });

  it('records each run in the audit trail', async () => {
    const entries = await h.stores.audit.list(CONNECTOR, new Date(Date.now() - 3_600_000), new Date(Date.now() + 3_600_000));
    expect(entries.map((e) => e.action)).toEqual(['run.started', 'run.ended', 'run.started', 'run.ended']);
    expect(entries[2].actor).toBe('oid-admin');
  });
});

describe('after an outage', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ telemessage: { days: ['2026-11-22', '2026-11-23', '2026-11-24'], now: new Date('2026-11-23T00:00:00Z'), traffic: { itemsPerDay: 40, hugeAttachments: [] } } });
  });
  afterAll(() => h.close());

  it('the next run covers every day since the checkpoint, so nothing is skipped', async () => {
    const first = await runImport(h.context(), { trigger: 'schedule', requestedBy: 'scheduler' });
    expect(first.window.from.toISOString()).toBe('2026-11-22T00:00:00.000Z');
    // Two days without a run.
    h.telemessage.setNow(new Date('2026-11-25T00:00:00Z'));
    const next = await runImport(h.context(), { trigger: 'schedule', requestedBy: 'scheduler' });
    expect(next.window).toEqual({ from: new Date('2026-11-23T00:00:00Z'), to: new Date('2026-11-25T00:00:00Z') });
    const missed = h.telemessage.listExpected('2026-11-23T00:00:00Z', '2026-11-25T00:00:00Z');
    expect(next.counts.availableFromSource).toBe(missed.length);
    expectEachOnce(h, missed);
  });
});

describe('a run stopped midway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 60, hugeAttachments: [] } } });
  });
  afterAll(() => h.close());

  it('is recorded as interrupted, moves no checkpoint, and the next run finishes the window exactly once', async () => {
    const stop = new AbortController();
    const messages = () => h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0);
    const watch = setInterval(() => messages() > 0 && stop.abort(), 5);
    const stopped = await runImport(h.context(), { trigger: 'schedule', requestedBy: 'scheduler', abortSignal: stop.signal }).finally(() => clearInterval(watch));
    expect(stopped.status).toBe('interrupted');
    expect(stopped.error).toMatch(/the next run picks up where it left off/);
    expect(await h.stores.connectors.getCheckpoint(CONNECTOR)).toBeUndefined();
    expect((await h.stores.runs.get(CONNECTOR, stopped.runId)).status).toBe('interrupted');

    const next = await runImport(h.context(), { trigger: 'schedule', requestedBy: 'scheduler' });
    expect(next.window).toEqual(stopped.window);
    expect(['succeeded', 'partial']).toContain(next.status);
    expect((await h.stores.connectors.getCheckpoint(CONNECTOR))?.value).toEqual(next.window.to);
    const expected = h.telemessage.listExpected(next.window.from, next.window.to);
    expectEachOnce(h, expected);
  });
});

describe('the importer’s memory', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 60, hugeAttachments: [] } } });
  });
  afterAll(() => h.close());

  it('holds only as many items at once as its byte budget allows, and still imports them all', async () => {
    // A budget smaller than any item: the workers are there, but items go one at a time.
    const run = await runImport(h.context({ itemWorkers: 16, itemBytesInFlight: 1 }), { trigger: 'schedule', requestedBy: 'scheduler' });
    const expected = h.telemessage.listExpected(run.window.from, run.window.to);
    expect(h.telemessage.stats().downloadsStarted).toBe(expected.length);
    expect(h.telemessage.stats().mostDownloadsAtOnce).toBe(1);
    expectEachOnce(h, expected);
    expect(run.counts.imported).toBe(run.counts.afterFanOut);
  });
});
