import type { TokenCredential } from '@azure/identity';
import type { RunLogger, RunProgress } from './run/importRun';
import type { GraphConnection } from './sink/graphClient';
import type { MailboxLimits } from './sink/mailboxPacer';
import type { CollectorFactory, DeliveredKind, LandingTarget } from './source/collectors';
import type { StorageTarget } from './state/storageAccount';
import type { RunRecord } from './state/runsStore';
import type { RunTrigger } from './model';

/** How the importer is built (createImporter) and how a run is asked for (runImport): the front door's options. */
export interface ImporterOptions {
  connectorId: string;
  storage: StorageTarget;
  graph: GraphConnection;
  telemessageBaseUrl: string;
  /** Key Vault in Azure; a local key file for local runs. */
  secrets: { keyVaultUrl: string; credential: TokenCredential } | { localKeyFile: string };
  /** Default name of the TeleMessage password in the secret store. */
  telemessageSecretName?: string;
  log: RunLogger;
  mailboxLimits?: MailboxLimits;
  /** Items handled at once (16 unless set). */
  itemWorkers?: number;
  /** Raw item bytes handled at once (12 MiB unless set): bounds the importer's memory. */
  itemBytesInFlight?: number;
  tmpDir?: string;
  /** What "now" is for scheduled windows; tests and local demos may pin it. */
  now?: () => Date;
  /** The run lease's duration (15-60 s): how long a crashed run blocks the next one. */
  runLeaseSeconds?: number;
  /**
   * A work queue on the storage account: the run puts its deliveries on it as per-mailbox units
   * for any number of workers (createDeliveryWorker), instead of writing them in this process.
   */
  workQueue?: WorkQueueOptions;
  /** The SFTP landing container TeleMessage drops ZIPs into, when this deployment has one. */
  landing?: LandingTarget;
  /** Stand-ins for the built-in collector of a delivered kind (tests). */
  collectors?: Partial<Record<DeliveredKind, CollectorFactory>>;
}

export interface StartRun {
  requestedBy: string;
  trigger?: Extract<RunTrigger, 'schedule' | 'manual'>;
  abortSignal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  /** Called once the run is recorded, before any item is handled. */
  onStarted?: (run: RunRecord) => void;
}

export interface WorkQueueOptions {
  /** The Azure Storage queue's name. */
  name: string;
  /** How long a mailbox's first delivery waits for company before its unit goes (3 s unless set). */
  lingerMs?: number;
  /** How often a run looks for its units' results (250 ms unless set). */
  pollMs?: number;
}

/** A worker that takes a work queue's units (createDeliveryWorker). */
export interface DeliveryWorkerOptions {
  storage: StorageTarget;
  graph: GraphConnection;
  workQueue: WorkQueueOptions;
  log: RunLogger;
  mailboxLimits?: MailboxLimits;
  /** Units handled at once (16 unless set). */
  concurrency?: number;
  /** How long a taken unit stays hidden from the other workers while it is worked on (60 s unless set; renewed). */
  visibilitySeconds?: number;
  /** The mailbox lease (15-60 s, 30 unless set): how long a dead worker keeps its mailboxes from the others. */
  leaseSeconds?: number;
  tmpDir?: string;
}
