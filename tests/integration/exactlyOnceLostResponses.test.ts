import { runImport } from '../../importer/run/importRun';
import { startHarness, type Harness } from '../support/importerHarness';
import { runArchiveCli } from '../support/archiveCli';
import { auditArchive } from '../support/archiveAudit';
import { importThroughKills, killPoints } from '../support/crashLoop';
import { BACKFILL_DAY, DAY, mixedDay } from '../support/mixedDay';

const SEED = 'exactly-once-lost-responses';

describe('an importer whose Graph writes often lose their responses', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mixedDay(SEED, 150));
  });
  afterAll(() => h.close());

  it('still writes every item to every mapped mailbox exactly once, through a few kills too', async () => {
    const expected = auditArchive(h, DAY, SEED);
    // Applied, then the connection drops: the importer cannot tell a lost answer from a failed write.
    h.graph.addFault({ kind: 'lostResponse', count: 2, operations: ['uploadChunk'] });
    h.graph.addFault({ kind: 'lostResponse', fraction: 0.2, operations: ['createFolder', 'createMessage', 'createAttachment', 'createUploadSession', 'uploadChunk'] });

    const report = await importThroughKills(h, BACKFILL_DAY, killPoints(SEED, 3, expected.deliveries));
    expect(report.kills).toHaveLength(3);
    expect(report.final.code).toBe(0);
    expect(h.graph.stats().lostResponses).toBeGreaterThan(20);

    const audit = auditArchive(h, DAY, SEED);
    expect(audit.problems).toEqual([]);
    expect(audit.deliveries).toBe(expected.deliveries);
    expect(audit.keptOutside).toEqual([]);

    const runId = /^run (\S+) (succeeded|partial):/m.exec(report.final.stdout)?.[1];
    const verify = await runArchiveCli(['--verify', runId!], h.env);
    expect(verify.stdout).toMatch(/0 missing, 0 duplicated, 0 altered, 0 pending/);
    expect(verify.code).toBe(0);
  }, 240_000);
});

describe('an importer whose upload ranges lose their responses', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mixedDay(SEED, 150));
  });
  afterAll(() => h.close());

  it('sends a range whose answer was lost once more, starts a session again when it had landed, and never reads a session back', async () => {
    // The first few ranges: the 4 MiB and just-under-3 MB attachments are one range each (their
    // last), the 9 MiB one three, so last ranges and middle ones both lose their answers.
    h.graph.addFault({ kind: 'lostResponse', count: 6, operations: ['uploadChunk'] });
    const run = await runImport(h.context(), { trigger: 'backfill', requestedBy: 'oid-admin', window: { from: new Date(DAY.from), to: new Date(DAY.to) } });

    const audit = auditArchive(h, DAY, SEED);
    expect(audit.problems).toEqual([]);
    expect(audit.keptOutside).toEqual([]);
    expect(h.graph.stats().lostResponses).toBe(6);
    expect(h.graph.stats().served.byOperation.getUploadSession).toBeUndefined();
    expect(run.counts.partiallyImported).toBe(0);
    expect(run.error).toBeUndefined();
  }, 180_000);
});
