import type { TokenCredential } from '@azure/identity';
import type { RunTrigger } from './model';
import type { RunLogger, RunProgress } from './run/importRun';
import type { GraphConnection } from './sink/graphClient';
import type { MailboxLimits } from './sink/mailboxPacer';
import type { CollectorFactory, DeliveredKind, LandingTarget } from './source/collectors';
import type { RunRecord } from './state/runsStore';
import type { StorageTarget } from './state/storageAccount';

/** What createImporter is built from (server configuration, tests, the CLI). */
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
