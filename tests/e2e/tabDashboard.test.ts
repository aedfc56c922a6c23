import fs from 'node:fs';
import path from 'node:path';
import { CONNECTOR, TM_USER } from '../support/importerHarness';
import { artifactDir } from '../support/chromium';
import { accessibilityProblems } from '../support/axe';
import { TODAY, day, seenInDark, useTabStack } from '../support/tabBrowser';
import { summarizeReplay, type RunRecord } from '../../importer';
import { acquireRunLease } from '../../importer/state/runLease';
import { summaryCard } from '../../bot/cards';
import { displayNumber } from '../../phone/phoneDisplay';

/** The figures the bot's summary card shows for `run`, label → value: the tab must read the same. */
function cardFacts(run: RunRecord): Map<string, string> {
  const card = summaryCard({ run, logRows: [], unmapped: [] }) as unknown as { body: { type: string; facts?: { title: string; value: string }[] }[] };
  return new Map(card.body.find((b) => b.type === 'FactSet')!.facts!.map((f) => [f.title, f.value]));
}
const ITEM_LABELS = ['Items from source', 'Items imported', 'Items failed', 'Items not imported'];
const DELIVERY_LABELS = ['Deliveries after fan-out', 'Deliveries imported', 'Deliveries partially imported', 'Deliveries already archived', 'Deliveries failed'];

// The tab's dashboard in headless Chromium against the real server in local-development mode (as
// `npm start` runs it, no sign-in), on the page esbuild bundled for this test run.
const ADMIN = '5d9c3b2a-1f0e-4d8c-9b7a-6e5f4d3c2b1a';

