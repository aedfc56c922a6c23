// Bundles the tab's page (tab/web/src) with esbuild into dist/tab-web, where the server serves it
// at /tab/assets/. Run by `npm run build`, `npm start` and `npm test`.
import fs from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');
export const TAB_BUNDLE_DIR = path.join(ROOT, 'dist', 'tab-web');

const FLUENT = '@fluentui/react-components';
const FLUENT_DIR = path.dirname(require.resolve(`${FLUENT}/package.json`));

/** What Fluent's index exports, by name: the package each comes from and its name there. */
function fluentExports(): Map<string, { from: string; name: string }> {
  const index = fs.readFileSync(path.join(FLUENT_DIR, 'lib', 'index.js'), 'utf8').replace(/\/\/.*$/gm, '');
  const found = new Map<string, { from: string; name: string }>();
  for (const [, names, from] of index.matchAll(/export \{([^}]*)\} from "([^"]+)";/g)) {
    for (const entry of names
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean)) {
      const [name, as = name] = entry.split(/\s+as\s+/);
      found.set(as, { from, name });
    }
  }
  return found;
}

/**
 * The page's imports from Fluent's index, rewritten to the packages the index re-exports from.
 * esbuild splits code by file: through the one index the dashboard imports, every component a
 * lazily loaded page uses (dialogs, switches, selects…) would load with the dashboard. Imported
 * from its own package, each loads with the page that uses it. Types are left to TypeScript.
 */
function fluentByPackage(): Plugin {
  return {
    name: 'fluent-by-package',
    setup(b) {
      const exported = fluentExports();
      const packages = new Set([...exported.values()].map((e) => e.from));
      b.onLoad({ filter: /[\\/]tab[\\/]web[\\/]src[\\/].*\.tsx?$/ }, async (args) => {
        const source = await fs.promises.readFile(args.path, 'utf8');
        const contents = source.replace(/import \{([^}]*)\} from '@fluentui\/react-components';/g, (statement, list: string) => {
          const byPackage = new Map<string, string[]>();
          for (const entry of list
            .split(',')
            .map((n) => n.trim())
            .filter((n) => n && !n.startsWith('type '))) {
            const [name, as = name] = entry.split(/\s+as\s+/);
            const origin = exported.get(name);
            if (!origin) throw new Error(`${path.relative(ROOT, args.path)}: ${FLUENT} exports no ${name}`);
            byPackage.set(origin.from, [...(byPackage.get(origin.from) ?? []), `${origin.name} as ${as}`]);
          }
          const imports = [...byPackage].map(([from, names]) => `import { ${names.join(', ')} } from '${from}';`).join(' ');
          // As many lines as the statement had: the source map keeps pointing at the right ones.
          return imports + '\n'.repeat(statement.split('\n').length - 1);
        });
        return { contents, loader: args.path.endsWith('.tsx') ? 'tsx' : 'ts' };
      });
      // Those packages are Fluent's dependencies, resolved from where Fluent is installed.
      b.onResolve({ filter: /^@(fluentui|griffel)\// }, (args) => {
        if (!packages.has(args.path) || args.pluginData === FLUENT) return undefined;
        return b.resolve(args.path, { resolveDir: FLUENT_DIR, kind: args.kind, pluginData: FLUENT });
      });
    },
  };
}

/** What the build wrote: every script, and the first load (app.js and the chunks it imports statically). */
export interface TabBundleSizes {
  files: number;
  bytes: number;
  firstLoad: { files: number; bytes: number };
}

export async function buildTab(): Promise<TabBundleSizes> {
  // Chunk names carry their content's hash: last build's must not linger beside this one's.
  fs.rmSync(TAB_BUNDLE_DIR, { recursive: true, force: true });
  const { metafile } = await build({
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
    plugins: [fluentByPackage()],
    metafile: true,
  });
  const scripts = Object.entries(metafile.outputs).filter(([file]) => file.endsWith('.js'));
  // The dashboard's cold load fetches these before anything shows: the figure that must not grow.
  const first = new Set<string>();
  const visit = (file: string) => {
    if (first.has(file)) return;
    first.add(file);
    for (const i of metafile.outputs[file].imports) if (i.kind === 'import-statement') visit(i.path);
  };
  visit(scripts.find(([file]) => file.endsWith('/app.js'))![0]);
  const bytes = (files: [string, { bytes: number }][]) => files.reduce((n, [, o]) => n + o.bytes, 0);
  return {
    files: scripts.length,
    bytes: bytes(scripts),
    firstLoad: { files: first.size, bytes: bytes(scripts.filter(([file]) => first.has(file))) },
  };
}

if (require.main === module) {
  buildTab().then(
    (sizes) =>
      console.log(
        `tab bundled into ${path.relative(ROOT, TAB_BUNDLE_DIR)}: ${sizes.files} scripts, ${sizes.bytes.toLocaleString('en')} bytes; ` +
          `the first load ${sizes.firstLoad.files} of them, ${sizes.firstLoad.bytes.toLocaleString('en')} bytes`,
      ),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
