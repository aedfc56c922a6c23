import type { ExpectedItem } from '../../emulators/telemessage/server';
import type { MessageSnapshot } from '../../emulators/graph/inspection';
import { CAPTURE, deliverWindow } from '../support/captureDelivery';
import { renderThreadedDay, threadDayId, threadDays, threadedSendTime } from '../../emulators/telemessage/smtpFormats';
import { archiveKeyOf, ARCHIVE_KEY_PROPERTY } from '../../importer/sink/messageProperties';
import type { Importer } from '../../importer';
import { expectedMailboxes, harnessImporter, startHarness, type Harness } from '../support/importerHarness';

const KEY = ARCHIVE_KEY_PROPERTY.toLowerCase();

/** Every well-formed item is once in each of its mapped participants' mailboxes; returns the fan-out. */
function expectEachOnce(h: Harness, items: ExpectedItem[]): number {
  let fanOut = 0;
  for (const item of items.filter((e) => !e.malformation)) {
    for (const mailbox of expectedMailboxes(h, item)) {
      fanOut++;
      const copies = h.graph.mailbox(mailbox).messages.filter((m) => m.extendedProperties.some((p) => p.id.toLowerCase() === KEY && p.value === archiveKeyOf(item.id, mailbox)));
      expect({ item: item.id, mailbox, copies: copies.length }).toEqual({ item: item.id, mailbox, copies: 1 });
    }
  }
  return fanOut;
}

const archived = (h: Harness) =>
  h.graph
    .mailboxes()
    .filter((m) => m.userPrincipalName !== CAPTURE)
    .reduce((n, m) => n + m.messageCount, 0);
const captureView = (h: Harness) => h.graph.mailbox(CAPTURE).messages.map((m: MessageSnapshot) => ({ id: m.id, folder: m.folderPath, isRead: m.isRead }));

