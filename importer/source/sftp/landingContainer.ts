import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobClient, ContainerClient } from '@azure/storage-blob';
import type { ZipBlob } from './zipArchive';

/** A ZIP in the landing container as a listing shows it. */
export interface LandingZip extends ZipBlob {
  lastModified: Date;
}

export interface SettledListing {
  /** Taken before (this version of them): not looked at again. */
  taken: LandingZip[];
  /** Unchanged across both listings: TeleMessage has finished writing them. */
  ready: LandingZip[];
  /** Grown or rewritten between the listings, or still empty: left for the next collection. */
  stillWriting: LandingZip[];
}

export const REJECTED_FOLDER = 'rejected/';

/** Documented name: `YYYYMMDD0000-TeleMessage_<file#>_<TimeZipped>.zip`. */
const DOCUMENTED_NAME = /^(\d{8})0000-TeleMessage_(\d+)_(\d+)\.zip$/i;

/**
 * The ZIPs at the top of the landing container (where TeleMessage's SFTP user writes), in the
 * order TeleMessage made them: by day, then file number, then time zipped, read as numbers, since
 * the documentation does not say they are zero-padded. Other names follow in name order.
 */
export function deliveryOrder(a: string, b: string): number {
  const ka = sortKey(a);
  const kb = sortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function sortKey(name: string): string {
  const m = name.match(DOCUMENTED_NAME);
  if (!m) return `1|${name}`;
  return `0|${m[1]}|${m[2].padStart(20, '0')}|${m[3].padStart(20, '0')}|${name}`;
}

export class LandingContainer {
  private readonly pause: (abortSignal?: AbortSignal) => Promise<void>;

  constructor(
    readonly container: ContainerClient,
    options: {
      /** How long a ZIP must stay unchanged to count as written (15 s unless set). */
      settleMs?: number;
      /** What happens between the two listings; sleeping settleMs unless set (tests write there). */
      pause?: (abortSignal?: AbortSignal) => Promise<void>;
    } = {},
  ) {
    const settleMs = options.settleMs ?? 15_000;
    this.pause = options.pause ?? ((signal) => sleep(settleMs, undefined, { signal }));
  }

  /**
   * A ZIP TeleMessage is still writing must never be read half-written. Over SFTP into a
   * hierarchical-namespace account the file exists (at 0 bytes, then growing as the client flushes)
   * before the upload ends, and TeleMessage documents no "done" marker, no temporary name and no
   * rename. So a ZIP is taken only when two listings `settleMs` apart show it non-empty with the
   * same size and ETag (the wait only when a ZIP not yet taken is there), and every read of it is
   * pinned to that ETag (a change fails the read and the ZIP waits for the next collection). The
   * manifest's presence is no rule: it sits inside the ZIP, readable only through the central
   * directory at the ZIP's very end.
   */
  async settled(options: { abortSignal?: AbortSignal; taken: (zip: LandingZip) => Promise<boolean> }): Promise<SettledListing> {
    const taken: LandingZip[] = [];
    const first: LandingZip[] = [];
    for (const zip of await this.list(options)) ((await options.taken(zip)) ? taken : first).push(zip);
    // Nothing new: no second listing, no wait.
    if (first.length === 0) return { taken, ready: [], stillWriting: [] };
    await this.pause(options.abortSignal);
    const before = new Map(first.map((z) => [z.name, z]));
    const ready: LandingZip[] = [];
    const stillWriting: LandingZip[] = [];
    for (const zip of await this.list(options)) {
      const earlier = before.get(zip.name);
      if (!earlier) continue; // new since the first listing: the next collection sees it settle
      if (zip.size > 0 && earlier.etag === zip.etag && earlier.size === zip.size) ready.push(zip);
      else stillWriting.push(zip);
    }
    return { taken, ready, stillWriting };
  }

  /** The ZIPs at the top of the container, in delivery order. */
  async list(options: { abortSignal?: AbortSignal } = {}): Promise<LandingZip[]> {
    const zips: LandingZip[] = [];
    for await (const item of this.container.listBlobsByHierarchy('/', { abortSignal: options.abortSignal })) {
      if (item.kind !== 'blob' || !/\.zip$/i.test(item.name)) continue;
      zips.push({ name: item.name, etag: item.properties.etag ?? '', size: item.properties.contentLength ?? 0, lastModified: item.properties.lastModified });
    }
    return zips.sort((a, b) => deliveryOrder(a.name, b.name));
  }

  /**
   * Sets a refused ZIP aside: copied to `rejected/<name>` with `rejected/<name>.reason.txt` beside
   * it, then the original removed (only if still the version refused). A crash between the steps
   * leaves the original in place, refused again by the next collection: the copy is simply redone.
   */
  async setAside(zip: ZipBlob, reason: string, at: Date, options: { abortSignal?: AbortSignal } = {}): Promise<void> {
    const source = this.container.getBlobClient(zip.name);
    const target = this.container.getBlobClient(`${REJECTED_FOLDER}${zip.name}`);
    await copyWithin(source, target, zip.etag, options.abortSignal);
    const text = `${reason}\r\n\r\nSet aside ${at.toISOString()} by the archiver; nothing from this ZIP was imported.\r\nSize ${zip.size} bytes, ETag ${zip.etag}.\r\n`;
    await this.container
      .getBlockBlobClient(`${REJECTED_FOLDER}${zip.name}.reason.txt`)
      .upload(text, Buffer.byteLength(text), { abortSignal: options.abortSignal, blobHTTPHeaders: { blobContentType: 'text/plain; charset=utf-8' } });
    try {
      await source.delete({ abortSignal: options.abortSignal, conditions: { ifMatch: zip.etag } });
    } catch (err) {
      // Already gone (a replay), or rewritten since: the new version is checked on its own next time.
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 412) throw err;
    }
  }
}

/**
 * A server-side copy when the storage lets the caller's credential name its own blob as the
 * source; otherwise (a managed identity's token is not accepted for the source of an async copy
 * everywhere) the bytes stream through this process, pinned to the same ETag.
 */
async function copyWithin(source: BlobClient, target: BlobClient, etag: string, abortSignal?: AbortSignal): Promise<void> {
  try {
    const copy = await target.beginCopyFromURL(source.url, { abortSignal, sourceConditions: { ifMatch: etag } });
    await copy.pollUntilDone();
    return;
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== 401 && status !== 403) throw err;
  }
  const body = await source.download(0, undefined, { abortSignal, conditions: { ifMatch: etag } });
  await target.getBlockBlobClient().uploadStream(body.readableStreamBody as Readable, 4 * 1024 * 1024, 2, { abortSignal });
}
