import type { Activity } from '@microsoft/agents-activity';
import { loadConfig } from '../../server/config';
import { createConfiguredImporter } from '../../server/importerFactory';
import type { Importer } from '../../importer';
import { startHarness, quietLog, type Harness } from '../support/importerHarness';
import { botUnderTest, cardOf, offeredNumbers, textsOf, textsOfType, type BotUnderTest } from '../support/botTestAdapter';
import { replayText, summaryCard } from '../../bot/cards';
import { ERROR_CHARS } from '../../bot/cardText';
import { BACKFILL_DAY, DAY } from '../support/mixedDay';

// The bot on an in-process adapter of the Agents SDK, against a real importer: Azurite, the TeleMessage, Graph
// and sign-in emulators. Every answer is read as the admin would read the card.
const ADMIN = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const STRANGER = '9b2c6a1e-0d4f-4e8a-b7c3-5f1e2d3c4b5a';
const admin = { id: '29:admin', name: 'Ada Admin', aadObjectId: ADMIN };
const stranger = { id: '29:stranger', name: 'Sam Stranger', aadObjectId: STRANGER };
const personal = (id: string) => ({ id, conversationType: 'personal', tenantId: 'tenant' });
// A name as TeleMessage may hold it: Markdown with a link, which a card must show as plain characters.
const MARKDOWN_NAME = '[Reset](https://evil.example) **Boss**';
const runsOf = (card: unknown) => textsOfType(card, 'TextRun');
const textBlocksOf = (card: unknown) => textsOfType(card, 'TextBlock');

