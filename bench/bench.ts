// `npm run bench`: one import of a generated, skewed day, and the figures that say how well the
// importer uses what Microsoft Graph allows: deliveries per second, the importer's peak RSS, the
// 429s it drew, and its duration against the lower bound the busiest mailbox's limits set.
//   npm run bench -- [--deliveries 200000] [--mailboxes 1000] [--time-scale 1] [--item-workers N] [--source api|smtp|sftp] [--workers N]
//   (--workers N: the run hands its deliveries over a work queue to N worker processes, bench/benchWorker.ts)
//   npm run bench -- --mapping    (only the custom mapping's figures, bench/benchMapping.ts)
//   npm run bench -- --bot | --tab (the bot endpoint, the tab: bench/benchBot.ts, bench/benchTab.ts)
// Azurite, the emulators and the importer each run in a process of their own; the importer runs
// compiled, with the environment production gives it, and its memory is sampled from /proc every
// 250 ms. Time scale 1 is Microsoft's own limits; a smaller one shrinks Graph's windows (and the
// importer's pacing) alike, which makes the run shorter and Graph more generous than it is.
// BENCH_DEBUG_FLAGS adds Node flags to the importer's (e.g. "--heapsnapshot-signal=SIGUSR2"),
// to look into its memory or try a setting before it goes into server/runtimeEnv.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { GraphEmulatorStats } from '../emulators/graph/server';
import { startAzurite, type RunningAzurite } from '../emulators/storage/azurite';
import { ensureLocalTls } from '../emulators/tls/localCa';
import { NODE_RUNTIME_ENV, NODE_RUNTIME_FLAGS } from '../server/runtimeEnv';
import { benchPopulation, benchUserId, deliveriesPerItem, scaledLimits, type BenchPlan } from './benchPlan';
import { RESULT_PREFIX, type BenchImportInput, type BenchImportResult } from './benchImport';
import { formatProfileTop, profileTop } from './benchProfile';
import { READY_PREFIX, type BenchStackReady, type BenchStackSecrets } from './benchStack';
import { WORKER_READY, WORKER_RESULT_PREFIX, type BenchWorkerResult } from './benchWorker';
import type { PacingSummary } from '../importer';

const USAGE =
  'usage: npm run bench -- [--deliveries 200000] [--mailboxes 1000] [--time-scale 1] [--item-workers N] [--seed bench] [--source api|smtp|sftp] [--workers N] [--cpu-prof] | --mapping | --bot | --tab';
const WORK_QUEUE = 'bench-delivery-units';
const SOURCES = ['api', 'smtp', 'sftp'] as const;
const LANDING_CONTAINER = 'telemessage';
/** The benches that run alone, each in its own script. */
const ALONE = { mapping: 'benchMapping.ts', bot: 'benchBot.ts', tab: 'benchTab.ts' };
const DEFAULTS = { deliveries: 200_000, mailboxes: 1000, timeScale: 1, seed: 'bench', day: '2026-03-02' };
const MIB = 1024 * 1024;
const SAMPLE_EVERY_MS = 250;

interface Args {
  deliveries: number;
  mailboxes: number;
  timeScale: number;
  itemWorkers?: number;
  seed: string;
  /** How TeleMessage delivers the day (bench/benchStack.ts delivers it that way before the import). */
  source: (typeof SOURCES)[number];
  /** Worker processes taking the run's deliveries from a work queue; none: the importer writes them itself. */
  workers?: number;
  /** Writes a V8 CPU profile of the importer under .local/bench/profiles. */
  cpuProf: boolean;
  /** Only the custom mapping's figures (a 100,000-row file), not the import. */
  mapping: boolean;
  /** Only the bot endpoint's response time under a running import. */
  bot: boolean;
  /** Only the tab's figures: the dashboard's load time, the API's response time under an import. */
  tab: boolean;
}

