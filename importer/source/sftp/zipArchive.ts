import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import type { BlobClient } from '@azure/storage-blob';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { BlobRangeReader, BlobReadError } from './blobRangeReader';
import { ZipRejection } from './zipRejection';

/** One entry as the central directory describes it: what the checks run on before any byte is read. */
export interface ZipEntryHeader {
  /** As written in the ZIP (UTF-8 or CP437), backslashes kept, so the checks see what was sent. */
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  compressionMethod: number;
  encrypted: boolean;
  crc32: number;
  localHeaderOffset: number;
  isDirectory: boolean;
  readonly entry: Entry;
}

/** Where a delivered ZIP stands in the landing container when it is read. */
export interface ZipBlob {
  name: string;
  etag: string;
  size: number;
}

/**
 * A delivered ZIP read in place over ranged reads: the central directory first (the authority on
 * what the ZIP holds, read from its end), then each entry as a stream. Never the whole ZIP in memory.
 */
export class ZipArchive {
  private constructor(
    private readonly zip: ZipFile,
    readonly entries: ZipEntryHeader[],
  ) {}

  /** Reads the central directory; a ZIP whose directory cannot be read is refused as Unreadable. */
  static async open(blob: BlobClient, at: ZipBlob, options: { abortSignal?: AbortSignal } = {}): Promise<ZipArchive> {
    const reader = new BlobRangeReader(blob, at.etag, at.size, options.abortSignal);
    let zip: ZipFile;
    try {
      // Names undecoded and sizes unchecked by yauzl: our own checks give each case its reason.
      zip = await yauzl.fromRandomAccessReaderPromise(reader, at.size, { decodeStrings: false, validateEntrySizes: false, autoClose: false });
    } catch (err) {
      throw unreadable(err);
    }
    const entries: ZipEntryHeader[] = [];
    try {
      for await (const entry of zip.eachEntry()) {
        const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
        entries.push({
          name,
          compressedSize: entry.compressedSize,
          uncompressedSize: entry.uncompressedSize,
          compressionMethod: entry.compressionMethod,
          encrypted: entry.isEncrypted(),
          crc32: entry.crc32,
          localHeaderOffset: entry.relativeOffsetOfLocalHeader,
          isDirectory: name.endsWith('/'),
          entry,
        });
      }
    } catch (err) {
      zip.close();
      throw unreadable(err);
    }
    return new ZipArchive(zip, entries);
  }

  /**
   * The entry's bytes, inflated, checked as they pass: more bytes than the header declared (a bomb
   * whose header lies) stops the stream at once; fewer, or a CRC-32 that differs, fails it at the end.
   */
  async openEntry(header: ZipEntryHeader): Promise<Readable> {
    let raw: Readable;
    try {
      raw = await this.zip.openReadStreamPromise(header.entry);
    } catch (err) {
      throw corrupt(header, err);
    }
    const guard = new EntryGuard(header);
    // Registered before pipeline's own listener, so the guard fails with the reason, not zlib's text.
    raw.on('error', (err) => guard.destroy(corrupt(header, err)));
    // pipeline, not pipe: a refused entry stops the inflating and the download under it.
    pipeline(raw, guard, () => undefined);
    return guard;
  }

  close(): void {
    this.zip.close();
  }
}

class EntryGuard extends Transform {
  private bytes = 0;
  private crc = 0;

  constructor(private readonly header: ZipEntryHeader) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.header.uncompressedSize) {
      return done(new ZipRejection('CorruptEntry', `${quoteName(this.header.name)} inflates to more than the ${this.header.uncompressedSize} bytes its header declares: refused as a ZIP bomb.`));
    }
    this.crc = zlib.crc32(chunk, this.crc);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.bytes !== this.header.uncompressedSize) {
      return done(new ZipRejection('CorruptEntry', `${quoteName(this.header.name)} holds ${this.bytes} bytes where its header declares ${this.header.uncompressedSize}.`));
    }
    if (this.crc >>> 0 !== this.header.crc32 >>> 0) {
      return done(new ZipRejection('CorruptEntry', `${quoteName(this.header.name)} fails its CRC-32 check: its bytes are damaged.`));
    }
    done();
  }
}

/** Entry names come from outside: quoted and escaped, never shown raw in a reason. */
export function quoteName(name: string): string {
  const shown = name.length > 200 ? `${name.slice(0, 200)}…` : name;
  return JSON.stringify(shown);
}

function isStorageError(err: unknown): boolean {
  return err instanceof BlobReadError || (err as Error)?.name === 'AbortError';
}

function unreadable(err: unknown): Error {
  if (isStorageError(err)) return err as Error;
  return new ZipRejection('Unreadable', `The ZIP's central directory cannot be read (a truncated ZIP, or not a ZIP): ${(err as Error).message}.`);
}

function corrupt(header: ZipEntryHeader, err: unknown): Error {
  if (isStorageError(err) || err instanceof ZipRejection) return err as Error;
  return new ZipRejection('CorruptEntry', `${quoteName(header.name)} cannot be read: ${(err as Error).message}.`);
}
