// One generated day for the exactly-once tests: every kind, MMS and recordings, and three
// attachments that go by upload session, one of them just under 3 MB.
import type { HarnessOptions } from './importerHarness';

const MIB = 1024 * 1024;

export const DAY = { from: '2026-11-24T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z' };
export const BACKFILL_DAY = ['--from', DAY.from, '--to', DAY.to];

/**
 * Over 4 MB once base64-encoded, so too big for a POST, and under the 3 MB Graph documents for
 * upload sessions: the band Outlook's real 2 MiB session minimum covers.
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
