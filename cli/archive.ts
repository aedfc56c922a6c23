// `npm run archive`: the importer from a terminal. Reads the same configuration as the server.
//   npm run archive -- [--from ISO] [--to ISO] [--dry-run]
//   npm run archive -- --rerun <run id>
//   npm run archive -- --verify <run id>
//   npm run archive -- --runs | --log <run id>
//   npm run archive -- --failures | --acknowledge <item id> --reason <why>
//   npm run archive -- --preflight <test mailbox>
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig } from '../server/config';
import { createLogger } from '../server/logger';
import { createConfiguredImporter, createConfiguredWorker } from '../server/importerFactory';
import { ImporterError, preflightText, summarizeRun, type RunProgress, type RunRecord } from '../importer';

const USAGE = `usage:
  npm run archive -- [--from <ISO time>] [--to <ISO time>] [--dry-run]
  npm run archive -- --rerun <run id>
  npm run archive -- --verify <run id>
  npm run archive -- --runs
  npm run archive -- --log <run id>      (the run log as CSV)
  npm run archive -- --failures          (what is failing in every window, outstanding and acknowledged)
  npm run archive -- --acknowledge <item id> --reason <why>   (an item that can never be imported; audited)
  npm run archive -- --preflight <test mailbox>   (check the tenant against one test mailbox; leaves nothing behind)`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        'dry-run': { type: 'boolean' },
        rerun: { type: 'string' },
        verify: { type: 'string' },
        runs: { type: 'boolean' },
        log: { type: 'string' },
        failures: { type: 'boolean' },
        acknowledge: { type: 'string' },
        reason: { type: 'string' },
        preflight: { type: 'string' },
        'requested-by': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  // Logs go to stderr so stdout carries only what the command prints.
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pino.destination(2));
  const importer = await createConfiguredImporter(config, log);
  const requestedBy = args['requested-by'] ?? `cli:${process.env.USER ?? 'unknown'}`;
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort(new Error('stopped by Ctrl-C')));

  if (args.runs) {
    for (const run of await importer.runs.list({ top: 30 })) {
      process.stdout.write(`${run.runId}  ${run.trigger.padEnd(8)} ${run.status.padEnd(11)} ${run.window.from.toISOString()} → ${run.window.to.toISOString()}  ${summarizeRun(run)}\n`);
    }
    return 0;
  }
  if (args.failures) {
    const { outstanding, acknowledged, truncated } = await importer.runs.failures({ abortSignal: abort.signal });
    process.stdout.write(
      `${new Set(outstanding.map((f) => f.itemId)).size} items failing, ${new Set(acknowledged.map((f) => f.itemId)).size} acknowledged${truncated ? ' (the first 500 lines of each)' : ''}\n`,
    );
    for (const f of [...outstanding, ...acknowledged]) {
      const ack = f.acknowledgement ? `  acknowledged by ${f.acknowledgement.by} at ${f.acknowledgement.at.toISOString()}: ${f.acknowledgement.reason}` : '';
      process.stdout.write(`${f.itemId}  ${f.archivedAt.toISOString()}  ${f.mailbox ?? '-'}  ${f.reason}${ack}\n`);
    }
    return 0;
  }
  if (args.acknowledge !== undefined) {
    const lines = await importer.runs.acknowledgeFailure(args.acknowledge, args.reason ?? '', requestedBy, { abortSignal: abort.signal });
    process.stdout.write(`acknowledged ${args.acknowledge} (${lines.map((l) => l.reason).join('; ')}): no longer outstanding, still listed\n`);
    return 0;
  }
  if (args.preflight !== undefined) {
    const report = await importer.connector.preflight(args.preflight, requestedBy, { abortSignal: abort.signal });
    process.stdout.write(preflightText(report));
    return report.ok ? 0 : 1;
  }
  if (args.log) {
    for await (const line of importer.runs.logCsv(args.log)) process.stdout.write(line);
    return 0;
  }
  if (args.verify) {
    const report = await importer.runs.verify(args.verify, { abortSignal: abort.signal });
    process.stdout.write(
      `verified run ${report.runId}: ${report.itemsListed} items listed, ${report.deliveriesChecked} deliveries and ${report.rawCopiesChecked} raw copies checked; ` +
        `${report.missing.length} missing, ${report.duplicated.length} duplicated, ${report.altered.length} altered, ${report.pending} pending\n` +
        `  counts: ${summarizeRun(report)}\n` +
        `  verified: ${report.verified} of ${report.counts.afterFanOut - report.counts.deliveriesFailed} archived deliveries found exactly once in their mailbox\n`,
    );
    for (const broken of report.brokenIdentities) process.stdout.write(`  counts break: ${broken}\n`);
    for (const [label, list] of [
      ['missing', report.missing],
      ['duplicated', report.duplicated],
      ['altered', report.altered],
    ] as const) {
      for (const f of list) process.stdout.write(`  ${label}: ${f.itemId}${f.mailbox ? ` in ${f.mailbox}` : ''}: ${f.detail}\n`);
    }
    return report.ok ? 0 : 1;
  }

  const window = args.from || args.to ? { from: parseTime(args.from, '--from'), to: args.to ? parseTime(args.to, '--to') : new Date() } : undefined;
  if (args['dry-run']) {
    const report = await importer.runs.dryRun({ window, abortSignal: abort.signal });
    process.stdout.write(
      `dry run of ${report.window.from.toISOString()} → ${report.window.to.toISOString()}: ${report.items} items (${
        Object.entries(report.byKind)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ') || 'none'
      }), ` +
        `${report.malformed} malformed; ${report.deliveries} deliveries to ${report.mailboxes} mailboxes; ${report.unmappedParticipants} unmapped participants, ${report.notImported} items would not be imported. Nothing was changed.\n`,
    );
    return 0;
  }

  const progress = progressPrinter();
  // With a work queue the run hands its deliveries to workers: this process is one of them unless WORKER_CONCURRENCY=0.
  const worker = await createConfiguredWorker(config, log);
  const stopWorker = new AbortController();
  const working = worker?.run(stopWorker.signal);
  let run: RunRecord;
  try {
    if (args.rerun) run = await importer.runs.rerun(args.rerun, requestedBy, { abortSignal: abort.signal, onProgress: progress.update });
    else if (window) run = await importer.runs.backfill(window, requestedBy, { abortSignal: abort.signal, onProgress: progress.update });
    else run = await importer.runs.start(requestedBy, { trigger: 'manual', abortSignal: abort.signal, onProgress: progress.update });
  } finally {
    stopWorker.abort();
    await working;
  }
  progress.done();
  process.stdout.write(`run ${run.runId} ${run.status}: ${summarizeRun(run)}\n`);
  if (run.error) process.stdout.write(`  ${run.error}\n`);
  if (run.immutability) process.stdout.write(`  raw item storage: ${run.immutability}\n`);
  return run.status === 'failed' || run.status === 'interrupted' ? 1 : 0;
}

