import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { ContainerClient } from '@azure/storage-blob';

/**
 * ZIPs no honest writer makes, for the receiver's checks: any entry name (`../x.eml`, `/x.eml`,
 * duplicates), and sizes in the headers that may lie. A plain ZIP (no ZIP64, no data descriptors)
 * written field by field after the PKWARE APPNOTE, streamed so a 2 GiB bomb never exists on disk.
 */
export interface CraftedEntry {
  name: string;
  /** Compression method written in the headers: 0 stored, 8 deflate. */
  method: 0 | 8;
  /** The entry's bytes as they sit in the ZIP (already deflated when method is 8). */
  data: () => AsyncIterable<Buffer> | Iterable<Buffer>;
  compressedSize: number;
  /** What the headers declare; a bomb's header may lie. */
  uncompressedSize: number;
  crc32: number;
}

/** An entry from plain bytes, deflated, with true headers. */
export function deflatedEntry(name: string, bytes: Buffer): CraftedEntry {
  const deflated = zlib.deflateRawSync(bytes);
  return { name, method: 8, data: () => [deflated], compressedSize: deflated.length, uncompressedSize: bytes.length, crc32: zlib.crc32(bytes) };
}

const MIB = 1024 * 1024;

/**
 * One entry of `mebibytes` MiB of zeros, deflated about 1000 to 1: one sync-flushed deflate of a
 * MiB of zeros, repeated (each copy refers to nothing before it, so the concatenation is a valid
 * stream), then an empty final block. `declaredBytes` lets the header lie about the size.
 */
export function zeroBombEntry(name: string, mebibytes: number, declaredBytes = mebibytes * MIB): CraftedEntry {
  const zeros = Buffer.alloc(MIB);
  const block = zlib.deflateRawSync(zeros, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const finalBlock = Buffer.from([0x03, 0x00]);
  const crc = zeroCrc(mebibytes);
  return {
    name,
    method: 8,
    data: function* () {
      for (let i = 0; i < mebibytes; i++) yield block;
      yield finalBlock;
    },
    compressedSize: block.length * mebibytes + finalBlock.length,
    uncompressedSize: declaredBytes,
    crc32: crc,
  };
}

const zeroCrcs = new Map<number, number>();

/** The CRC-32 of that many MiB of zeros (2 GiB takes seconds, so each is worked out once). */
function zeroCrc(mebibytes: number): number {
  let crc = zeroCrcs.get(mebibytes);
  if (crc === undefined) {
    const zeros = Buffer.alloc(MIB);
    crc = 0;
    for (let i = 0; i < mebibytes; i++) crc = zlib.crc32(zeros, crc);
    zeroCrcs.set(mebibytes, crc);
  }
  return crc;
}

/** The ZIP's bytes, in order, as a stream. */
export function craftZip(entries: readonly CraftedEntry[]): Readable {
  return Readable.from(zipChunks(entries));
}

export async function uploadCraftedZip(container: ContainerClient, blobName: string, entries: readonly CraftedEntry[]): Promise<void> {
  await container.getBlockBlobClient(blobName).uploadStream(craftZip(entries), 4 * MIB, 2);
}

async function* zipChunks(entries: readonly CraftedEntry[]): AsyncGenerator<Buffer> {
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    writeCommon(local, 4, entry, name.length);
    yield local;
    yield name;
    const start = offset;
    offset += local.length + name.length;
    for await (const chunk of entry.data()) {
      offset += chunk.length;
      yield chunk;
    }
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4); // made by
    writeCommon(header, 6, entry, name.length);
    header.writeUInt32LE(start, 42);
    central.push(header, name);
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  yield directory;
  yield end;
}

/** The fields local and central headers share, from "version needed" to the extra field length. */
function writeCommon(buffer: Buffer, at: number, entry: CraftedEntry, nameLength: number): void {
  buffer.writeUInt16LE(20, at); // version needed
  buffer.writeUInt16LE(0x0800, at + 2); // UTF-8 names
  buffer.writeUInt16LE(entry.method, at + 4);
  buffer.writeUInt16LE(0, at + 6); // time
  buffer.writeUInt16LE(0x5b21, at + 8); // date: 2025-09-01
  buffer.writeUInt32LE(entry.crc32 >>> 0, at + 10);
  buffer.writeUInt32LE(entry.compressedSize, at + 14);
  buffer.writeUInt32LE(entry.uncompressedSize >>> 0, at + 18);
  buffer.writeUInt16LE(nameLength, at + 22);
}

/** Each way a delivered ZIP is wrong that the receiver must refuse. */
export type BadZipCase =
  'count-too-high' | 'count-too-low' | 'listed-missing' | 'unlisted-extra' | 'zero-byte' | 'dot-dot' | 'absolute' | 'bomb' | 'lying-bomb' | 'no-manifest' | 'duplicate-name' | 'truncated';

export interface EmlFile {
  name: string;
  bytes: Buffer;
}

const GIB_IN_MIB = 2048;

/** A ZIP of these EMLs (at least two), wrong in the one way named, written to `blobName`. */
export async function uploadBadZip(container: ContainerClient, blobName: string, kind: BadZipCase, emls: readonly EmlFile[]): Promise<void> {
  if (emls.length < 2) throw new RangeError('a bad ZIP needs at least two EMLs');
  const manifestName = `${blobName.replace(/\.zip$/i, '')}.mf`;
  const names = emls.map((e) => e.name);
  const manifest = (listed: readonly string[], count = listed.length) => deflatedEntry(manifestName, Buffer.from([`Count: ${count}`, ...listed, ''].join('\r\n')));
  const files = emls.map((e) => deflatedEntry(e.name, e.bytes));
  const [first, ...rest] = emls;
  const entries: CraftedEntry[] = (() => {
    switch (kind) {
      case 'count-too-high':
        return [...files, manifest(names, names.length + 1)];
      case 'count-too-low':
        return [...files, manifest(names, names.length - 1)];
      case 'listed-missing':
        return [...files.slice(1), manifest(names)];
      case 'unlisted-extra':
        return [...files, manifest(names.slice(1), names.length - 1)];
      case 'zero-byte':
        return [deflatedEntry(first.name, Buffer.alloc(0)), ...files.slice(1), manifest(names)];
      case 'dot-dot':
        return [deflatedEntry(`../${first.name}`, first.bytes), ...files.slice(1), manifest([`../${first.name}`, ...rest.map((e) => e.name)])];
      case 'absolute':
        return [deflatedEntry(`/${first.name}`, first.bytes), ...files.slice(1), manifest([`/${first.name}`, ...rest.map((e) => e.name)])];
      case 'bomb':
        return [...files, zeroBombEntry('bomb.eml', GIB_IN_MIB), manifest([...names, 'bomb.eml'])];
      // The header says 64 KiB: only the inflating can tell.
      case 'lying-bomb':
        return [...files, zeroBombEntry('bomb.eml', GIB_IN_MIB, 64 * 1024), manifest([...names, 'bomb.eml'])];
      case 'no-manifest':
        return files;
      case 'duplicate-name':
        return [...files, deflatedEntry(first.name, rest[0].bytes), manifest(names)];
      case 'truncated':
        return [...files, manifest(names)];
    }
  })();
  if (kind !== 'truncated') return uploadCraftedZip(container, blobName, entries);
  const chunks: Buffer[] = [];
  for await (const chunk of craftZip(entries)) chunks.push(chunk as Buffer);
  const whole = Buffer.concat(chunks);
  const cut = whole.subarray(0, Math.floor(whole.length * 0.6));
  await container.getBlockBlobClient(blobName).upload(cut, cut.length);
}
