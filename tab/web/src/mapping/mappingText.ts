import { displayNumber } from '../../../../phone/phoneDisplay';
import type { MappingChange, MappingVersion } from '../common';

const ORIGINS: Record<MappingVersion['origin'], string> = {
  upload: 'uploaded file',
  mapNumber: 'one number mapped',
  unmapNumber: 'one number removed',
  restore: 'restored',
};

/** How a version came to be, in a few words: "uploaded file", "one number mapped: +1… → …". */
export function originText(version: MappingVersion, createdAtOf: (version: string) => string | undefined): string {
  const restored = version.restoredFrom && createdAtOf(version.restoredFrom);
  const origin = ORIGINS[version.origin] ?? version.origin;
  if (version.origin === 'restore') return restored ? `${origin}: a copy of the version of ${restored}` : origin;
  // The note names the number as stored (E.164): shown as every number in the tab is.
  return version.note ? `${origin}: ${version.note.replace(/\+\d{6,15}\b/g, displayNumber)}` : origin;
}

/** What the replay of the held items came to, after a change that maps new numbers. */
export function replayText(change: MappingChange): string {
  // The importer's sentence, in items: "35 held: 35 already archived, 0 new".
  if (change.replay.status === 'done') return `Held items replayed: ${change.replay.run.replaySummary}.`;
  if (change.replay.status === 'deferred') return `The held items of the numbers it maps will be imported after the run going now (${change.replay.reason}).`;
  return change.newlyMapped.length ? 'No items were held for the numbers it maps.' : 'It maps no new number.';
}

/** A file's size, rounded up (a file a byte over 8 MiB reads "8.1 MiB", not the cap itself): "8 MiB", "8.1 MiB", "12 KB". */
export function formatSize(bytes: number): string {
  const MiB = 1024 * 1024;
  return bytes >= MiB ? `${Math.ceil((bytes / MiB) * 10) / 10} MiB` : `${Math.ceil(bytes / 1024)} KB`;
}
