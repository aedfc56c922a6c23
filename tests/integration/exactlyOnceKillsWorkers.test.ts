import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { auditArchive } from '../support/archiveAudit';
import { startArchiveCli, runArchiveCli, type ArchiveProcess } from '../support/archiveCli';
import { killPoints } from '../support/crashLoop';
import { startHarness, type Harness } from '../support/importerHarness';
import { BACKFILL_DAY, DAY, mixedDay } from '../support/mixedDay';

const SEED = 'exactly-once-kills-workers';
const WORKERS = 3;
const KILLS = 6;
const WORKER = ['--import', 'tsx', path.resolve(__dirname, '..', '..', 'server', 'worker.ts')];

describe('a run fanned out to three worker processes, workers killed at random points', () => {
  let h: Harness;
  let env: Record<string, string>;
  const workers: ArchiveProcess[] = [];
  beforeAll(async () => {
    h = await startHarness(mixedDay(SEED, 200));
    h.graph.addFault({ kind: 'error', status: 503, retryAfterSeconds: 0, fraction: 0.05 });
    h.graph.addFault({ kind: 'lostResponse', fraction: 0.03, operations: ['createMessage', 'createAttachment', 'uploadChunk'] });
    // The coordinator leaves every delivery to the workers; a killed worker's units come back after 10 s, its mailboxes after 15.
    env = { ...h.env, WORK_QUEUE_NAME: 'delivery-units', WORK_QUEUE_VISIBILITY_SECONDS: '10', WORKER_CONCURRENCY: '4' };
  }, 120_000);
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.done));
    await h.close();
  });

  it('ends with every item in every mapped mailbox exactly once, and --verify finds nothing missing', async () => {
    const before = auditArchive(h, DAY, SEED);
    expect(before.deliveries).toBeGreaterThan(200);
    const messages = () => h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0);

    for (let i = 0; i < WORKERS; i++) workers.push(startArchiveCli([], env, WORKER));
    const coordinator = startArchiveCli(BACKFILL_DAY, { ...env, WORKER_CONCURRENCY: '0' });
    let coordinatorExited = false;
    void coordinator.done.then(() => (coordinatorExited = true));

    // Past the first point (a worker killed while it starts), each falls in the first four fifths of the run.
    const killed: number[] = [];
    for (const [n, point] of killPoints(SEED, KILLS, before.deliveries).entries()) {
      while (!coordinatorExited && messages() < point.messages) await sleep(20);
      if (coordinatorExited) break;
      await sleep(point.delayMs);
      const victim = n % WORKERS;
      workers[victim].child.kill('SIGKILL');
      await workers[victim].done;
      killed.push(messages());
      // A replacement starts at once, as Container Apps would start another replica.
      workers[victim] = startArchiveCli([], env, WORKER);
    }
    const final = await coordinator.done;
    // Every kill fell while the run was still writing.
    expect(killed).toHaveLength(KILLS);
    expect(Math.max(...killed)).toBeLessThan(before.deliveries);
    expect(final.code).toBe(0);
    const runId = /^run (\S+) (succeeded|partial):/m.exec(final.stdout)?.[1];
    expect(runId).toBeDefined();

    const audit = auditArchive(h, DAY, SEED);
    expect(audit.problems).toEqual([]);
    expect(audit.attachments).toBeGreaterThan(50);
    expect(audit.keptOutside).toEqual([]);

    const verify = await runArchiveCli(['--verify', runId!], env);
    expect(verify.stdout).toMatch(/0 missing, 0 duplicated, 0 altered, 0 pending/);
    expect(verify.code).toBe(0);
  }, 600_000);
});
