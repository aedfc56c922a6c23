import { runImport } from '../../importer/run/importRun';
import type { DailyCounts, Importer, ItemOutcome } from '../../importer';
import { CONNECTOR, expectedMailboxes, harnessImporter, startHarness, type Harness } from '../support/importerHarness';

// The daily counts behind the tab's 30-day chart, against what the emulator's traffic says each
// item must have become: after a run, after a rerun that imports what failed, after a replay of
// held items; every item counted once, in the outcome it has now.
const KIND_OF_TYPE: Record<string, string> = { SMS: 'sms', MMS: 'mms', CHAT: 'chat', VOICE_RECORDING: 'voiceRecording', VOICE_CALL_LOG: 'voiceCallLog' };
const WINDOW = { from: new Date('2026-11-23T00:00:00Z'), to: new Date('2026-11-25T00:00:00Z') };

type Tally = Record<string, Record<string, Partial<Record<ItemOutcome, number>>>>;

/** day → kind → outcome → items, worked out from the traffic (mapped items end as `delivered`). */
function expected(h: Harness, delivered: ItemOutcome): Tally {
  const tally: Tally = {};
  for (const item of h.telemessage.listExpected(WINDOW.from, WINDOW.to)) {
    const outcome: ItemOutcome = item.malformation ? 'failed' : expectedMailboxes(h, item, false).length ? delivered : 'notImported';
    const kinds = (tally[item.archivedAt.slice(0, 10)] ??= {});
    const outcomes = (kinds[KIND_OF_TYPE[item.type]] ??= {});
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  return tally;
}

/** The importer's figures in the same shape, zeros left out. */
function tallyOf(days: DailyCounts[]): Tally {
  const tally: Tally = {};
  for (const d of days) {
    for (const [kind, outcomes] of Object.entries(d.kinds)) {
      for (const [outcome, n] of Object.entries(outcomes)) {
        if (n) ((tally[d.day] ??= {})[kind] ??= {})[outcome as ItemOutcome] = n;
      }
    }
  }
  return tally;
}

describe('items per archive day, kind and outcome', () => {
  let h: Harness;
  let importer: Importer;
  beforeAll(async () => {
    h = await startHarness({ automaticMapping: false, telemessage: { traffic: { itemsPerDay: 30, hugeAttachments: [] } } });
    importer = await harnessImporter(h, { now: () => h.telemessage.now() });
  }, 60_000);
  afterAll(() => h?.close());

  it('counts each item of a run by its kind, failed while Graph refuses every message', async () => {
    expect(tallyOf(await importer.runs.dailyCounts(30))).toEqual({});
    h.graph.addFault({ kind: 'error', status: 503, retryAfterSeconds: 0, operations: ['createMessage'] });
    const run = await runImport(h.context(), { trigger: 'backfill', requestedBy: 'test', window: WINDOW });
    h.graph.clearFaults();
    expect(run.counts.failed).toBeGreaterThan(0);

    const days = await importer.runs.dailyCounts(3);
    expect(days.map((d) => d.day)).toEqual(['2026-11-23', '2026-11-24', '2026-11-25']);
    expect(tallyOf(days)).toEqual(expected(h, 'failed'));
    expect(days[0].countedBy).toBe(run.runId);
    // Five kinds archived, items only: a message into two mailboxes is one item.
    const items = days.reduce((n, d) => n + Object.values(d.kinds).reduce((m, o) => m + o.imported + o.partial + o.failed + o.notImported, 0), 0);
    expect(items).toBe(run.counts.availableFromSource);
  }, 120_000);

  it('a rerun that imports the failed items moves them to imported, and a second rerun changes nothing', async () => {
    const [first] = await h.stores.runs.list(CONNECTOR, 1);
    const rerun = await runImport(h.context(), { trigger: 'rerun', rerunOf: first.runId, requestedBy: 'test' });
    expect(rerun.counts.imported).toBeGreaterThan(0);
    expect(tallyOf(await importer.runs.dailyCounts(3))).toEqual(expected(h, 'imported'));

    const again = await runImport(h.context(), { trigger: 'rerun', rerunOf: first.runId, requestedBy: 'test' });
    expect(again.counts.imported).toBe(0);
    expect(again.counts.skippedDuplicates).toBeGreaterThan(0);
    expect(tallyOf(await importer.runs.dailyCounts(3))).toEqual(expected(h, 'imported'));
  }, 120_000);

  it('a replay of held items after a number is mapped counts them imported once, no longer not imported', async () => {
    const held = (await importer.mapping.unmappedReport()).archivedLines[0];
    expect(held).toBeDefined();
    const mailbox = [...h.users].find((m) => ![...h.mappedNumbers.values()].includes(m)) ?? [...h.users][0];
    const before = tallyOf(await importer.runs.dailyCounts(3));
    const change = await importer.mapping.mapNumber(held.number, mailbox, 'test', { etag: (await importer.connector.settings()).etag });
    expect(change.replay.status).toBe('done');
    h.mappedNumbers.set(held.number, mailbox);

    const after = tallyOf(await importer.runs.dailyCounts(3));
    expect(after).toEqual(expected(h, 'imported'));
    expect(after).not.toEqual(before);
    const total = (t: Tally, outcome: ItemOutcome) => Object.values(t).reduce((n, kinds) => n + Object.values(kinds).reduce((m, o) => m + (o[outcome] ?? 0), 0), 0);
    const moved = total(before, 'notImported') - total(after, 'notImported');
    expect(moved).toBeGreaterThan(0);
    expect(total(after, 'imported') - total(before, 'imported')).toBe(moved);
  }, 120_000);
});
