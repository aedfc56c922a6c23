// The phone module's display half: libphonenumber's small metadata only, so the tab's page, which
// loads it lazily with the pages that show numbers, stays lean. Reading numbers is phoneNumber.ts.
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

/**
 * A number as people read it, the same in the bot's cards and the tab: international format
 * (+44 20 7946 0958). The stored number stays E.164; one a library cannot place is shown as stored.
 */
export function displayNumber(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}
