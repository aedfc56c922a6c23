// What the tab's browser tests (tests/e2e/tab*.test.ts) share: the stack they drive (the harness's
// Azurite and emulators, the real server as its own process, Debian's Chromium), a page of the tab
// with what it reports as broken, the tab API's calls as the browser made them, and the theme a
// page shows. The assertions stay in the tests.
import path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Frame, Page, Request } from 'playwright-core';
import { ensureLocalTls } from '../../emulators/tls/localCa';
import { runsEnded, startHarness, type Harness, type HarnessOptions } from './importerHarness';
import { freePort, startServer, type ServerProcess } from './serverProcess';
import { launchChromium, tabContext, watchProblems } from './chromium';
import { accessibilityProblems } from './axe';

export const TODAY = new Date();
/** A UTC day `offset` days from today, as the harness's traffic names days: "2026-12-07". */
export const day = (offset: number) => new Date(TODAY.getTime() + offset * 86_400_000).toISOString().slice(0, 10);

export interface TabStackOptions {
  harness?: HarnessOptions;
  /** The server's settings beyond the harness's own (ADMIN_OBJECT_IDS, TEAMS_APP_ID…). */
  env?: Record<string, string>;
  /**
   * Sign-in on, as in production: the server knows its public origin and the browser trusts the
   * local CA (the sign-in emulator's HTTPS). Off, the server runs as `npm start` does, without sign-in.
   */
  signIn?: boolean;
  /** Before the server starts, knowing its origin (to register the app, start a Teams host…): more settings for it. */
  beforeServer?(h: Harness, origin: string): Promise<Record<string, string> | void>;
  /** Wait for the run the server starts at once (a set-up connector's first scheduled import) to end. */
  firstRunEnded?: boolean;
}

export interface TabStack {
  h: Harness;
  server: ServerProcess;
  /** The tab's server: its public origin with sign-in on, else the loopback address it listens at. */
  url: string;
  browser: Browser;
  /** A new browser context on the tab (`options` such as a time zone), with a page and what it reports as broken. */
  openPage(options?: BrowserContextOptions): Promise<OpenedPage>;
  close(): Promise<void>;
}

export async function startTabStack(options: TabStackOptions = {}): Promise<TabStack> {
  const h = await startHarness(options.harness);
  const stack: Partial<TabStack> & { h: Harness } = { h };
  try {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const extra = (await options.beforeServer?.(h, origin)) ?? {};
    const mode: Record<string, string> = options.signIn ? { PUBLIC_URL: origin } : { LOCAL_DEV_UNAUTHENTICATED: 'true' };
    stack.server = startServer({ ...h.env, PORT: String(port), ...mode, ...options.env, ...extra });
    const listening = await stack.server.listening;
    // Signed in, the page is opened where the app registration says it is; else where the server says it listens.
    stack.url = options.signIn ? origin : listening;
    if (options.firstRunEnded) await runsEnded(h);
    stack.browser = await launchChromium(options.signIn ? { trustCertificate: ensureLocalTls().cert } : {});
  } catch (err) {
    await closeStack(stack);
    throw err;
  }
  const browser = stack.browser;
  return {
    ...(stack as Required<typeof stack>),
    openPage: async (contextOptions) => {
      const context = await tabContext(browser, contextOptions);
      const page = await context.newPage();
      return { context, page, problems: watchProblems(page) };
    },
    close: () => closeStack(stack),
  };
}

async function closeStack(stack: Partial<TabStack>): Promise<void> {
  await stack.browser?.close();
  await stack.server?.stop();
  await stack.h?.close();
}

/** A call the page made to the tab API: where, with which Authorization header, and the status once answered. */
export interface ApiCall {
  url: string;
  path: string;
  authorization?: string;
  status?: number;
}

/** Every call `page` makes to the tab API from now on, in order, each completed with its status when answered. */
export function recordApiCalls(page: Page): ApiCall[] {
  const api: ApiCall[] = [];
  const calls = new Map<Request, ApiCall>();
  page.on('request', (r) => {
    const { pathname } = new URL(r.url());
    if (!pathname.startsWith('/api/tab/')) return;
    const call = { url: r.url(), path: pathname, authorization: r.headers().authorization };
    calls.set(r, call);
    api.push(call);
  });
  page.on('response', (r) => {
    const call = calls.get(r.request());
    if (call) call.status = r.status();
  });
  return api;
}

/** How light the page's background is (red + green + blue, 0 to 765): under 200 dark, over 600 light. */
export async function backgroundLightness(page: Page | Frame): Promise<number> {
  const colour = await page.evaluate(() => getComputedStyle(document.querySelector('.fui-FluentProvider')!).backgroundColor);
  const [r, g, b] = colour.match(/\d+/g)!.map(Number);
  return r + g + b;
}

/** Waits until the page shows the `scheme` colours (Fluent switches the theme after the media change). */
export async function shownInScheme(page: Page | Frame, scheme: 'dark' | 'light', timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    (dark) => {
      const [r, g, b] = getComputedStyle(document.querySelector('.fui-FluentProvider')!).backgroundColor.match(/\d+/g)!.map(Number);
      return dark ? r + g + b < 200 : r + g + b > 600;
    },
    scheme === 'dark',
    { timeout },
  );
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  problems: string[];
}

/**
 * The stack for a `describe` block: started before its tests and stopped after them, with a first
 * page of the tab (in a context with `page`'s options) that its tests share in order. The fields
 * are there once the tests run.
 */
export function useTabStack(options: TabStackOptions & { page?: BrowserContextOptions; timeoutMs?: number }): TabStack & OpenedPage {
  const live = {} as TabStack & OpenedPage;
  beforeAll(async () => {
    Object.assign(live, await startTabStack(options));
    if (options.page) Object.assign(live, await live.openPage(options.page));
  }, options.timeoutMs ?? 120_000);
  afterAll(() => live.close?.());
  return live;
}

/**
 * Each of `pages` opened in the dark scheme (one new page of `context`) and, once `ready`, saved
 * as <name>-dark.png in `shots`: whether it shows dark, and axe's findings; then what the page
 * reported as broken.
 */
export async function seenInDark(
  context: BrowserContext,
  url: string,
  shots: string,
  pages: Record<string, { hash: string; ready(page: Page): Promise<unknown> }>,
): Promise<{ pages: Record<string, { dark: boolean; accessibility: string[] }>; problems: string[] }> {
  const page = await context.newPage();
  const problems = watchProblems(page);
  const seen: Record<string, { dark: boolean; accessibility: string[] }> = {};
  try {
    await page.emulateMedia({ colorScheme: 'dark' });
    for (const [name, { hash, ready }] of Object.entries(pages)) {
      await page.goto(`${url}/tab/index.html${hash}`);
      await ready(page);
      const dark = (await backgroundLightness(page)) < 200;
      await page.screenshot({ path: path.join(shots, `${name}-dark.png`), fullPage: true });
      seen[name] = { dark, accessibility: await accessibilityProblems(page) };
    }
  } finally {
    await page.close();
  }
  return { pages: seen, problems };
}
