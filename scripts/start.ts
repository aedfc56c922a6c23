// `npm start`: the whole product on this machine. Azurite (persisting under .local/azurite), the
// TeleMessage, Graph and sign-in emulators seeded with a generated day of traffic, and the server,
// wired together only through configuration, as production is. Ctrl-C stops everything.
// `npm start -- --sign-in`: the tab signs in (MSAL against the sign-in emulator) as in production.
// `npm start -- --source smtp|sftp`: TeleMessage delivers the day into a capture mailbox of the
// Graph emulator, or as ZIPs into an Azurite landing container, and the connector reads it there.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureLocalTls } from '../emulators/tls/localCa';
import { startAzurite } from '../emulators/storage/azurite';
import type { LocalStackInfo } from '../emulators/localStack';
import { loadConfig } from '../server/config';
import { createConfiguredImporter } from '../server/importerFactory';
import { NODE_RUNTIME_ENV, NODE_RUNTIME_FLAGS } from '../server/runtimeEnv';
import { startAgentsPlayground } from './agentsPlayground';
import { buildTab } from './buildTab';
import { watchRuns } from './runWatch';
import { LOCAL_SOURCES, type LocalLanding, type LocalSource } from '../emulators/localDelivery';

const ROOT = path.resolve(__dirname, '..');
const PORTS = { server: 3978, telemessage: 7101, graph: 7102, signin: 7103, teamsHost: 7104, blob: 10000, queue: 10001, table: 10002, playground: 56150 };
const SIGN_IN = process.argv.includes('--sign-in');
const SOURCE = sourceArgument(process.argv);
const LANDING_CONTAINER = 'telemessage';
const children: ChildProcess[] = [];
/** The server gets time to end a run it is in; the others stop at once. */
const slowToStop = new Set<ChildProcess>();

