import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { renderMappingCsv } from '../../emulators/telemessage/population';
import { CONNECTOR, runsEnded } from '../support/importerHarness';
import { artifactDir } from '../support/chromium';
import { accessibilityProblems } from '../support/axe';
import { TODAY, day, seenInDark, useTabStack } from '../support/tabBrowser';

// The tab's mapping screens, backfill form, audit trail and 30-day chart in headless Chromium,
// against the real server in local-development mode (no sign-in), checked against the stores.
// The browser keeps New York's clock, so the backfill's local times must reach the server as the
// instants they name.
const DAY = 86_400_000;
const ZONE = 'America/New_York';
const KINDS = ['sms', 'mms', 'chat', 'voiceRecording', 'voiceCallLog'];

describe('the tab mapping, backfill, audit and chart in a browser', () => {
  const tab = useTabStack({
    harness: { automaticMapping: false, telemessage: { days: [day(-2), day(-1), day(0)], now: TODAY, traffic: { itemsPerDay: 20, hugeAttachments: [] } } },
    firstRunEnded: true,
    page: { timezoneId: ZONE },
    timeoutMs: 180_000,
  });
  const shots = artifactDir('tab-mapping');
  const startedAt = new Date();

  const settings = async () => (await tab.h.stores.connectors.getOrDefault(CONNECTOR)).value;
  const active = async () => tab.h.stores.mappings.load((await settings()).mappingVersion);

  const idle = () => runsEnded(tab.h);

  /** What the chart's table must say, worked out from the stored daily counts: archived per kind, failed and not imported. */
  async function expectedChartRows(): Promise<string[][]> {
    const days = await tab.h.stores.dailyCounts.list(CONNECTOR, day(-29), day(0));
    return days.map((d) => {
      const all = Object.values(d.kinds);
      return [
        d.day,
        ...KINDS.map((k) => d.kinds[k as keyof typeof d.kinds].imported + d.kinds[k as keyof typeof d.kinds].partial),
        all.reduce((n, o) => n + o.failed, 0),
        all.reduce((n, o) => n + o.notImported, 0),
      ].map(String);
    });
  }

  async function chartRows(p: Page): Promise<string[][]> {
    const table = p.getByRole('table', { name: 'Items per day' });
    if (!(await table.isVisible())) await p.getByText('The same numbers as a table').click();
    await table.getByRole('row').nth(30).waitFor({ timeout: 30_000 });
    const rows = await table.getByRole('row').all();
    return Promise.all(rows.slice(1).map((r) => r.getByRole('cell').allInnerTexts()));
  }

  it('the dashboard charts the last 30 days with the counts the importer recorded, and a table says the same', async () => {
    const { url, page, problems } = tab;
    await page.goto(`${url}/tab/index.html`);
    const figure = page.getByRole('figure', { name: /^Items archived per day, .* by kind, with failed and not imported$/ });
    await figure.waitFor({ timeout: 30_000 });
    // The library drew bars: a day with items is a stack of rectangles.
    await figure.locator('svg rect').first().waitFor();
    const rows = await chartRows(page);
    expect(rows).toEqual(await expectedChartRows());
    expect(rows.some((r) => r.slice(1).some((n) => n !== '0'))).toBe(true);
    // The API serves the same figures the page shows.
    const api = (await (await fetch(`${url}/api/tab/stats/daily?days=30`)).json()) as { days: { day: string }[] };
    expect(api.days.map((d) => d.day)).toEqual(rows.map((r) => r[0]));
    await page.screenshot({ path: path.join(shots, 'dashboard-default.png'), fullPage: true });
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 90_000);

  it('shows the row errors of a broken file (with its report), refuses a file over the cap unsent, then previews and applies the fixed file', async () => {
    const { h, url, page, problems } = tab;
    const versionBefore = (await settings()).mappingVersion;
    const seeded = await active();
    await page.goto(`${url}/tab/index.html#/mapping`);
    const mapped = page.getByText('Numbers mapped', { exact: true });
    await mapped.waitFor({ timeout: 30_000 });
    expect(await mapped.locator('xpath=following-sibling::*[1]').innerText()).toBe(String(seeded.size));

    const good = renderMappingCsv(h.staff.slice(0, 3));
    const broken = good + 'not-a-number,someone@contoso.example\r\n14155550100,not-an-email\r\n';
    await page.getByLabel('Mapping file (CSV)').setInputFiles({ name: 'broken.csv', mimeType: 'text/csv', buffer: Buffer.from(broken) });
    const report = page.getByRole('table', { name: 'Rows with problems' });
    await report.getByRole('row').nth(2).waitFor({ timeout: 30_000 });
    const lines = await report.getByRole('row').evaluateAll((rows) => rows.slice(1).map((r) => r.querySelector('td')?.textContent));
    // A header and three rows: the two bad rows are lines 5 and 6.
    expect(lines).toEqual(['5', '6']);
    await page.getByText('This file cannot be applied.').waitFor();
    await page.getByText('2 rows have problems: fix them in the file', { exact: false }).waitFor();
    expect(await page.getByRole('button', { name: 'Apply this mapping' }).isDisabled()).toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the row report (CSV)' }).click()]);
    expect(download.suggestedFilename()).toBe('broken-report.csv');
    const reportCsv = fs.readFileSync((await download.path())!, 'utf8');
    expect(reportCsv).toContain('not-a-number');
    expect(reportCsv).toContain('not-an-email');
    await page.screenshot({ path: path.join(shots, 'mapping-errors-default.png'), fullPage: true });
    expect(await accessibilityProblems(page)).toEqual([]);
    expect((await settings()).mappingVersion).toBe(versionBefore);

    // Over the cap: refused in the page, nothing sent.
    const sent: string[] = [];
    const watch = (r: { url(): string }) => sent.push(r.url());
    page.on('request', watch);
    await page.getByLabel('Mapping file (CSV)').setInputFiles({ name: 'huge.csv', mimeType: 'text/csv', buffer: Buffer.alloc(8 * 1024 * 1024 + 1, 'a') });
    await page.getByText('huge.csv is 8.1 MiB: a mapping file may be 8 MiB at most.', { exact: false }).waitFor();
    page.off('request', watch);
    expect(sent.filter((u) => u.includes('/api/tab/mapping'))).toEqual([]);

    await page.getByLabel('Mapping file (CSV)').setInputFiles({ name: 'fixed.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    await page.getByText('Every row of fixed.csv is correct.').waitFor({ timeout: 30_000 });
    // Three kept out of the seeded numbers: the rest is removed, more than half.
    const kept = h.staff.slice(0, 3).filter((e) => seeded.has(e.mobile)).length;
    await page.getByText(`The active mapping has ${seeded.size} numbers. This file: ${3 - kept} added, 0 changed, ${seeded.size - kept} removed, ${kept} unchanged.`).waitFor();
    await page.getByRole('table', { name: 'Examples of the changes' }).waitFor();
    await page.screenshot({ path: path.join(shots, 'mapping-preview-default.png'), fullPage: true });
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole('button', { name: 'Apply this mapping' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Remove more than half of the mapping?' });
    await dialog.waitFor({ timeout: 30_000 });
    await dialog.getByText(`This file removes ${seeded.size - kept} of the ${seeded.size} numbers in the active mapping, more than half`, { exact: false }).waitFor();
    expect((await settings()).mappingVersion).toBe(versionBefore);
    expect(await accessibilityProblems(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Remove them and apply' }).click();
    await page
      .getByText(
        /^Mapping applied: 3 numbers, as the version of .*\. (It maps no new number\.|No items were held for the numbers it maps\.|Held items replayed: \d+ held: \d+ already archived, \d+ new(, \d+ failed)?(, \d+ still not imported)?\.)$/,
      )
      .waitFor({ timeout: 60_000 });
    const after = await active();
    expect((await settings()).mappingVersion).not.toBe(versionBefore);
    expect([...after.entries()].sort()).toEqual(
      h.staff
        .slice(0, 3)
        .map((e) => [e.mobile, e.mailbox])
        .sort(),
    );
    await idle();
    expect(problems).toEqual([]);
  }, 180_000);

  it('restores the earlier mapping version after asking, and the store has it active', async () => {
    const { h, page, problems } = tab;
    const listed: { version: string; rows: number }[] = [];
    for await (const v of h.stores.mappings.versions(CONNECTOR)) listed.push(v);
    const earliest = listed.at(-1)!;
    expect(listed.length).toBeGreaterThanOrEqual(2);
    const versions = page.getByRole('table', { name: 'Mapping versions' });
    await versions.getByRole('row').nth(listed.length).waitFor({ timeout: 30_000 });
    expect(await versions.getByRole('row').count()).toBe(1 + listed.length);
    const row = versions.getByRole('row').nth(listed.length);
    expect(await row.getByRole('cell').nth(2).innerText()).toBe(String(earliest.rows));
    await row.getByRole('button', { name: /^Restore the version of / }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Restore this version?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await page.getByText(new RegExp(`^The version of .* is active again \\(${earliest.rows} numbers\\)\\.`)).waitFor({ timeout: 60_000 });

    const restoredActive = await active();
    expect([...restoredActive.entries()].sort()).toEqual([...(await h.stores.mappings.load(earliest.version)).entries()].sort());
    const newest: { version: string; origin: string; restoredFrom?: string }[] = [];
    for await (const v of h.stores.mappings.versions(CONNECTOR)) newest.push(v);
    expect(newest[0]).toMatchObject({ version: (await settings()).mappingVersion, origin: 'restore', restoredFrom: earliest.version });
    await versions
      .getByRole('row')
      .nth(listed.length + 1)
      .waitFor();
    expect(await versions.getByRole('row').nth(1).getByRole('cell').nth(4).innerText()).toBe('active');
    expect(await versions.getByRole('row').nth(1).getByRole('cell').nth(3).innerText()).toMatch(/^restored: a copy of the version of /);
    await page.screenshot({ path: path.join(shots, 'mapping-versions-default.png'), fullPage: true });
    await idle();
    expect(problems).toEqual([]);
  }, 120_000);

  it('downloads the active mapping as CSV, the same as the store holds', async () => {
    const { page, problems } = tab;
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the mapping (CSV)' }).click()]);
    expect(download.suggestedFilename()).toBe('mapping.csv');
    const lines = fs
      .readFileSync((await download.path())!, 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(lines[0]).toBe('External User ID,Microsoft 365 User Mailbox');
    const stored = [...(await active()).entries()].map(([number, mailbox]) => `${number.replace(/^\+/, '')},${mailbox}`);
    expect(lines.slice(1).sort()).toEqual(stored.sort());
    expect(problems).toEqual([]);
  }, 60_000);

  it('starts a backfill of a window chosen on the admin’s clock, refusing bad windows first, and follows it to its end', async () => {
    const { h, url, page, problems } = tab;
    await page.goto(`${url}/tab/index.html`);
    await page.getByRole('table', { name: 'Imports' }).getByRole('row').nth(1).waitFor({ timeout: 30_000 });
    const before = (await h.stores.runs.list(CONNECTOR, 100)).length;
    // The UTC day before yesterday, as New York's clock writes its bounds.
    const local = (iso: string) => new Date(iso).toLocaleString('sv-SE', { timeZone: ZONE }).replace(' ', 'T').slice(0, 16);
    const from = `${day(-2)}T00:00:00.000Z`;
    const to = `${day(-1)}T00:00:00.000Z`;

    await page.getByRole('textbox', { name: 'From', exact: true }).fill(local(to));
    await page.getByRole('textbox', { name: 'To', exact: true }).fill(local(from));
    await page.getByRole('button', { name: 'Start the backfill' }).click();
    await page.getByText('The window must start before it ends.').waitFor();
    await page.getByRole('textbox', { name: 'From', exact: true }).fill(local(new Date(Date.parse(to) - 40 * DAY).toISOString()));
    await page.getByRole('textbox', { name: 'To', exact: true }).fill(local(to));
    await page.getByRole('button', { name: 'Start the backfill' }).click();
    await page.getByText('The window may span 31 days at most.').waitFor();
    expect((await h.stores.runs.list(CONNECTOR, 100)).length).toBe(before);
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole('textbox', { name: 'From', exact: true }).fill(local(from));
    await page.getByRole('button', { name: 'Start the backfill' }).click();
    await page.getByText(/^Backfill of .* started; it shows in the imports below\.$/).waitFor({ timeout: 30_000 });
    const [run] = await h.stores.runs.list(CONNECTOR, 1);
    expect(run.trigger).toBe('backfill');
    expect({ from: run.window.from.toISOString(), to: run.window.to.toISOString() }).toEqual({ from, to });
    const first = page.getByRole('table', { name: 'Imports' }).getByRole('row').nth(1);
    await first.getByText('backfill').waitFor({ timeout: 30_000 });
    // Followed live, like "Import now": the row ends with the status the store holds.
    await page.waitForFunction(() => !document.querySelector('table[aria-label="Imports"] tbody tr')?.textContent?.includes('running'), undefined, { timeout: 120_000 });
    const ended = await h.stores.runs.get(CONNECTOR, run.runId);
    expect(ended.status).not.toBe('running');
    expect(await first.getByRole('cell').nth(2).innerText()).toBe(ended.status);
    expect(await first.getByRole('cell').nth(3).innerText()).toBe(String(ended.counts.availableFromSource));
    expect(ended.counts.availableFromSource).toBeGreaterThan(0);
    // The chart follows the runs: once the backfill ends, its table is the store's again.
    const expectedRows = await expectedChartRows();
    for (let i = 0; i < 60 && JSON.stringify(await chartRows(page)) !== JSON.stringify(expectedRows); i++) await page.waitForTimeout(500);
    expect(await chartRows(page)).toEqual(expectedRows);
    await page.screenshot({ path: path.join(shots, 'dashboard-backfill-default.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 180_000);

  it('the audit trail lists the changes just made, newest first, and refuses a window over 93 days', async () => {
    const { h, url, page, problems } = tab;
    await page.goto(`${url}/tab/index.html#/audit`);
    const table = page.getByRole('table', { name: 'Audit trail' });
    await table.getByRole('row').nth(1).waitFor({ timeout: 30_000 });
    const windowFrom = await page.evaluate(() => {
      const d = new Date(Date.now() - 6 * 86_400_000);
      d.setHours(0, 0, 0, 0);
      return d.toISOString();
    });
    const stored = await h.stores.audit.list(CONNECTOR, new Date(windowFrom), new Date(Date.now() + 60_000));
    const rows = await Promise.all((await table.getByRole('row').all()).slice(1).map((r) => r.getByRole('cell').allInnerTexts()));
    expect(rows).toHaveLength(stored.length);
    // Newest first: the test's own changes, in the order they were made, read from the bottom up.
    const mine = stored.filter((e) => e.actor === 'local-dev' && new Date(e.at) >= startedAt).map((e) => e.action);
    expect(mine).toEqual(expect.arrayContaining(['mapping.applied', 'mapping.restored', 'run.backfill.requested']));
    // Who by name, what in words: the local developer, not "local-dev"; no raw JSON.
    const LOCAL = 'Local development (unauthenticated)';
    const whats = rows.filter((r) => r[1] === LOCAL).map((r) => r[2]);
    const order = [/ asked for a backfill from /, / restored the mapping version /, / applied a mapping file of /].map((w) => whats.findIndex((t) => w.test(t)));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const applied = whats.find((t) => t.includes(' applied a mapping file of '))!;
    expect(applied).toMatch(new RegExp(`^${LOCAL.replace(/[()]/g, '\\$&')} applied a mapping file of \\d+ rows?: \\d+ added, \\d+ changed, \\d+ removed$`));
    expect(rows.map((r) => r[2]).join('\n')).not.toMatch(/[{}]/);
    await page.screenshot({ path: path.join(shots, 'audit-default.png'), fullPage: true });
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole('textbox', { name: 'From', exact: true }).fill(day(-120));
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('The window may span 93 days at most', { exact: false }).waitFor();
    expect(problems).toEqual([]);
  }, 90_000);

  it('follows a dark colour scheme on every page, with no accessibility problem', async () => {
    const { url, context } = tab;
    const ready = (name: string) => (dark: Page) => dark.getByRole('table', { name }).getByRole('row').nth(1).waitFor({ timeout: 30_000 });
    const seen = await seenInDark(context, url, shots, {
      dashboard: { hash: '', ready: chartRows },
      mapping: { hash: '#/mapping', ready: ready('Mapping versions') },
      audit: { hash: '#/audit', ready: ready('Audit trail') },
    });
    const clean = { dark: true, accessibility: [] };
    expect(seen).toEqual({ pages: { dashboard: clean, mapping: clean, audit: clean }, problems: [] });
  }, 120_000);
});
