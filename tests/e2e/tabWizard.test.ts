import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { renderMappingCsv } from '../../emulators/telemessage/population';
import { displayNumber } from '../../phone/phoneDisplay';
import { APP, CONNECTOR, TENANT, TM_PASSWORD, TM_USER } from '../support/importerHarness';
import { artifactDir, watchProblems } from '../support/chromium';
import { accessibilityProblems } from '../support/axe';
import { shownInScheme, useTabStack } from '../support/tabBrowser';
import { CAPTURE, deliverWindow } from '../support/captureDelivery';

// The tab's setup wizard in headless Chromium against the real server in local-development mode,
// on a connector the setup has not touched yet: no TeleMessage sign-in, no mapping, no step done.
// The browser is in India (UTC+05:30 all year), so the schedule's conversion is exact.
const ADMIN = '5d9c3b2a-1f0e-4d8c-9b7a-6e5f4d3c2b1a';
const STEPS = 7;
// Chromium logs each refused request it makes; these are the refusals the tests provoke on purpose.
const PROVOKED = /Failed to load resource: the server responded with a status of 422/;

describe('the tab setup wizard in a browser', () => {
  const tab = useTabStack({ harness: { setUp: false, captureMailbox: CAPTURE }, env: { ADMIN_OBJECT_IDS: ADMIN }, page: { timezoneId: 'Asia/Kolkata' } });
  const shots = artifactDir('tab-wizard');

  const settings = async () => (await tab.h.stores.connectors.getOrDefault(CONNECTOR)).value;

  /** Back to a connector never set up (the secret store keeps what it has). */
  async function resetSetup(): Promise<void> {
    const current = await tab.h.stores.connectors.getOrDefault(CONNECTOR);
    const {
      telemessageUsername: _u,
      telemessageSecretName: _s,
      mappingVersion: _m,
      termsAcceptedAt: _t,
      mappingConfirmedAt: _c,
      consentedAt: _a,
      scheduleTimeZone: _z,
      setupCompletedAt: _f,
      delivery: _d,
      captureMailbox: _cm,
      ...rest
    } = current.value;
    await tab.h.stores.connectors.save({ ...rest, scheduleUtc: '02:00' }, current.etag);
  }

  /** A new page of the tab (in India's time zone) at `hash`. */
  async function openPage(hash = ''): Promise<{ page: Page; problems: string[] }> {
    const page = await tab.context.newPage();
    const problems = watchProblems(page);
    await page.goto(`${tab.url}/tab/index.html${hash}`);
    return { page, problems };
  }

  /** The step is open: its heading has the focus, and the step list marks it as the current step. */
  async function opened(page: Page, n: number, label: string): Promise<void> {
    const title = `Step ${n} of ${STEPS}: ${label}`;
    await page.getByRole('heading', { name: title }).waitFor({ timeout: 30_000 });
    await page.waitForFunction((t) => document.activeElement?.id === 'step-heading' && document.activeElement.textContent === t, title, { timeout: 10_000 });
    const current = page.getByRole('navigation', { name: 'Setup steps' }).locator('[aria-current="step"]');
    expect(await current.count()).toBe(1);
    expect(await current.innerText()).toContain(label);
  }

  const stepButton = (page: Page, label: string) => page.getByRole('navigation', { name: 'Setup steps' }).getByRole('button', { name: new RegExp(label) });

  /** Screenshots in the default and the dark scheme, each scanned by axe. */
  async function shoot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(shots, `${name}-default.png`), fullPage: true });
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'dark' });
    await shownInScheme(page, 'dark');
    await page.screenshot({ path: path.join(shots, `${name}-dark.png`), fullPage: true });
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'light' });
    await shownInScheme(page, 'light');
  }

  it("a wrong TeleMessage password shows TeleMessage's refusal and stores nothing", async () => {
    const { h } = tab;
    const { page, problems } = await openPage();
    await page.waitForURL(/#\/setup$/);
    await opened(page, 1, 'Terms of use');
    await stepButton(page, 'TeleMessage sign-in').click();
    await opened(page, 2, 'TeleMessage sign-in');
    const before = await settings();
    await page.getByLabel('TeleMessage username').fill(TM_USER);
    await page.getByLabel('TeleMessage password').fill('wrong-password-123');
    await page.getByRole('button', { name: 'Sign in to TeleMessage' }).click();
    await page.getByText(`TeleMessage refused the sign-in of "${TM_USER}"`, { exact: false }).waitFor({ timeout: 30_000 });
    expect(await page.getByText('TeleMessage: TeleMessage archive API, not signed in yet').count()).toBe(1);
    expect(await settings()).toEqual(before);
    await expect(h.secrets.get('telemessage-password')).rejects.toMatchObject({ code: 'SecretUnavailable' });
    await page.screenshot({ path: path.join(shots, '2-telemessage-refused-default.png'), fullPage: true });
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems.filter((p) => !PROVOKED.test(p))).toEqual([]);
    await page.close();
  }, 90_000);

  it('chooses SMTP delivery: the preflight reads the capture mailbox and says how many emails wait; saved, the step is done without a TeleMessage password', async () => {
    const { h } = tab;
    await resetSetup();
    const day = h.telemessage.listExpected('2026-11-23T00:00:00Z', '2026-11-25T00:00:00Z');
    const sent = (await deliverWindow(h, day[0].archivedAt, day[4].archivedAt)).length;
    expect(sent).toBeGreaterThan(1);
    const { page, problems } = await openPage();
    await page.waitForURL(/#\/setup$/);
    await opened(page, 1, 'Terms of use');
    await stepButton(page, 'TeleMessage sign-in').click();
    await opened(page, 2, 'TeleMessage sign-in');
    await page.getByRole('radio', { name: /SMTP/ }).check();
    await page.getByLabel('Capture mailbox address').fill(CAPTURE);
    await page.getByRole('button', { name: 'Check the capture mailbox' }).click();
    const result = page.getByRole('status').filter({ hasText: 'The archiver can read it.' });
    await result.waitFor({ timeout: 30_000 });
    expect(await result.innerText()).toContain(`${sent} emails waiting.`);
    expect(await result.innerText()).toContain('Read one email as TeleMessage sent it ($value): passed');
    // The preflight only reads: nothing is stored until the admin chooses to use the mailbox.
    expect((await settings()).delivery).toBeUndefined();
    await shoot(page, '2-telemessage-smtp');

    await page.getByRole('button', { name: 'Use this capture mailbox' }).click();
    // Saved, the wizard moves on to the first step still to do: the terms, never accepted here.
    await opened(page, 1, 'Terms of use');
    expect(await settings()).toMatchObject({ delivery: 'smtp', captureMailbox: CAPTURE });
    expect((await settings()).telemessageUsername).toBeUndefined();
    expect(await stepButton(page, 'TeleMessage sign-in').innerText()).toContain('done');
    expect(problems.filter((p) => !PROVOKED.test(p))).toEqual([]);
    await page.close();
  }, 90_000);

  it('walks the wizard end to end, each step stored as it is saved, and ends on the imports', async () => {
    const { h } = tab;
    await resetSetup();
    const { page, problems } = await openPage();
    await page.waitForURL(/#\/setup$/);

    // 1. Terms.
    await opened(page, 1, 'Terms of use');
    expect(await page.getByRole('link', { name: 'terms of use' }).getAttribute('href')).toBe('/tab/terms.html');
    await shoot(page, '1-terms');
    await page.getByRole('button', { name: 'Accept the terms' }).click();
    await opened(page, 2, 'TeleMessage sign-in');
    expect((await settings()).termsAcceptedAt).toEqual(expect.any(String));

    // 2. TeleMessage sign-in: checked with TeleMessage, then the password goes to the secret store only.
    expect(await page.getByLabel('TeleMessage password').inputValue()).toBe('');
    await shoot(page, '2-telemessage');
    await page.getByLabel('TeleMessage username').fill(TM_USER);
    await page.getByLabel('TeleMessage password').fill(TM_PASSWORD);
    await page.getByRole('button', { name: 'Sign in to TeleMessage' }).click();
    await opened(page, 3, 'User mapping');
    expect(await settings()).toMatchObject({ telemessageUsername: TM_USER, telemessageSecretName: 'telemessage-password' });
    expect(await h.secrets.get('telemessage-password')).toBe(TM_PASSWORD);
    expect(JSON.stringify(await h.stores.connectors.getOrDefault(CONNECTOR))).not.toContain(TM_PASSWORD);
    // Opened again, the step knows only "TeleMessage archive API as <username>", and the password is empty.
    await stepButton(page, 'TeleMessage sign-in').click();
    await opened(page, 2, 'TeleMessage sign-in');
    await page.getByText(`TeleMessage archive API as ${TM_USER}`).waitFor();
    expect(await page.getByLabel('TeleMessage password').inputValue()).toBe('');
    expect(await page.content()).not.toContain(TM_PASSWORD);
    await stepButton(page, 'User mapping').click();

    // 3. User mapping: automatic mapping off, no file.
    await opened(page, 3, 'User mapping');
    await shoot(page, '3-mapping');
    const automatic = page.getByRole('switch', { name: /Automatic user mapping/ });
    expect(await automatic.isChecked()).toBe(true);
    await automatic.click();
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await opened(page, 4, 'Admin consent');
    expect(await settings()).toMatchObject({ automaticMapping: false, mappingConfirmedAt: expect.any(String) });

    // 4. Admin consent: the consent page of this app, then the preflight (a failed check says what to do).
    expect(await page.getByRole('link', { name: 'admin consent page' }).getAttribute('href')).toBe(`${h.signin.authorityHost.replace(/\/+$/, '')}/${TENANT}/adminconsent?client_id=${APP.clientId}`);
    await shoot(page, '4-consent');
    const record = page.getByRole('button', { name: 'Record admin consent and continue' });
    expect(await record.isDisabled()).toBe(true);
    await page.getByLabel('Test mailbox').fill('nobody@contoso.example');
    await page.getByRole('button', { name: 'Run the tenant preflight' }).click();
    const results = page.getByRole('region', { name: 'Preflight results' });
    await results.getByText('did not pass against nobody@contoso.example', { exact: false }).waitFor({ timeout: 60_000 });
    const userCheck = results.getByRole('listitem').filter({ hasText: 'The test mailbox is a Microsoft 365 user' }).first();
    expect(await userCheck.innerText()).toMatch(/failed[\s\S]*What to do: The address is no Microsoft 365 user/);
    await shoot(page, '4-consent-failed-check');
    const mailbox = [...h.users][0];
    await page.getByLabel('Test mailbox').fill(mailbox);
    await page.getByRole('button', { name: 'Run the tenant preflight' }).click();
    await results.getByText(`Every check passed against ${mailbox}.`).waitFor({ timeout: 60_000 });
    expect(await results.getByText('failed', { exact: true }).count()).toBe(0);
    await shoot(page, '4-consent-passed');
    expect((await settings()).consentedAt).toBeUndefined();
    await record.click();
    await opened(page, 5, 'Schedule');
    expect((await settings()).consentedAt).toEqual(expect.any(String));

    // 5. Schedule: the browser's zone by name; another zone picked; stored as UTC with the zone.
    await page.getByText(/Your browser's time zone: Asia\/(Kolkata|Calcutta) \(India Standard Time\)/).waitFor();
    expect(await page.getByLabel('Time of day (24-hour, HH:MM)').inputValue()).toBe('07:30');
    await shoot(page, '5-schedule');
    await page.getByLabel('Time zone').selectOption('Asia/Tokyo');
    await page.getByLabel('Time of day (24-hour, HH:MM)').fill('09:15');
    await page.getByText('Runs daily at 09:15 in Asia/Tokyo (Japan Standard Time, UTC+09:00 today): 00:15 UTC.').waitFor();
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await opened(page, 6, 'Review');
    expect(await settings()).toMatchObject({ scheduleUtc: '00:15', scheduleTimeZone: 'Asia/Tokyo' });

    // 6. Review: everything chosen; Edit opens a step with what was saved.
    const review = page.getByRole('table', { name: 'Setup review' });
    await review.getByText('custom mapping: none', { exact: false }).waitFor();
    const rows = await review.getByRole('row').allInnerTexts();
    expect(rows.join('\n')).toContain(`TeleMessage archive API as ${TM_USER}`);
    expect(rows.join('\n')).toContain('automatic mapping off');
    expect(rows.join('\n')).toContain('daily at 09:15 in Asia/Tokyo');
    await shoot(page, '6-review');
    await page.getByRole('button', { name: 'Edit Schedule' }).click();
    await opened(page, 5, 'Schedule');
    expect(await page.getByLabel('Time zone').inputValue()).toBe('Asia/Tokyo');
    expect(await page.getByLabel('Time of day (24-hour, HH:MM)').inputValue()).toBe('09:15');
    await stepButton(page, 'Review').click();
    await opened(page, 6, 'Review');
    await page.getByRole('button', { name: 'Continue to finish' }).click();

    // 7. Finish, then the imports.
    await opened(page, 7, 'Finish');
    await shoot(page, '7-finish');
    expect((await settings()).setupCompletedAt).toBeUndefined();
    await page.getByRole('button', { name: 'Finish setup' }).click();
    await page.waitForURL(/#\/imports$/);
    await page.getByText(`TeleMessage archive API as ${TM_USER}`).waitFor({ timeout: 30_000 });
    const done = await settings();
    expect(done).toMatchObject({ setupCompletedAt: expect.any(String), scheduleUtc: '00:15', automaticMapping: false, telemessageUsername: TM_USER });
    expect(problems).toEqual([]);
    await page.close();
  }, 300_000);

  it('edits the finished mapping step: a CSV with errors shows them and cannot be applied; the fixed one is previewed and applied', async () => {
    const { h } = tab;
    const { page, problems } = await openPage('#/setup');
    // A finished connector opens on its review.
    await opened(page, 6, 'Review');
    await page.getByRole('button', { name: 'Edit User mapping' }).click();
    await opened(page, 3, 'User mapping');
    const before = await settings();
    const previews: string[] = [];
    page.on('request', (r) => r.url().endsWith('/api/tab/mapping/preview') && previews.push(r.url()));
    const staff = h.staff.slice(0, 8);
    const good = renderMappingCsv(staff);
    const broken = good + 'not-a-number,someone@contoso.example\r\n14155550100,not-an-email\r\n';
    const file = page.getByLabel('Mapping file (CSV)');

    await file.setInputFiles({ name: 'staff.csv', mimeType: 'text/csv', buffer: Buffer.from(broken) });
    await page.getByText('This file cannot be applied.').waitFor({ timeout: 30_000 });
    const problemRows = page.getByRole('table', { name: 'Rows with problems' }).getByRole('row');
    expect(await problemRows.count()).toBe(3);
    expect((await problemRows.nth(1).getByRole('cell').allInnerTexts())[0]).toBe('10');
    expect((await problemRows.nth(2).getByRole('cell').allInnerTexts()).slice(0, 2)).toEqual(['11', 'not-an-email']);
    expect(await page.getByRole('button', { name: 'Apply this mapping' }).count()).toBe(0);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the row report (CSV)' }).click()]);
    expect(download.suggestedFilename()).toBe('staff-report.csv');
    const report = fs.readFileSync((await download.path())!, 'utf8');
    expect(report).toContain('not-a-number');
    expect(report).toContain('not-an-email');
    await shoot(page, '3-mapping-row-errors');
    expect((await settings()).mappingVersion).toBe(before.mappingVersion);

    // Over the cap: said before anything is sent.
    const sent = previews.length;
    await file.setInputFiles({ name: 'huge.csv', mimeType: 'text/csv', buffer: Buffer.alloc(9 * 1024 * 1024, 'a') });
    await page.getByText('huge.csv is 9 MiB: a mapping file may be 8 MiB at most.', { exact: false }).waitFor();
    expect(previews.length).toBe(sent);

    await file.setInputFiles({ name: 'staff.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    const changes = page.getByRole('region', { name: 'Compared with the active mapping' });
    // No custom mapping yet: every number of the file is added.
    await changes.getByText('The active mapping has 0 numbers. This file: 8 added, 0 changed, 0 removed, 0 unchanged.').waitFor({ timeout: 30_000 });
    await page.getByRole('table', { name: 'Examples of the changes' }).getByText(displayNumber(staff[0].mobile)).waitFor();
    await shoot(page, '3-mapping-preview');
    expect((await settings()).mappingVersion).toBe(before.mappingVersion);
    await page.getByRole('button', { name: 'Apply this mapping' }).click();
    await page.getByText('Mapping applied: 8 numbers', { exact: false }).waitFor({ timeout: 60_000 });
    const applied = await settings();
    const active = await h.stores.mappings.load(applied.mappingVersion);
    expect(Object.fromEntries(active)).toEqual(Object.fromEntries(staff.map((e) => [e.mobile, e.mailbox])));
    await page.getByText('Custom mapping now: 8 numbers').waitFor();

    // Saving the step keeps everything else.
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await opened(page, 6, 'Review');
    const after = await settings();
    const { mappingConfirmedAt: _a, mappingVersion: _v, ...rest } = after;
    const { mappingConfirmedAt: _b, mappingVersion: _w, ...restBefore } = before;
    expect(rest).toEqual(restBefore);
    expect(after.mappingVersion).toBe(applied.mappingVersion);
    await page.getByRole('table', { name: 'Setup review' }).getByText('custom mapping: 8 numbers', { exact: false }).waitFor();
    expect(problems).toEqual([]);
    await page.close();
  }, 180_000);

  it('resumes at the first unfinished step after a reload, and when the tab is opened again', async () => {
    await resetSetup();
    const { page, problems } = await openPage();
    await page.waitForURL(/#\/setup$/);
    await opened(page, 1, 'Terms of use');
    await page.getByRole('button', { name: 'Accept the terms' }).click();
    await opened(page, 2, 'TeleMessage sign-in');
    await page.getByLabel('TeleMessage username').fill(TM_USER);
    await page.getByLabel('TeleMessage password').fill(TM_PASSWORD);
    await page.getByRole('button', { name: 'Sign in to TeleMessage' }).click();
    await opened(page, 3, 'User mapping');

    await page.reload();
    await opened(page, 3, 'User mapping');
    expect(await stepButton(page, 'Terms of use').innerText()).toContain('done');
    expect(await stepButton(page, 'TeleMessage sign-in').innerText()).toContain('done');
    expect(await stepButton(page, 'Admin consent').innerText()).toContain('to do');
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await opened(page, 4, 'Admin consent');
    await page.close();

    // The tab opened again (no page in its address): the setup, at the step after the last saved.
    const again = await openPage();
    await again.page.waitForURL(/#\/setup$/);
    await opened(again.page, 4, 'Admin consent');
    // Finishing now is refused by the API too, naming what is left.
    await stepButton(again.page, 'Finish').click();
    await opened(again.page, 7, 'Finish');
    await again.page.getByText('Still to do: Admin consent, Schedule.').waitFor();
    expect(await again.page.getByRole('button', { name: 'Finish setup' }).isDisabled()).toBe(true);
    expect([...problems, ...again.problems]).toEqual([]);
    await again.page.close();
  }, 180_000);

  it('is done with the keyboard alone', async () => {
    const { h } = tab;
    await resetSetup();
    const before = await settings();
    const { page, problems } = await openPage();
    await page.waitForURL(/#\/setup$/);
    const k = page.keyboard;

    /** Tabs on until the focused control is the one named (by its label or text); fails past 40 stops. */
    const tabTo = async (name: string) => {
      for (let i = 0; i < 40; i++) {
        const focused = await page.evaluate(() => {
          const el = document.activeElement as HTMLInputElement | null;
          if (!el) return '';
          return (el.getAttribute('aria-label') ?? el.labels?.[0]?.textContent ?? el.textContent ?? '').trim();
        });
        if (focused === name || focused.replace(/\s*\*$/, '') === name) return;
        await k.press('Tab');
      }
      throw new Error(`Tab never reached "${name}"`);
    };

    await opened(page, 1, 'Terms of use');
    await tabTo('Accept the terms');
    await k.press('Enter');

    await opened(page, 2, 'TeleMessage sign-in');
    await k.press('Tab');
    await tabTo('TeleMessage username');
    await k.type(TM_USER);
    await k.press('Tab');
    await k.type('not-the-password');
    await k.press('Tab');
    await tabTo('Sign in to TeleMessage');
    // Back to the password with Shift+Tab, to type the right one over it (focus selects the text).
    await k.press('Shift+Tab');
    await tabTo('TeleMessage password');
    await k.type(TM_PASSWORD);
    await k.press('Tab');
    await k.press('Enter');

    await opened(page, 3, 'User mapping');
    await tabTo('Automatic user mapping (by the email address at TeleMessage)');
    await k.press('Space');
    await tabTo('Save and continue');
    await k.press('Enter');

    await opened(page, 4, 'Admin consent');
    await tabTo('Test mailbox');
    await k.type([...h.users][1]);
    await k.press('Enter');
    await page.getByText(`Every check passed against ${[...h.users][1]}.`).waitFor({ timeout: 60_000 });
    await tabTo('Record admin consent and continue');
    await k.press('Enter');

    await opened(page, 5, 'Schedule');
    await tabTo('Time of day (24-hour, HH:MM)');
    await k.type('06:45');
    await k.press('Enter');

    await opened(page, 6, 'Review');
    await tabTo('Continue to finish');
    await k.press('Space');

    await opened(page, 7, 'Finish');
    await tabTo('Finish setup');
    await k.press('Enter');
    await page.waitForURL(/#\/imports$/);

    const done = await settings();
    expect(done).toMatchObject({
      telemessageUsername: TM_USER,
      automaticMapping: !before.automaticMapping,
      scheduleUtc: '01:15',
      scheduleTimeZone: expect.stringMatching(/^Asia\/(Kolkata|Calcutta)$/),
      termsAcceptedAt: expect.any(String),
      mappingConfirmedAt: expect.any(String),
      consentedAt: expect.any(String),
      setupCompletedAt: expect.any(String),
    });
    expect(await h.secrets.get('telemessage-password')).toBe(TM_PASSWORD);
    expect(problems).toEqual([]);
    await page.close();
  }, 240_000);
});
