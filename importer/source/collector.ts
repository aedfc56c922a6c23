import { ImporterError } from '../errors';

/**
 * Delivered sources: TeleMessage pushes archives to us (an email per item into a capture mailbox,
 * ZIPs of EML files into an SFTP container). A collector takes what was delivered since its own
 * cursor into the raw store and the inbox; the import then lists the inbox by collection time
 * (InboxSource), so runs, checkpoints, reruns and verification stay what they are for the API.
 */
export type DeliveryKind = 'api' | 'smtp' | 'sftp';

export const DELIVERY_KINDS: readonly DeliveryKind[] = ['api', 'smtp', 'sftp'];

export interface CollectOptions {
  abortSignal?: AbortSignal;
  /** The time each item is recorded as collected at: never before the checkpoint (the run makes sure). */
  now: () => Date;
}

/** A batch TeleMessage delivered that could not be taken (a ZIP set aside; an unreadable capture email): reported, never silently dropped. */
export interface RejectedBatch {
  name: string;
  reason: string;
  at: string;
}

export interface CollectReport {
  kind: Exclude<DeliveryKind, 'api'>;
  /** Items newly recorded in the inbox by this collection. */
  collected: number;
  /** Items seen again (a resync, a ZIP offered twice) and already in the inbox: not recorded twice. */
  alreadyCollected: number;
  rejected: RejectedBatch[];
  /** Opaque, for the run record and the audit trail: where the cursor stood before and after. */
  cursorBefore?: string;
  cursorAfter?: string;
  /** How long the collection took: reading a capture mailbox is bound by Graph's per-mailbox limit. */
  durationMs?: number;
}

export interface Collector {
  readonly kind: Exclude<DeliveryKind, 'api'>;
  collect(options: CollectOptions): Promise<CollectReport>;
}

/** A delivery kind's name as the run log and the admin read it. */
export function deliveryLabel(kind: DeliveryKind): string {
  return { api: 'TeleMessage archive API', smtp: 'capture mailbox (SMTP)', sftp: 'SFTP drop of EML ZIPs' }[kind];
}

/** A collection that stopped part way: what it had recorded by then (kept in the inbox) and why it stopped. */
export class CollectionFailedError extends ImporterError {
  constructor(
    message: string,
    readonly report: CollectReport,
  ) {
    super('CollectionFailed', message);
  }
}
