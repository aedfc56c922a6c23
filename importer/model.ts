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

/**
 * The counts of a run, as docs/counts.md defines them: computed by `countRun` (run/runCounts.ts)
 * from the ledger's rows of the run's items, never added up along the way. "Items" count source
 * items, "deliveries" count (item, mailbox) pairs, "participants" count (item, participant) pairs.
 */
export interface RunCounts {
  /** Items from source: the items of the run (the window's items; for a replay, the held items replayed). */
  availableFromSource: number;
  /** Deliveries after fan-out = imported + partiallyImported + alreadyArchived + deliveriesFailed. */
  afterFanOut: number;
  /** Deliveries this run wrote whole. */
  imported: number;
  /** Deliveries this run wrote with an attachment kept outside the mailbox. */
  partiallyImported: number;
  /** Deliveries in their mailbox before this run (an earlier run wrote them): not written again. */
  alreadyArchived: number;
  /** The same as alreadyArchived, under the name Microsoft's connector log uses ("skipped duplicates"). */
  skippedDuplicates: number;
  /** Deliveries not in their mailbox: pending, or failed. */
  deliveriesFailed: number;
  /** Items = itemsImported + itemsPartial + failed + notImported. */
  itemsImported: number;
  itemsPartial: number;
  /** Items failed (malformed, or a delivery not in its mailbox) = failuresOutstanding + failuresAcknowledged. */
  failed: number;
  failuresOutstanding: number;
  failuresAcknowledged: number;
  /** Items none of whose participants maps and never archived anywhere: not imported, and reported. */
  notImported: number;
  /** Of itemsImported + itemsPartial: those every delivery of which was in its mailbox before this run. */
  itemsAlreadyArchived: number;
  /** Items with an archived line or employee that maps nowhere: replayed when that number is mapped. */
  itemsHeld: number;
  /** Participants (item, participant pairs) that map to no mailbox, all kinds together, then by kind. */
  unmapped: number;
  unmappedArchivedLines: number;
  unmappedEmployees: number;
  /** Counted, never alerted on: outside parties are not mapped, by design. */
  unmappedOutsideParties: number;
  /** Distinct numbers behind `unmapped`. */
  unmappedNumbers: number;
}
