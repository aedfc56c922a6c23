import { PassThrough, type Readable } from 'node:stream';
import type { BlobClient } from '@azure/storage-blob';
import { RandomAccessReader } from 'yauzl';

/** Storage trouble while reading a ZIP: not the ZIP's fault, so it is never a reason to reject it. */
export class BlobReadError extends Error {
  constructor(
    message: string,
    override readonly cause: unknown,
    /** The blob changed since it was listed (412): TeleMessage is still writing it. */
    readonly changed: boolean,
  ) {
    super(message);
    this.name = 'BlobReadError';
  }
}

/** Bytes fetched at once for small reads (the central directory's records, local headers). */
const READ_AHEAD = 256 * 1024;

/**
 * A ZIP in Blob Storage as yauzl's random-access file: each read is a ranged download, pinned to
 * the ETag seen when the ZIP was listed, so a ZIP rewritten while we read it fails instead of
 * mixing two versions. Small reads go through one read-ahead window: a central directory of
 * 10,000 entries costs a few requests, not 20,000.
 */
export class BlobRangeReader extends RandomAccessReader {
  private window?: { start: number; bytes: Buffer };

  constructor(
    private readonly blob: BlobClient,
    private readonly etag: string,
    private readonly size: number,
    private readonly abortSignal?: AbortSignal,
  ) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const out = new PassThrough();
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    this.abortSignal?.addEventListener('abort', onAbort, { once: true });
    out._destroy = (err, done) => {
      abort.abort();
      done(err);
    };
    this.download(start, end - start, abort.signal)
      .then((body) => {
        body.on('error', (err) => out.destroy(this.wrap(err)));
        body.pipe(out);
      })
      .catch((err) => out.destroy(this.wrap(err)))
      .finally(() => this.abortSignal?.removeEventListener('abort', onAbort));
    return out;
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    this.readRange(position, length)
      .then((bytes) => {
        bytes.copy(buffer, offset);
        callback(null, bytes.length);
      })
      .catch((err) => callback(err as Error));
  }

  private async readRange(position: number, length: number): Promise<Buffer> {
    const w = this.window;
    if (w && position >= w.start && position + length <= w.start + w.bytes.length) {
      return w.bytes.subarray(position - w.start, position - w.start + length);
    }
    const count = Math.min(Math.max(length, READ_AHEAD), this.size - position);
    if (count <= 0) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of await this.download(position, count, this.abortSignal)) chunks.push(chunk as Buffer);
    } catch (err) {
      throw this.wrap(err);
    }
    const bytes = Buffer.concat(chunks);
    // Only small reads are kept; a big one (rare: yauzl reads entries as streams) is not held.
    if (count <= READ_AHEAD) this.window = { start: position, bytes };
    return bytes.subarray(0, Math.min(length, bytes.length));
  }

  private async download(offset: number, count: number, abortSignal?: AbortSignal): Promise<Readable> {
    try {
      const res = await this.blob.download(offset, count, { abortSignal, conditions: { ifMatch: this.etag }, maxRetryRequests: 5 });
      return res.readableStreamBody as Readable;
    } catch (err) {
      throw this.wrap(err);
    }
  }

  private wrap(err: unknown): Error {
    if (err instanceof BlobReadError) return err;
    const status = (err as { statusCode?: number }).statusCode;
    if ((err as Error).name === 'AbortError') return err as Error;
    return new BlobReadError(`reading ${this.blob.name} failed: ${(err as Error).message}`, err, status === 412);
  }
}
