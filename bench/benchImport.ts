// The importer under measurement for `npm run bench`: a process of its own (its peak RSS is the
// importer's), started by bench/bench.ts with NODE_EXTRA_CA_CERTS set. Sets the connector up
// through the public API, imports the bench day once, and prints one RESULT line.
import fs from 'node:fs';
import path from 'node:path';
import { createImporter, type PacingSummary, type RunProgress, type RunRecord } from '../importer';
import { benchWindow, scaledLimits, type BenchPlan } from './benchPlan';
import type { BenchStackReady, BenchStackSecrets } from './benchStack';

export interface BenchImportInput {
  plan: BenchPlan & { stateDir: string; itemWorkers?: number };
  secrets: BenchStackSecrets;
  stack: BenchStackReady;
  connectionString: string;
  /** With source sftp: the landing container the day's ZIPs are in. */
  landingContainer?: string;
  /** With --workers: the work queue the run hands its deliveries to (bench/benchWorker.ts takes them). */
  workQueue?: string;
}

export interface BenchImportResult {
  run: Pick<RunRecord, 'runId' | 'status' | 'counts' | 'error' | 'collection'>;
  durationMs: number;
  /** A delivered source's collection, before its import. */
  collectionMs?: number;
  pacing?: PacingSummary;
  /** Peak resident set size of this process, in KiB. */
  maxRssKb: number;
  /** CPU time (user + system) this process used. */
  cpuMs: number;
  /** process.memoryUsage() at the highest RSS sampled, in bytes: where the memory was. */
  atPeak: NodeJS.MemoryUsage;
}

export const RESULT_PREFIX = 'BENCH-IMPORT-RESULT ';
const PROGRESS_EVERY_MS = 10_000;

async function main(): Promise<void> {
  const input = JSON.parse(process.env.BENCH_IMPORT ?? '') as BenchImportInput;
  const { plan, secrets, stack } = input;
  let pacing: PacingSummary | undefined;
  let warnings = 0;
  const log = {
    info: (obj: object, msg?: string) => {
      if (msg === 'mailbox pacing') pacing = (obj as { pacing: PacingSummary }).pacing;
    },
    // A few are worth seeing; a storm of them would only slow the run down.
    warn: (obj: object, msg?: string) => {
      if (++warnings <= 20) process.stderr.write(`importer warning: ${msg} ${JSON.stringify(obj)}\n`);
    },
    error: (obj: object, msg?: string) => process.stderr.write(`importer error: ${msg} ${JSON.stringify(obj)}\n`),
  };

  const importer = await createImporter({
    connectorId: 'bench',
    storage: { connectionString: input.connectionString },
    graph: { tenantId: secrets.tenantId, clientId: secrets.clientId, clientSecret: secrets.clientSecret, authorityHost: stack.authorityHost, graphBaseUrl: stack.graphUrl },
    telemessageBaseUrl: stack.telemessageUrl,
    secrets: { localKeyFile: path.join(plan.stateDir, 'secret.key') },
    log,
    mailboxLimits: scaledLimits(plan.timeScale),
    itemWorkers: plan.itemWorkers,
    tmpDir: plan.stateDir,
    ...(input.workQueue && { workQueue: { name: input.workQueue } }),
    // The ZIPs are whole before the run starts: a second's settling is enough here.
    ...(input.landingContainer && { landing: { storage: { connectionString: input.connectionString }, container: input.landingContainer, settleMs: 1000 } }),
  });
  await importer.connector.setTeleMessageCredentials(secrets.telemessageUsername, secrets.telemessagePassword, 'bench');
  await importer.connector.update({ automaticMapping: true }, 'bench', { etag: (await importer.connector.settings()).etag });
  await importer.mapping.upload(fs.readFileSync(stack.mappingCsvPath), 'bench', { etag: (await importer.connector.settings()).etag });

  let lastProgress = Date.now();
  const onProgress = (p: RunProgress) => {
    if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
    lastProgress = Date.now();
    const c = p.counts;
    const rssMb = process.memoryUsage.rss() / (1024 * 1024);
    process.stderr.write(
      `  ${Math.round((Date.now() - started) / 1000)} s: ${p.itemsDone} items, ${c.imported + c.partiallyImported} deliveries done, ${c.failed} failed, RSS ${Math.round(rssMb)} MiB\n`,
    );
  };
  const memory = sampleMemory();
  const started = Date.now();
  const source = plan.source ?? 'api';
  if (source !== 'api') await importer.delivery.set({ delivery: source, captureMailbox: stack.captureMailbox }, 'bench', { etag: (await importer.connector.settings()).etag });
  // A delivered source's run collects first, then imports what it collected: a backfill never collects.
  const run = source === 'api' ? await importer.runs.backfill(benchWindow(plan.day), 'bench', { onProgress }) : await importer.runs.start('bench', { trigger: 'manual', onProgress });
  const durationMs = Date.now() - started;

  const result: BenchImportResult = {
    run: { runId: run.runId, status: run.status, counts: run.counts, error: run.error, collection: run.collection },
    durationMs,
    collectionMs: run.collection?.durationMs,
    pacing,
    maxRssKb: process.resourceUsage().maxRSS,
    cpuMs: cpuMs(process.cpuUsage()),
    atPeak: memory.stop(),
  };
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

const MEMORY_SAMPLE_MS = 100;

/**
 * Samples the RSS and keeps process.memoryUsage() at the highest one. Only the RSS is read each
 * time: the whole of memoryUsage() walks the heap's spaces, which cost the importer about 1 % of
 * its CPU at ten samples a second.
 */
function sampleMemory(): { stop(): NodeJS.MemoryUsage } {
  let peak = process.memoryUsage();
  const timer = setInterval(() => {
    if (process.memoryUsage.rss() > peak.rss) peak = process.memoryUsage();
  }, MEMORY_SAMPLE_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

if (require.main === module) {
  main()
    .then(() => process.exit(0))
    .catch((err: Error) => {
      process.stderr.write(`bench import failed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    });
}
