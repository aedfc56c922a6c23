import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { ImporterError } from '../../errors';
import { storageEndpoints } from '../../state/storageAccount';
import type { CollectorContext, LandingTarget } from '../collectors';
import { SftpZipCollector } from './sftpZipCollector';

/**
 * The landing container as configured. Never created here: it belongs to the SFTP account the
 * deployment made, and the app's identity holds a role on that container only.
 */
export function landingContainerClient(target: LandingTarget): ContainerClient {
  const { storage } = target;
  const service = 'connectionString' in storage ? BlobServiceClient.fromConnectionString(storage.connectionString) : new BlobServiceClient(storageEndpoints(storage).blob, storage.credential);
  return service.getContainerClient(target.container);
}

export function createSftpCollector(ctx: CollectorContext, options: { settleMs?: number } = {}): SftpZipCollector {
  if (!ctx.landing) {
    throw new ImporterError('CollectionFailed', 'No SFTP landing container is configured: set SFTP_STORAGE_ACCOUNT_NAME (or SFTP_STORAGE_CONNECTION_STRING) and SFTP_CONTAINER.');
  }
  return new SftpZipCollector({
    connectorId: ctx.connectorId,
    container: landingContainerClient(ctx.landing),
    raw: ctx.stores.raw,
    inbox: ctx.stores.inbox,
    zips: ctx.stores.landingZips,
    log: ctx.log,
    settleMs: options.settleMs ?? ctx.landing.settleMs,
  });
}
