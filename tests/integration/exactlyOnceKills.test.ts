import { expectedUnmapped, startHarness, type Harness } from '../support/importerHarness';
import { runArchiveCli } from '../support/archiveCli';
import { auditArchive } from '../support/archiveAudit';
import { importThroughKills, killPoints } from '../support/crashLoop';
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

    expect(report.kills).toHaveLength(KILLS);
    expect(report.kills.filter((k) => k.heldLease).length).toBeGreaterThanOrEqual(KILLS - 1);
    // While a run holds the lease, a new one is refused at once, saying why.
    expect(report.probes.length).toBeGreaterThanOrEqual(KILLS - 1);
    for (const probe of report.probes) {
      expect({ code: probe.code, stderr: probe.stderr }).toEqual({ code: 1, stderr: expect.stringContaining('RunInProgress: A run of connector "default" is already in progress.') });
    }
    expect(report.final.code).toBe(0);

    const audit = auditArchive(h, DAY, SEED);
    expect(audit.problems).toEqual([]);
    expect(audit.attachments).toBeGreaterThan(50);
    expect(audit.keptOutside).toEqual([]);

    const runId = /^run (\S+) (succeeded|partial):/m.exec(report.final.stdout)?.[1];
    expect(runId).toBeDefined();
    const verify = await runArchiveCli(['--verify', runId!], h.env);
    expect(verify.stdout).toMatch(/0 missing, 0 duplicated, 0 altered, 0 pending/);
    expect(verify.code).toBe(0);

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