function readArgs(): Args {
  const { values } = parseArgs({
    options: {
      deliveries: { type: 'string' },
      mailboxes: { type: 'string' },
      'time-scale': { type: 'string' },
      'item-workers': { type: 'string' },
      seed: { type: 'string' },
      source: { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      workers: { type: 'string' },
      mapping: { type: 'boolean' },
      bot: { type: 'boolean' },
      tab: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const positive = (value: string | undefined, fallback: number, flag: string): number => {
    const n = value === undefined ? fallback : Number(value);
    if (!(Number.isFinite(n) && n > 0)) throw new Error(`${flag} needs a positive number\n${USAGE}`);
    return n;
  };
  return {
    deliveries: Math.round(positive(values.deliveries, DEFAULTS.deliveries, '--deliveries')),
    mailboxes: Math.round(positive(values.mailboxes, DEFAULTS.mailboxes, '--mailboxes')),
    timeScale: positive(values['time-scale'], DEFAULTS.timeScale, '--time-scale'),
    itemWorkers: values['item-workers'] === undefined ? undefined : Math.round(positive(values['item-workers'], 0, '--item-workers')),
    seed: values.seed ?? DEFAULTS.seed,
    source: source(values.source),
    workers: values.workers === undefined ? undefined : Math.round(positive(values.workers, 0, '--workers')),
    cpuProf: values['cpu-prof'] ?? false,
    mapping: values.mapping ?? false,
    bot: values.bot ?? false,
    tab: values.tab ?? false,
  };
}

function source(value: string | undefined): Args['source'] {
  if (value === undefined) return 'api';
  if (!(SOURCES as readonly string[]).includes(value)) throw new Error(`--source must be one of ${SOURCES.join(', ')}\n${USAGE}`);
  return value as Args['source'];
}

async function main(): Promise<void> {
  const args = readArgs();
  const tls = ensureLocalTls();
  const alone = (['mapping', 'bot', 'tab'] as const).find((name) => args[name]);
  if (alone) {
    // A process of its own, so its emulators and clients trust the local CA from the start.
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, ALONE[alone])], { env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caPath }, stdio: 'inherit' });
    if (child.status !== 0) throw new Error(`the ${alone} bench failed`);
    return;
  }
  const stateDir = path.resolve(__dirname, '..', '.local', 'bench');
  fs.mkdirSync(stateDir, { recursive: true });

  const basePlan = { seed: args.seed, day: DEFAULTS.day, mailboxes: args.mailboxes, timeScale: args.timeScale, source: args.source };
  const population = benchPopulation(basePlan);
  const perItem = deliveriesPerItem(basePlan, population);
  // A little over, so the day reaches the asked-for deliveries despite sampling and malformed items.
  const plan: BenchPlan & { stateDir: string; itemWorkers?: number } = {
    ...basePlan,
    itemsPerDay: Math.ceil((args.deliveries / perItem) * 1.02),
    stateDir,
    itemWorkers: args.itemWorkers,
  };
  const secrets: BenchStackSecrets = {
    tenantId: randomUUID(),
    clientId: randomUUID(),
    clientSecret: randomBytes(24).toString('base64url'),
    telemessageUsername: 'archiver@contoso.example',
    telemessagePassword: randomBytes(12).toString('base64url'),
  };
  process.stdout.write(
    `bench: ${plan.itemsPerDay.toLocaleString('en-US')} items for about ${args.deliveries.toLocaleString('en-US')} deliveries into ${args.mailboxes.toLocaleString('en-US')} mailboxes, time scale ${plan.timeScale}, delivered by ${args.source}\n`,
  );

  const children: ChildProcess[] = [];
  let azurite: RunningAzurite | undefined;
  try {
    // In memory, so Azurite's own disk writes do not compete with the importer; raw items stay small.
    const built = compile(path.join(stateDir, 'dist'));
    azurite = await withAzuriteIndexes(built, () => startAzurite({ inMemory: true, extentMemoryLimitMb: 16_000 }));
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: tls.caPath };
    const landing = args.source === 'sftp' ? { BENCH_LANDING: JSON.stringify({ connectionString: azurite.connectionString, container: LANDING_CONTAINER }) } : {};
    const stackProcess = spawnBuilt(built, 'benchStack.js', { ...env, BENCH_PLAN: JSON.stringify(plan), BENCH_SECRETS: JSON.stringify(secrets), ...landing });
    children.push(stackProcess);
    const stack = JSON.parse(await lineStartingWith(stackProcess, READY_PREFIX, 'the bench emulators')) as BenchStackReady;

    if (stack.delivered) process.stdout.write(`delivered before the run: ${stack.delivered}\n`);
    const input: BenchImportInput = {
      plan,
      secrets,
      stack,
      connectionString: azurite.connectionString,
      ...(args.source === 'sftp' && { landingContainer: LANDING_CONTAINER }),
      ...(args.workers && { workQueue: WORK_QUEUE }),
    };
    const profiling = args.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.join(stateDir, 'profiles')}`] : [];
    const workers = await startWorkers(built, args.workers ?? 0, { ...env, ...NODE_RUNTIME_ENV, BENCH_IMPORT: JSON.stringify(input) }, profiling);
    children.push(...workers.map((w) => w.child));
    const flags = [...NODE_RUNTIME_FLAGS, ...(process.env.BENCH_DEBUG_FLAGS ?? '').split(' ').filter(Boolean), ...profiling];
    const importer = spawnBuilt(built, 'benchImport.js', { ...env, ...NODE_RUNTIME_ENV, BENCH_IMPORT: JSON.stringify(input) }, flags);
    children.push(importer);
    const memory = sampleMemory(importer.pid!);
    process.stdout.write('importing (progress every 10 s)...\n');
    const result = JSON.parse(await lineStartingWith(importer, RESULT_PREFIX, 'the importer')) as BenchImportResult;
    memory.stop();
    // It exits on its own (writing its CPU profile, when asked for one).
    await new Promise((resolve) => (importer.exitCode === null ? importer.once('exit', resolve) : resolve(undefined)));

    const workerResults = await Promise.all(workers.map((w) => w.stop()));
    const stats = await getJson<GraphEmulatorStats>(`${stack.graphUrl}/_emulator/stats`, tls.ca);
    const others = {
      azurite: { peakKb: peakRssKb(azurite.process.pid!), cpuMs: cpuMsOf(azurite.process.pid!) },
      emulators: { peakKb: peakRssKb(stackProcess.pid!), cpuMs: cpuMsOf(stackProcess.pid!) },
    };
    const upnOf = new Map(population.employees.slice(0, -1).map((e, i) => [benchUserId(i), e.mailbox]));
    process.stdout.write(report(plan, withWorkers(result, workerResults, plan.timeScale), stats, Math.max(memory.peakKb, result.maxRssKb), others, upnOf, workerResults));
    if (args.cpuProf) process.stdout.write(newestProfileTop(path.join(stateDir, 'profiles')));
    process.exitCode = result.run.status === 'succeeded' || result.run.status === 'partial' ? 0 : 1;
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await azurite?.stop();
  }
}

/** The top ten costs in the importer's profile just written, and where it is. */
function newestProfileTop(dir: string): string {
  const newest = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ file: path.join(dir, f), at: fs.statSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => b.at - a.at)[0];
  if (!newest) return 'no CPU profile was written\n';
  return `${formatProfileTop(profileTop(JSON.parse(fs.readFileSync(newest.file, 'utf8'))))}  (${newest.file})\n`;
}

/**
 * Azurite inherits this process's environment: for its start only, NODE_OPTIONS preloads the
 * shim that lets its LokiJS lookups use their indexes (bench/benchAzuriteLoki.ts says why).
 */
async function withAzuriteIndexes<T>(built: string, start: () => Promise<T>): Promise<T> {
  const before = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = [before, `--require ${path.join(built, 'bench', 'benchAzuriteLoki.js')}`].filter(Boolean).join(' ');
  try {
    return await start();
  } finally {
    if (before === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = before;
  }
}

/**
 * Compiles the project as production runs it (`node dist/...`, no TypeScript loader in the
 * process, whose transform cache would count in the importer's memory). Returns the output root.
 */
function compile(outDir: string): string {
  const root = path.resolve(__dirname, '..');
  process.stdout.write('compiling the importer and the emulators...\n');
  const tsc = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json'), '--outDir', outDir, '--incremental', '--tsBuildInfoFile', path.join(outDir, '.tsbuildinfo')],
    { encoding: 'utf8' },
  );
  // Type errors elsewhere in the tree still emit; only missing output stops the bench.
  if (!fs.existsSync(path.join(outDir, 'bench', 'benchImport.js'))) throw new Error(`compiling failed:\n${tsc.stdout}${tsc.stderr}`);
  // The emulators find the local CA relative to their own files.
  const tlsLink = path.join(outDir, '.local', 'tls');
  if (!fs.existsSync(tlsLink)) {
    fs.mkdirSync(path.dirname(tlsLink), { recursive: true });
    fs.symlinkSync(path.join(root, '.local', 'tls'), tlsLink);
  }
  return outDir;
}

function spawnBuilt(built: string, file: string, env: NodeJS.ProcessEnv, nodeFlags: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeFlags, path.join(built, 'bench', file)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  return child;
}

/** Resolves with the rest of the first stdout line that starts with `prefix`; rejects if the child exits first. */
function lineStartingWith(child: ChildProcess, prefix: string, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (d: Buffer) => {
      buffered += d.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith(prefix)) {
          child.removeListener('exit', onExit);
          resolve(line.slice(prefix.length));
          return;
        }
        process.stdout.write(`${line}\n`);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`${what} stopped (exit code ${code}) before reporting`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Samples a process's peak RSS (VmHWM) so a process that dies still leaves its figure. */
function sampleMemory(pid: number): { peakKb: number; stop(): void } {
  const sampler = {
    peakKb: 0,
    stop: () => clearInterval(timer),
  };
  const timer = setInterval(() => {
    sampler.peakKb = Math.max(sampler.peakKb, peakRssKb(pid));
  }, SAMPLE_EVERY_MS);
  return sampler;
}

function peakRssKb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0; // gone, or no /proc here
  }
}

/** User + system CPU time of a live process, from /proc/<pid>/stat (in clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  try {
    const fields = fs
      .readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

function getJson<T>(url: string, ca: string): Promise<T> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as T) : reject(new Error(`${url} answered ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