describe('a capture mailbox (TeleMessage’s SMTP delivery)', () => {
  let h: Harness;
  let importer: Importer;
  const deliverDay = (d: string, options: { journal?: boolean } = {}) => deliverWindow(h, `${d}T00:00:00Z`, new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000), options);
  beforeAll(async () => {
    h = await startHarness({
      captureMailbox: CAPTURE,
      telemessage: { days: ['2026-11-22', '2026-11-23', '2026-11-24'], now: new Date('2026-11-25T00:00:00Z'), traffic: { itemsPerDay: 24, hugeAttachments: [] } },
    });
    importer = await harnessImporter(h, { now: () => h.telemessage.now() });
    await importer.connector.update({ delivery: 'smtp', captureMailbox: CAPTURE }, 'oid-admin', { etag: (await importer.connector.settings()).etag });
  });
  afterAll(() => h.close());

  it('follows the delta over three runs: each imports only what arrived since, every item once, plain or journal-wrapped', async () => {
    const first = await deliverDay('2026-11-22');
    const run1 = await importer.runs.start('scheduler', { trigger: 'schedule' });
    expect(run1.collection).toMatchObject({ kind: 'smtp', collected: first.length, alreadyCollected: 0, rejected: [], cursorBefore: 'start' });
    expect(run1.collection?.cursorAfter).toMatch(/^delta:[0-9a-f]{12}$/);
    expect(run1.counts.availableFromSource).toBe(first.length);
    let fanOut = expectEachOnce(h, first);
    expect(run1.counts.imported).toBe(fanOut);
    expect(run1.verification).toMatch(/^verified: /);

    // The second day arrives journal-wrapped; Graph stumbles meanwhile.
    const second = await deliverDay('2026-11-23', { journal: true });
    h.graph.addFault({ kind: 'error', status: 503, retryAfterSeconds: 0, count: 3, operations: ['deltaMessages', 'getMessageContent'] });
    const run2 = await importer.runs.start('scheduler', { trigger: 'schedule' });
    expect(h.graph.stats().refused.injected503).toBe(3);
    expect(second.length).toBeGreaterThan(10);
    expect(run2.collection).toMatchObject({ collected: second.length, alreadyCollected: 0, rejected: [], cursorBefore: run1.collection?.cursorAfter });
    expect(run2.counts.availableFromSource).toBe(second.length);
    fanOut += expectEachOnce(h, second);
    expect(archived(h)).toBe(fanOut);

    const third = await deliverDay('2026-11-24');
    const run3 = await importer.runs.start('scheduler', { trigger: 'schedule' });
    expect(run3.collection).toMatchObject({ collected: third.length, alreadyCollected: 0 });
    fanOut += expectEachOnce(h, third);
    expect(archived(h)).toBe(fanOut);

    // Nothing new: nothing collected, nothing imported. Graph throttles the first read (429 with
    // Retry-After): the collector waits as told instead of hammering it.
    const stormsBefore = h.graph.stats().refused.storm;
    h.graph.startThrottleStorm(2);
    const quiet = await importer.runs.start('scheduler', { trigger: 'schedule' });
    const throttled = h.graph.stats().refused.storm - stormsBefore;
    expect(throttled).toBeGreaterThanOrEqual(1);
    expect(throttled).toBeLessThanOrEqual(2);
    expect(quiet.status).toBe('succeeded');
    expect(quiet.collection).toMatchObject({ collected: 0, alreadyCollected: 0 });
    expect(quiet.counts.availableFromSource).toBe(0);
    expect(archived(h)).toBe(fanOut);

    for (const run of [run1, run2, run3]) {
      const report = await importer.runs.verify(run.runId);
      expect({ run: run.runId, missing: report.missing, duplicated: report.duplicated, ok: report.ok }).toEqual({ run: run.runId, missing: [], duplicated: [], ok: true });
    }
  }, 300_000);

  it('recovers from an expired delta token by reading the folder again, importing nothing twice', async () => {
    const before = archived(h);
    const alreadyIn = h.graph.mailbox(CAPTURE).messages.length;
    h.graph.expireDeltaTokens();
    // While the token is dead, TeleMessage sends the first hours of the first day again.
    const repeat = await deliverWindow(h, '2026-11-22T00:00:00Z', '2026-11-22T06:00:00Z');
    expect(repeat.length).toBeGreaterThan(0);
    const run = await importer.runs.start('scheduler', { trigger: 'schedule' });
    expect(run.status).toBe('succeeded');
    expect(run.collection).toMatchObject({ collected: 0, alreadyCollected: alreadyIn + repeat.length });
    expect(run.collection?.cursorAfter).toMatch(/resynced from the start/);
    expect(run.counts.availableFromSource).toBe(0);
    expect(archived(h)).toBe(before);
  }, 300_000);

  it('takes a threaded day email (a whole conversation of a day) as one item, filed once to each of its participants', async () => {
    // A day's conversation of three messages of one archived line (few generated threads repeat in a day, so one is put together).
    const day = h.telemessage.listExpected('2026-11-24T00:00:00Z', '2026-11-25T00:00:00Z').filter((e) => !e.malformation && e.sentAt.startsWith('2026-11-24'));
    const line = day[0].subscriber.number;
    const [base] = threadDays(day.filter((e) => e.subscriber.number === line).slice(0, 1));
    const thread = {
      ...base,
      items: [
        ...base.items,
        ...day
          .filter((e) => e !== base.items[0])
          .slice(0, 2)
          .map((e) => ({ ...e, threadId: base.threadId })),
      ],
    };
    expect(thread.items).toHaveLength(3);
    await h.graph.deliverMime(CAPTURE, renderThreadedDay(thread, 'harness'), { receivedDateTime: threadedSendTime(thread.day) });
    const before = archived(h);
    const run = await importer.runs.start('scheduler', { trigger: 'schedule' });
    expect(run.collection).toMatchObject({ collected: 1 });
    expect(run.counts.availableFromSource).toBe(1);
    const id = threadDayId(thread);
    const mailboxes = expectedMailboxes(h, { participants: thread.items.flatMap((i) => i.participants) });
    expect(mailboxes.length).toBeGreaterThan(0);
    for (const mailbox of mailboxes) {
      const copies = h.graph.mailbox(mailbox).messages.filter((m) => m.extendedProperties.some((p) => p.id.toLowerCase() === KEY && p.value === archiveKeyOf(id, mailbox)));
      expect({ mailbox, copies: copies.length }).toEqual({ mailbox, copies: 1 });
    }
    expect(archived(h)).toBe(before + mailboxes.length);
  }, 300_000);

  it('never changes the capture mailbox: every email is still there, unread, where it arrived', async () => {
    const view = captureView(h);
    expect(view.length).toBeGreaterThan(0);
    expect(view.every((m) => !m.isRead && /inbox/i.test(m.folder))).toBe(true);
    const served = h.graph.stats().served.byOperation;
    expect([served.updateMessage ?? 0, served.deleteMessage ?? 0]).toEqual([0, 0]);
  });
});
