/** The importer's vocabulary, shared by every stage of the pipeline. */

export type ItemKind = 'sms' | 'mms' | 'chat' | 'voiceRecording' | 'voiceCallLog';

export type ParticipantRole = 'from' | 'to' | 'cc' | 'participant';

export interface Participant {
  /** E.164, when the source gave a number. */
  number?: string;
  /** The participant's email as TeleMessage recorded it (the "User's Email address" property). */
  email?: string;
  name?: string;
  role: ParticipantRole;
}

export interface AttachmentInfo {
  /** Position among the item's attachments, stable for a given raw item. */
  index: number;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
}

/** A half-open window of archive time, [from, to). */
export interface TimeWindow {
  from: Date;
  to: Date;
}

/** What a source lists: enough to fetch the item and to count it. */
export interface SourceItemRef {
  id: string;
  archivedAt: Date;
  type: string;
  sizeBytes: number;
}

/** A raw item kept in Blob Storage, named by its SHA-256. */
export interface StagedItem {
  ref: SourceItemRef;
  sha256: string;
  size: number;
}

export interface ArchiveItem {
  /** The source's id (TeleMessage ArchiveMessageID). */
  id: string;
  kind: ItemKind;
  /** When the communication happened (sent / call start). */
  at: Date;
  archivedAt: Date;
  threadId?: string;
  network?: string;
  direction?: 'inbound' | 'outbound';
  durationSeconds?: number;
  /** Calls only: a missed call has a duration of 0. */
  callStatus?: 'answered' | 'missed';
  /** E.164 of the archived line that carried the item (TeleMessage's source user). */
  subscriber?: string;
  /** Chat items: the messaging app and, for groups, the group's name. */
  chat?: { app: string; group?: string };
  participants: Participant[];
  subject: string;
  text: string;
  attachments: AttachmentInfo[];
  raw: { sha256: string; size: number };
}

/** One item into one mailbox: the unit of work, outcome and idempotency. */
export interface Delivery {
  itemId: string;
  mailbox: string;
  /** SHA-256(item id + mailbox): stamped on the message so a retry never makes a second copy. */
  archiveKey: string;
}

export type DeliveryOutcome = 'imported' | 'partial' | 'duplicate' | 'failed';

/** `remap`: the items held for numbers that have just been mapped, replayed into their mailboxes. */
export type RunTrigger = 'schedule' | 'rerun' | 'backfill' | 'manual' | 'remap';

/** The counts of Microsoft's connector log, per run. */
export interface RunCounts {
  availableFromSource: number;
  afterFanOut: number;
  imported: number;
  partiallyImported: number;
  skippedDuplicates: number;
  failed: number;
  /** Participants that map to no mailbox, all kinds together, then by kind. */
  unmapped: number;
  unmappedArchivedLines: number;
  unmappedEmployees: number;
  /** Counted, never alerted on: outside parties are not mapped, by design. */
  unmappedOutsideParties: number;
  /** Items none of whose participants maps: not imported, and reported. */
  notImported: number;
}