function report(
  plan: BenchPlan,
  result: BenchImportResult,
  stats: GraphEmulatorStats,
  peakKb: number,
  others: Record<'azurite' | 'emulators', { peakKb: number; cpuMs: number }>,
  upnOf: Map<string, string>,
  workers: readonly WorkerFigures[] = [],
): string {
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const mb = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const c = result.run.counts;
  const limits = scaledLimits(plan.timeScale);
  const throttled = stats.refused.concurrency + stats.refused.rate + stats.refused.upload + stats.refused.storm;
  const graphRequests = stats.served.total + throttled;
  const busiest = result.pacing?.busiest;
  const byRequests = busiest ? (busiest.requests * limits.requestWindowMs) / limits.requestsPerWindow : 0;
  const byBytes = busiest ? (busiest.uploadBytes * limits.uploadWindowMs) / limits.uploadBytesPerWindow : 0;
  // SMTP: the capture mailbox is one more mailbox under the same per-mailbox limit (a delta page per 50 emails, a $value each).
  // A run collects everything before it imports, so the two add up.
  const collection = result.run.collection;
  const captureRequests = plan.source === 'smtp' && collection ? collection.collected + collection.alreadyCollected + Math.ceil((collection.collected + collection.alreadyCollected) / 50) + 1 : 0;
  // Its requests past a window's allowance wait for the window to slide: the last starts no sooner than this.
  const byCapture = captureRequests > 0 ? Math.floor((captureRequests - 1) / limits.requestsPerWindow) * limits.requestWindowMs : 0;
  const lowerBoundMs = byCapture + Math.max(byRequests, byBytes);
  const ratio = lowerBoundMs > 0 ? result.durationMs / lowerBoundMs : NaN;
  const deliveries = c.imported + c.partiallyImported + c.deliveriesFailed;
  const importerCpuMs = result.cpuMs + workers.reduce((t, w) => t + w.cpuMs, 0);
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  return [
    '',
    'inputs',
    `  day                ${plan.day}, seed "${plan.seed}", skewed (Zipf 1.1 over employees), with MMS and recordings`,
    `  items              ${n(c.availableFromSource)} (${n(c.notImported)} with nobody mapped; ${n(c.unmapped)} unmapped participants)`,
    `  deliveries         ${n(c.afterFanOut)} into ${n(upnOf.size)} mailboxes: ${n(c.imported)} imported, ${n(c.partiallyImported)} partial, ${n(c.deliveriesFailed)} failed; ${n(c.failed)} items failed (malformed ones among them)`,
    `  time scale         ${plan.timeScale}: per mailbox ${n(limits.requestsPerWindow)} requests / ${s(limits.requestWindowMs)}, ${mb(limits.uploadBytesPerWindow)} upload / ${s(limits.uploadWindowMs)}, 4 concurrent`,
    busiest
      ? `  busiest mailbox    ${upnOf.get(busiest.mailbox) ?? busiest.mailbox}: ${n(busiest.requests)} requests, ${mb(busiest.uploadBytes)} uploaded (${n(busiest.throttled)} 429s)`
      : '  busiest mailbox    (none reported)',
    `  source             ${plan.source ?? 'api'}${collection ? `: collected ${n(collection.collected)}, already collected ${n(collection.alreadyCollected)}, ${n(collection.rejected.length)} rejected` : ''}`,
    '',
    'figures',
    `  run                ${result.run.status}${result.run.error ? ` (${result.run.error})` : ''}`,
    `  duration           ${s(result.durationMs)}${result.collectionMs === undefined ? '' : `: collection ${s(result.collectionMs)}, then the import ${s(result.durationMs - result.collectionMs)}`}`,
    `  deliveries/s       ${(deliveries / (result.durationMs / 1000)).toFixed(1)}`,
    // /proc counts in KiB; the target is in decimal megabytes (300 MB = 286.1 MiB).
    `  peak RSS           ${n((peakKb * 1024) / 1e6)} MB = ${n(peakKb / 1024)} MiB (target < 300 MB: ${mark(peakKb * 1024 < 300e6)})`,
    `  at the peak        V8 heap ${mb(result.atPeak.heapUsed)} used of ${mb(result.atPeak.heapTotal)}, buffers ${mb(result.atPeak.arrayBuffers)}, RSS ${mb(result.atPeak.rss)} (sampled every 0.1 s)`,
    `  429s               ${n(throttled)} of ${n(graphRequests)} Graph requests = ${((100 * throttled) / Math.max(1, graphRequests)).toFixed(2)} % (target < 2 %: ${mark(throttled < 0.02 * graphRequests)})`,
    `  lower bound        ${s(lowerBoundMs)} = ${captureRequests ? `capture mailbox ${s(byCapture)} (${n(captureRequests)} requests) + ` : ''}max(requests: ${s(byRequests)}, upload: ${s(byBytes)}) for the busiest mailbox`,
    `  duration / bound   ${ratio.toFixed(3)} (target <= 1.2: ${mark(ratio <= 1.2)})`,
    `  CPU time           importer ${s(result.cpuMs)}${workers.length ? ` (the run's coordinator) + workers ${s(workers.reduce((t, w) => t + w.cpuMs, 0))}` : ''}, Azurite ${s(others.azurite.cpuMs)}, emulators ${s(others.emulators.cpuMs)}`,
    `  CPU per delivery   ${(importerCpuMs / Math.max(1, deliveries)).toFixed(2)} ms of the importer's${workers.length ? ' and its workers' : ''} (target <= 3 ms: ${mark(importerCpuMs <= 3 * deliveries)})`,
    ...workers.map(
      (w, i) =>
        `  worker ${i + 1}           ${n(w.deliveries)} deliveries in ${n(w.units)} units, peak RSS ${n((w.peakKb * 1024) / 1e6)} MB, CPU ${s(w.cpuMs)} = ${(w.cpuMs / Math.max(1, w.deliveries)).toFixed(2)} ms a delivery`,
    ),
    `  others' peak RSS   Azurite ${n(others.azurite.peakKb / 1024)} MiB, emulators ${n(others.emulators.peakKb / 1024)} MiB`,
    '',
  ].join('\n');
}

interface WorkerFigures extends BenchWorkerResult {
  peakKb: number;
}

/** N worker processes, each ready to take units; `stop` ends one and reads its figures. */
async function startWorkers(built: string, count: number, env: NodeJS.ProcessEnv, flags: string[]): Promise<{ child: ChildProcess; stop(): Promise<WorkerFigures> }[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const child = spawnBuilt(built, 'benchWorker.js', env, [...NODE_RUNTIME_FLAGS, ...flags]);
      await lineStartingWith(child, WORKER_READY, `worker ${i + 1}`);
      const memory = sampleMemory(child.pid!);
      return {
        child,
        stop: async () => {
          const result = lineStartingWith(child, WORKER_RESULT_PREFIX, `worker ${i + 1}`);
          child.kill('SIGTERM');
          const figures = JSON.parse(await result) as BenchWorkerResult;
          memory.stop();
          return { ...figures, peakKb: Math.max(memory.peakKb, figures.maxRssKb) };
        },
      };
    }),
  );
}

