import { APP, startHarness, type Harness } from '../support/importerHarness';
import { runArchiveCli } from '../support/archiveCli';
import { auditArchive } from '../support/archiveAudit';
import { BACKFILL_DAY, DAY, mixedDay } from '../support/mixedDay';

const SEED = 'exactly-once-concurrent';

describe('two importer processes started together on the same connector and window', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mixedDay(SEED, 150));
  });
  afterAll(() => h.close());

  it('run once between them: one imports, the other is refused and says why', async () => {
    const results = await Promise.all([runArchiveCli(BACKFILL_DAY, h.env), runArchiveCli(BACKFILL_DAY, h.env)]);

    const ran = results.filter((r) => r.code === 0);
    const refused = results.filter((r) => r.code !== 0);
    expect(ran).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0].code).toBe(1);
    expect(refused[0].stderr).toContain('RunInProgress: A run of connector "default" is already in progress.');
    expect(refused[0].stdout).toBe('');
    expect(refused[0].stderr).not.toContain(APP.clientSecret);

    const audit = auditArchive(h, DAY, SEED);
    expect(audit.problems).toEqual([]);
    expect(audit.keptOutside).toEqual([]);

    const runId = /^run (\S+) (succeeded|partial):/m.exec(ran[0].stdout)?.[1];
    const runs = await runArchiveCli(['--runs'], h.env);
    expect(runs.code).toBe(0);
    const lines = runs.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(runId!);
    expect(lines[0]).toContain(`backfill ${ran[0].stdout.includes('partial:') ? 'partial' : 'succeeded'}`);
    expect(lines[0]).toContain(`${DAY.from} → ${DAY.to}`);
  }, 90_000);
});
