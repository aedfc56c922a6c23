import path from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { createDeliveryWorker, createImporter, type GraphConnection, type Importer, type LandingTarget, type RunLogger, type StorageTarget, type Worker } from '../importer';
import { ConfigError, type Config } from './config';

/** The storage account as configured: a connection string, or the account name and the managed identity. */
export function configuredStorage(config: Config): StorageTarget {
  if (config.storageConnectionString) return { connectionString: config.storageConnectionString };
  return {
    accountName: config.storageAccountName!,
    credential: new ManagedIdentityCredential({ clientId: config.managedIdentityClientId }),
    blobEndpoint: config.storageBlobEndpoint,
    tableEndpoint: config.storageTableEndpoint,
    queueEndpoint: config.storageQueueEndpoint,
  };
}

/** The SFTP landing container as configured, when TeleMessage delivers by SFTP to this deployment. */
export function configuredLanding(config: Config): LandingTarget | undefined {
  const container = config.sftpContainer;
  const settleMs = config.sftpSettleSeconds * 1000;
  if (config.sftpStorageConnectionString) return { storage: { connectionString: config.sftpStorageConnectionString }, container, settleMs };
  if (config.sftpStorageAccountName)
    return { storage: { accountName: config.sftpStorageAccountName, credential: new ManagedIdentityCredential({ clientId: config.managedIdentityClientId }) }, container, settleMs };
  return undefined;
}

/** Microsoft Graph sign-in as configured: federated through the managed identity, or a client secret. */
export function configuredGraph(config: Config): GraphConnection {
  const base = { tenantId: config.tenantId!, clientId: config.clientId!, authorityHost: config.authorityHost, graphBaseUrl: config.graphBaseUrl };
  return config.graphCredential === 'ManagedIdentityFederation' ? { ...base, managedIdentityClientId: config.managedIdentityClientId! } : { ...base, clientSecret: config.clientSecret! };
}

/** The importer as configured: the only place configuration becomes importer options. */
export function createConfiguredImporter(config: Config, log: RunLogger): Promise<Importer> {
  const missing = (['tenantId', 'clientId', 'telemessageBaseUrl'] as const).filter((k) => !config[k]);
  if (missing.length) throw new ConfigError(missing.map((k) => `${{ tenantId: 'TENANT_ID', clientId: 'CLIENT_ID', telemessageBaseUrl: 'TELEMESSAGE_BASE_URL' }[k]}: required to run imports`));
  const identity = new ManagedIdentityCredential({ clientId: config.managedIdentityClientId });
  return createImporter({
    connectorId: config.connectorId,
    storage: configuredStorage(config),
    graph: configuredGraph(config),
    telemessageBaseUrl: config.telemessageBaseUrl!,
    telemessageSecretName: config.telemessageSecretName,
    secrets: config.keyVaultUrl ? { keyVaultUrl: config.keyVaultUrl, credential: identity } : { localKeyFile: path.resolve(config.localSecretKeyFile) },
    log,
    runLeaseSeconds: config.runLeaseSeconds,
    landing: configuredLanding(config),
    workQueue: config.workQueueName ? { name: config.workQueueName } : undefined,
  });
}

/**
 * A worker of the configured work queue, when this process should run one: a worker process
 * always, the server (and the CLI) unless WORKER_CONCURRENCY=0 leaves the deliveries to others.
 */
export async function createConfiguredWorker(config: Config, log: RunLogger): Promise<Worker | undefined> {
  if (!config.workQueueName || config.workerConcurrency === 0) return undefined;
  const missing = (['tenantId', 'clientId'] as const).filter((k) => !config[k]);
  if (missing.length) throw new ConfigError(missing.map((k) => `${{ tenantId: 'TENANT_ID', clientId: 'CLIENT_ID' }[k]}: required to deliver`));
  return createDeliveryWorker({
    storage: configuredStorage(config),
    graph: configuredGraph(config),
    workQueue: { name: config.workQueueName },
    log,
    concurrency: config.workerConcurrency,
    visibilitySeconds: config.workQueueVisibilitySeconds,
    // A dead worker keeps its mailboxes from the others as long as a dead run keeps its connector.
    leaseSeconds: Math.min(config.runLeaseSeconds, 30),
  });
}
