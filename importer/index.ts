import { AdminList } from './adminList';
import { ConnectorAudit, type AuditClient } from './client/auditClient';
import { ConnectorSetup, type ConnectorClient } from './client/connectorClient';
import { ImporterContext } from './client/importerContext';
import { ConnectorMapping, type MappingClient } from './client/mappingClient';
import { ConnectorRuns, type RunsClient } from './client/runsClient';
import type { ImporterOptions } from './importerOptions';
import { MailboxDirectory } from './mapping/mailboxDirectory';
import { MappingService } from './mapping/admin/mappingService';
import { openStores } from './run/importerStores';
import { KeyVaultSecretStore, LocalSecretStore, type SecretStore } from './secrets/secretStore';
import { graphCredential } from './sink/graphClient';
import { DeliverySetup, type DeliveryClient } from './source/deliverySetup';
import { StorageAccount } from './state/storageAccount';
import { openWorkQueue } from './scale/workQueue';

export type * from './publicTypes';
export { ImporterError, type ImporterErrorCode } from './errors';
export { isAdmin, normalObjectId } from './admins';
export { deliveryConfigured } from './source/deliverySetup';
export { COUNTED_KINDS, ITEM_OUTCOMES } from './state/dailyCountsStore';
export { EMPTY_COUNTS } from './state/runsStore';
export { MappingFileError, MAX_MAPPING_BYTES } from './mapping/admin/csvMapping';
export { mappingReportCsv } from './mapping/admin/mappingService';
export { csvLine } from './spreadsheetCsv';
export { nextRunAt, DailyScheduler } from './schedule/dailySchedule';
export { summarizeRun, summarizeReplay } from './run/runSummary';
export { brokenIdentities } from './run/runCounts';
export { preflightText } from './preflight/preflightText';
export { createDeliveryWorker, type Worker } from './scale/createWorker';
// Building blocks for the bot's own tables (conversation references, posted cards) and the server's storage endpoints.
export { StorageAccount, storageEndpoints } from './state/storageAccount';
export { TABLES, keySafe } from './state/tableNames';

/**
 * The importer's front door, for the server, the bot, the tab and the CLI: one client per subject,
 * each method `(required…, options = {})` with `abortSignal` in the options.
 */
export interface Importer {
  readonly connectorId: string;
  /** Runs: started, read, verified; every run's abort is theirs (`runs.stop`). */
  readonly runs: RunsClient;
  readonly mapping: MappingClient;
  /** Settings, the TeleMessage sign-in, the tenant's preflight. */
  readonly connector: ConnectorClient;
  readonly delivery: DeliveryClient;
  readonly admins: AdminList;
  readonly audit: AuditClient;
}

export async function createImporter(options: ImporterOptions): Promise<Importer> {
  const storage = new StorageAccount(options.storage);
  const stores = await openStores(storage, { tmpDir: options.tmpDir });
  const secrets: SecretStore = 'keyVaultUrl' in options.secrets ? new KeyVaultSecretStore(options.secrets.keyVaultUrl, options.secrets.credential) : new LocalSecretStore(options.secrets.localKeyFile);
  const workQueue = options.workQueue && { ...(await openWorkQueue(storage, options.storage, options.workQueue.name)), lingerMs: options.workQueue.lingerMs, pollMs: options.workQueue.pollMs };
  const ctx = new ImporterContext(options, stores, secrets, graphCredential(options.graph), workQueue);
  const { connectorId } = options;
  const directory = () => new MailboxDirectory(ctx.graph());
  const runs = new ConnectorRuns(ctx);
  const connector = new ConnectorSetup(ctx);
  const service = new MappingService({ connectorId, stores, directory, replay: (numbers, requestedBy, signal) => runs.replayHeldFor(numbers, requestedBy, signal) });
  return {
    connectorId,
    runs,
    mapping: new ConnectorMapping(ctx, service),
    connector,
    delivery: new DeliverySetup({ connectorId, stores, graph: () => ctx.graph(), landing: options.landing, settings: () => ctx.settings(), updateSettings: (c, by, o) => connector.update(c, by, o) }),
    admins: new AdminList(connectorId, stores, directory),
    audit: new ConnectorAudit(ctx),
  };
}
