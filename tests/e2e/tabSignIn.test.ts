import path from 'node:path';
import { decodeJwt } from 'jose';
import type { Page } from 'playwright-core';
import type { TestUser } from '../../emulators/signin/server';
import { APP, TENANT, TM_USER } from '../support/importerHarness';
import { artifactDir } from '../support/chromium';
import { accessibilityProblems } from '../support/axe';
import { recordApiCalls, useTabStack, type ApiCall, type OpenedPage } from '../support/tabBrowser';

// The tab in a plain browser with sign-in on, as in production: MSAL (authorization code with
// PKCE) against the sign-in emulator, the API validating its tokens; an admin gets the dashboard,
// a signed-in non-admin the page that says who can grant access.
const ADMIN: TestUser = { tenantId: TENANT, oid: '5d9c3b2a-1f0e-4d8c-9b7a-6e5f4d3c2b1a', name: 'Alex Wilber', preferredUsername: 'alexw@contoso.example', note: 'an admin of the connector' };
const MEMBER: TestUser = { tenantId: TENANT, oid: '7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b', name: 'Megan Bowen', preferredUsername: 'meganb@contoso.example', note: 'not an admin' };
// Chromium's own line for the API's expected refusal of the non-admin.
const FORBIDDEN_LINE = 'Failed to load resource: the server responded with a status of 403 (Forbidden)';

interface Traffic {
  /** The tab API's requests, with their Authorization header and, once answered, the answer's status. */
  api: ApiCall[];
  /** Anything the page asked of Microsoft's real sign-in service (nothing must). */
  microsoft: string[];
}

describe('signing in to the tab outside Teams', () => {
  // The admin is a Microsoft 365 user too: the page for a non-admin names them from Graph.
  const tab = useTabStack({
    harness: { people: [ADMIN] },
    signIn: true,
    env: { ADMIN_OBJECT_IDS: ADMIN.oid },
    beforeServer: async (h, origin) => {
      // The app registration as docs/deploy.md makes it: the tab's SPA redirect URI and its API's URI.
      h.signin.registerApp({ ...APP, spaRedirectUris: [`${origin}/tab/index.html`], identifierUris: [`api://${new URL(origin).host}/${APP.clientId}`] });
      h.signin.registerUser(ADMIN);
      h.signin.registerUser(MEMBER);
    },
  });
  const shots = artifactDir('tab-signin');

  async function open(): Promise<OpenedPage & { traffic: Traffic }> {
    const { context, page, problems } = await tab.openPage();
    const traffic: Traffic = { api: recordApiCalls(page), microsoft: [] };
    await context.route('https://login.microsoftonline.com/**', (route) => {
      traffic.microsoft.push(route.request().url());
      return route.abort();
    });
    return { context, page, problems, traffic };
  }

  /** Opens the tab, which sends the browser to the emulator's sign-in page before asking the API anything. */
  async function signInPage(page: Page, traffic: Traffic): Promise<void> {
    await page.goto(`${tab.url}/tab/index.html`);
    await page.getByRole('heading', { name: 'Pick an account' }).waitFor({ timeout: 60_000 });
    expect(new URL(page.url()).origin).toBe(tab.h.signin.url);
    expect(traffic.api).toEqual([]);
  }

  it("sends an admin through the emulator's sign-in page and back to the dashboard, every API call with the bearer token", async () => {
    const { context, page, problems, traffic } = await open();
    try {
      await signInPage(page, traffic);
      await page.screenshot({ path: path.join(shots, 'signin-page.png'), fullPage: true });
      expect(await accessibilityProblems(page)).toEqual([]);

      await page.getByRole('button', { name: 'Sign in as Alex Wilber' }).click();
      await page.getByText(`TeleMessage archive API as ${TM_USER}`).waitFor({ timeout: 60_000 });
      // Back on the tab, which opens on the imports: this connector is set up.
      expect(page.url()).toBe(`${tab.url}/tab/index.html#/imports`);
      await page.getByRole('table', { name: 'Imports' }).waitFor();

      expect(traffic.api.length).toBeGreaterThan(0);
      for (const call of traffic.api) expect(call.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      const claims = decodeJwt(traffic.api[0].authorization!.slice('Bearer '.length));
      expect(claims).toMatchObject({ aud: APP.clientId, oid: ADMIN.oid, tid: TENANT, scp: 'access_as_user', ver: '2.0', iss: tab.h.signin.issuer(TENANT) });

      await page.screenshot({ path: path.join(shots, 'dashboard-signed-in.png'), fullPage: true });
      expect(await accessibilityProblems(page)).toEqual([]);

      // Signed in for the session: a reload shows the dashboard again without the sign-in page.
      const before = traffic.api.length;
      await page.reload();
      await page.getByText(`TeleMessage archive API as ${TM_USER}`).waitFor({ timeout: 60_000 });
      expect(new URL(page.url()).origin).toBe(tab.url);
      expect(traffic.api.length).toBeGreaterThan(before);
      expect(traffic.microsoft).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);

  it('shows a signed-in non-admin who can grant access and what to ask for, not the dashboard', async () => {
    const { context, page, problems, traffic } = await open();
    try {
      await signInPage(page, traffic);
      await page.getByRole('button', { name: 'Sign in as Megan Bowen' }).click();
      await page.getByRole('heading', { name: "Only the connector's admins can use this page" }).waitFor({ timeout: 60_000 });

      await page.getByText(`You are signed in as ${MEMBER.name} (${MEMBER.preferredUsername})`).waitFor();
      await page.getByText(MEMBER.oid, { exact: true }).waitFor();
      expect(await page.getByRole('list', { name: "The connector's admins" }).getByRole('listitem').allInnerTexts()).toEqual([`${ADMIN.name} (${ADMIN.oid})`]);
      expect(await page.getByRole('table').count()).toBe(0);
      expect(await page.getByText(TM_USER).count()).toBe(0);
      // The page asked the admin check and, beside it, the dashboard's first reads: every one refused.
      for (let i = 0; i < 100 && traffic.api.some((c) => c.status === undefined); i++) await new Promise((r) => setTimeout(r, 50));
      for (const call of traffic.api) expect(call.authorization).toMatch(/^Bearer /);
      expect(traffic.api.map((c) => c.path)).toContain('/api/tab/me');
      expect(traffic.api.map((c) => c.status)).toEqual(traffic.api.map(() => 403));

      await page.screenshot({ path: path.join(shots, 'not-an-admin.png'), fullPage: true });
      expect(await accessibilityProblems(page)).toEqual([]);

      // Back to the sign-in page to pick another account.
      await page.getByRole('button', { name: 'Sign in with another account' }).click();
      await page.getByRole('heading', { name: 'Pick an account' }).waitFor({ timeout: 60_000 });
      await page.getByRole('button', { name: 'Sign in as Alex Wilber' }).click();
      await page.getByText(`TeleMessage archive API as ${TM_USER}`).waitFor({ timeout: 60_000 });

      expect(traffic.microsoft).toEqual([]);
      // Chromium's line for each refused call, and nothing else.
      expect(problems.length).toBeGreaterThan(0);
      expect(new Set(problems)).toEqual(new Set([FORBIDDEN_LINE]));
    } finally {
      await context.close();
    }
  }, 180_000);
});
