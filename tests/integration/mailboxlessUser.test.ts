import { runImport, type RunLogger } from '../../importer/run/importRun';
import { archiveKeyOf } from '../../importer/sink/messageProperties';
import type { RunLogRow } from '../../importer/state/runLogStore';
import { CONNECTOR, expectedMailboxes, startHarness, type Harness } from '../support/importerHarness';

// An employee in the custom mapping whose Microsoft 365 account has no Exchange Online mailbox
// (unlicensed, or on-premises): Graph answers MailboxNotEnabledForRESTAPI for their mail.
describe('a mapped user without an Exchange Online mailbox', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ noMailbox: (staff) => [staff[0]] });
  });
  afterAll(() => h.close());

  it('is an unmapped participant with Graph’s reason, in the unmapped report and the run log; the run does not fail', async () => {
    const kiosk = h.staff[0];
    const warnings: { obj: object; msg?: string }[] = [];
    const log: RunLogger = { info: () => undefined, error: () => undefined, warn: (obj, msg) => warnings.push({ obj, msg }) };
    const run = await runImport(h.context({ log }), { trigger: 'schedule', requestedBy: 'scheduler' });

    expect(run.status).not.toBe('failed');
    expect(run.error).toBeUndefined();
    const items = h.telemessage.listExpected(run.window.from, run.window.to).filter((i) => !i.malformation);
    const theirs = items.filter((i) => i.participants.some((p) => p.number === kiosk.mobile));
    expect(theirs.length).toBeGreaterThan(0);

    const unmapped = (await h.stores.unmapped.list(CONNECTOR)).find((u) => u.number === kiosk.mobile);
    expect(unmapped).toMatchObject({ itemCount: theirs.length, reason: expect.stringContaining('MailboxNotEnabledForRESTAPI') });
    expect(unmapped!.reason).toContain(kiosk.mailbox);

    const rows: RunLogRow[] = [];
    for await (const row of h.stores.runLog.rows(run.runId)) rows.push(row);
    const about = rows.filter((r) => r.m365UserId === kiosk.mailbox);
    expect(about.length).toBe(theirs.length);
    expect(about.every((r) => r.outcome === 'unmapped' && /no Exchange Online mailbox.*MailboxNotEnabledForRESTAPI/.test(r.reason))).toBe(true);
    expect(rows.filter((r) => r.outcome === 'failed' && /MailboxNotEnabled/.test(r.reason))).toEqual([]);
    expect(warnings.filter((w) => w.msg === 'participant unmapped: no Exchange Online mailbox')).toHaveLength(1);

    // The others in those items still get them, once.
    for (const item of theirs) {
      for (const mailbox of expectedMailboxes(h, item)) {
        const copies = h.graph.mailbox(mailbox).messages.filter((m) => m.extendedProperties.some((p) => p.value === archiveKeyOf(item.id, mailbox)));
        expect(copies).toHaveLength(1);
      }
    }
    // Nothing was written for them.
    expect(h.graph.mailbox(kiosk.mailbox).messages).toEqual([]);
  });
});