describe('the bot in a chat', () => {
  let h: Harness;
  let importer: Importer;
  let b: BotUnderTest;

  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 40, hugeAttachments: [] } } });
    // The leaver (no mailbox, so an alert) registered at TeleMessage under that name.
    h.staff.at(-1)!.displayName = MARKDOWN_NAME;
    importer = await createConfiguredImporter(loadConfig(h.env), quietLog);
    const current = await importer.connector.settings();
    await importer.connector.update({ admins: [ADMIN] }, 'test', { etag: current.etag });
    b = await botUnderTest(importer, h.storage);
  }, 60_000);
  afterAll(() => h.close());

  const install = (from: typeof admin, conversationId: string): Partial<Activity> => ({
    type: 'conversationUpdate',
    from,
    conversation: personal(conversationId) as Activity['conversation'],
    membersAdded: [{ id: 'bot', name: 'Number Archiver' }, from],
    recipient: { id: 'bot', name: 'Number Archiver' },
  });
  const message = (from: typeof admin, text: string, conversationId = 'chat-admin'): Partial<Activity> => ({
    type: 'message',
    text,
    from,
    conversation: personal(conversationId) as Activity['conversation'],
    recipient: { id: 'bot', name: 'Number Archiver' },
  });
  const click = (from: typeof admin, verb: string, data: object = {}, replyToId = 'card-1', conversationId = 'chat-admin'): Partial<Activity> => ({
    type: 'invoke',
    name: 'adaptiveCard/action',
    from,
    replyToId,
    conversation: personal(conversationId) as Activity['conversation'],
    recipient: { id: 'bot', name: 'Number Archiver' },
    value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
  });
  const waitFor = async <T>(what: () => T | undefined | Promise<T | undefined>, label: string): Promise<T> => {
    for (let i = 0; i < 600; i++) {
      const v = await what();
      if (v) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${label}`);
  };

  it('refuses someone who is not an admin, politely, and stores nothing of theirs', async () => {
    const replies = await b.say(install(stranger, 'chat-stranger'));
    expect(replies.map((r) => r.text)).toEqual([expect.stringContaining("only the connector's admins")]);
    const [answer] = await b.say(message(stranger, 'status', 'chat-stranger'));
    expect(answer.text).toContain('you are not on its admin list');
    expect(await b.conversations.get('chat-stranger')).toBeUndefined();
  });

  it("stores the admin's chat on install and says hello", async () => {
    const replies = await b.say(install(admin, 'chat-admin'));
    expect(textsOf(cardOf(replies[0])).join(' ')).toContain('I will post a summary here after every import');
    const stored = await b.conversations.get('chat-admin');
    expect(stored?.scope).toBe('personal');
    expect(stored?.lastUserId).toBe(ADMIN);
  });

  it('answers "help", and anything it does not know, with the commands', async () => {
    for (const text of ['help', 'what can you do?']) {
      const [reply] = await b.say(message(admin, text));
      const texts = textsOf(cardOf(reply));
      for (const command of ['status', 'runs', 'rerun', 'rerun yesterday', 'rerun <yyyy-mm-dd>', 'rerun <run id>', 'retry failed', 'unmapped', 'help'])
        expect(texts.some((t) => t.startsWith(`${command}:`))).toBe(true);
    }
  });

  it('says "status" before any run: set up, no run yet, the next run time', async () => {
    const [reply] = await b.say(message(admin, 'status'));
    const texts = textsOf(cardOf(reply)).join('\n');
    expect(texts).toContain('No run has finished yet.');
    expect(texts).toMatch(/Next scheduled run: \d{4}-\d\d-\d\d 02:00 UTC\./);
  });

  it("posts a run's summary card once to the admin's chat, with the connector-log counts", async () => {
    const run = await importer.runs.backfill({ from: new Date(DAY.from), to: new Date(DAY.to) }, ADMIN);
    await b.notifier.notifyFinishedRuns();
    await b.notifier.notifyFinishedRuns();
    const posted = b.proactive.filter((p) => p.op === 'post' && p.conversationId === 'chat-admin');
    const summaries = posted.filter((p) => textsOf(p.card).some((t) => t.startsWith('Window:')));
    expect(summaries).toHaveLength(1);
    const texts = textsOf(summaries[0].card);
    expect(texts).toContain(`Source: TeleMessage archive API as ${(await importer.connector.settings()).value.telemessageUsername}`);
    expect(texts).toContain(`Items from source: ${run.counts.availableFromSource.toLocaleString('en-US')}`);
    expect(texts).toContain(`Deliveries imported: ${run.counts.imported.toLocaleString('en-US')}`);
    expect(texts).toContain(`Deliveries after fan-out: ${run.counts.afterFanOut.toLocaleString('en-US')}`);
    expect(texts).toContain(`Items not imported: ${run.counts.notImported}`);
    expect(texts.some((t) => t.startsWith('Duration:'))).toBe(true);
    expect((await b.notifications.get(run.runId, 'summary', 'chat-admin'))?.state).toBe('sent');
    // One alert, about the numbers without a mailbox; the TeleMessage name in it is text, not Markdown.
    const alerts = posted.filter((p) => textsOf(p.card)[0]?.endsWith('without a mailbox'));
    expect(alerts).toHaveLength(1);
    const json = JSON.stringify(alerts[0].card);
    expect(textsOf(alerts[0].card)).toContain(` · ${MARKDOWN_NAME}`);
    expect(runsOf(alerts[0].card).some((r) => r.includes(MARKDOWN_NAME))).toBe(true);
    expect(textBlocksOf(alerts[0].card).some((t) => t.includes('](') || t.includes('**Boss'))).toBe(false);
    expect(json).not.toMatch(/"type":"TextBlock","text":"[^"]*\[Reset\]\(/);
    // The stranger's chat was never stored, so nothing went there.
    expect(b.proactive.some((p) => p.conversationId === 'chat-stranger')).toBe(false);
  });

  it('does not post a second alert for a number after the next run, but updates the first with its held count', async () => {
    const first = b.proactive.find((p) => p.op === 'post' && p.conversationId === 'chat-admin' && textsOf(p.card)[0]?.endsWith('without a mailbox'))!;
    const leaver = (await importer.mapping.unmappedAlerts()).find((u) => u.lastName === MARKDOWN_NAME)!;
    const sent = b.proactive.length;
    // The day before: the harness's TeleMessage archives it too, with more of the leaver's traffic.
    const dayBefore = { from: new Date(Date.parse(DAY.from) - 86_400_000), to: new Date(DAY.from) };
    await importer.runs.backfill(dayBefore, ADMIN);
    await b.notifier.notifyFinishedRuns();
    const now = (await importer.mapping.unmappedAlerts()).find((u) => u.number === leaver.number)!;
    expect(now.itemCount).toBeGreaterThan(leaver.itemCount);
    const after = b.proactive.slice(sent).filter((p) => p.conversationId === 'chat-admin');
    expect(after.filter((p) => p.op === 'post' && JSON.stringify(p.card).includes(`"${leaver.number}"`))).toHaveLength(0);
    const update = after.find((p) => p.op === 'update' && p.activityId === first.activityId);
    expect(update).toBeDefined();
    expect(textsOf(update!.card).some((t) => t.startsWith(`${now.itemCount} items waiting`))).toBe(true);
  });

  it('lists the "runs" with their counts', async () => {
    const [latest] = await importer.runs.list({ top: 1 });
    const [reply] = await b.say(message(admin, 'runs'));
    const texts = textsOf(cardOf(reply));
    expect(texts).toContain(`Run ${latest.runId}`);
    expect(texts.some((t) => t.includes('40 items from source'))).toBe(true);
  });

  it('lists "unmapped" employees with a field to map each, and outside parties only as a count', async () => {
    const unmapped = await importer.mapping.unmapped();
    const employees = unmapped.filter((u) => u.kind !== 'outsideParty');
    // The harness's leaver: an employee TeleMessage knows, with no Microsoft 365 mailbox.
    expect(employees.length).toBeGreaterThan(0);
    expect(unmapped.length).toBeGreaterThan(employees.length);
    const [reply] = await b.say(message(admin, 'unmapped'));
    const card = cardOf(reply);
    const texts = textsOf(card);
    const inputs = JSON.stringify(card).match(/"Input\.Text"/g) ?? [];
    expect(inputs).toHaveLength(Math.min(20, employees.length));
    expect(texts.some((t) => /outside part(y|ies) \(customers/.test(t))).toBe(true);
    for (const u of unmapped.filter((x) => x.kind === 'outsideParty')) expect(JSON.stringify(card)).not.toContain(`"${u.number}"`);
  });

  it('shows an error from Graph or TeleMessage capped, and as text: no Markdown, no link', async () => {
    const [latest] = await importer.runs.list({ top: 1 });
    const error = `[Sign in again](https://evil.example/reset) **now**: ${'x'.repeat(5000)}`;
    const card = summaryCard({ run: { ...latest, status: 'failed', error }, logRows: [], unmapped: [] });
    const shown = textsOf(card)
      .find((t) => t.startsWith('Error: '))!
      .slice('Error: '.length);
    expect(shown.replace(/\\/g, '').length).toBeLessThanOrEqual(ERROR_CHARS);
    expect(shown.endsWith('…')).toBe(true);
    expect(shown).toContain('\\[Sign in again\\](https://evil.example/reset) \\*\\*now\\*\\*');
  });

  it('alerts to a delivered ZIP set aside: its name and reason on the card, as text', async () => {
    const [latest] = await importer.runs.list({ top: 1 });
    const name = '202611250000-TeleMessage_1_0030.zip';
    const reason = 'the manifest counts 12 files and the ZIP holds 11: **[fix it](https://evil.example)**';
    const collection = { kind: 'sftp' as const, collected: 40, alreadyCollected: 0, rejected: [{ name, reason, at: new Date().toISOString() }] };
    const texts = textsOf(summaryCard({ run: { ...latest, status: 'partial', collection }, logRows: [], unmapped: [] }));
    expect(texts).toContain('Set aside by the collection, nothing imported from them');
    expect(texts.some((t) => t.includes('40 new, 0 already collected, 1 set aside'))).toBe(true);
    const shown = texts.find((t) => t.includes('manifest counts 12 files'));
    expect(shown).toMatch(/^202611250000-TeleMessage\\?_1\\?_0030\.zip: /);
    expect(shown).toContain('\\*\\*\\[fix it\\](https://evil.example)\\*\\*');
  });

  it("shows a run's log from the card", async () => {
    const [latest] = await importer.runs.list({ top: 1 });
    const [answer] = await b.say(click(admin, 'runLog', { runId: latest.runId }));
    expect(textsOf(cardOf(answer))[0]).toMatch(/^Run log of /);
  });

  it("reruns from the card: answers at once, then replaces the card with the rerun's summary, audited", async () => {
    const [latest] = await importer.runs.list({ top: 1 });
    const [answer] = await b.say(click(admin, 'rerun', { runId: latest.runId }, 'summary-card-7'));
    expect(textsOf(cardOf(answer))[0]).toBe('Rerun started');
    const final = await waitFor(() => b.proactive.find((p) => p.op === 'update' && p.activityId === 'summary-card-7' && textsOf(p.card).some((t) => t.startsWith('Window:'))), 'the rerun summary');
    expect(textsOf(final.card)[0]).toMatch(/^Rerun (succeeded|partially succeeded)$/);
    const [rerun] = await importer.runs.list({ top: 1 });
    expect(rerun).toMatchObject({ trigger: 'rerun', rerunOf: latest.runId, requestedBy: ADMIN });
    // The card replaced in place is this chat's summary of the rerun: no second one is posted.
    await b.notifier.notifyFinishedRuns();
    expect(b.proactive.filter((p) => p.op === 'post' && textsOf(p.card)[0]?.startsWith('Rerun '))).toHaveLength(0);
    const audit = await importer.audit.list(new Date(Date.now() - 3_600_000), new Date(Date.now() + 60_000));
    expect(audit.some((a) => a.action === 'run.rerun.requested' && a.actor === ADMIN)).toBe(true);
  });

  it('refuses a card button clicked by someone who is not an admin; the card stays, nothing runs', async () => {
    const before = (await importer.runs.list({ top: 30 })).length;
    const [latest] = await importer.runs.list({ top: 1 });
    const [answer] = await b.say(click(stranger, 'rerun', { runId: latest.runId }, 'forwarded-card', 'chat-stranger'));
    const value = (answer.value as { body: { type: string; value: string } }).body;
    expect(value.type).toBe('application/vnd.microsoft.activity.message');
    expect(value.value).toContain('you are not on its admin list');
    await new Promise((r) => setTimeout(r, 300));
    expect((await importer.runs.list({ top: 30 })).length).toBe(before);
  });

  it('maps a number from one alert card: a bad mailbox changes nothing; a good one imports the held items once, and every other card offering the number says it is mapped', async () => {
    const [waiting] = (await importer.mapping.unmappedAlerts()).sort((a, b) => b.itemCount - a.itemCount);
    const versionBefore = (await importer.connector.settings()).value.mappingVersion;
    // Cards offering the number elsewhere: this chat's alert after the runs, and its "unmapped" answer.
    const offering = (c: { card: unknown }) => offeredNumbers(c.card).includes(waiting.number);
    const elsewhere = b.proactive.filter((p) => p.op === 'post' && p.conversationId === 'chat-admin' && offering(p));
    const [listed] = await b.say(message(admin, 'unmapped'));
    expect(offering({ card: cardOf(listed) })).toBe(true);
    // A second admin chat: installing it posts the latest run's cards there, its alert among them.
    const installed = await b.say(install(admin, 'chat-admin-2'));
    const alert = installed.find((a) => a.attachments && offering({ card: cardOf(a) }))!;
    expect(alert).toBeDefined();
    const inputKey = String(offeredNumbers(cardOf(alert)).indexOf(waiting.number));
    // The click answers within Teams' invoke time; a slower replay (a busy machine) replaces the card as it ends.
    const settled = async (verb: Partial<Activity>) => {
      const sent = b.proactive.length;
      const card = cardOf((await b.say(verb))[0]);
      if (!textsOf(card).some((t) => /^Mapping .* held items…$/.test(t))) return card;
      return waitFor(() => b.proactive.slice(sent).find((p) => p.op === 'update' && p.activityId === alert.id)?.card, 'the card replaced as the replay ended');
    };
    const refused = await settled(click(admin, 'map', { number: waiting.number, inputKey, [`mailbox-${inputKey}`]: 'nobody@contoso.example' }, alert.id, 'chat-admin-2'));
    expect(textsOf(refused).join('\n')).toMatch(/nobody@contoso\.example/);
    expect(offeredNumbers(refused)).toContain(waiting.number);
    expect((await importer.connector.settings()).value.mappingVersion).toBe(versionBefore);

    const mailbox = h.staff[0].mailbox;
    const messagesBefore = h.graph.mailboxes().find((m) => m.userPrincipalName === mailbox)?.messageCount ?? 0;
    const updatesBefore = b.proactive.length;
    const answer = await settled(click(admin, 'map', { number: waiting.number, inputKey, [`mailbox-${inputKey}`]: ` ${mailbox.toUpperCase()} ` }, alert.id, 'chat-admin-2'));
    const texts = textsOf(answer).join('\n');
    const [remap] = await importer.runs.list({ top: 1 });
    expect(remap).toMatchObject({ trigger: 'remap', requestedBy: ADMIN });
    // Items that already reached this mailbox through another participant are not written twice.
    const imported = remap.counts.imported;
    expect(imported).toBeGreaterThan(0);
    expect(imported).toBeLessThanOrEqual(waiting.itemCount);
    expect(texts).toContain(`Mapped to ${mailbox} by Ada Admin. ${replayText(remap)}`);
    expect(replayText(remap)).toMatch(/^\d+ held: \d+ already archived, \d+ new/);
    expect(offeredNumbers(answer)).not.toContain(waiting.number);
    expect(h.graph.mailboxes().find((m) => m.userPrincipalName === mailbox)?.messageCount).toBe(messagesBefore + imported);
    expect((await importer.mapping.unmappedAlerts()).some((u) => u.number === waiting.number)).toBe(false);

    // Every other card that offered the number is replaced in place: mapped, by whom, no button left.
    for (const activityId of [...elsewhere.map((p) => p.activityId), listed.id!]) {
      const update = await waitFor(
        () =>
          b.proactive
            .slice(updatesBefore)
            .filter((p) => p.op === 'update' && p.activityId === activityId)
            .at(-1),
        `the card ${activityId} updated`,
      );
      expect(update.conversationId).toBe('chat-admin');
      expect(textsOf(update.card)).toContain(`Mapped to ${mailbox} by Ada Admin.`);
      expect(offeredNumbers(update.card)).not.toContain(waiting.number);
    }
    expect(elsewhere.length).toBeGreaterThan(0);
    // The clicked card is not overwritten by the others' update, and a later check changes nothing more.
    expect(b.proactive.slice(updatesBefore).some((p) => p.op === 'update' && p.activityId === alert.id && !/held:/.test(textsOf(p.card).join(' ')))).toBe(false);
    const settledCount = b.proactive.length;
    await b.notifier.notifyFinishedRuns();
    expect(b.proactive.slice(settledCount).filter((p) => offering(p))).toHaveLength(0);
  });

  it('updates the alert when its number is mapped outside the chat (here a mapping version restored, as from the tab) at the next check', async () => {
    const number = h.staff.at(-1)!.mobile;
    const mappedVersion = (await importer.connector.settings()).value.mappingVersion!;
    // Unmapped again and met again by a run: the number has no mailbox once more, so it is announced afresh.
    await importer.mapping.unmapNumber(number, ADMIN, { etag: (await importer.connector.settings()).etag });
    await importer.runs.backfill({ from: new Date(DAY.from), to: new Date(DAY.to) }, ADMIN);
    const sent = b.proactive.length;
    await b.notifier.notifyFinishedRuns();
    const alert = b.proactive.slice(sent).find((p) => p.op === 'post' && p.conversationId === 'chat-admin' && offeredNumbers(p.card).includes(number));
    expect(alert).toBeDefined();

    await importer.mapping.restore(mappedVersion, ADMIN, { etag: (await importer.connector.settings()).etag });
    const before = b.proactive.length;
    await b.notifier.notifyFinishedRuns();
    const update = b.proactive.slice(before).find((p) => p.op === 'update' && p.activityId === alert!.activityId);
    expect(update).toBeDefined();
    expect(textsOf(update!.card)).toContain(`Mapped to ${h.staff[0].mailbox} by Ada Admin (a restored mapping version).`);
    expect(offeredNumbers(update!.card)).not.toContain(number);
  });

  it('refuses a second rerun while a run is in progress, saying which', async () => {
    const running = await h.stores.runs.create({ connectorId: 'default', trigger: 'schedule', window: { from: new Date(DAY.from), to: new Date(DAY.to) }, requestedBy: 'scheduler' });
    try {
      for (const text of ['rerun', 'retry failed', `rerun ${BACKFILL_DAY[1].slice(0, 10)}`]) {
        const [reply] = await b.say(message(admin, text));
        const texts = textsOf(cardOf(reply));
        expect(texts[0]).toBe('A run is already in progress');
        expect(texts[1]).toContain('The schedule run of');
      }
    } finally {
      await h.stores.runs.update({ ...running, status: 'interrupted', endedAt: new Date() });
    }
  });

  it('drops a conversation whose post answers 403, and does not try it again', async () => {
    await b.say(install(admin, 'chat-removed'));
    b.refuse.set('chat-removed', 403);
    await importer.runs.backfill({ from: new Date(DAY.from), to: new Date(DAY.to) }, ADMIN);
    await b.notifier.notifyFinishedRuns();
    expect(await b.conversations.get('chat-removed')).toBeUndefined();
    expect(await b.conversations.get('chat-admin')).toBeDefined();
  });
});
