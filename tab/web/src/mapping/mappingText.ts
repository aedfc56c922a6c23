import type { MappingChange, MappingVersion } from '../tabApiClient';

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
  return version.note ? `${origin}: ${version.note}` : origin;
}

/** What the replay of the held items came to, after a change that maps new numbers. */
export function replayText(change: MappingChange): string {
  if (change.replay.status === 'done') return `${change.replay.run.counts.imported} held items imported, ${change.replay.run.counts.failed} failed.`;
  if (change.replay.status === 'deferred') return `The held items of the numbers it maps will be imported after the run going now (${change.replay.reason}).`;
  return change.newlyMapped.length ? 'No items were held for the numbers it maps.' : 'It maps no new number.';
}

export function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KB`;
}
