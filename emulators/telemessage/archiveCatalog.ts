import { dayStartMs, isDay, type TrafficModel } from './traffic';

/** The UTC days (YYYY-MM-DD) TeleMessage holds traffic for, fixed or as a function of "now". */
export type ArchivedDays = readonly string[] | ((now: Date) => readonly string[]);

/** Where an item sits in the archive's order: by day, then by index within the day. */
export interface Position {
  day: string;
  index: number;
}

const DAY_MS = 86_400_000;

/** The week before today and today so far: what a freshly started emulator has archived. */
export function lastWeekAndToday(now: Date): string[] {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return Array.from({ length: 8 }, (_, i) => new Date(today - (7 - i) * DAY_MS).toISOString().slice(0, 10));
}

/**
 * What the archive holds at a given moment: every item of an archived day whose archive time
 * has passed. Windows are answered day by day with binary searches, never by building a day.
 */
export class ArchiveCatalog {
  constructor(
    private readonly model: TrafficModel,
    private readonly days: ArchivedDays,
  ) {
    if (Array.isArray(days)) archivedDays(days);
  }

  /** Items archived in [fromMs, toMs) and before `now`, in (archivedAt, id) order, after `after`. */
  *positions(fromMs: number, toMs: number, now: Date, after?: Position): Generator<Position> {
    const endMs = Math.min(toMs, now.getTime());
    for (const day of this.daysAt(now)) {
      const startOfDay = dayStartMs(day);
      if (startOfDay >= endMs) return;
      if (startOfDay + DAY_MS <= fromMs || (after && day < after.day)) continue;
      let index = this.model.lowerBound(day, fromMs);
      if (after && day === after.day) index = Math.max(index, after.index + 1);
      const end = this.model.lowerBound(day, endMs);
      for (; index < end; index++) yield { day, index };
    }
  }

  /** The item an id names, if it is archived by `now`. */
  find(id: string, now: Date): Position | undefined {
    const position = this.model.locate(id);
    if (!position || !this.daysAt(now).includes(position.day)) return undefined;
    return this.model.archivedAtMs(position.day, position.index) < now.getTime() ? position : undefined;
  }

  private daysAt(now: Date): string[] {
    return archivedDays(typeof this.days === 'function' ? this.days(now) : this.days);
  }
}

function archivedDays(days: readonly string[]): string[] {
  const bad = days.find((day) => !isDay(day));
  if (bad !== undefined) throw new RangeError(`archived days must be YYYY-MM-DD, got ${JSON.stringify(bad)}`);
  return [...new Set(days)].sort();
}
