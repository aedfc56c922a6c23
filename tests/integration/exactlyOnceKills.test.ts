import { expectedUnmapped, startHarness, type Harness } from '../support/importerHarness';
import { auditArchive } from '../support/archiveAudit';
import { expectKillsRefusedWhileHeld, importThroughKills, killPoints, verifiedFinalRun } from '../support/crashLoop';
import { BACKFILL_DAY, DAY, mixedDay } from '../support/mixedDay';

const SEED = 'exactly-once-kills';
const KILLS = 10;

describe('an importer killed at random points of a run, again and again', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mixedDay(SEED, 200));
  });
  afterAll(() => h.close());

  it('ends with every item in every mapped mailbox exactly once, attachments complete', async () => {
    const before = auditArchive(h, DAY, SEED);
    expect(before.deliveries).toBeGreaterThan(200);

    const report = await importThroughKills(h, BACKFILL_DAY, killPoints(SEED, KILLS, before.deliveries));

    expectKillsRefusedWhileHeld(report, KILLS);

    const audit = auditArchive(h, DAY, SEED);
    expect(audit.problems).toEqual([]);
    expect(audit.attachments).toBeGreaterThan(50);
    expect(audit.keptOutside).toEqual([]);

    const runId = await verifiedFinalRun(report, h.env);

    // Nothing a killed run saw of unmapped numbers is lost, and nothing is counted twice.
    const unmapped = await h.stores.unmapped.list('default');
    const expected = expectedUnmapped(h, h.telemessage.listExpected(DAY.from, DAY.to));
    expect(new Map(unmapped.map((u) => [u.number, u.itemCount]))).toEqual(expected);

    // Every killed run that got as far as a run row reads "interrupted", none stays "running".
    const runs = await h.stores.runs.list('default', 100);
    expect(runs[0].runId).toBe(runId);
    expect(runs.slice(1).map((r) => r.status)).toEqual(runs.slice(1).map(() => 'interrupted'));
    expect(runs.length).toBeLessThanOrEqual(KILLS + 1);
  }, 360_000);
});
