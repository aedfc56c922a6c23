/** Why a delivered ZIP is set aside: a stable code to switch on, and a sentence for the admin. */
export type ZipRejectionCode =
  /** No end of central directory, or a central directory that does not parse: truncated, or not a ZIP. */
  | 'Unreadable'
  | 'UnsafeEntryName'
  | 'DuplicateEntryName'
  | 'EncryptedEntry'
  | 'UnsupportedCompression'
  | 'TooManyEntries'
  /** An entry's declared size, the ZIP's total, or a compression ratio over the limits: a bomb. */
  | 'TooLarge'
  | 'NoManifest'
  | 'SeveralManifests'
  | 'ManifestUnreadable'
  | 'CountMismatch'
  | 'ListedFileMissing'
  | 'UnlistedFile'
  | 'ZeroByteFile'
  /** An entry's bytes disagree with its header (size, CRC-32) or do not inflate: headers that lie. */
  | 'CorruptEntry';

export class ZipRejection extends Error {
  constructor(
    readonly code: ZipRejectionCode,
    message: string,
  ) {
    super(message);
    this.name = 'ZipRejection';
  }
}
