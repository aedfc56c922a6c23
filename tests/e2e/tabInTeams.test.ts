import fs from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import type { Frame, Page } from 'playwright-core';
import type { TestUser } from '../../emulators/signin/server';
import { startTeamsHost, type TeamsHost } from '../../emulators/teamsHost/server';
import { teamsRunLink } from '../../server/teamsLinks';
import { APP, CONNECTOR, TENANT, TM_USER } from '../support/importerHarness';
import { artifactDir } from '../support/chromium';
import { accessibilityProblems } from '../support/axe';
import { TODAY, backgroundLightness, day, recordApiCalls, shownInScheme, useTabStack, type ApiCall, type OpenedPage } from '../support/tabBrowser';

// The tab as Teams hosts it: framed by the Teams host emulator, which answers teams-js (initialize,
// the context, the SSO token from the sign-in emulator, theme changes, deep links), against the
// real server with authentication on. The browser enforces the tab's frame-ancestors.
const ADMIN: TestUser = { tenantId: TENANT, oid: '5d9c3b2a-1f0e-4d8c-9b7a-6e5f4d3c2b1a', name: 'Alex Wilber', preferredUsername: 'alexw@contoso.example' };
const MEMBER: TestUser = { tenantId: TENANT, oid: '7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b', name: 'Megan Bowen', preferredUsername: 'meganb@contoso.example' };
const TEAMS_APP_ID = '6f1c4a0e-3b2d-4c5e-9a8f-1b2c3d4e5f60';
// Teams on the web: the client the sign-in emulator names as the SSO token's requester.
const TEAMS_WEB_CLIENT = '5e3ce6c0-2b1f-4285-8d4b-75ee78787346';
const FORBIDDEN_LINE = 'Failed to load resource: the server responded with a status of 403 (Forbidden)';
const TAB_FRAME = 'iframe[title="Enterprise Number Archiver tab"]';

interface Opened extends OpenedPage {
  /** The tab API's calls, with their Authorization header and status once answered. */
  api: ApiCall[];
  /** The tab's frame in the host page. */
  tab: Frame;
}

