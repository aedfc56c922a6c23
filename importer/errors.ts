/** Typed importer errors: callers switch on `code`, never on message text. */
export type ImporterErrorCode =
  | 'InvalidMappingCsv'
  | 'InvalidPhoneNumber'
  /** A single edit names something that is not an email address. */
  | 'InvalidMailbox'
  /** A single edit names a mailbox Microsoft 365 does not know. */
  | 'UnknownMailbox'
  /** The change removes more than half of the active mapping and was not confirmed. */
  | 'ConfirmationRequired'
  | 'SecretUnavailable'
  | 'SecretStoreCorrupt'
  | 'RunInProgress'
  | 'SourceAuthFailed'
  | 'SourceUnavailable'
  /** TeleMessage answered in a way the connector does not understand, or refused a request as invalid. */
  | 'SourceProtocolError'
  /** A kept raw item could not be read back whole (storage trouble, not a broken item). */
  | 'RawItemUnreadable'
  | 'MalformedItem'
  | 'MailboxRejected'
  /** A Microsoft 365 user without an Exchange Online mailbox (Graph's MailboxNotEnabledForRESTAPI). */
  | 'MailboxNotEnabled'
  /** What was given as a mailbox is not one address. */
  | 'InvalidMailboxAddress'
  | 'NotFound'
  /** A connector setting with a value it cannot take (an unknown delivery kind, a capture mailbox that is no address). */
  | 'InvalidSetting'
  /** Taking what TeleMessage delivered (the capture mailbox, the SFTP container) failed; nothing collected is lost. */
  | 'CollectionFailed'
  /** Removing the connector's only admin, which would leave nobody to reach its settings. */
  | 'LastAdmin'
  /** The importer was stopped (the server shutting down): it starts no run. */
  | 'ShuttingDown'
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
