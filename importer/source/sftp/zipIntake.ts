import type { BlobClient } from '@azure/storage-blob';
import type { RawStore } from '../../stage/rawStore';
import { deliveredItemId, HeaderBlockTap } from '../deliveredItemId';
import { ZipArchive, type ZipBlob, type ZipEntryHeader } from './zipArchive';
import type { ZipLimits } from './zipLimits';
import { checkAgainstManifest, findManifest, parseManifest } from './zipManifest';
import { ZipRejection } from './zipRejection';
import { checkEntries } from './zipSafety';

/** One EML of a ZIP, kept in the raw store: not yet recorded anywhere, so not yet imported. */
export interface StagedEntry {
  entryName: string;
  sha256: string;
  size: number;
  /** The item's id and type, read from its header block on the way (deliveredItemId). */
  id: string;
  type: string;
}

export interface ZipIntake {
  /** The manifest's Count:, checked against the ZIP. */
  count: number;
  staged: StagedEntry[];
}

/** EMLs streamed at once: bounded so a ZIP of big items stays within the memory target. */
const ENTRIES_AT_ONCE = 4;

/**
 * Checks a delivered ZIP whole and keeps each of its EMLs raw, write-once by SHA-256. Throws
 * ZipRejection when the ZIP fails a check, at any point, including while an entry inflates (its
 * header lied): the caller records nothing from it, so nothing from it is imported; the raw copies
 * already kept are unreferenced and harmless. Storage trouble throws as itself, never as a rejection.
 */
export async function takeZip(blob: BlobClient, at: ZipBlob, raw: RawStore, options: { limits: ZipLimits; abortSignal?: AbortSignal }): Promise<ZipIntake> {
  const zip = await ZipArchive.open(blob, at, options);
  try {
    checkEntries(zip.entries, options.limits);
    const manifestEntry = findManifest(zip.entries);
    if (manifestEntry.uncompressedSize > options.limits.maxManifestBytes) {
      throw new ZipRejection('ManifestUnreadable', `The manifest is ${manifestEntry.uncompressedSize} bytes; at most ${options.limits.maxManifestBytes} are read.`);
    }
    const manifest = parseManifest(await readWhole(zip, manifestEntry));
    const emls = checkAgainstManifest(manifestEntry, manifest, zip.entries);
    const staged: StagedEntry[] = new Array(emls.length);
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < emls.length && !failed) {
        const index = next++;
        try {
          staged[index] = await stageEntry(zip, emls[index], raw, options.abortSignal);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    // Every worker ends before the ZIP closes; the first failure is the reason.
    const outcomes = await Promise.allSettled(Array.from({ length: Math.min(ENTRIES_AT_ONCE, emls.length) }, worker));
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) throw failure.reason;
    return { count: manifest.count, staged };
  } finally {
    zip.close();
  }
}

async function stageEntry(zip: ZipArchive, entry: ZipEntryHeader, raw: RawStore, abortSignal?: AbortSignal): Promise<StagedEntry> {
  const tap = new HeaderBlockTap();
  const body = (await zip.openEntry(entry)).on('error', (err) => tap.destroy(err));
  const kept = await raw.stage(body.pipe(tap), { expectedSize: entry.uncompressedSize, abortSignal });
  // Only the id is kept, not the header block: a ZIP of 20,000 items holds 20,000 of these at once.
  return { entryName: entry.name, sha256: kept.sha256, size: kept.size, ...deliveredItemId(tap.headerBlock, kept.sha256) };
}

async function readWhole(zip: ZipArchive, entry: ZipEntryHeader): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await zip.openEntry(entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
