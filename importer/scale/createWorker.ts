import type { DeliveryWorkerOptions } from '../importerOptions';
import { RetryPolicy } from '../retryPolicy';
import { openStores } from '../run/importerStores';
import { createGraphClient, graphCredential } from '../sink/graphClient';
import { MailboxSink } from '../sink/mailboxSink';
import type { PacerStats } from '../sink/mailboxPacer';
import { StorageAccount } from '../state/storageAccount';
import { DeliveryWorker } from './deliveryWorker';
import { openWorkQueue } from './workQueue';

/** A worker of the front door: it works units until its signal aborts. */
export interface Worker {
  readonly id: string;
  run(signal: AbortSignal): Promise<void>;
  /** Units and deliveries this worker finished, and its Graph traffic per mailbox (user id). */
  figures(): { units: number; deliveries: number; mailboxes: Map<string, PacerStats> };
}

/** A worker over the configured storage account, work queue and Graph: as many as wanted, in as many processes. */
export async function createDeliveryWorker(options: DeliveryWorkerOptions): Promise<Worker> {
  const storage = new StorageAccount(options.storage);
  const stores = await openStores(storage, { tmpDir: options.tmpDir });
  const queue = await openWorkQueue(storage, options.storage, options.workQueue.name);
  const credential = graphCredential(options.graph);
  const worker = new DeliveryWorker({
    queue: queue.units,
    results: queue.results,
    runs: stores.runs,
    raw: stores.raw,
    locks: stores.locks,
    createSink: (folderName) => new MailboxSink(createGraphClient(options.graph, credential), { folderName, limits: options.mailboxLimits, retry: new RetryPolicy() }),
    log: options.log,
    concurrency: options.concurrency,
    visibilitySeconds: options.visibilitySeconds,
    leaseSeconds: options.leaseSeconds,
  });
  return { id: worker.id, run: (signal) => worker.run(signal), figures: () => ({ units: worker.unitsDone, deliveries: worker.deliveriesDone, mailboxes: worker.mailboxStats() }) };
}
