// A worker process: takes the work queue's delivery units (WORK_QUEUE_NAME) and writes them into
// their mailboxes, until SIGTERM. As many as wanted run beside the server (docs/deploy.md: Azure
// Container Apps scales them on the queue's length); each needs only storage and Graph.
import { loadConfigOrExit } from './config';
import { createLogger } from './logger';
import { createConfiguredWorker } from './importerFactory';

async function main(): Promise<void> {
  const config = loadConfigOrExit('worker');
  const log = createLogger(config.logLevel);
  // A worker process works even where the server's own in-process worker is switched off.
  const worker = await createConfiguredWorker({ ...config, workerConcurrency: config.workerConcurrency || 16 }, log);
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  process.once('SIGINT', () => stop.abort());
  log.info({ worker: worker!.id, queue: config.workQueueName }, 'worker started');
  await worker!.run(stop.signal);
  const { units, deliveries } = worker!.figures();
  log.info({ worker: worker!.id, units, deliveries }, 'worker stopped');
  process.exit(0);
}

main().catch((err: Error) => {
  process.stderr.write(`worker failed: ${err.message}\n`);
  process.exit(1);
});
