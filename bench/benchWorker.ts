// A worker under measurement for `npm run bench -- --workers N`: a process of its own (its peak
// RSS and CPU are the worker's), started by bench/bench.ts before the run. Takes the work queue's
// units until SIGTERM, then prints one RESULT line: its CPU, memory, units and Graph traffic per
// mailbox (for the run's lower bound, which needs every worker's share of the busiest mailbox).
import { createDeliveryWorker, type PacerStats } from '../importer';
import { scaledLimits } from './benchPlan';
import type { BenchImportInput } from './benchImport';

export interface BenchWorkerResult {
  units: number;
  deliveries: number;
  maxRssKb: number;
  cpuMs: number;
  mailboxes: [string, PacerStats][];
}

export const WORKER_RESULT_PREFIX = 'BENCH-WORKER-RESULT ';
export const WORKER_READY = 'BENCH-WORKER-READY';

async function main(): Promise<void> {
  const input = JSON.parse(process.env.BENCH_IMPORT ?? '') as BenchImportInput;
  const { plan, secrets, stack } = input;
  let warnings = 0;
  const worker = await createDeliveryWorker({
    storage: { connectionString: input.connectionString },
    graph: { tenantId: secrets.tenantId, clientId: secrets.clientId, clientSecret: secrets.clientSecret, authorityHost: stack.authorityHost, graphBaseUrl: stack.graphUrl },
    workQueue: { name: input.workQueue! },
    log: {
      info: () => undefined,
      warn: (obj, msg) => {
        if (++warnings <= 10) process.stderr.write(`worker warning: ${msg} ${JSON.stringify(obj)}\n`);
      },
      error: (obj, msg) => process.stderr.write(`worker error: ${msg} ${JSON.stringify(obj)}\n`),
    },
    mailboxLimits: scaledLimits(plan.timeScale),
    tmpDir: plan.stateDir,
  });
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  process.stdout.write(`${WORKER_READY}\n`);
  await worker.run(stop.signal);
  const figures = worker.figures();
  const usage = process.cpuUsage();
  const result: BenchWorkerResult = {
    units: figures.units,
    deliveries: figures.deliveries,
    maxRssKb: process.resourceUsage().maxRSS,
    cpuMs: (usage.user + usage.system) / 1000,
    mailboxes: [...figures.mailboxes],
  };
  process.stdout.write(`${WORKER_RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main()
    .then(() => process.exit(0))
    .catch((err: Error) => {
      process.stderr.write(`bench worker failed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    });
}
