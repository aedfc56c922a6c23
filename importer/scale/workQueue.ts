import type { StorageAccount, StorageTarget } from '../state/storageAccount';
import { TABLES } from '../state/tableNames';
import { DeliveryQueue } from './deliveryQueue';
import { UnitResults } from './unitResults';

/** The queue a run's units go through and the table their results come back in. */
export interface WorkQueue {
  units: DeliveryQueue;
  results: UnitResults;
  /** How long a mailbox's first delivery waits for company before its unit goes. */
  lingerMs?: number;
  /** How often the run looks for results. */
  pollMs?: number;
}

export async function openWorkQueue(storage: StorageAccount, target: StorageTarget, name: string): Promise<WorkQueue> {
  return { units: new DeliveryQueue(target, name), results: new UnitResults(await storage.table(TABLES.unitResults)) };
}
