// The one place that reads numbers with libphonenumber (its full metadata): the importer's
// parser, the mapping file and the admins' single edits all normalise through toE164. Display is
// phoneDisplay.ts, apart, so the tab's page loads only the small metadata it needs.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import metadataJson from 'libphonenumber-js/max/metadata';

/** The ISO country code a connector's default country names. */
export type { CountryCode };

/**
 * Normalises a mobile number to E.164. TeleMessage writes international numbers without the
 * '+' (445204334324); a leading 00 is the international prefix. With `defaultCountry`, a number
 * that reads as a national number of that country is one; otherwise digits are international.
 * Possibility (length), not validity, is checked: numbering plans change faster than metadata,
 * and a real number must never be refused.
 */
export function toE164(raw: string, defaultCountry?: CountryCode): string | undefined {
  const trimmed = raw.trim();
  // Most files hold bare digits, as TeleMessage writes them: nothing to strip.
  const bare = /^\d+$/.test(trimmed);
  if (!bare && !/^[+(\d][\d\s().\-/]*$/.test(trimmed)) return undefined;
  const digits = bare ? trimmed : trimmed.replace(/[^\d+]/g, '');
  if (digits.startsWith('+')) return international(digits.slice(1));
  if (digits.startsWith('00')) return international(digits.slice(2));
  return (defaultCountry && possible(digits, defaultCountry)) || international(digits);
}

function international(digits: string): string | undefined {
  return plainInternational(digits) ?? possible(`+${digits}`);
}

function possible(value: string, country?: CountryCode): string | undefined {
  const parsed = parsePhoneNumberFromString(value, country);
  return parsed && parsed.isPossible() ? parsed.number : undefined;
}

interface CallingCodePlan {
  /** Lengths every country of the calling code accepts. */
  lengths: Set<number>;
  /** A national number libphonenumber might rewrite (strip a national prefix, say). */
  rewritable?: RegExp;
}

/** libphonenumber's metadata (format 4): a numbering plan is an array, [3] its possible lengths, [5] its national prefix, [7] its prefix-for-parsing pattern. */
type PlanArray = unknown[];
const METADATA = metadataJson as unknown as { country_calling_codes: Record<string, string[]>; countries: Record<string, PlanArray>; nonGeographic?: Record<string, PlanArray> };

const plans = new Map<string, CallingCodePlan | null>();

/**
 * libphonenumber's full parse costs about 12 µs a number (it compiles its patterns on every
 * call): too slow for a 100,000-row file. A plain international number whose length every
 * country of its calling code accepts, and which no national prefix rule could rewrite, is
 * possible and already E.164: that is answered from the same metadata without the parse. Any
 * other number goes through the full parse, so this path only ever accepts what it would.
 */
function plainInternational(digits: string): string | undefined {
  if (!/^[1-9]\d{3,16}$/.test(digits)) return undefined;
  for (let n = 1; n <= 3; n++) {
    const code = digits.slice(0, n);
    const plan = planOf(code);
    if (plan === undefined) continue;
    // Calling codes are prefix-free: the first that exists is the one.
    if (plan === null) return undefined;
    const national = digits.slice(n);
    if (!plan.lengths.has(national.length) || plan.rewritable?.test(national)) return undefined;
    return `+${digits}`;
  }
  return undefined;
}

function planOf(code: string): CallingCodePlan | null | undefined {
  if (plans.has(code)) return plans.get(code);
  const countries = METADATA.country_calling_codes[code];
  const numberingPlans = countries ? countries.map((c) => METADATA.countries[c]).filter(Boolean) : METADATA.nonGeographic?.[code] ? [METADATA.nonGeographic[code]] : undefined;
  if (!numberingPlans) return undefined;
  let plan: CallingCodePlan | null = null;
  const lengthSets = numberingPlans.map((p) => (Array.isArray(p[3]) ? new Set(p[3] as number[]) : undefined));
  if (numberingPlans.length && lengthSets.every((s) => s !== undefined)) {
    const lengths = new Set([...lengthSets[0]!].filter((l) => lengthSets.every((s) => s!.has(l))));
    const prefixes = numberingPlans.flatMap((p) => [p[5], p[7]]).filter((p): p is string => typeof p === 'string' && p.length > 0);
    plan = { lengths, rewritable: prefixes.length ? new RegExp(`^(?:${prefixes.join('|')})`) : undefined };
  }
  plans.set(code, plan);
  return plan;
}
