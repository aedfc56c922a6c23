import fs from 'node:fs';
import path from 'node:path';
import { CONNECTOR, harnessUserId } from '../support/importerHarness';
import { artifactDir } from '../support/chromium';
import { accessibilityProblems } from '../support/axe';
import { TODAY, day, seenInDark, useTabStack } from '../support/tabBrowser';

// The tab's Settings page (default country, admins by name), the audit trail in words with its CSV
// export, and the run detail at 1,280 pixels, in headless Chromium against the real server in
// local-development mode (as `npm start` runs it, no sign-in; the actor is "local-dev").
const ADMIN = harnessUserId(0);
const LOCAL = 'Local development (unauthenticated)';

describe('the tab settings and audit trail in a browser', () => {
  // Traffic up to now and no automatic mapping: the server's first run has items not imported, for the run detail.
  const tab = useTabStack({
    harness: { automaticMapping: false, telemessage: { days: [day(-1), day(0)], now: TODAY, traffic: { itemsPerDay: 16, hugeAttachments: [] } } },
    env: { ADMIN_OBJECT_IDS: ADMIN },
    firstRunEnded: true,
    page: {},
  });
  const shots = artifactDir('tab-settings');
  const settings = async () => (await tab.h.stores.connectors.getOrDefault(CONNECTOR)).value;
  let adminName: string;
  let colleague: { mailbox: string; name: string };
  beforeAll(() => {
    const staff = tab.h.telemessage.population.employees;
    adminName = `${staff[0].firstName} ${staff[0].lastName}`;
    colleague = { mailbox: staff[1].mailbox, name: `${staff[1].firstName} ${staff[1].lastName}` };
  });

  it('saves the default country', async () => {
    const { url, page, problems } = tab;
    await page.goto(`${url}/tab/index.html#/settings`);
    await page.getByRole('table', { name: 'Admins' }).getByText(adminName).waitFor({ timeout: 30_000 });
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByLabel('Country for national numbers').selectOption('GB');
    await page.getByRole('button', { name: 'Save the default country' }).click();
    await page.getByText('The default country is now United Kingdom (GB).').waitFor();
    expect((await settings()).defaultCountry).toBe('GB');
    expect(problems).toEqual([]);
  }, 60_000);

  it('adds an admin by email, shown by display name, and refuses to remove the last one', async () => {
    const { page, problems } = tab;
    const admins = page.getByRole('table', { name: 'Admins' });
    await page.getByLabel('Add an admin (email address or object id)').fill(colleague.mailbox);
    await page.getByRole('button', { name: 'Add admin' }).click();
    await page.getByText(`${colleague.name} is now an admin.`).waitFor();
    await admins.getByRole('row').filter({ hasText: colleague.name }).waitFor();
    expect((await settings()).admins).toEqual([ADMIN, harnessUserId(1)]);
    await page.screenshot({ path: path.join(shots, 'settings-default.png'), fullPage: true });

    await page.getByRole('button', { name: `Remove ${colleague.name}` }).click();
    await page.getByText(`${colleague.name} is no longer an admin.`).waitFor();
    await admins.getByRole('row').filter({ hasText: colleague.name }).waitFor({ state: 'detached' });

    await page.getByRole('button', { name: `Remove ${adminName}` }).click();
    await page.getByText("This is the connector's only admin: add another admin first, then remove this one.").waitFor();
    expect((await settings()).admins).toEqual([ADMIN]);
    expect(await admins.getByRole('row').count()).toBe(2);
    // The refusal's answer is the one failed request the browser reports.
    expect(problems.splice(0)).toEqual(['Failed to load resource: the server responded with a status of 409 (Conflict)']);
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);

  it('the audit trail reads in words, with names, and downloads as CSV', async () => {
    const { url, page, problems } = tab;
    await page.goto(`${url}/tab/index.html#/audit`);
    const table = page.getByRole('table', { name: 'Audit trail' });
    await table.getByRole('row').nth(1).waitFor({ timeout: 30_000 });
    const rows = await Promise.all((await table.getByRole('row').all()).slice(1).map((r) => r.getByRole('cell').allInnerTexts()));
    const mine = rows.filter((r) => r[1] === LOCAL).map((r) => r[2]);
    // Newest first.
    expect(mine.slice(0, 3)).toEqual([`${LOCAL} removed ${colleague.name} from the admins`, `${LOCAL} added ${colleague.name} as an admin`, `${LOCAL} changed the default country from none to GB`]);
    expect(rows.some((r) => r[1] === "The deployment's ADMIN_OBJECT_IDS" && r[2].endsWith(`added ${adminName} as an admin`))).toBe(true);
    expect(rows.map((r) => r[2]).join('\n')).not.toMatch(/[{}]/);
    await page.screenshot({ path: path.join(shots, 'audit-default.png'), fullPage: true });
    expect(await accessibilityProblems(page)).toEqual([]);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download as CSV' }).click()]);
    expect(download.suggestedFilename()).toBe('audit-trail.csv');
    const lines = fs
      .readFileSync((await download.path())!, 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe('When (UTC),Who,Who (object id),Action,What happened');
    expect(lines).toHaveLength(rows.length + 1);
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`,${LOCAL.replace(/[()]/g, '\\$&')},local-dev,admins\\.added,${LOCAL.replace(/[()]/g, '\\$&')} added ${colleague.name} as an admin$`)),
    );
    expect(problems).toEqual([]);
  }, 60_000);

  it('fits the run detail in a 1,280 by 800 window, with no horizontal scroll', async () => {
    const { h, url, context } = tab;
    const narrow = await context.newPage();
    await narrow.setViewportSize({ width: 1280, height: 800 });
    const [run] = await h.stores.runs.list(CONNECTOR, 1);
    let rows = 0;
    for await (const _row of h.stores.runLog.rows(run.runId)) rows++;
    expect(rows).toBeGreaterThan(0);
    await narrow.goto(`${url}/tab/index.html#/runs/${run.runId}`);
    await narrow.getByRole('table', { name: 'Failed, partial and not imported items' }).getByRole('row').nth(1).waitFor({ timeout: 30_000 });
    await narrow.screenshot({ path: path.join(shots, 'run-detail-1280x800.png') });
    const widths = await narrow.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    await narrow.close();
  }, 60_000);

  it('reads the numbers without a mailbox and the chart again when a run ends, without a reload', async () => {
    const { h, url, page, problems } = tab;
    await page.goto(`${url}/tab/index.html`);
    await page.getByRole('table', { name: 'Numbers without a mailbox' }).waitFor({ timeout: 30_000 });
    let chartReads = 0;
    const chartTwice = new Promise<void>((resolve) => page.on('request', (r) => new URL(r.url()).pathname === '/api/tab/stats/daily' && ++chartReads === 2 && resolve()));
    // Nothing but a run's end reads the numbers without a mailbox again on this page.
    const unmappedAgain = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/tab/unmapped', { timeout: 120_000 });
    await page.getByRole('button', { name: 'Import now' }).click();
    await unmappedAgain;
    const [newest] = await h.stores.runs.list(CONNECTOR, 1);
    expect(newest.trigger).toBe('manual');
    expect(newest.status).not.toBe('running');
    // The chart read once as the run began and again as it ended.
    await chartTwice;
    await page.getByRole('table', { name: 'Imports' }).getByRole('row').nth(1).getByText(newest.status).waitFor();
    expect(problems).toEqual([]);
  }, 150_000);

  it('follows a dark colour scheme on the settings and the audit trail, with no accessibility problem', async () => {
    const { url, context } = tab;
    const seen = await seenInDark(context, url, shots, {
      settings: { hash: '#/settings', ready: (dark) => dark.getByRole('table', { name: 'Admins' }).getByRole('row').nth(1).waitFor({ timeout: 30_000 }) },
      audit: { hash: '#/audit', ready: (dark) => dark.getByRole('table', { name: 'Audit trail' }).getByRole('row').nth(1).waitFor({ timeout: 30_000 }) },
    });
    expect(seen).toEqual({ pages: { settings: { dark: true, accessibility: [] }, audit: { dark: true, accessibility: [] } }, problems: [] });
  }, 60_000);
});
