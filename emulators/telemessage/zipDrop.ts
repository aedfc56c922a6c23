import { PassThrough, type Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import { ZipFile } from 'yazl';
import type { RawMessage } from './rfc822';

/**
 * TeleMessage's SFTP delivery, as Smarsh documents it for Capture Mobile: ZIPs of EML files with a
 * manifest (`.mf`) holding `Count:` and the file names, named
 * `YYYYMMDD0000-TeleMessage_<file#>_<TimeZipped>.zip`, a new ZIP begun when a count or size limit is
 * reached. Written into a Blob container as the SFTP endpoint of an Azure storage account would.
 */
export interface ZipDropOptions {
  /** A new ZIP begins past this many EMLs; default 500. */
  maxItemsPerZip?: number;
  /** ... or past this many bytes of EML; default 256 MiB. */
  maxBytesPerZip?: number;
  /** When the ZIPs are made (their names); default now. */
  zippedAt?: Date;
  /** The first ZIP's file number; default 1. */
  firstFileNumber?: number;
}

export interface DeliveredItem {
  id: string;
  raw: RawMessage;
}

export interface DroppedZip {
  name: string;
  /** The EML entry names, in the manifest's order. */
  entries: string[];
  itemIds: string[];
}

/** What the manifest of an undocumented layout holds here: `Count:` then one file name a line. */
export function manifestText(names: readonly string[], count = names.length): string {
  return [`Count: ${count}`, ...names, ''].join('\r\n');
}

/** `YYYYMMDD0000-TeleMessage_<file#>_<TimeZipped>.zip`; TimeZipped as HHmmss UTC (its format is undocumented). */
export function zipName(zippedAt: Date, fileNumber: number): string {
  const iso = zippedAt.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}0000-TeleMessage_${fileNumber}_${iso.slice(11, 19).replace(/:/g, '')}.zip`;
}

export function emlName(itemId: string): string {
  return `${itemId}.eml`;
}

/** Writes the items as ZIPs, split by count and size, in order; returns what each ZIP holds. */
export async function dropZips(container: ContainerClient, items: Iterable<DeliveredItem>, options: ZipDropOptions = {}): Promise<DroppedZip[]> {
  const maxItems = options.maxItemsPerZip ?? 500;
  const maxBytes = options.maxBytesPerZip ?? 256 * 1024 * 1024;
  const zippedAt = options.zippedAt ?? new Date();
  let fileNumber = options.firstFileNumber ?? 1;
  const dropped: DroppedZip[] = [];
  let batch: DeliveredItem[] = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const name = zipName(zippedAt, fileNumber++);
    const entries = batch.map((item) => ({ name: emlName(item.id), size: item.raw.size, open: () => item.raw.stream() }));
    await writeZip(container, name, entries, manifestText(entries.map((e) => e.name)));
    dropped.push({ name, entries: entries.map((e) => e.name), itemIds: batch.map((i) => i.id) });
    batch = [];
    bytes = 0;
  };
  for (const item of items) {
    if (batch.length > 0 && (batch.length >= maxItems || bytes + item.raw.size > maxBytes)) await flush();
    batch.push(item);
    bytes += item.raw.size;
  }
  await flush();
  return dropped;
}

export interface ZipEntrySource {
  name: string;
  size: number;
  open(): Readable;
}

/** One well-formed ZIP (deflated EMLs, then the manifest), streamed into the container. */
export async function writeZip(container: ContainerClient, name: string, entries: readonly ZipEntrySource[], manifest: string | undefined, options: { compress?: boolean } = {}): Promise<void> {
  const zip = new ZipFile();
  const mtime = new Date();
  for (const entry of entries) {
    zip.addReadStreamLazy(entry.name, { size: entry.size, mtime, compress: options.compress ?? true, compressionLevel: options.compress === false ? 0 : 1 }, (cb) => cb(null, entry.open()));
  }
  if (manifest !== undefined) zip.addBuffer(Buffer.from(manifest, 'utf8'), `${name.replace(/\.zip$/i, '')}.mf`, { mtime });
  zip.end();
  const out = new PassThrough();
  zip.outputStream.on('error', (err) => out.destroy(err));
  zip.outputStream.pipe(out);
  await container.getBlockBlobClient(name).uploadStream(out, 4 * 1024 * 1024, 2, { blobHTTPHeaders: { blobContentType: 'application/zip' } });
}
