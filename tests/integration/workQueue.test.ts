import { QueueClient } from '@azure/storage-queue';
import { createDeliveryWorker, type Worker } from '../../importer';
import { auditArchive } from '../support/archiveAudit';
import { APP, harnessImporter, startHarness, TENANT, type Harness } from '../support/importerHarness';
import { DAY, mixedDay } from '../support/mixedDay';

const SEED = 'work-queue';
const QUEUE = 'delivery-units-test';

/** Log lines a worker wrote, to read what it said of what it dropped. */
function recordingLog() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('a run fanned out over a work queue to several workers', () => {
  let h: Harness;
  const stopWorkers = new AbortController();
  let workers: Worker[];
  let working: Promise<void>[];
  const logs = [recordingLog(), recordingLog()];

  beforeAll(async () => {
    h = await startHarness(mixedDay(SEED, 120));
    // A lost response makes a worker's create look failed after it was made: the retry must find it, not write it again.
    h.graph.addFault({ kind: 'lostResponse', fraction: 0.05, operations: ['createMessage', 'createAttachment'] });
    h.graph.addFault({ kind: 'error', status: 503, retryAfterSeconds: 0, fraction: 0.05 });
    workers = await Promise.all(
      logs.map(({ log }) =>
        createDeliveryWorker({
          storage: { connectionString: h.azurite.connectionString },
          graph: { tenantId: TENANT, clientId: APP.clientId, clientSecret: APP.clientSecret, authorityHost: h.signin.authorityHost, graphBaseUrl: h.graph.url },
          workQueue: { name: QUEUE },
          log,
          concurrency: 4,
          visibilitySeconds: 30,
          leaseSeconds: 15,
        }),
      ),
    );
    working = workers.map((w) => w.run(stopWorkers.signal));
  }, 120_000);
  afterAll(async () => {
    stopWorkers.abort();
    await Promise.all(working ?? []);
    await h.close();
  });

  it('stops waiting for its units when it is asked to stop, and ends interrupted', async () => {
    // First, before anything is imported: a queue no worker reads, so the run would wait for ever.
    const importer = await harnessImporter(h, { workQueue: { name: 'nobody-reads-this', lingerMs: 50, pollMs: 50 } });
    const stop = new AbortController();
    const unread = new QueueClient(h.azurite.connectionString, 'nobody-reads-this');
    const running = importer.runs.backfill({ from: new Date(DAY.from), to: new Date(DAY.to) }, 'oid-admin', { abortSignal: stop.signal });
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      if (((await unread.getProperties().catch(() => undefined))?.approximateMessagesCount ?? 0) > 0) break;
    }
    stop.abort();
    const run = await running;
    expect(run.status).toBe('interrupted');
  }, 90_000);

  it('puts every item into every mapped mailbox exactly once, counted as one process would count it', async () => {
    const importer = await harnessImporter(h, { workQueue: { name: QUEUE, lingerMs: 50, pollMs: 50 } });
    const run = await importer.runs.backfill({ from: new Date(DAY.from), to: new Date(DAY.to) }, 'oid-admin');

    const audit = auditArchive(h, DAY, SEED);
    expect(audit.problems).toEqual([]);
    expect(audit.deliveries).toBeGreaterThan(120);
    expect(audit.attachments).toBeGreaterThan(20);
    expect(run.status).toBe('succeeded');
    expect(run.counts.imported + run.counts.partiallyImported).toBe(audit.deliveries);
    expect(run.counts.failed).toBe(0);

    // Both workers took part, and between them reported every delivery once.
    const figures = workers.map((w) => w.figures());
    expect(figures.every((f) => f.units > 0)).toBe(true);
    expect(figures.reduce((n, f) => n + f.deliveries, 0)).toBe(audit.deliveries);

    const verify = await importer.runs.verify(run.runId);
    expect({ missing: verify.missing, duplicated: verify.duplicated, altered: verify.altered, pending: verify.pending }).toEqual({ missing: [], duplicated: [], altered: [], pending: 0 });

    // A rerun of the window writes nothing: every delivery is final in the ledger.
    const before = h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0);
    const rerun = await importer.runs.rerun(run.runId, 'oid-admin');
    expect(rerun.counts.imported).toBe(0);
    expect(h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0)).toBe(before);
  }, 300_000);

  it('drops a queue message that is not a unit, saying so, and writes nothing for it', async () => {
    const before = h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0);
    const queue = new QueueClient(h.azurite.connectionString, QUEUE);
    await queue.sendMessage(Buffer.from('{"v":1,"unitId":"x","deliveries":"<script>"}').toString('base64'));
    const dropped = () => logs.some(({ lines }) => lines.some((l) => l.msg === 'a queue message that is not a delivery unit was dropped'));
    for (const deadline = Date.now() + 60_000; !dropped() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 100));
    expect(dropped()).toBe(true);
    expect((await queue.getProperties()).approximateMessagesCount).toBe(0);
    expect(h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0)).toBe(before);
  }, 90_000);
});
