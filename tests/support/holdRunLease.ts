// Child process for the lease takeover test: takes the lease, says so, then waits to be killed.
import { BlobServiceClient } from '@azure/storage-blob';
import { acquireRunLease } from '../../importer/state/runLease';

const [connectionString, connectorId] = process.argv.slice(2);
const locks = BlobServiceClient.fromConnectionString(connectionString).getContainerClient('locks');
acquireRunLease(locks, connectorId, { durationSeconds: 15 }).then(() => {
  console.log('HELD');
  setInterval(() => undefined, 1000);
});
