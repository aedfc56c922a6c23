import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

/**
 * Normalises a mobile number to E.164. TeleMessage writes international numbers without the
 * '+' (445204334324); a leading 00 is the international prefix. With `defaultCountry`, a number
 * that reads as a national number of that country is one; otherwise digits are international.
 * Possibility (length), not validity, is checked: numbering plans change faster than metadata,
 * and a real number must never be refused.
 */
export function toE164(raw: string, defaultCountry?: CountryCode): string | undefined {
  const trimmed = raw.trim();
  if (!/^[+(\d][\d\s().\-/]*$/.test(trimmed)) return undefined;
  const digits = trimmed.replace(/[^\d+]/g, '');
  if (digits.startsWith('+')) return possible(digits);
  if (digits.startsWith('00')) return possible(`+${digits.slice(2)}`);
  return (defaultCountry && possible(digits, defaultCountry)) || possible(`+${digits}`);
}

function possible(value: string, country?: CountryCode): string | undefined {
  const parsed = parsePhoneNumberFromString(value, country);
  return parsed && parsed.isPossible() ? parsed.number : undefined;
}
