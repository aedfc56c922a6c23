import type { Readable } from 'node:stream';
import { ImporterError } from '../errors';
import type { SourceItemRef, TimeWindow } from '../model';
import type { RawStore } from '../stage/rawStore';
import type { InboxStore } from '../state/inboxStore';
import type { ArchiveSource, SourceCallOptions } from './archiveSource';

/**
 * What TeleMessage delivered, as a source for the importer: listed from the inbox by the time it
 * was collected, read from the raw copy staged when it was. Windows, checkpoints, reruns and
 * verification work on it exactly as on the archive API; nothing here reaches TeleMessage.
 */
export class InboxSource implements ArchiveSource {
  constructor(
    private readonly connectorId: string,
    private readonly stores: { inbox: InboxStore; raw: RawStore },
  ) {}

  async *list(window: TimeWindow, options: SourceCallOptions = {}): AsyncIterable<SourceItemRef> {
    for await (const entry of this.stores.inbox.list(this.connectorId, window, options)) {
      yield { id: entry.id, archivedAt: entry.collectedAt, type: entry.type, sizeBytes: entry.sizeBytes };
    }
  }

  count(window: TimeWindow, options: SourceCallOptions = {}): Promise<number> {
    return this.stores.inbox.count(this.connectorId, window, options);
  }

  /** The staged raw copy; its inbox row is read again (a point read) so no listing is held in memory. */
  async download(ref: SourceItemRef, options: SourceCallOptions = {}): Promise<Readable> {
    const entry = await this.stores.inbox.get(this.connectorId, ref.id, options);
    if (!entry) throw new ImporterError('NotFound', `Item ${ref.id} is not in the inbox.`);
    return this.stores.raw.open(entry.sha256, { abortSignal: options.abortSignal });
  }
}
