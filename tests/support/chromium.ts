// Debian's Chromium driven by playwright-core: never a downloaded browser.
import { X509Certificate, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * `trustCertificate`: a PEM certificate the browser accepts for HTTPS (the local stand-ins'), as a
 * developer's browser does once it trusts .local/tls/ca.pem; every other certificate is checked as usual.
 */
export function launchChromium(options: { trustCertificate?: string } = {}): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  const trust = options.trustCertificate ? [`--ignore-certificate-errors-spki-list=${spkiHash(options.trustCertificate)}`] : [];
  return chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...trust] });
}

function spkiHash(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Where a test keeps its screenshots: .local/test-artifacts/<name>, git-ignored. */
export function artifactDir(name: string): string {
  const dir = path.resolve(__dirname, '..', '..', '.local', 'test-artifacts', name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A browser context for the tab's page. teams-js fetches the Teams host origins it trusts from
 * Microsoft's CDN, out of reach here: this answers with the two every list has.
 */
export async function tabContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, ...options });
  await context.route('https://res.cdn.office.net/**', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ validOrigins: ['teams.microsoft.com', '*.teams.microsoft.com'] }) }),
  );
  return context;
}

/** What a page reports as broken: console errors (a refused Content-Security-Policy shows there, as does a failed request) and uncaught errors. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  return problems;
}
