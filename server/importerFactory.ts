import path from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { createImporter, type Importer, type StorageTarget } from '../importer';
import type { RunLogger } from '../importer/run/importRun';
import { ConfigError, type Config } from './config';

/** The storage account as configured: a connection string, or the account reached with the managed identity. */
export function configuredStorage(config: Config): StorageTarget {
  return config.storageConnectionString
    ? { connectionString: config.storageConnectionString }
    : { accountName: config.storageAccountName!, credential: new ManagedIdentityCredential({ clientId: config.managedIdentityClientId }) };
}

/** The importer as configured: the only place configuration becomes importer options. */
export function createConfiguredImporter(config: Config, log: RunLogger): Promise<Importer> {
  const missing = (['tenantId', 'clientId', 'telemessageBaseUrl'] as const).filter((k) => !config[k]);
  if (missing.length) throw new ConfigError(missing.map((k) => `${{ tenantId: 'TENANT_ID', clientId: 'CLIENT_ID', telemessageBaseUrl: 'TELEMESSAGE_BASE_URL' }[k]}: required to run imports`));
  const identity = new ManagedIdentityCredential({ clientId: config.managedIdentityClientId });
  return createImporter({
    connectorId: config.connectorId,
    storage: configuredStorage(config),
    graph: { tenantId: config.tenantId!, clientId: config.clientId!, clientSecret: config.clientSecret, authorityHost: config.authorityHost, graphBaseUrl: config.graphBaseUrl },
    telemessageBaseUrl: config.telemessageBaseUrl!,
    telemessageSecretName: config.telemessageSecretName,
    secrets: config.keyVaultUrl ? { keyVaultUrl: config.keyVaultUrl, credential: identity } : { localKeyFile: path.resolve(config.localSecretKeyFile) },
    log,
    runLeaseSeconds: config.runLeaseSeconds,
  });
}
