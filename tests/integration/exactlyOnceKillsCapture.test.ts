import { expectedUnmapped, startHarness, type Harness } from '../support/importerHarness';
import { runArchiveCli } from '../support/archiveCli';
import { auditArchive } from '../support/archiveAudit';
import { CAPTURE, deliverWindow } from '../support/captureDelivery';
import { importThroughKills, killPoints, verifiedFinalRun } from '../support/crashLoop';
import { DAY, mixedDay } from '../support/mixedDay';

const SEED = 'exactly-once-kills-smtp';
const KILLS = 8;

describe('an importer reading a capture mailbox, killed at random points of a run, again and again', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ...mixedDay(SEED, 160), captureMailbox: CAPTURE });
    const current = await h.stores.connectors.getOrDefault('default');
    await h.stores.connectors.save({ ...current.value, delivery: 'smtp', captureMailbox: CAPTURE }, current.etag);
    // Graph stumbles now and then while the capture mailbox is read, as it does on the way out.
    h.graph.addFault({ kind: 'error', status: 503, retryAfterSeconds: 0, fraction: 0.05, operations: ['deltaMessages', 'getMessageContent'] });
  });
  afterAll(() => h.close());

  it('ends with every delivered item in every mapped mailbox exactly once, attachments complete', async () => {
    // The morning by plain emails, the rest of the day journal-wrapped.
    const delivered = [...(await deliverWindow(h, DAY.from, '2026-11-24T10:00:00.000Z')), ...(await deliverWindow(h, '2026-11-24T10:00:00.000Z', DAY.to, { journal: true }))];
    expect(delivered.length).toBeGreaterThan(150);
    const before = auditArchive(h, DAY, SEED, { except: [CAPTURE] });
    expect(before.deliveries).toBeGreaterThan(150);

    // No window: each run collects from the capture mailbox first, then imports what it holds.
    const report = await importThroughKills(h, [], killPoints(SEED, KILLS, before.deliveries));
    expect(report.kills).toHaveLength(KILLS);

    const audit = auditArchive(h, DAY, SEED, { except: [CAPTURE] });
    expect(audit.problems).toEqual([]);
    expect(audit.attachments).toBeGreaterThan(30);

    await verifiedFinalRun(report, h.env);

    const unmapped = await h.stores.unmapped.list('default');
    expect(new Map(unmapped.map((u) => [u.number, u.itemCount]))).toEqual(expectedUnmapped(h, delivered));

    // A last run finds nothing new in the mailbox and imports nothing.
    const again = await runArchiveCli([], h.env);
    expect(again.code).toBe(0);
    const [last] = await h.stores.runs.list('default', 1);
    expect(last.collection).toMatchObject({ kind: 'smtp', collected: 0 });
    expect(last.counts.imported).toBe(0);
    expect(auditArchive(h, DAY, SEED, { except: [CAPTURE] }).problems).toEqual([]);
  }, 420_000);
});
