import { quoteName, type ZipEntryHeader } from './zipArchive';
import type { ZipLimits } from './zipLimits';
import { ZipRejection } from './zipRejection';

/** Why an entry name could escape or confuse whoever unpacks it; undefined when it is safe. */
export function unsafeNameReason(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (/[\x00-\x1f\x7f]/.test(name)) return 'holds a control character';
  if (name.includes('\\')) return 'holds a backslash';
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  if (name.split('/').includes('..')) return 'climbs out of the ZIP with ".."';
  return undefined;
}

/**
 * The checks that need only the central directory: names, duplicates, encryption, compression
 * method, declared sizes and ratios, entries that overlap. A ZIP failing any of them is refused
 * before a byte of it is inflated.
 */
export function checkEntries(entries: readonly ZipEntryHeader[], limits: ZipLimits): void {
  if (entries.length > limits.maxEntries) {
    throw new ZipRejection('TooManyEntries', `The ZIP holds ${entries.length} entries; at most ${limits.maxEntries} are accepted.`);
  }
  const seen = new Set<string>();
  let total = 0;
  for (const e of entries) {
    const unsafe = unsafeNameReason(e.name);
    if (unsafe) throw new ZipRejection('UnsafeEntryName', `The entry ${quoteName(e.name)} ${unsafe}.`);
    if (seen.has(e.name)) throw new ZipRejection('DuplicateEntryName', `The entry name ${quoteName(e.name)} appears more than once.`);
    seen.add(e.name);
    if (e.isDirectory) continue;
    if (e.encrypted) throw new ZipRejection('EncryptedEntry', `The entry ${quoteName(e.name)} is encrypted.`);
    if (e.compressionMethod !== 0 && e.compressionMethod !== 8) {
      throw new ZipRejection('UnsupportedCompression', `The entry ${quoteName(e.name)} uses compression method ${e.compressionMethod}; only stored (0) and deflate (8) are read.`);
    }
    if (e.compressionMethod === 0 && e.compressedSize !== e.uncompressedSize) {
      throw new ZipRejection('CorruptEntry', `The stored entry ${quoteName(e.name)} declares ${e.uncompressedSize} bytes but occupies ${e.compressedSize}.`);
    }
    if (e.uncompressedSize > limits.maxEntryBytes) {
      throw new ZipRejection('TooLarge', `The entry ${quoteName(e.name)} inflates to ${e.uncompressedSize} bytes; at most ${limits.maxEntryBytes} are accepted per entry.`);
    }
    if (e.uncompressedSize > limits.ratioFloorBytes && e.uncompressedSize > limits.maxRatio * Math.max(e.compressedSize, 1)) {
      const ratio = Math.round(e.uncompressedSize / Math.max(e.compressedSize, 1));
      throw new ZipRejection('TooLarge', `The entry ${quoteName(e.name)} inflates ${ratio} times its compressed size; at most ${limits.maxRatio} times is accepted.`);
    }
    total += e.uncompressedSize;
  }
  if (total > limits.maxTotalBytes) {
    throw new ZipRejection('TooLarge', `The ZIP inflates to ${total} bytes in all; at most ${limits.maxTotalBytes} are accepted.`);
  }
  checkNoOverlap(entries);
}

/** Entries sharing bytes are how the non-recursive ZIP bombs multiply one deflate stream. */
function checkNoOverlap(entries: readonly ZipEntryHeader[]): void {
  const files = entries.filter((e) => !e.isDirectory).sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let i = 1; i < files.length; i++) {
    const before = files[i - 1];
    // A local header is at least 30 bytes plus the name: the next entry cannot start earlier.
    if (before.localHeaderOffset + 30 + before.compressedSize > files[i].localHeaderOffset) {
      throw new ZipRejection('CorruptEntry', `The entries ${quoteName(before.name)} and ${quoteName(files[i].name)} overlap in the ZIP.`);
    }
  }
}
