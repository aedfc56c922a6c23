/** Typed importer errors: callers switch on `code`, never on message text. */
export type ImporterErrorCode =
  | 'InvalidMappingCsv'
  | 'InvalidPhoneNumber'
  | 'SecretUnavailable'
  | 'SecretStoreCorrupt'
  | 'RunInProgress'
  | 'SourceAuthFailed'
  | 'SourceUnavailable'
  | 'MalformedItem'
  | 'MailboxRejected'
  | 'NotFound'
  | 'Conflict';

export class ImporterError extends Error {
  constructor(
    readonly code: ImporterErrorCode,
    message: string,
    readonly details?: readonly string[],
  ) {
    super(message);
    this.name = 'ImporterError';
  }
}
