// Debian's Chromium driven by playwright-core: never a downloaded browser.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

/** Where a test keeps its screenshots: .local/test-artifacts/<name>, git-ignored. */
export function artifactDir(name: string): string {
  const dir = path.resolve(__dirname, '..', '..', '.local', 'test-artifacts', name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
