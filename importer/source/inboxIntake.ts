import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import type { RawStore } from '../stage/rawStore';
import type { InboxEntry, InboxStore } from '../state/inboxStore';
import { deliveredItemId, HeaderBlockTap } from './deliveredItemId';

export interface IntakeStores {
  raw: RawStore;
  inbox: InboxStore;
}

export interface Delivered {
  /** The item's EML, streamed: it is never held whole in memory beyond the raw store's small-item limit. */
  body: Readable;
  deliveredAt: Date;
  /** `capture:<graph message id>`, `zip:<zip name>/<entry name>`. */
  origin: string;
  /** When TeleMessage announced the size; a mismatch fails the intake (a cut transfer). */
  expectedSize?: number;
}

/**
 * Takes one delivered item: stages its bytes write-once in the raw store (named by SHA-256), reads
 * its id and type from the header block on the way, and records it in the inbox once. Shared by
 * every collector, so what "collected" means is written once. `created` is false when the id was
 * already in the inbox (a resync, a ZIP offered twice): nothing new is recorded then.
 */
export async function takeIntoInbox(
  stores: IntakeStores,
  connectorId: string,
  delivered: Delivered,
  options: { collectedAt: Date; abortSignal?: AbortSignal },
): Promise<{ entry: InboxEntry; created: boolean }> {
  const tap = new HeaderBlockTap();
  const out = new PassThrough();
  const piping = pipeline(delivered.body, tap, out, { signal: options.abortSignal });
  // Staging reads `out`; either side failing fails the intake.
  const staging = stores.raw.stage(out, { expectedSize: delivered.expectedSize, abortSignal: options.abortSignal }).catch((err: unknown) => {
    // Nobody reads on: stop the transfer rather than leave it waiting.
    out.destroy(err as Error);
    throw err;
  });
  const [staged] = await Promise.all([staging, piping]);
  const { id, type } = deliveredItemId(tap.headerBlock, staged.sha256);
  return stores.inbox.record(
    connectorId,
    { id, type, collectedAt: options.collectedAt, deliveredAt: delivered.deliveredAt, sizeBytes: staged.size, sha256: staged.sha256, origin: delivered.origin },
    { abortSignal: options.abortSignal },
  );
}
