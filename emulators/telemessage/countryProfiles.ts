import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { SeededRandom } from './seededRandom';

export type CountryCode = 'US' | 'GB' | 'IL' | 'DE' | 'FR' | 'AE';

/** A name as shown at TeleMessage and the Latin letters its email address is built from. */
export interface PersonName {
  first: string;
  last: string;
  firstLatin: string;
  lastLatin: string;
}

/** [as written, Latin transliteration] for names in a non-Latin script. */
type NativeName = readonly [string, string];

export interface CountryProfile {
  code: CountryCode;
  /** Mobile carriers as TeleMessage labels them in X-TELEMESSAGE-Network. */
  networks: readonly string[];
  /** Candidate mobile numbers in E.164; only those libphonenumber accepts are kept. */
  candidateNumber(random: SeededRandom): string;
  latinFirst: readonly string[];
  latinLast: readonly string[];
  native?: { first: readonly NativeName[]; last: readonly NativeName[]; share: number };
}

function digits(random: SeededRandom, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += String(random.int(0, 10));
  return out;
}

const US_AREA_CODES = ['212', '305', '312', '415', '512', '617', '646', '702', '713', '917', '206', '404'];

export const COUNTRY_PROFILES: Record<CountryCode, CountryProfile> = {
  US: {
    code: 'US',
    networks: ['ATT', 'Verizon', 'T-Mobile US'],
    candidateNumber: (r) => `+1${r.pick(US_AREA_CODES)}${r.int(200, 1000)}${digits(r, 4)}`,
    latinFirst: [
      'James',
      'Mary',
      'Robert',
      'Patricia',
      'Michael',
      'Jennifer',
      'David',
      'Linda',
      'Susan',
      'Daniel',
      'Karen',
      'Chris',
      'Emily',
      'Kevin',
      'Megan',
      'Brian',
      'Ashley',
      'Jason',
      'Olivia',
      'Ethan',
    ],
    latinLast: [
      'Smith',
      'Johnson',
      'Williams',
      'Brown',
      'Jones',
      'Garcia',
      'Miller',
      'Davis',
      'Rodriguez',
      'Martinez',
      "O'Connor",
      'Anderson',
      'Taylor',
      'Thomas',
      'Moore',
      'Jackson',
      'Lee',
      'Harris',
      'Clark',
      'Lewis',
    ],
  },
  GB: {
    code: 'GB',
    networks: ['Vodafone UK', 'EE', 'O2 UK', 'Three UK'],
    candidateNumber: (r) => `+447${digits(r, 9)}`,
    latinFirst: ['Oliver', 'Amelia', 'Harry', 'Isla', 'George', 'Ava', 'Jack', 'Sophie', 'Thomas', 'Chloe'],
    latinLast: ['Wilson', 'Evans', 'Thompson', 'Wright', 'Walker', 'Hughes', 'Edwards', 'Green', 'Hall', 'Wood'],
  },
  IL: {
    code: 'IL',
    networks: ['Partner', 'Cellcom', 'Pelephone', 'HOT Mobile'],
    candidateNumber: (r) => `+9725${digits(r, 8)}`,
    latinFirst: ['Yael', 'Avi', 'Noa', 'Eitan', 'Maya', 'Omer', 'Tamar', 'Yossi'],
    latinLast: ['Cohen', 'Levi', 'Mizrahi', 'Peretz', 'Biton', 'Friedman', 'Katz', 'Shapiro'],
    native: {
      share: 0.5,
      first: [
        ['נועה', 'Noa'],
        ['יוסי', 'Yossi'],
        ['מיכל', 'Michal'],
        ['איתי', 'Itai'],
        ['שירה', 'Shira'],
        ['דוד', 'David'],
      ],
      last: [
        ['כהן', 'Cohen'],
        ['לוי', 'Levi'],
        ['מזרחי', 'Mizrahi'],
        ['אברהם', 'Avraham'],
        ['פרידמן', 'Friedman'],
      ],
    },
  },
  DE: {
    code: 'DE',
    networks: ['Telekom DE', 'Vodafone DE', 'O2 DE'],
    candidateNumber: (r) => (r.chance(0.5) ? `+4915${digits(r, 9)}` : `+4917${digits(r, 8)}`),
    latinFirst: ['Jürgen', 'Lena', 'Lukas', 'Anna', 'Jörg', 'Sophie', 'Maximilian', 'Mia', 'Björn', 'Hannah'],
    latinLast: ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weiß', 'Becker', 'Schäfer', 'Koch', 'Größer', 'Wagner'],
  },
  FR: {
    code: 'FR',
    networks: ['Orange FR', 'SFR', 'Bouygues Telecom', 'Free Mobile'],
    candidateNumber: (r) => `+336${digits(r, 8)}`,
    latinFirst: ['Zoë', 'Léa', 'Hélène', 'François', 'Camille', 'Jérôme', 'Chloé', 'Noël', 'Inès', 'Gaël'],
    latinLast: ['Martin', 'Bernard', 'Lefèvre', 'Dubois', 'Moreau', 'Girard', 'Françoise', 'Rousseau', 'Lemaître', 'Faure'],
  },
  AE: {
    code: 'AE',
    networks: ['Etisalat', 'du'],
    candidateNumber: (r) => `+9715${digits(r, 8)}`,
    latinFirst: ['Omar', 'Fatima', 'Ahmed', 'Layla', 'Khalid', 'Mariam'],
    latinLast: ['Al Mansoori', 'Haddad', 'Al Hashimi', 'Nasser', 'Saleh', 'Karim'],
    native: {
      share: 0.5,
      first: [
        ['عمر', 'Omar'],
        ['فاطمة', 'Fatima'],
        ['أحمد', 'Ahmed'],
        ['ليلى', 'Layla'],
        ['خالد', 'Khalid'],
      ],
      last: [
        ['المنصوري', 'Al Mansoori'],
        ['حداد', 'Haddad'],
        ['الهاشمي', 'Al Hashimi'],
        ['ناصر', 'Nasser'],
      ],
    },
  },
};

export const COUNTRY_CODES = Object.keys(COUNTRY_PROFILES) as CountryCode[];

/** A valid mobile number of the country that is not in `taken`; deterministic for the stream. */
export function mobileNumber(profile: CountryProfile, random: SeededRandom, taken: Set<string>): string {
  for (;;) {
    const candidate = profile.candidateNumber(random);
    if (taken.has(candidate)) continue;
    // The strict ("max") metadata, so numbers pass any validator the product may choose.
    const parsed = parsePhoneNumberFromString(candidate);
    const type = parsed?.getType();
    if (parsed?.isValid() && parsed.country === profile.code && (type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE')) {
      taken.add(candidate);
      return candidate;
    }
  }
}

export function personName(profile: CountryProfile, random: SeededRandom): PersonName {
  if (profile.native && random.chance(profile.native.share)) {
    const [first, firstLatin] = random.pick(profile.native.first);
    const [last, lastLatin] = random.pick(profile.native.last);
    return { first, last, firstLatin, lastLatin };
  }
  const first = random.pick(profile.latinFirst);
  const last = random.pick(profile.latinLast);
  return { first, last, firstLatin: first, lastLatin: last };
}
