import type { Readable } from 'node:stream';
import type { SourceItemRef, TimeWindow } from '../model';
import type { ArchiveSource, SourceCallOptions } from '../source/archiveSource';
import type { ImporterStores } from './importerStores';

/** An item held because a participant mapped nowhere, and where its raw copy is. */
interface HeldItem {
  ref: SourceItemRef;
  sha256: string;
}

/**
 * The items held for `numbers`, every one of them, found from the ledger (the days the unmapped
 * report says each number was seen on, then that number's rows of each day), never from the
 * capped list of recent ids.
 */
export async function findHeldItems(stores: ImporterStores, connectorId: string, numbers: Iterable<string>, signal?: AbortSignal): Promise<HeldItem[]> {
  const held = new Map<string, HeldItem>();
  for (const number of numbers) {
    for (const day of await stores.unmapped.heldDays(connectorId, number)) {
      for await (const itemId of stores.ledger.itemsHeldFor(connectorId, day, number)) {
        signal?.throwIfAborted();
        if (held.has(itemId)) continue;
        const item = await stores.ledger.itemOn(connectorId, day, itemId);
        if (!item?.rawSha256) continue;
        const size = item.rawSize ?? (await stores.raw.sizeOf(item.rawSha256, { abortSignal: signal }));
        if (size === undefined) continue;
        held.set(itemId, { ref: { id: itemId, archivedAt: item.archivedAt, type: item.kind ?? '', sizeBytes: size }, sha256: item.rawSha256 });
      }
    }
  }
  return [...held.values()].sort((a, b) => a.ref.archivedAt.getTime() - b.ref.archivedAt.getTime() || (a.ref.id < b.ref.id ? -1 : a.ref.id > b.ref.id ? 1 : 0));
}

/** The half-open window that holds every one of `items`. */
export function windowOf(items: readonly HeldItem[]): TimeWindow {
  return { from: items[0].ref.archivedAt, to: new Date(items[items.length - 1].ref.archivedAt.getTime() + 1) };
}

/**
 * Held items as a source for the importer: listed from the ledger, read from their raw copies in
 * Blob Storage (kept write-once when first staged), so a replay needs nothing from TeleMessage.
 */
export class HeldItemsSource implements ArchiveSource {
  private readonly bySha = new Map<string, string>();

  constructor(
    private readonly items: readonly HeldItem[],
    private readonly stores: ImporterStores,
  ) {
    for (const i of items) this.bySha.set(i.ref.id, i.sha256);
  }

  async *list(window: TimeWindow, _options?: SourceCallOptions): AsyncIterable<SourceItemRef> {
    for (const i of this.items) if (i.ref.archivedAt >= window.from && i.ref.archivedAt < window.to) yield i.ref;
  }

  async count(window: TimeWindow): Promise<number> {
    return this.items.filter((i) => i.ref.archivedAt >= window.from && i.ref.archivedAt < window.to).length;
  }

  download(ref: SourceItemRef, options: SourceCallOptions = {}): Promise<Readable> {
    return this.stores.raw.open(this.bySha.get(ref.id)!, { abortSignal: options.abortSignal });
  }
}
