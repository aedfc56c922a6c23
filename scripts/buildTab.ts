// Bundles the tab's page (tab/web/src) with esbuild into dist/tab-web, where the server serves it
// at /tab/assets/. Run by `npm run build`, `npm start` and `npm test`.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');
export const TAB_BUNDLE_DIR = path.join(ROOT, 'dist', 'tab-web');

export async function buildTab(): Promise<void> {
  // Chunk names carry their content's hash: last build's must not linger beside this one's.
  fs.rmSync(TAB_BUNDLE_DIR, { recursive: true, force: true });
  await build({
    entryPoints: { app: path.join(ROOT, 'tab', 'web', 'src', 'main.tsx') },
    outdir: TAB_BUNDLE_DIR,
    bundle: true,
    // ES modules, split: what only some pages need (MSAL, outside Teams) is its own chunk, loaded when needed.
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    platform: 'browser',
    target: ['chrome120', 'edge120', 'safari16', 'firefox120'],
    jsx: 'automatic',
    minify: true,
    sourcemap: 'linked',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
    legalComments: 'linked',
  });
}

if (require.main === module) {
  buildTab().then(
    () => console.log(`tab bundled into ${path.relative(ROOT, TAB_BUNDLE_DIR)}`),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
