import { runImport } from '../../importer/run/importRun';
import { archiveKeyOf, ARCHIVE_KEY_PROPERTY } from '../../importer/sink/messageProperties';
import { expectedMailboxes, startHarness, type Harness } from '../support/importerHarness';

const MiB = 1024 * 1024;

describe('large attachments through a whole run', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      telemessage: { traffic: { itemsPerDay: 6, hugeAttachments: [112 * MiB, 113 * MiB] } },
      // Mailboxes whose maximum message size is raised to Exchange's 150 MB ceiling.
      bigMailboxes: (staff) => staff,
      mapped: (staff) => staff,
      leavers: () => [],
    });
  });
  afterAll(() => h.close());

  it('archives a 112 MiB recording whole (150 MiB once base64, as Exchange counts it), and keeps a 113 MiB one in raw storage with a note', async () => {
    const run = await runImport(h.context(), { trigger: 'schedule', requestedBy: 'scheduler' });
    const items = h.telemessage.listExpected(run.window.from, run.window.to);
    const huge = items.flatMap((i) => i.attachments.filter((a) => a.size >= 112 * MiB).map((a) => ({ item: i, attachment: a })));
    expect(huge.map((x) => x.attachment.size).sort()).toEqual([112 * MiB, 113 * MiB]);

    for (const { item, attachment } of huge) {
      const mailboxes = expectedMailboxes(h, item);
      expect(mailboxes.length).toBeGreaterThan(0);
      for (const mailbox of mailboxes) {
        const message = h.graph
          .mailbox(mailbox)
          .messages.find((m) => m.extendedProperties.some((p) => p.id.toLowerCase() === ARCHIVE_KEY_PROPERTY.toLowerCase() && p.value === archiveKeyOf(item.id, mailbox)));
        expect(message?.isDraft).toBe(false);
        const names = message!.attachments.map((a) => [a.name, a.size]);
        if (attachment.size <= 112 * MiB) {
          expect(names).toContainEqual([attachment.filename, attachment.size]);
        } else {
          expect(names.map(([n]) => n)).toContain(`${attachment.filename} (not attached).txt`);
          expect(names.map(([n]) => n)).not.toContain(attachment.filename);
          expect(message!.body.content).toMatch(new RegExp(`${attachment.filename.replace('.', '\\.')}.*kept in the archive`));
        }
      }
    }
    expect(run.counts.partiallyImported).toBe(expectedMailboxes(h, huge.find((x) => x.attachment.size > 112 * MiB)!.item).length);
    const log = [];
    for await (const row of h.stores.runLog.rows(run.runId)) if (row.outcome === 'partial') log.push(row);
    expect(log.length).toBe(run.counts.partiallyImported);
    expect(log[0].reason).toMatch(/larger than the 150 MB Exchange Online accepts in a message, once base64-encoded/);
  }, 240_000);
});