async function main(): Promise<void> {
  const tls = ensureLocalTls();
  const childEnv = { ...process.env, NODE_EXTRA_CA_CERTS: tls.caPath };
  const azuriteDir = path.join(ROOT, '.local', 'azurite');
  fs.mkdirSync(azuriteDir, { recursive: true });

  step('Azurite (Table and Blob Storage)');
  const azurite = await startAzurite({ inMemory: false, location: azuriteDir, blobPort: PORTS.blob, queuePort: PORTS.queue, tablePort: PORTS.table, ownProcessGroup: true });
  children.push(azurite.process);

  step('emulators (TeleMessage, Microsoft Graph, sign-in, Teams host) with a generated day of traffic');
  const stackChild = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'emulators', 'localStack.ts')], {
    detached: true,
    cwd: ROOT,
    env: {
      ...childEnv,
      LOCAL_STACK_PORTS: JSON.stringify(PORTS),
      LOCAL_STACK_PUBLIC_URL: `http://localhost:${PORTS.server}`,
      LOCAL_STACK_SOURCE: SOURCE,
      ...(SOURCE === 'sftp' && { LOCAL_STACK_LANDING: JSON.stringify({ connectionString: azurite.connectionString, container: LANDING_CONTAINER } satisfies LocalLanding) }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(stackChild);
  const stack = await readReadyLine<LocalStackInfo>(stackChild, 'emulators');
  // The local admin: the Agents Playground's signed-in user, on the connector's admin list.
  const { admin, member } = stack.people;

  const serverEnv: Record<string, string> = {
    NODE_EXTRA_CA_CERTS: tls.caPath,
    PORT: String(PORTS.server),
    PUBLIC_URL: `http://localhost:${PORTS.server}`,
    LOCAL_DEV_UNAUTHENTICATED: 'true',
    ...(SIGN_IN && { LOCAL_DEV_TAB_SIGN_IN: 'true' }),
    // The Teams host emulator may frame the tab, and the page trusts it as Teams.
    ...(stack.teamsHost && { LOCAL_DEV_TEAMS_HOST_ORIGIN: stack.teamsHost.origin }),
    STORAGE_CONNECTION_STRING: azurite.connectionString,
    TENANT_ID: stack.tenantId,
    CLIENT_ID: stack.clientId,
    CLIENT_SECRET: stack.clientSecret,
    AUTHORITY_HOST: stack.signinUrl,
    GRAPH_BASE_URL: stack.graphUrl,
    TELEMESSAGE_BASE_URL: stack.telemessageUrl,
    LOCAL_SECRET_KEY_FILE: path.join(ROOT, '.local', 'secret.key'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    ADMIN_OBJECT_IDS: admin.oid,
    // The landing container: in Azurite beside the records here; a storage account of its own in Azure.
    ...(SOURCE === 'sftp' && { SFTP_STORAGE_CONNECTION_STRING: azurite.connectionString, SFTP_CONTAINER: LANDING_CONTAINER, SFTP_SETTLE_SECONDS: '5' }),
  };
  // `npm run archive` picks this up to talk to the same local stack; it holds local secrets only.
  fs.writeFileSync(path.join(ROOT, '.local', 'server.env'), JSON.stringify(serverEnv, null, 2), { mode: 0o600 });
  const seeded = await seedLocalConnector(serverEnv, stack);

  step('the tab page (esbuild)');
  await buildTab();

  step('server');
  const serverChild = spawn(process.execPath, [...NODE_RUNTIME_FLAGS, '--disable-warning=DEP0111', '--import', 'tsx', path.join(ROOT, 'server', 'index.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...NODE_RUNTIME_ENV,
      ...serverEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  children.push(serverChild);
  slowToStop.add(serverChild);
  await waitForLine(serverChild, /server listening/, 'server', true);
  // The server's runs (the one at start, the tab's, the bot's) said as they go, not in silence.
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  watchRuns(await createConfiguredImporter(loadConfig(serverEnv), quiet), (line) => console.log(`[progress] ${line}`), watching.signal);

  step('Microsoft 365 Agents Playground (the Teams client of the local bot)');
  const playground = await startAgentsPlayground({
    botEndpoint: `http://localhost:${PORTS.server}/api/messages`,
    port: PORTS.playground,
    dir: path.join(ROOT, '.local', 'playground'),
    tenantId: stack.tenantId,
    user: { name: admin.name, email: admin.preferredUsername, aadObjectId: admin.oid },
    ownProcessGroup: true,
  });
  children.push(playground.process);

  // One piece dying takes the rest down: a half-running stack would only mislead.
  for (const [name, child] of [
    ['Azurite', azurite.process],
    ['emulators', stackChild],
    ['server', serverChild],
    ['Agents Playground', playground.process],
  ] as const) {
    child.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`${name} stopped unexpectedly (${signal ?? `exit code ${code}`}); stopping everything.`);
      stopAll(1);
    });
  }

  const server = `http://localhost:${PORTS.server}`;
  const tabLine = SIGN_IN
    ? `(signs in with MSAL at the sign-in emulator: pick ${admin.name}, a connector admin, or ${member.name}, who is not; the browser must trust .local/tls/ca.pem)`
    : '(the imports dashboard, in a plain browser; unauthenticated here: npm start -- --sign-in signs in)';
  console.log(`
Enterprise Number Archiver is running locally (development mode, loopback only; ${SIGN_IN ? 'the tab signs in, the bot endpoint is unauthenticated' : 'unauthenticated'}).

  Tab               ${server}/tab/index.html  ${tabLine}
  Tab in Teams      ${stack.teamsHost?.url ?? '(no Teams host)'}  (the tab as Teams frames it, by the Teams host emulator: switch theme, user and SSO outcome there; ?subPageId=run:<run id> opens a run; the browser must trust .local/tls/ca.pem)
  Bot in Teams      ${playground.url}  (Agents Playground, signed in as ${admin.name}, a connector admin: open the chat to install the bot and see the latest import's card)
  Bot endpoint      ${server}/api/messages
  Server health     ${server}/healthz
  Storage           Azurite: blobs ${azurite.blobEndpoint}, tables ${azurite.tableEndpoint} (data in .local/azurite)
  TeleMessage       ${stack.telemessageUrl}  (user "${stack.telemessageUsername}"; ${stack.summary})
  Delivery          ${stack.deliverySummary ?? 'the archive API (npm start -- --source smtp|sftp delivers by email or ZIP instead)'}
  Microsoft Graph   ${stack.graphUrl}/v1.0  (${stack.mailboxCount} mailboxes; inspect at ${stack.graphUrl}/_emulator/mailboxes)
  Sign-in (Entra)   ${stack.signinUrl}/${stack.tenantId}/v2.0
  Mapping CSV       ${path.relative(ROOT, stack.mappingCsvPath)}  (TeleMessage format, to upload in the tab)
  Connector         ${seeded}

Archive yesterday's traffic now:   npm run archive
See the runs:                      npm run archive -- --runs

Press Ctrl-C to stop everything.
`);
}

/**
 * A fresh local connector is set up as an admin would: TeleMessage sign-in (the password into the
 * local secret store) and the custom mapping. An existing one is left as it is.
 */
async function seedLocalConnector(env: Record<string, string>, stack: LocalStackInfo): Promise<string> {
  const importer = await createConfiguredImporter(loadConfig(env), { info: () => undefined, warn: () => undefined, error: () => undefined });
  // The source chosen on the command line, as an admin would choose it in the setup's TeleMessage step.
  const current = await importer.connector.settings();
  if ((current.value.delivery ?? 'api') !== SOURCE || (SOURCE === 'smtp' && current.value.captureMailbox !== stack.captureMailbox)) {
    await importer.delivery.set(SOURCE === 'smtp' ? { delivery: 'smtp', captureMailbox: stack.captureMailbox } : { delivery: SOURCE }, 'local-setup', { etag: current.etag });
  }
  const source = async () => (await importer.delivery.status()).description;
  if (current.value.telemessageUsername) return `already set up (${await source()})`;
  const identity = JSON.parse(fs.readFileSync(path.join(ROOT, '.local', 'dev-identity.json'), 'utf8')) as { telemessagePassword: string };
  await importer.connector.setTeleMessageCredentials(stack.telemessageUsername, identity.telemessagePassword, 'local-setup');
  const { entries } = await importer.mapping.upload(fs.readFileSync(stack.mappingCsvPath), 'local-setup', { etag: (await importer.connector.settings()).etag });
  // The rest of the tab's setup, as an admin finishing it leaves it (its Setup page can change any step).
  const now = new Date().toISOString();
  await importer.connector.update({ termsAcceptedAt: now, mappingConfirmedAt: now, consentedAt: now, scheduleTimeZone: 'UTC', setupCompletedAt: now }, 'local-setup', {
    etag: (await importer.connector.settings()).etag,
  });
  // Described once the sign-in is stored: the archive API reads "as <user>" from then on.
  return `set up: ${await source()}; TeleMessage sign-in stored encrypted, ${entries} numbers in the custom mapping, automatic mapping on`;
}

/** `--source smtp|sftp` (or `--source=…`); the archive API unless given. */
function sourceArgument(argv: readonly string[]): LocalSource {
  const at = argv.findIndex((a) => a === '--source' || a.startsWith('--source='));
  if (at < 0) return 'api';
  const value = argv[at].includes('=') ? argv[at].split('=')[1] : argv[at + 1];
  if (!LOCAL_SOURCES.includes(value as LocalSource)) {
    console.error(`--source must be one of ${LOCAL_SOURCES.join(', ')}; got ${JSON.stringify(value ?? '')}.`);
    process.exit(2);
  }
  return value as LocalSource;
}

function step(what: string): void {
  console.log(`starting ${what} ...`);
}

/** Reads the child's first `READY <json>` line; everything else it prints passes through. */
function readReadyLine<T>(child: ChildProcess, name: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let buffer = '';
    let ready = false;
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!ready && line.startsWith('READY ')) {
          ready = true;
          resolve(JSON.parse(line.slice(6)) as T);
        } else {
          process.stdout.write(`[${name}] ${line}\n`);
        }
      }
    });
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`${name} exited with code ${code} before it was ready`));
    });
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp, name: string, echo: boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let seen = false;
    child.stdout!.on('data', (d: Buffer) => {
      const text = d.toString();
      if (echo) for (const line of text.split('\n').filter(Boolean)) process.stdout.write(`[${name}] ${line}\n`);
      if (!seen && pattern.test(text)) {
        seen = true;
        resolve();
      }
    });
    child.once('exit', (code) => {
      if (!seen) reject(new Error(`${name} exited with code ${code} before it was ready`));
    });
  });
}