describe('the tab inside Teams (the Teams host emulator)', () => {
  let host: TeamsHost;
  /** The same host at an origin the tab's frame-ancestors does not list. */
  let stranger: TeamsHost;
  // Traffic up to now and no automatic mapping: the server's first run has items not imported, which its page lists.
  const stack = useTabStack({
    harness: { automaticMapping: false, telemessage: { days: [day(-1), day(0)], now: TODAY, traffic: { itemsPerDay: 24, hugeAttachments: [] } } },
    signIn: true,
    env: { ADMIN_OBJECT_IDS: ADMIN.oid, TEAMS_APP_ID },
    beforeServer: async (h, origin) => {
      const hostOptions = { tabUrl: `${origin}/tab/index.html`, appId: TEAMS_APP_ID, tenantId: TENANT, clientId: APP.clientId, users: [ADMIN, MEMBER], signin: h.signin };
      host = await startTeamsHost(hostOptions);
      stranger = await startTeamsHost(hostOptions);
      return { LOCAL_DEV_TEAMS_HOST_ORIGIN: host.origin };
    },
    firstRunEnded: true,
  });
  afterAll(() => Promise.all([host?.close(), stranger?.close()]));
  const shots = artifactDir('tab-in-teams');

  /** The Teams host page (`query`: the user, a locale, a deep link…) framing the tab, the tab API's calls recorded. */
  async function open(query: Record<string, string>, at: TeamsHost = host): Promise<Opened> {
    const { context, page, problems } = await stack.openPage();
    const api = recordApiCalls(page);
    await page.goto(`${at.url}?${new URLSearchParams(query)}`);
    const tab = (await (await page.waitForSelector(TAB_FRAME)).contentFrame())!;
    return { context, page, problems, api, tab };
  }

  const status = (page: Page) => page.getByRole('status').innerText();

  it('loads the dashboard with the token Teams hands the tab, which the tab API validates', async () => {
    const { context, page, problems, api, tab } = await open({ user: ADMIN.oid, locale: 'en-gb' });
    try {
      await tab.getByText(`TeleMessage archive API as ${TM_USER}`).waitFor({ timeout: 60_000 });
      await tab.getByRole('table', { name: 'Imports' }).getByRole('row').nth(1).waitFor();
      expect(await status(page)).toContain(`The tab is running (teams-js 2.`);
      expect(await status(page)).toContain(`signed in as ${ADMIN.name}`);
      // The context's locale reaches the page.
      expect(await tab.evaluate(() => document.documentElement.lang)).toBe('en-gb');

      expect(api.length).toBeGreaterThan(0);
      for (const call of api) expect(call.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      expect(api.map((c) => c.path)).toContain('/api/tab/me');
      const claims = decodeJwt(api[0].authorization!.slice('Bearer '.length));
      expect(claims).toMatchObject({ aud: APP.clientId, oid: ADMIN.oid, tid: TENANT, scp: 'access_as_user', ver: '2.0', iss: stack.h.signin.issuer(TENANT), azp: TEAMS_WEB_CLIENT });

      await page.screenshot({ path: path.join(shots, 'dashboard-in-teams.png'), fullPage: true });
      expect(await accessibilityProblems(tab)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it("gives a non-admin's token the page that says who can grant access", async () => {
    const { context, page, problems, api, tab } = await open({ user: MEMBER.oid });
    try {
      await tab.getByRole('heading', { name: "Only the connector's admins can use this page" }).waitFor({ timeout: 60_000 });
      await tab.getByText(`You are signed in as ${MEMBER.name} (${MEMBER.preferredUsername})`).waitFor();
      await tab.getByText(MEMBER.oid, { exact: true }).waitFor();
      expect(await tab.getByRole('list', { name: "The connector's admins" }).getByRole('listitem').allInnerTexts()).toEqual([ADMIN.oid]);
      // In Teams the account is Teams's: no button to sign in with another.
      expect(await tab.getByRole('button', { name: 'Sign in with another account' }).count()).toBe(0);
      expect(await tab.getByRole('table').count()).toBe(0);
      for (let i = 0; i < 100 && api.some((c) => c.status === undefined); i++) await new Promise((r) => setTimeout(r, 50));
      expect(api.map((c) => c.status)).toEqual(api.map(() => 403));
      expect(decodeJwt(api[0].authorization!.slice('Bearer '.length)).oid).toBe(MEMBER.oid);

      await page.screenshot({ path: path.join(shots, 'not-an-admin-in-teams.png'), fullPage: true });
      expect(await accessibilityProblems(tab)).toEqual([]);
      expect(new Set(problems)).toEqual(new Set([FORBIDDEN_LINE]));
    } finally {
      await context.close();
    }
  }, 120_000);

  it('says what to do when Teams gives the tab no token, and asks the API nothing', async () => {
    const { context, page, problems, api, tab } = await open({ user: ADMIN.oid, ssoError: 'resourceRequiresConsent' });
    try {
      await tab.getByRole('heading', { name: 'Teams could not sign you in to the Enterprise Number Archiver' }).waitFor({ timeout: 60_000 });
      await tab.getByText('resourceRequiresConsent', { exact: true }).waitFor();
      await tab.getByText(/Grant admin consent/).waitFor();
      await tab.getByRole('button', { name: 'Try again' }).waitFor();
      expect(api).toEqual([]);
      await page.screenshot({ path: path.join(shots, 'sso-failed-in-teams.png'), fullPage: true });
      expect(await accessibilityProblems(tab)).toEqual([]);

      // Another reason: the app registration's settings, not consent.
      await page.getByLabel('Single sign-on').selectOption('resourceDisabled');
      await page.waitForURL(/ssoError=resourceDisabled/);
      const again = (await (await page.waitForSelector(TAB_FRAME)).contentFrame())!;
      await again.getByText('resourceDisabled', { exact: true }).waitFor({ timeout: 60_000 });
      await again.getByText(/Application ID URI equals the Teams app's/).waitFor();
      expect(api).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it("re-themes the page when the host's theme changes to dark and to high contrast, without a reload", async () => {
    const { context, page, problems, tab } = await open({ user: ADMIN.oid });
    try {
      await tab.getByText(`TeleMessage archive API as ${TM_USER}`).waitFor({ timeout: 60_000 });
      expect(await backgroundLightness(tab)).toBeGreaterThan(600);
      // A reload would lose this.
      await tab.evaluate(() => ((window as unknown as { stillThisPage: boolean }).stillThisPage = true));

      await page.getByLabel('Theme').selectOption('dark');
      await shownInScheme(tab, 'dark');
      expect(await backgroundLightness(tab)).toBeLessThan(200);
      await page.screenshot({ path: path.join(shots, 'dashboard-dark-in-teams.png'), fullPage: true });
      expect(await accessibilityProblems(tab)).toEqual([]);

      await page.getByLabel('Theme').selectOption('contrast');
      // High contrast: black.
      await tab.waitForFunction(() => getComputedStyle(document.querySelector('.fui-FluentProvider')!).backgroundColor === 'rgb(0, 0, 0)', undefined, { timeout: 30_000 });
      expect(await backgroundLightness(tab)).toBe(0);
      await page.screenshot({ path: path.join(shots, 'dashboard-contrast-in-teams.png'), fullPage: true });
      expect(await accessibilityProblems(tab)).toEqual([]);

      expect(await tab.evaluate(() => (window as unknown as { stillThisPage?: boolean }).stillThisPage)).toBe(true);
      await tab.getByText(`TeleMessage archive API as ${TM_USER}`).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it("opens the run a bot card's deep link names, followed by Teams or asked for by the tab", async () => {
    const { h } = stack;
    const [run] = await h.stores.runs.list(CONNECTOR, 1);
    const logRows: { itemId: string }[] = [];
    for await (const row of h.stores.runLog.rows(run.runId)) logRows.push(row);
    expect(logRows.length).toBeGreaterThan(0);
    const link = teamsRunLink(TEAMS_APP_ID, run.runId);
    const { context, page, problems, api } = await open({ user: ADMIN.oid, link });
    try {
      // Teams opened at the link: the tab gets the sub-page id run:<id> in its context and shows that run.
      let tab = (await (await page.waitForSelector(TAB_FRAME)).contentFrame())!;
      const detail = () => tab.getByRole('table', { name: 'Failed, partial and not imported items' });
      await detail().getByText(logRows[0].itemId).first().waitFor({ timeout: 60_000 });
      expect(new URL(tab.url()).hash).toBe(`#/runs/${run.runId}`);
      expect(await status(page)).toContain(`at sub-page run:${run.runId}`);
      expect(api.map((c) => c.path)).toContain(`/api/tab/runs/${run.runId}`);
      await page.screenshot({ path: path.join(shots, 'run-from-deep-link.png'), fullPage: true });

      // Back on the imports, the tab itself asks Teams to open the link (app.openLink, as teams-js
      // sends it): Teams opens the tab again at that run.
      await tab.getByRole('button', { name: 'Back to imports' }).click();
      await tab.getByRole('table', { name: 'Imports' }).waitFor();
      const teamsJs = fs.readFileSync(require.resolve('@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js'), 'utf8');
      await tab.evaluate(teamsJs);
      const asked = tab.evaluate(
        ([hostOrigin, deepLink]) => {
          const teams = (window as unknown as { microsoftTeams: typeof import('@microsoft/teams-js') }).microsoftTeams;
          return teams.app.initialize([hostOrigin]).then(() => teams.app.openLink(deepLink));
        },
        [host.origin, link],
      );
      // The frame that asked is replaced once Teams has answered: the tab's second opening.
      await asked.catch(() => undefined);
      tab = (await (await page.waitForSelector(`${TAB_FRAME}[data-opened="2"]`, { timeout: 30_000 })).contentFrame())!;
      expect(await page.locator('#host-log').textContent()).toContain(`executeDeepLink ${link}`);
      await detail().getByText(logRows[0].itemId).first().waitFor({ timeout: 60_000 });
      expect(new URL(tab.url()).hash).toBe(`#/runs/${run.runId}`);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it("cannot frame the tab from an origin outside the tab's frame-ancestors", async () => {
    const { context, page } = await stack.openPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    try {
      const refused = page.waitForEvent('console', { predicate: (m) => m.type() === 'error' && m.text().includes('frame-ancestors'), timeout: 60_000 });
      await page.goto(stranger.url);
      const message = (await refused).text();
      expect(message).toContain(`Framing '${stack.url}/' violates the following Content Security Policy directive: "frame-ancestors`);
      expect(message).toContain(host.origin);
      expect(message).not.toContain(stranger.origin);
      // The page was fetched and refused: none of its script ran, nothing asked the API.
      const frame = (await (await page.waitForSelector(TAB_FRAME)).contentFrame())!;
      expect(frame.url()).toMatch(/^chrome-error:/);
      expect(requested).toContain('/tab/index.html');
      expect(requested.filter((p) => p.startsWith('/tab/assets/') || p.startsWith('/api/tab/') || p === '/tab/config.json')).toEqual([]);
      expect(await page.locator('#host-tab').getAttribute('data-initialized')).toBe('false');
      await page.screenshot({ path: path.join(shots, 'refused-origin.png'), fullPage: true });

      // The host the tab allows frames it, in the same browser.
      const allowed = await context.newPage();
      await allowed.goto(`${host.url}?user=${ADMIN.oid}`);
      await allowed.frameLocator(TAB_FRAME).getByText(`TeleMessage archive API as ${TM_USER}`).waitFor({ timeout: 60_000 });
    } finally {
      await context.close();
    }
  }, 120_000);
});
