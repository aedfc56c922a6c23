import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CONNECTOR, TM_USER, runsEnded, startHarness, type Harness } from '../support/importerHarness';
import { freePort, startServer, type ServerProcess } from '../support/serverProcess';
import { artifactDir, launchChromium, tabContext, watchProblems } from '../support/chromium';
import { accessibilityProblems } from '../support/axe';

// The tab's dashboard in headless Chromium against the real server in local-development mode (as
// `npm start` runs it, no sign-in), on the page esbuild bundled for this test run.
const ADMIN = '5d9c3b2a-1f0e-4d8c-9b7a-6e5f4d3c2b1a';
const today = new Date();
const day = (offset: number) => new Date(today.getTime() + offset * 86_400_000).toISOString().slice(0, 10);

describe('the tab dashboard in a browser', () => {
  let h: Harness;
  let server: ServerProcess;
  let url: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[] = [];
  const shots = artifactDir('tab');

  beforeAll(async () => {
    // Traffic up to now, so the server's first scheduled run has items; no automatic mapping, so
    // some are not imported and show in the run's detail.
    h = await startHarness({ automaticMapping: false, telemessage: { days: [day(-1), day(0)], now: today, traffic: { itemsPerDay: 24, hugeAttachments: [] } } });
    server = startServer({ ...h.env, PORT: String(await freePort()), LOCAL_DEV_UNAUTHENTICATED: 'true', ADMIN_OBJECT_IDS: ADMIN });
    url = await server.listening;
    await runsEnded(h);
    browser = await launchChromium();
    context = await tabContext(browser);
    page = await context.newPage();
    problems = watchProblems(page);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await h?.close();
  });

  it('shows the connector and the imports, with the run the server made at start', async () => {
    const [run] = await h.stores.runs.list(CONNECTOR, 1);
    expect(run.counts.notImported).toBeGreaterThan(0);
    await page.goto(`${url}/tab/index.html`);
    await page.getByText(`TeleMessage archive API as ${TM_USER}`).waitFor({ timeout: 30_000 });
    const table = page.getByRole('table', { name: 'Imports' });
    const rows = table.getByRole('row');
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(1 + (await h.stores.runs.list(CONNECTOR, 25)).length);
    const first = await rows.nth(1).getByRole('cell').allInnerTexts();
    expect(first.slice(1)).toEqual([run.trigger, run.status, run.counts.availableFromSource, run.counts.imported, run.counts.partiallyImported, run.counts.failed, run.counts.notImported].map(String));
    await page.screenshot({ path: path.join(shots, 'dashboard-default.png'), fullPage: true });
    await page.getByRole('table', { name: 'Numbers without a mailbox' }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);

  it("opens a run's detail with its not-imported rows, and downloads its log as CSV", async () => {
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
    const report = await h.stores.unmapped.list(CONNECTOR);
    const target = report.find((u) => u.kind !== 'outsideParty')!;
    expect(target).toBeDefined();
    const mailbox = [...h.users][0];
    await page.goto(`${url}/tab/index.html`);
    const list = page.getByRole('table', { name: 'Numbers without a mailbox' });
    await list.getByText(target.number, { exact: true }).waitFor({ timeout: 30_000 });

    // The page checks the field with the API's own schema: a bad address never leaves it.
    const versionBefore = (await h.stores.connectors.getOrDefault(CONNECTOR)).value.mappingVersion;
    await page.getByLabel(`Mailbox for ${target.number}`).fill('not an address');
    await page.getByRole('button', { name: `Map ${target.number}` }).click();
    await page.getByText('Enter the Microsoft 365 mailbox (an email address).').waitFor();
    expect((await h.stores.connectors.getOrDefault(CONNECTOR)).value.mappingVersion).toBe(versionBefore);

    await page.getByLabel(`Mailbox for ${target.number}`).fill(mailbox);
    await page.getByRole('button', { name: `Map ${target.number}` }).click();
    await page.getByText(new RegExp(`^\\${target.number} mapped to ${mailbox}: \\d+ held items imported\\.$`)).waitFor({ timeout: 60_000 });
    const settings = (await h.stores.connectors.getOrDefault(CONNECTOR)).value;
    expect((await h.stores.mappings.load(settings.mappingVersion)).get(target.number)).toBe(mailbox);
    const [remap] = await h.stores.runs.list(CONNECTOR, 1);
    expect(remap.trigger).toBe('remap');
    expect(remap.counts.imported).toBeGreaterThan(0);
    await list.getByText(target.number, { exact: true }).waitFor({ state: 'detached' });
    // The imports table shows the replay as its newest run.
    await page.getByRole('table', { name: 'Imports' }).getByRole('row').nth(1).getByText('remap').waitFor();
    await page.screenshot({ path: path.join(shots, 'dashboard-mapped.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 90_000);

  it('follows a dark colour scheme', async () => {
    const dark = await context.newPage();
    await dark.emulateMedia({ colorScheme: 'dark' });
    await dark.goto(`${url}/tab/index.html`);
    await dark.getByText(`TeleMessage archive API as ${TM_USER}`).waitFor({ timeout: 30_000 });
    const background = await dark.evaluate(() => getComputedStyle(document.querySelector('.fui-FluentProvider')!).backgroundColor);
    const [r, g, b] = background.match(/\d+/g)!.map(Number);
    expect(r + g + b).toBeLessThan(200);
    await dark.screenshot({ path: path.join(shots, 'dashboard-dark.png'), fullPage: true });
    expect(await accessibilityProblems(dark)).toEqual([]);
    await dark.close();
  }, 60_000);
});
