/** Entra's scope for Azure Storage, for the calls the importer makes without the SDK. */
export const STORAGE_SCOPE = 'https://storage.azure.com/.default';

/**
 * A refused or failed call to Azure Storage made without the SDK (a raw item's Put Blob, a ledger
 * transaction), with the status and error code the callers look at, as the SDK's RestError has them.
 */
export class StorageAnswerError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}
