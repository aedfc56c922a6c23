const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** Obsolete zone names of RFC 5322 4.3, as offsets in minutes. */
const NAMED_ZONES: Record<string, number> = { ut: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420 };
const RFC5322_DATE = /^(?:[a-z]{3}\s*,\s*)?(\d{1,2})\s+([a-z]{3})\s+(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?\s+([+-]\d{4}|[a-z]{1,3})(?:\s*\(.*\))?$/i;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An RFC 5322 date-time (obsolete forms included), or undefined. Stricter than Date.parse, which
 * reads a day-first date or a 31 February as some other day rather than refusing it.
 */
export function parseMailDate(value: string): Date | undefined {
  const match = RFC5322_DATE.exec(value.trim().replace(/\s+/g, ' '));
  if (!match) return undefined;
  const [, day, monthName, yearText, hour, minute, second, zone] = match;
  const month = MONTHS.indexOf(monthName.toLowerCase());
  let year = Number(yearText);
  // RFC 5322 4.3: two-digit years below 50 are 20xx, others and three-digit years add 1900.
  if (yearText.length === 2) year += year < 50 ? 2000 : 1900;
  else if (yearText.length === 3) year += 1900;
  const offset = zoneOffsetMinutes(zone);
  if (month < 0 || offset === undefined) return undefined;
  return fromParts(year, month, Number(day), Number(hour), Number(minute), Number(second ?? 0), offset);
}

/** ISO 8601 with a zone, as TeleMessage writes ArchivedAt and CallStart; or undefined. */
export function parseIsoDateTime(value: string): Date | undefined {
  const match = ISO_DATE_TIME.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, zone] = match;
  const offset = zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  if (!fromParts(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second ?? 0), offset)) return undefined;
  return new Date(Date.parse(value.trim()));
}

function zoneOffsetMinutes(zone: string): number | undefined {
  if (/^[+-]\d{4}$/.test(zone)) {
    const minutes = Number(zone.slice(3, 5));
    if (minutes > 59) return undefined;
    return (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + minutes);
  }
  const lower = zone.toLowerCase();
  if (lower in NAMED_ZONES) return NAMED_ZONES[lower];
  // Single-letter military zones are too ambiguous to trust; RFC 5322 says read them as -0000.
  return /^[a-ik-z]$/.test(lower) ? 0 : undefined;
}

function fromParts(year: number, month: number, day: number, hour: number, minute: number, second: number, offsetMinutes: number): Date | undefined {
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  if (month < 0 || month > 11 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 60) return undefined;
  return new Date(Date.UTC(year, month, day, hour, minute, Math.min(second, 59)) - offsetMinutes * 60_000);
}
