/**
 * The daily run's time of day between the admin's time zone and UTC, as the setup's schedule step
 * converts it. The run itself follows the stored UTC time; the conversion uses the zone's offset
 * at one instant (today's), so after a daylight-saving change the same UTC time reads an hour off
 * in the zone.
 */
const MINUTES_PER_DAY = 1440;
export const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;

export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at `at`, in minutes east of Greenwich. */
export function zoneOffsetMinutes(timeZone: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)!.value);
  const wallClockAsUtc = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return Math.round((wallClockAsUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const toHhmm = (minutes: number) => {
  const m = ((minutes % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

/** "07:30" in `timeZone` as "HH:MM" UTC, with the zone's offset at `at`. */
export function localToUtc(hhmm: string, timeZone: string, at: Date): string {
  return toHhmm(toMinutes(hhmm) - zoneOffsetMinutes(timeZone, at));
}

/** "HH:MM" UTC as the wall-clock time in `timeZone`, with the zone's offset at `at`. */
export function utcToLocal(hhmm: string, timeZone: string, at: Date): string {
  return toHhmm(toMinutes(hhmm) + zoneOffsetMinutes(timeZone, at));
}

/** "UTC+05:30", "UTC−03:00", "UTC". */
export function formatOffset(minutes: number): string {
  if (minutes === 0) return 'UTC';
  const abs = Math.abs(minutes);
  return `UTC${minutes > 0 ? '+' : '−'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
