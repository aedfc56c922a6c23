// One generated day for the exactly-once tests: every kind, MMS and recordings, two attachments
// over 3 MB (upload sessions) and one that neither a POST nor an upload session takes.
import type { HarnessOptions } from './importerHarness';

const MIB = 1024 * 1024;

export const DAY = { from: '2026-11-24T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z' };
export const BACKFILL_DAY = ['--from', DAY.from, '--to', DAY.to];

/**
 * Over 4 MB once base64-encoded, under the 3 MiB an upload session needs: it stays in Blob
 * Storage and the message carries a note for it. The only attachment allowed to be missing.
 */
export const IN_BETWEEN_BYTES = 3_120_000;

/** Media under 2.5 MB, so no message outgrows the 35 MB mailbox limit and only the planned sizes are special. */
const SMALL_MEDIA = { min: 16_000, median: 400_000, max: 2_500_000 };

export function mixedDay(seed: string, itemsPerDay: number): HarnessOptions {
  return {
    telemessage: {
      seed,
      traffic: {
        itemsPerDay,
        hugeAttachments: [4 * MIB, IN_BETWEEN_BYTES, 9 * MIB],
        attachmentSizes: { jpeg: SMALL_MEDIA, png: SMALL_MEDIA, mp4: SMALL_MEDIA, mp3: SMALL_MEDIA, wav: SMALL_MEDIA },
      },
    },
  };
}