let stopping = false;
const watching = new AbortController();

/** How long the server gets to end a run it is in (recording it as stopped) before it is killed. */
const SERVER_STOP_MS = 10_000;
const OTHERS_STOP_MS = 1_500;

/**
 * Every piece runs in a process group of its own (detached), so a Ctrl-C in the terminal reaches
 * this process alone and not storage and the emulators at the same moment as the server.
 * Stops the pieces in the reverse order of their start, each after the one before has exited:
 * the Playground, then the server, while storage and the emulators still answer, so the run it is in ends
 * recorded as stopped and its lease is released, then the emulators, then Azurite.
 */
function stopAll(code: number): void {
  if (stopping) return;
  stopping = true;
  watching.abort();
  fs.rmSync(path.join(ROOT, '.local', 'server.env'), { force: true });
  void (async () => {
    for (const child of [...children].reverse()) await stopChild(child, slowToStop.has(child) ? SERVER_STOP_MS : OTHERS_STOP_MS);
    process.exit(code);
  })();
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

process.on('SIGINT', () => {
  // tsx passes the terminal's Ctrl-C on as well: say it once.
  if (!stopping) console.log('\nstopping ...');
  stopAll(0);
});
process.on('SIGTERM', () => stopAll(0));
process.on('SIGHUP', () => stopAll(0));
// Last resort, should this process end some other way: no piece outlives it.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

main().catch((err: Error) => {
  console.error(`npm start failed: ${err.message}`);
  stopAll(1);
});
