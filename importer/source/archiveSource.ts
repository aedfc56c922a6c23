import type { Readable } from 'node:stream';
import type { SourceItemRef, TimeWindow } from '../model';

export interface SourceCallOptions {
  abortSignal?: AbortSignal;
}

/**
 * Where raw items come from. TeleMessage's HTTP API is one; an SFTP export of zipped EML files
 * with a manifest could be another. Listing pages underneath, so a day is never held in memory.
 */
export interface ArchiveSource {
  /** Items archived in [window.from, window.to), in archive-time order. */
  list(window: TimeWindow, options?: SourceCallOptions): AsyncIterable<SourceItemRef>;
  /**
   * How many items `list` yields for `window`, where the source knows before listing (a delivered
   * source's inbox, held items): progress reads "done of total". The archive API has no total.
   */
  count?(window: TimeWindow, options?: SourceCallOptions): Promise<number>;
  /**
   * The item's raw RFC 822 bytes as a stream. The stream errors if the transfer breaks off; the
   * caller checks the length against `ref.sizeBytes` and downloads again when staging fails.
   */
  download(ref: SourceItemRef, options?: SourceCallOptions): Promise<Readable>;
}
