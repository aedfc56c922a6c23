/** What a delivered ZIP may hold before it is refused as a bomb or as abuse. */
export interface ZipLimits {
  maxEntries: number;
  /** One entry, uncompressed: an EML with a 150 MB attachment is about 205 MB in base64. */
  maxEntryBytes: number;
  /** All entries, uncompressed. */
  maxTotalBytes: number;
  /** Uncompressed / compressed, for entries over `ratioFloorBytes` (tiny entries compress oddly). */
  maxRatio: number;
  ratioFloorBytes: number;
  /** The manifest is read into memory, so it has a size of its own. */
  maxManifestBytes: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 200_000,
  maxEntryBytes: 1024 * MIB,
  maxTotalBytes: 32 * 1024 * MIB,
  // EML text deflates 3-10x and base64 media about 1.35x; zeros deflate about 1000x.
  maxRatio: 100,
  ratioFloorBytes: MIB,
  maxManifestBytes: 16 * MIB,
};
