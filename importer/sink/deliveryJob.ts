import type { Readable } from 'node:stream';
import type { ArchiveItem, AttachmentInfo } from '../model';

/** Where the sink reads an item's attachment bytes from (the raw copy in Blob Storage). */
export interface AttachmentReader {
  /** Small attachments' content in base64, for POST bodies: one encoding shared by the item's deliveries. */
  encoded(indexes: readonly number[], signal?: AbortSignal): Promise<Map<number, Blob>>;
  /** One attachment's decoded bytes as a stream, for upload sessions. */
  open(index: number, signal?: AbortSignal): Promise<Readable>;
}

export interface DeliveryJob {
  item: ArchiveItem;
  mailbox: string;
  userId: string;
  folderId: string;
  archiveKey: string;
  /** An earlier attempt may have created the message: look it up before creating. */
  mayExist: boolean;
  attachments: AttachmentReader;
}

export interface DeliveryResult {
  outcome: 'imported' | 'partial' | 'failed';
  /** For failures: retrying will not help. */
  permanent: boolean;
  messageId?: string;
  /** Found already in the mailbox (an earlier, unrecorded attempt made it). */
  recovered: boolean;
  reason?: string;
  /** Attachments that stay only in Blob Storage, with why. */
  keptOutside: { attachment: AttachmentInfo; reason: string }[];
}