function parseTime(value: string | undefined, flag: string): Date {
  const t = value ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) throw new ImporterError('Conflict', `${flag} needs an ISO 8601 time, e.g. 2026-11-24T00:00:00Z`);
  return new Date(t);
}

/** A progress bar on a terminal; plain lines, at most every 5 seconds, otherwise. */
function progressPrinter(): { update: (p: RunProgress) => void; done: () => void } {
  const tty = process.stdout.isTTY;
  let lastLine = 0;
  return {
    update: (p) => {
      const span = p.window.to.getTime() - p.window.from.getTime();
      const share = p.position && span > 0 ? Math.min(1, (p.position.getTime() - p.window.from.getTime()) / span) : 0;
      const c = p.counts;
      const text = `${Math.round(share * 100)}%  ${p.itemsDone} items, ${c.imported} imported, ${c.partiallyImported} partial, ${c.failed} failed, ${c.skippedDuplicates} skipped`;
      if (tty) {
        const width = 24;
        const filled = Math.round(share * width);
        process.stdout.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}\x1b[K`);
      } else if (Date.now() - lastLine >= 5000) {
        lastLine = Date.now();
        process.stdout.write(`progress: ${text}\n`);
      }
    },
    done: () => {
      if (tty) process.stdout.write('\n');
    },
  };
}

/**
 * Without configuration of its own, the CLI talks to the local stack `npm start` runs: it takes
 * that server's environment (and the local CA, which must be trusted from process start).
 */
function localStackEnv(): NodeJS.ProcessEnv | undefined {
  const file = path.resolve(__dirname, '..', '.local', 'server.env');
  if (process.env.STORAGE_CONNECTION_STRING || process.env.STORAGE_ACCOUNT_NAME || !fs.existsSync(file)) return undefined;
  return { ...process.env, ...(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>), ENA_LOCAL_STACK_ENV: '1' };
}

const local = process.env.ENA_LOCAL_STACK_ENV ? undefined : localStackEnv();
if (local) {
  const child = spawnSync(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], { env: local, stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

main()
  .then((code) => process.exit(code))
  .catch((err: Error) => {
    if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
    else if (err instanceof ImporterError) process.stderr.write(`${err.code}: ${err.message}\n`);
    else process.stderr.write(`archive failed: ${err.message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  });
