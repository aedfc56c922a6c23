// The tab as an admin meets it in local development: the real server (its own process, no
// sign-in), its first scheduled run ended, and a page in headless Chromium that records what
// breaks. The setup every browser test of the tab's pages shares.
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
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
