// `npm run package [-- --env <name>] [-- --local]`: fills appPackage/manifest.json from environment
// variables, validates it offline against its $schema and checks the icons, then writes
// appPackage/build/appPackage.<env>.zip, ready to upload to Teams.
// Values come from the process environment, then env/.env.<env>; --local fills what is still
// missing with dry-run placeholders (a package that validates but belongs to no tenant).
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { AppManifestUtils, type TeamsManifest } from '@microsoft/app-manifest';

const ROOT = path.resolve(__dirname, '..');
const APP_PACKAGE_DIR = path.join(ROOT, 'appPackage');
const TEMPLATE_PATH = path.join(APP_PACKAGE_DIR, 'manifest.json');
const PLACEHOLDER = /\$\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;
const ICONS = { color: { file: 'color.png', size: 192 }, outline: { file: 'outline.png', size: 32 } } as const;

const LOCAL_DEFAULTS: Record<string, string> = {
  TEAMS_APP_ID: '00000000-0000-4000-8000-000000000001',
  CLIENT_ID: '00000000-0000-4000-8000-000000000002',
  BOT_ID: '00000000-0000-4000-8000-000000000003',
  PUBLIC_URL: 'https://localhost:3978',
};

export type Values = Record<string, string | undefined>;

export class AppPackageError extends Error {
  readonly code = 'AppPackageInvalid';
  constructor(readonly problems: string[]) {
    super(`The Teams app package is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The variable names the manifest template refers to, each once. */
function placeholdersIn(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/** PUBLIC_HOST follows from PUBLIC_URL, so an environment only has to give the URL. */
function withDerived(values: Values): { values: Values; problems: string[] } {
  const publicUrl = values.PUBLIC_URL;
  if (!publicUrl) return { values, problems: [] };
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    return { values, problems: ['PUBLIC_URL: not a URL'] };
  }
  // Teams loads tabs and reaches the bot only over https.
  const problems = url.protocol === 'https:' ? [] : ['PUBLIC_URL: must start with https://'];
  if (url.pathname !== '/' || publicUrl.endsWith('/')) problems.push('PUBLIC_URL: the origin only, without a path or trailing slash');
  return { values: { ...values, PUBLIC_HOST: values.PUBLIC_HOST || url.host }, problems };
}

/** The template with every placeholder replaced; names every variable that is missing at once. */
export function fillManifest(template: string, values: Values): TeamsManifest {
  const { values: all, problems } = withDerived(values);
  const derivable = all.PUBLIC_URL ? [] : ['PUBLIC_HOST'];
  const missing = placeholdersIn(template).filter((name) => !all[name] && !derivable.includes(name));
  problems.push(...missing.map((name) => `${name}: not set (environment or env/.env.<env>)`));
  if (problems.length) throw new AppPackageError(problems);
  // Values land inside JSON strings, so they are escaped as such.
  const filled = template.replace(PLACEHOLDER, (_, name: string) => JSON.stringify(all[name]).slice(1, -1));
  return JSON.parse(filled) as TeamsManifest;
}

/** Schema errors, checked offline: @microsoft/app-manifest ships the schema the $schema names. */
export async function manifestProblems(manifest: TeamsManifest): Promise<string[]> {
  const errors = await AppManifestUtils.validateAgainstSchema(manifest);
  return errors.map((e) => `manifest${e}`);
}

/** Sizes, and the outline icon being white on transparency, as Teams requires. */
function iconProblems(): string[] {
  const problems: string[] = [];
  for (const [kind, { file, size }] of Object.entries(ICONS)) {
    const png = PNG.sync.read(fs.readFileSync(path.join(APP_PACKAGE_DIR, file)));
    if (png.width !== size || png.height !== size) problems.push(`${file}: is ${png.width}x${png.height}, must be ${size}x${size}`);
    if (kind !== 'outline') continue;
    let opaque = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const alpha = png.data[i + 3];
      if (alpha === 0) continue;
      opaque++;
      if (png.data[i] !== 255 || png.data[i + 1] !== 255 || png.data[i + 2] !== 255) {
        problems.push(`${file}: every visible pixel must be white`);
        break;
      }
    }
    if (opaque === 0 || opaque === png.width * png.height) problems.push(`${file}: must be a white glyph on a transparent background`);
  }
  return problems;
}

export interface BuildOptions {
  /** Names the zip: appPackage.<env>.zip. */
  env: string;
  values: Values;
  outDir?: string;
}

/** Fills, validates and zips; returns the zip's path. Writes nothing when anything is wrong. */
export async function buildAppPackage({ env, values, outDir = path.join(APP_PACKAGE_DIR, 'build') }: BuildOptions): Promise<string> {
  if (!/^[A-Za-z0-9-]+$/.test(env)) throw new AppPackageError([`environment name "${env}": letters, digits and dashes only`]);
  const manifest = fillManifest(fs.readFileSync(TEMPLATE_PATH, 'utf8'), values);
  const problems = [...(await manifestProblems(manifest)), ...iconProblems()];
  if (problems.length) throw new AppPackageError(problems);

  const zip = new JSZip();
  zip.file('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
  for (const { file } of Object.values(ICONS)) zip.file(file, fs.readFileSync(path.join(APP_PACKAGE_DIR, file)));
  fs.mkdirSync(outDir, { recursive: true });
  const zipPath = path.join(outDir, `appPackage.${env}.zip`);
  fs.writeFileSync(zipPath, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
  return zipPath;
}

function readEnvFile(env: string): Values {
  const file = path.join(ROOT, 'env', `.env.${env}`);
  return fs.existsSync(file) ? parseEnv(fs.readFileSync(file, 'utf8')) : {};
}

/** Later sources win, but an empty value never hides an earlier one. */
function merge(...sources: Values[]): Values {
  const merged: Values = {};
  for (const source of sources) {
    for (const [name, value] of Object.entries(source)) if (value) merged[name] = value;
  }
  return merged;
}

async function main(argv: string[]): Promise<void> {
  const local = argv.includes('--local');
  const envFlag = argv.indexOf('--env');
  const env = envFlag >= 0 ? (argv[envFlag + 1] ?? '') : local ? 'local' : process.env.TEAMSFX_ENV || 'dev';
  const values = merge(local ? LOCAL_DEFAULTS : {}, readEnvFile(env), process.env);
  try {
    const zipPath = await buildAppPackage({ env, values });
    process.stdout.write(`wrote ${path.relative(process.cwd(), zipPath)}\n`);
  } catch (err) {
    if (!(err instanceof AppPackageError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main(process.argv.slice(2));
