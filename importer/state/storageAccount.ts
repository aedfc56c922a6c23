import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';

/**
 * The one storage account: a connection string (Azurite locally, or a key-based account), or an
 * account name reached with the managed identity. Tables and containers are created on first use.
 */
export type StorageTarget =
  | { connectionString: string }
  | {
      accountName: string;
      credential: TokenCredential;
      /** The service URLs when not the public cloud's https://<account>.<service>.core.windows.net. */
      blobEndpoint?: string;
      tableEndpoint?: string;
      queueEndpoint?: string;
    };

/** The account's Table, Blob and Queue service URLs, when it is reached by name. */
export function storageEndpoints(target: Extract<StorageTarget, { accountName: string }>): { blob: string; table: string; queue: string } {
  return {
    blob: target.blobEndpoint ?? `https://${target.accountName}.blob.core.windows.net`,
    table: target.tableEndpoint ?? `https://${target.accountName}.table.core.windows.net`,
    queue: target.queueEndpoint ?? `https://${target.accountName}.queue.core.windows.net`,
  };
}

export class StorageAccount {
  private readonly blobs: BlobServiceClient;
  private readonly tables = new Map<string, Promise<TableClient>>();
  private readonly containers = new Map<string, Promise<ContainerClient>>();

  constructor(private readonly target: StorageTarget) {
    this.blobs = 'connectionString' in target ? BlobServiceClient.fromConnectionString(target.connectionString) : new BlobServiceClient(storageEndpoints(target).blob, target.credential);
  }

  table(name: string): Promise<TableClient> {
    let client = this.tables.get(name);
    if (!client) {
      client = this.createTable(name);
      this.tables.set(name, client);
      client.catch(() => this.tables.delete(name));
    }
    return client;
  }

  container(name: string): Promise<ContainerClient> {
    let client = this.containers.get(name);
    if (!client) {
      const c = this.blobs.getContainerClient(name);
      client = c.createIfNotExists().then(() => c);
      this.containers.set(name, client);
      client.catch(() => this.containers.delete(name));
    }
    return client;
  }

  private async createTable(name: string): Promise<TableClient> {
    const client =
      'connectionString' in this.target
        ? TableClient.fromConnectionString(this.target.connectionString, name, { allowInsecureConnection: isLocal(this.target.connectionString) })
        : new TableClient(storageEndpoints(this.target).table, name, this.target.credential);
    await client.createTable();
    return client;
  }
}

function isLocal(connectionString: string): boolean {
  return /UseDevelopmentStorage=true|https?:\/\/(127\.0\.0\.1|localhost)[:/]/i.test(connectionString);
}
