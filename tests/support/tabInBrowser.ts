// The tab as an admin meets it in local development: the real server (its own process, no
// sign-in), its first scheduled run ended, and a page in headless Chromium that records what
// breaks. The setup every browser test of the tab's pages shares.
import path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { accessibilityProblems } from './axe';
import { runsEnded, type Harness } from './importerHarness';
import { freePort, startServer, type ServerProcess } from './serverProcess';
import { launchChromium, tabContext, watchProblems } from './chromium';

export interface TabInBrowser {
  server: ServerProcess;
  url: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught errors of `page`, as they happen. */
  problems: string[];
  /** Closes the browser and stops the server; the harness is the test's to close. */
  close(): Promise<void>;
}

export async function openTabInBrowser(h: Harness, options: { env?: Record<string, string>; context?: BrowserContextOptions } = {}): Promise<TabInBrowser> {
  const server = startServer({ ...h.env, PORT: String(await freePort()), LOCAL_DEV_UNAUTHENTICATED: 'true', ...options.env });
  let browser: Browser | undefined;
  try {
    const url = await server.listening;
    await runsEnded(h);
    browser = await launchChromium();
    const context = await tabContext(browser, options.context);
    const page = await context.newPage();
    const opened = browser;
    return {
      server,
      url,
      browser,
      context,
      page,
      problems: watchProblems(page),
      close: async () => {
        await opened.close();
        await server.stop();
      },
    };
  } catch (err) {
    await browser?.close();
    await server.stop();
    throw err;
  }
}

/** Waits for the first row of the table named `name`: the page has its data. */
export const firstRowOf = (page: Page, name: string) => page.getByRole('table', { name }).getByRole('row').nth(1).waitFor({ timeout: 30_000 });

/**
 * Each page in a dark colour scheme, as an admin whose Teams is dark sees it: a dark background,
 * no accessibility problem (axe), nothing broken; a screenshot of each in `shots`.
 */
export async function expectDarkPages(context: BrowserContext, url: string, shots: string, pages: readonly { name: string; hash: string; ready(page: Page): Promise<unknown> }[]): Promise<void> {
  const dark = await context.newPage();
  const problems = watchProblems(dark);
  await dark.emulateMedia({ colorScheme: 'dark' });
  for (const { name, hash, ready } of pages) {
    await dark.goto(`${url}/tab/index.html${hash}`);
    await ready(dark);
    const background = await dark.evaluate(() => getComputedStyle(document.querySelector('.fui-FluentProvider')!).backgroundColor);
    const [r, g, b] = background.match(/\d+/g)!.map(Number);
    expect(r + g + b).toBeLessThan(200);
    await dark.screenshot({ path: path.join(shots, `${name}-dark.png`), fullPage: true });
    expect(`${name}: ${(await accessibilityProblems(dark)).join('; ')}`).toBe(`${name}: `);
  }
  expect(problems).toEqual([]);
  await dark.close();
}