/**
 * With workers, the mailboxes were written by them: the busiest mailbox, and the bound it sets,
 * come from every worker's share of its requests and bytes.
 */
function withWorkers(result: BenchImportResult, workers: readonly WorkerFigures[], timeScale: number): BenchImportResult {
  if (!workers.length) return result;
  const limits = scaledLimits(timeScale);
  const per = new Map<string, { requests: number; uploadBytes: number; throttled: number }>();
  for (const w of workers) {
    for (const [mailbox, st] of w.mailboxes) {
      const t = per.get(mailbox) ?? { requests: 0, uploadBytes: 0, throttled: 0 };
      const throttled = Object.values(st.throttled).reduce((a, b) => a + b, 0);
      t.requests += st.requests - throttled;
      t.uploadBytes += st.uploadBytes;
      t.throttled += throttled;
      per.set(mailbox, t);
    }
  }
  let busiest: NonNullable<PacingSummary['busiest']> | undefined;
  for (const [mailbox, t] of per) {
    const lowerBoundMs = Math.max((t.requests * limits.requestWindowMs) / limits.requestsPerWindow, (t.uploadBytes * limits.uploadWindowMs) / limits.uploadBytesPerWindow);
    if (!busiest || lowerBoundMs > busiest.lowerBoundMs) busiest = { mailbox, ...t, lowerBoundMs };
  }
  return { ...result, pacing: result.pacing && { ...result.pacing, busiest } };
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.message}\n`);
  process.exit(1);
});