describe('the tab dashboard in a browser', () => {
  // Traffic up to now, so the server's first scheduled run has items; no automatic mapping, so
  // some are not imported and show in the run's detail.
  const tab = useTabStack({
    harness: { automaticMapping: false, telemessage: { days: [day(-1), day(0)], now: TODAY, traffic: { itemsPerDay: 24, hugeAttachments: [], malformedRatio: 0.2 } } },
    env: { ADMIN_OBJECT_IDS: ADMIN },
    firstRunEnded: true,
    page: {},
  });
  const shots = artifactDir('tab');

  it('shows the connector and the imports, with the run the server made at start', async () => {
    const { h, url, page, problems } = tab;
    const [run] = await h.stores.runs.list(CONNECTOR, 1);
    expect(run.counts.notImported).toBeGreaterThan(0);
    await page.goto(`${url}/tab/index.html`);
    await page.getByText(`TeleMessage archive API as ${TM_USER}`).waitFor({ timeout: 30_000 });
    const table = page.getByRole('table', { name: 'Imports' });
    const rows = table.getByRole('row');
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(1 + (await h.stores.runs.list(CONNECTOR, 25)).length);
    // The columns are labelled and valued as the bot's card labels and values the same figures.
    const columns = ['Items from source', 'Items imported', 'Items failed', 'Items not imported', 'Deliveries after fan-out', 'Deliveries imported'];
    expect((await table.getByRole('columnheader').allInnerTexts()).slice(3)).toEqual(columns);
    const first = await rows.nth(1).getByRole('cell').allInnerTexts();
    const card = cardFacts(run);
    expect(first.slice(1)).toEqual([run.trigger, run.status, ...columns.map((label) => card.get(label))]);
    expect(first.slice(3, 7)).toEqual([run.counts.availableFromSource, run.counts.itemsImported + run.counts.itemsPartial, run.counts.failed, run.counts.notImported].map(String));
    await page.screenshot({ path: path.join(shots, 'dashboard-default.png'), fullPage: true });
    await page.getByRole('table', { name: 'Numbers without a mailbox' }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);

  it("opens a run's detail with its not-imported rows, and downloads its log as CSV", async () => {
    const { h, page, problems } = tab;
    const [run] = await h.stores.runs.list(CONNECTOR, 1);
    const logRows: { itemId: string }[] = [];
    for await (const row of h.stores.runLog.rows(run.runId)) logRows.push(row);
    expect(logRows.length).toBeGreaterThan(0);

    await page.getByRole('table', { name: 'Imports' }).getByRole('row').nth(1).getByRole('button').click();
    await page.waitForURL(new RegExp(`#/runs/${run.runId}$`));
    const detail = page.getByRole('table', { name: 'Failed, partial and not imported items' });
    await detail.getByRole('row').nth(1).waitFor({ timeout: 30_000 });
    expect(await detail.getByRole('row').count()).toBe(1 + Math.min(logRows.length, 500));
    await expect(detail.getByText(logRows[0].itemId).first().isVisible()).resolves.toBe(true);
    // Every figure reads as on the bot's card, items and deliveries apart.
    const card = cardFacts(run);
    for (const [group, labels] of [
      ['Items', ITEM_LABELS],
      ['Deliveries', DELIVERY_LABELS],
    ] as const) {
      const texts = await page.getByRole('region', { name: group }).allInnerTexts();
      for (const label of labels) expect(texts.join('\n')).toContain(`${label}\n${card.get(label)}`);
    }

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the run log (CSV)' }).click()]);
    expect(download.suggestedFilename()).toBe(`run-${run.runId}.csv`);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    expect(csv.trim().split(/\r?\n/)).toHaveLength(logRows.length + 1);
    await page.screenshot({ path: path.join(shots, 'run-detail-default.png'), fullPage: true });
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole('button', { name: 'Back to imports' }).click();
    await page.getByRole('table', { name: 'Imports' }).waitFor();
    expect(problems).toEqual([]);
  }, 60_000);

  it('starts an import from the dashboard and shows it until it ends, without a reload', async () => {
    const { h, page, problems } = tab;
    const before = (await h.stores.runs.list(CONNECTOR, 100)).length;
    await page.getByRole('button', { name: 'Import now' }).click();
    const rows = page.getByRole('table', { name: 'Imports' }).getByRole('row');
    await page.waitForFunction((n) => document.querySelectorAll('table[aria-label="Imports"] tbody tr').length === n, before + 1, { timeout: 30_000 });
    const [newest] = await h.stores.runs.list(CONNECTOR, 1);
    expect(newest.trigger).toBe('manual');
    // The dashboard polls while the run goes: the row ends with the status the store holds.
    await page.waitForFunction(() => !document.querySelector('table[aria-label="Imports"] tbody tr')?.textContent?.includes('running'), undefined, { timeout: 60_000 });
    const ended = await h.stores.runs.get(CONNECTOR, newest.runId);
    expect(await rows.nth(1).getByRole('cell').nth(2).innerText()).toBe(ended.status);
    expect(problems).toEqual([]);
  }, 90_000);

  it('maps a number without a mailbox from the dashboard, and its held items are imported', async () => {
    const { h, url, page, problems } = tab;
    const report = await h.stores.unmapped.list(CONNECTOR);
    const target = report.find((u) => u.kind !== 'outsideParty')!;
    expect(target).toBeDefined();
    const mailbox = [...h.users][0];
    await page.goto(`${url}/tab/index.html`);
    const list = page.getByRole('table', { name: 'Numbers without a mailbox' });
    // The number reads as the bot's cards write it: international format, not E.164.
    const shown = displayNumber(target.number);
    expect(shown).not.toBe(target.number);
    await list.getByText(shown, { exact: true }).waitFor({ timeout: 30_000 });

    // The page checks the field with the API's own schema: a bad address never leaves it.
    const versionBefore = (await h.stores.connectors.getOrDefault(CONNECTOR)).value.mappingVersion;
    await page.getByLabel(`Mailbox for ${shown}`).fill('not an address');
    await page.getByRole('button', { name: `Map ${shown}` }).click();
    await page.getByText('Enter the Microsoft 365 mailbox (an email address).').waitFor();
    expect((await h.stores.connectors.getOrDefault(CONNECTOR)).value.mappingVersion).toBe(versionBefore);

    await page.getByLabel(`Mailbox for ${shown}`).fill(mailbox);
    await page.getByRole('button', { name: `Map ${shown}` }).click();
    await page.getByText(new RegExp(`^\\${shown} mapped to ${mailbox}: \\d+ held: \\d+ already archived, \\d+ new`)).waitFor({ timeout: 60_000 });
    const settings = (await h.stores.connectors.getOrDefault(CONNECTOR)).value;
    expect((await h.stores.mappings.load(settings.mappingVersion)).get(target.number)).toBe(mailbox);
    const [remap] = await h.stores.runs.list(CONNECTOR, 1);
    expect(remap.trigger).toBe('remap');
    expect(remap.counts.imported).toBeGreaterThan(0);
    // The notice says what the replay did in the importer's words, the card's too.
    await page.getByText(`${shown} mapped to ${mailbox}: ${summarizeReplay(remap)}.`, { exact: true }).waitFor();
    await list.getByText(shown, { exact: true }).waitFor({ state: 'detached' });
    // The audit trail names the number the same way.
    const audit = (await (await fetch(`${url}/api/tab/audit`)).json()) as { entries: { text: string }[] };
    expect(audit.entries.map((e) => e.text)).toContainEqual(expect.stringContaining(`mapped ${shown} to ${mailbox}`));
    // The imports table shows the replay as its newest run.
    await page.getByRole('table', { name: 'Imports' }).getByRole('row').nth(1).getByText('remap').waitFor();
    await page.screenshot({ path: path.join(shots, 'dashboard-mapped.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 90_000);

  it('acknowledges a failure from the run detail with a reason, refusing while a run holds the connector or after a change, and keeps it listed', async () => {
    const { h, url, context, page, problems } = tab;
    type Failures = { outstanding: { itemId: string; archivedAt: string }[]; acknowledged: { itemId: string; acknowledgement: { by: string; name: string; reason: string } }[] };
    const failures = async () => (await (await fetch(`${url}/api/tab/failures`)).json()) as Failures;
    const before = await failures();
    expect(before.outstanding.length).toBeGreaterThan(1);
    const runs = await h.stores.runs.list(CONNECTOR, 100);
    const run = runs.find((r) => r.trigger !== 'remap' && r.stillFailing?.some((f) => f.itemId === before.outstanding[0].itemId))!;
    expect(run).toBeDefined();
    const inRun = (f: { archivedAt: string }) => f.archivedAt >= run.window.from.toISOString() && f.archivedAt < run.window.to.toISOString();
    const failing = [...new Set(before.outstanding.filter(inRun).map((f) => f.itemId))];
    const itemId = failing[0];

    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${url}/tab/index.html#/runs/${run.runId}`);
    const list = page.getByRole('table', { name: 'Still failing' });
    const row = list.getByRole('row').filter({ hasText: itemId });
    await row.waitFor({ timeout: 30_000 });
    await page.getByText(`Now: ${failing.length} of this run’s items still failing, 0 acknowledged.`, { exact: false }).waitFor();
    // The detail fits a 1,280-pixel window: no horizontal scroll.
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);

    await row.getByRole('button', { name: `Acknowledge the failure of ${itemId}` }).click();
    const dialog = page.getByRole('alertdialog', { name: `Acknowledge the failure of ${itemId}` });
    await dialog.waitFor();
    // No reason, no acknowledgement: the page says why and sends nothing.
    await dialog.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await dialog.getByText('Say why this item can never be imported', { exact: false }).waitFor();
    expect((await failures()).outstanding.filter((f) => f.itemId === itemId).length).toBeGreaterThan(0);
    expect(await accessibilityProblems(page)).toEqual([]);
    const reason = 'Corrupt at the source [see](https://example.com); TeleMessage cannot resend it';
    await dialog.getByRole('textbox').fill(reason);

    // A run holds the connector: refused, with what to do.
    const lease = await acquireRunLease(h.stores.locks, CONNECTOR, { durationSeconds: 60 });
    try {
      await dialog.getByRole('button', { name: 'Acknowledge', exact: true }).click();
      await dialog.getByText('An import is running and holds the connector', { exact: false }).waitFor({ timeout: 30_000 });
    } finally {
      await lease.release();
    }
    // Someone changes the connector behind the page: refused as stale, the page reads it again.
    const current = await h.stores.connectors.getOrDefault(CONNECTOR);
    await h.stores.connectors.save({ ...current.value, folderName: current.value.folderName }, current.etag);
    await dialog.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await dialog.getByText("Someone changed the connector's settings since this page read them", { exact: false }).waitFor({ timeout: 30_000 });
    expect((await failures()).acknowledged).toEqual([]);

    await dialog.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await dialog.waitFor({ state: 'detached', timeout: 30_000 });
    // Listed still, as acknowledged, with who and why (the reason as text, never a link).
    await row.getByText(`Acknowledged by Local development (unauthenticated): ${reason}`, { exact: true }).waitFor({ timeout: 30_000 });
    expect(await row.getByRole('link').count()).toBe(0);
    await page.getByText(`Now: ${failing.length - 1} of this run’s items still failing, 1 acknowledged.`, { exact: false }).waitFor();
    const after = await failures();
    expect(after.outstanding.some((f) => f.itemId === itemId)).toBe(false);
    expect(after.acknowledged.find((f) => f.itemId === itemId)?.acknowledgement).toMatchObject({ by: 'local-dev', reason });
    // The connector's status counts it too.
    const connector = (await (await fetch(`${url}/api/tab/connector`)).json()) as { status: { failures: { outstandingItems: number; acknowledgedItems: number } } };
    expect(connector.status.failures.acknowledgedItems).toBe(1);
    await page.screenshot({ path: path.join(shots, 'run-detail-acknowledged-1280.png'), fullPage: true });
    expect(await accessibilityProblems(page)).toEqual([]);

    const dark = await context.newPage();
    await dark.emulateMedia({ colorScheme: 'dark' });
    await dark.setViewportSize({ width: 1280, height: 800 });
    await dark.goto(`${url}/tab/index.html#/runs/${run.runId}`);
    await dark.getByRole('table', { name: 'Still failing' }).getByText('Acknowledged by', { exact: false }).waitFor({ timeout: 30_000 });
    await dark.getByRole('table', { name: 'Still failing' }).getByRole('button').first().click();
    await dark.getByRole('alertdialog').waitFor();
    expect(await accessibilityProblems(dark)).toEqual([]);
    await dark.screenshot({ path: path.join(shots, 'run-detail-acknowledge-dark.png'), fullPage: true });
    await dark.close();
    expect(problems.filter((p) => !/\b(409|412)\b/.test(p))).toEqual([]);
  }, 120_000);

  it("shows a delivered source's collection in the card's words, with each ZIP set aside and why", async () => {
    const { h, url, page } = tab;
    const name = '202612050000-TeleMessage_3_0412.zip';
    const reason = 'The manifest lists 40 files; the ZIP holds 39';
    const record = await h.stores.runs.create({
      connectorId: CONNECTOR,
      trigger: 'schedule',
      window: { from: new Date(Date.now() - 11 * 86_400_000), to: new Date(Date.now() - 10 * 86_400_000) },
      requestedBy: 'scheduler',
      startedAt: new Date(Date.now() - 10 * 86_400_000),
      collection: { kind: 'sftp', collected: 1234, alreadyCollected: 2, rejected: [{ name, reason, at: new Date().toISOString() }] },
    });
    await h.stores.runs.update({ ...record, status: 'partial', endedAt: new Date(record.startedAt.getTime() + 60_000) });
    await page.goto(`${url}/tab/index.html#/runs/${record.runId}`);
    await page.getByText('Collected: 1,234 new, 2 already collected, 1 set aside.', { exact: true }).waitFor({ timeout: 30_000 });
    const zips = page.getByRole('table', { name: 'ZIPs set aside' });
    await zips.getByText(name, { exact: true }).waitFor();
    await zips.getByText(reason, { exact: true }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
  }, 60_000);

  it('follows a dark colour scheme', async () => {
    const { url, context } = tab;
    const seen = await seenInDark(context, url, shots, {
      dashboard: { hash: '', ready: (dark) => dark.getByText(`TeleMessage archive API as ${TM_USER}`).waitFor({ timeout: 30_000 }) },
    });
    expect(seen.pages).toEqual({ dashboard: { dark: true, accessibility: [] } });
  }, 60_000);
});
