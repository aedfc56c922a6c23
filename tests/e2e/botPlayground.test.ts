import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startAgentsPlayground, type RunningPlayground } from '../../scripts/agentsPlayground';
import { startHarness, TENANT, type Harness } from '../support/importerHarness';
import { freePort, startServer, type ServerProcess } from '../support/serverProcess';
import { artifactDir, launchChromium } from '../support/chromium';

// The Agents Playground as the Teams client of the real server (local-development mode, as
// `npm start` runs it), driven in headless Chromium the way an admin uses the chat.
const ADMIN = { name: 'Alex Wilber', email: 'alexw@contoso.example', aadObjectId: '5d9c3b2a-1f0e-4d8c-9b7a-6e5f4d3c2b1a' };
const today = new Date();
const day = (offset: number) => new Date(today.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
// A name as TeleMessage may hold it: Markdown with a link, which the chat must show as plain characters.
const MARKDOWN_NAME = '[Reset](https://evil.example) **Boss**';

describe('the bot in the Agents Playground', () => {
  let h: Harness;
  let server: ServerProcess;
  let playground: RunningPlayground;
  let browser: Browser;
  let page: Page;
  const shots = artifactDir('bot');

  beforeAll(async () => {
    // Traffic up to now, so the server's first scheduled run (the last 24 hours) has items; and
    // TeleMessage refusing the sign-in, as after a password change, so that run fails.
    h = await startHarness({ telemessage: { days: [day(-1), day(0)], now: today, traffic: { itemsPerDay: 24, hugeAttachments: [] }, faults: { rejectLogins: true } } });
    // The leaver, without a mailbox, so the one the alert is about.
    h.staff.at(-1)!.displayName = MARKDOWN_NAME;
    const port = await freePort();
    server = startServer({ ...h.env, PORT: String(port), LOCAL_DEV_UNAUTHENTICATED: 'true', ADMIN_OBJECT_IDS: ADMIN.aadObjectId, BOT_CARD_CHECK_SECONDS: '1' });
    const url = await server.listening;
    playground = await startAgentsPlayground({ botEndpoint: `${url}/api/messages`, port: await freePort(), dir: path.join(h.tmpDir, 'playground'), tenantId: TENANT, user: ADMIN });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await playground?.stop();
    await server?.stop();
    await h?.close();
  });

  it('shows the failed run\'s summary when the chat opens, and "Rerun failed" replaces it with the rerun\'s result', async () => {
    // The scheduled run at start fails on the refused sign-in.
    await waitUntil(async () => (await h.stores.runs.list('default', 1))[0]?.status === 'failed', 'the scheduled run to fail');
    await page.goto(playground.url);
    await page.getByText('I will post a summary here after every import').waitFor({ timeout: 30_000 });
    const summary = page.locator('.ac-adaptiveCard', { hasText: 'Daily import failed' });
    await summary.waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(shots, '1-summary-after-install.png') });

    h.telemessage.setFaults({ rejectLogins: false });
    await summary.getByRole('button', { name: 'Rerun failed' }).click();
    const result = page.locator('.ac-adaptiveCard', { hasText: /Rerun (succeeded|partially succeeded)/ });
    await result.waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(shots, '2-rerun-result.png') });
    const [rerun] = await h.stores.runs.list('default', 1);
    expect(rerun).toMatchObject({ trigger: 'rerun', requestedBy: ADMIN.aadObjectId });
    expect(rerun.counts.imported).toBeGreaterThan(0);
    await expect(result.textContent()).resolves.toContain(`Deliveries imported${rerun.counts.imported}`);
    // Replaced in place: the failed run's card is gone from the chat.
    await expect(page.locator('.ac-adaptiveCard', { hasText: 'Daily import failed' }).count()).resolves.toBe(0);
  }, 180_000);

  it('shows a TeleMessage name holding Markdown as plain text, never as a link', async () => {
    const alert = page.locator('.ac-adaptiveCard', { hasText: 'without a mailbox' }).last();
    await alert.waitFor({ timeout: 60_000 });
    await expect(alert.textContent()).resolves.toContain(MARKDOWN_NAME);
    await expect(alert.locator('a').count()).resolves.toBe(0);
    await expect(page.locator('.ac-adaptiveCard a[href*="evil.example"]').count()).resolves.toBe(0);
  }, 90_000);

  it("maps an employee's number from the alert card, imports the held items, and every other card offering it says it is mapped", async () => {
    const [waiting] = (await h.stores.unmapped.list('default')).filter((u) => u.kind !== 'outsideParty').sort((a, b) => b.itemCount - a.itemCount);
    expect(waiting).toBeDefined();
    const mailbox = h.staff[0].mailbox;
    const alert = page.locator('.ac-adaptiveCard', { hasText: 'without a mailbox' }).last();
    const display = (await alert.getByRole('button', { name: /^Map / }).first().textContent())!.replace(/^Map /, '').trim();
    // A second card offering the same number: the answer to "unmapped".
    await send('unmapped');
    await waitUntil(async () => (await page.getByRole('button', { name: `Map ${display}` }).count()) === 2, 'the "unmapped" answer offering the number too');
    await alert.getByRole('textbox', { name: `Mailbox for ${display}` }).fill(mailbox);
    await alert.getByRole('button', { name: `Map ${display}` }).click();
    // The clicked card says what the replay did.
    const mapped = `Mapped to ${mailbox} by ${ADMIN.name}.`;
    const done = page.locator('.ac-adaptiveCard', { hasText: new RegExp(`${mapped.replace(/[.]/g, '\\.')} \\d+ held: \\d+ already archived, \\d+ new`) });
    await done.waitFor({ timeout: 60_000 }).catch(async (err: Error) => {
      throw new Error(`${err.message}\nThe chat's cards:\n${(await page.locator('.ac-adaptiveCard').allTextContents()).join('\n')}`);
    });
    // The other card is replaced in place: it names the mailbox and who mapped it, and offers no Map for the number any more.
    await waitUntil(async () => (await page.locator('.ac-adaptiveCard', { hasText: mapped }).count()) === 2, 'both cards saying the number is mapped');
    await waitUntil(async () => (await page.getByRole('button', { name: `Map ${display}` }).count()) === 0, 'no card offering to map the number');
    await expect(page.getByRole('textbox', { name: `Mailbox for ${display}` }).count()).resolves.toBe(0);
    await page.screenshot({ path: path.join(shots, '3-mapped-everywhere.png') });
    const [remap] = await h.stores.runs.list('default', 1);
    expect(remap).toMatchObject({ trigger: 'remap', requestedBy: ADMIN.aadObjectId });
    expect(remap.counts.imported).toBeGreaterThan(0);
  }, 150_000);

  it('answers "status" typed in the chat', async () => {
    await send('status');
    // The status card itself: the notifier may post the remap run's alert after it.
    const status = page.locator('.ac-adaptiveCard', { hasText: 'Next scheduled run' }).last();
    await status.waitFor({ timeout: 30_000 });
    await expect(status.textContent()).resolves.toMatch(/Last run \((rerun|remap),/);
    await page.screenshot({ path: path.join(shots, '4-status.png') });
  }, 60_000);

  async function send(text: string): Promise<void> {
    // The message box is a rich-text editor: a textbox role, not an input.
    await page.locator('[contenteditable="true"][role="textbox"]').fill(text);
    await page.getByRole('button', { name: 'Send Message' }).click();
  }
});

async function waitUntil(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}
