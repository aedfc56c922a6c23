import { COUNTRY_CODES, COUNTRY_PROFILES, mobileNumber, personName, type CountryCode } from './countryProfiles';
import { SeededRandom } from './seededRandom';

export interface Employee {
  id: string;
  firstName: string;
  lastName: string;
  /** "First Last" as registered at TeleMessage; may be Hebrew, Arabic or accented. */
  displayName: string;
  country: CountryCode;
  /** E.164, e.g. +14155550123. */
  mobile: string;
  network: string;
  /** The employee's Microsoft 365 mailbox, `first.last@<domain>`. */
  mailbox: string;
  /** The address registered at TeleMessage; absent for the few employees who never registered one. */
  telemessageEmail?: string;
}

/** Someone outside the company: a number, sometimes a saved name and an outside email. */
export interface ExternalParty {
  id: string;
  number: string;
  country: CountryCode;
  name?: string;
  email?: string;
}

export interface Population {
  seed: string;
  domain: string;
  employees: Employee[];
  externals: ExternalParty[];
}

export interface PopulationOptions {
  seed: string | number;
  employees: number;
  /** Mailbox domain; default `contoso.example`. */
  domain?: string;
  /** Default max(30, 3 × employees). */
  externalParties?: number;
  /** Where most employees' numbers are from; default US. */
  primaryCountry?: CountryCode;
  /** Share of employees on the primary country's numbers; default 0.75. */
  primaryShare?: number;
}

const EXTERNAL_DOMAINS = ['fabrikam.example', 'northwind.example', 'adatum.example', 'mail.example'];

/** A deterministic company: the same options always give the same people and numbers. */
export function createPopulation(options: PopulationOptions): Population {
  const seed = String(options.seed);
  const domain = options.domain ?? 'contoso.example';
  const primary = options.primaryCountry ?? 'US';
  const primaryShare = options.primaryShare ?? 0.75;
  const others = COUNTRY_CODES.filter((code) => code !== primary);
  const random = new SeededRandom([seed, 'population']);
  const numbers = new Set<string>();
  const localParts = new Set<string>();

  const employees: Employee[] = [];
  for (let i = 0; i < options.employees; i++) {
    const country = random.chance(primaryShare) ? primary : random.pick(others);
    const profile = COUNTRY_PROFILES[country];
    const name = personName(profile, random);
    const mailbox = `${uniqueLocalPart(name.firstLatin, name.lastLatin, localParts)}@${domain}`;
    employees.push({
      id: `E${String(i + 1).padStart(4, '0')}`,
      firstName: name.first,
      lastName: name.last,
      displayName: `${name.first} ${name.last}`,
      country,
      mobile: mobileNumber(profile, random, numbers),
      network: random.pick(profile.networks),
      mailbox,
      telemessageEmail: mailbox,
    });
  }
  for (const employee of pickWithoutEmail(employees, random)) delete employee.telemessageEmail;

  const externals: ExternalParty[] = [];
  const externalCount = options.externalParties ?? Math.max(30, 3 * options.employees);
  for (let i = 0; i < externalCount; i++) {
    const country = random.chance(0.6) ? primary : random.pick(others);
    const profile = COUNTRY_PROFILES[country];
    const party: ExternalParty = {
      id: `X${String(i + 1).padStart(4, '0')}`,
      number: mobileNumber(profile, random, numbers),
      country,
    };
    if (random.chance(0.3)) {
      const name = personName(profile, random);
      party.name = `${name.first} ${name.last}`;
      if (random.chance(0.6)) {
        party.email = `${asciiLocal(name.firstLatin)}.${asciiLocal(name.lastLatin)}@${random.pick(EXTERNAL_DOMAINS)}`;
      }
    }
    externals.push(party);
  }
  return { seed, domain, employees, externals };
}

/**
 * The mapping file TeleMessage publishes: `External User ID,Microsoft 365 User Mailbox`, numbers
 * without '+'. The caller picks the employees, so tests can leave some out on purpose.
 */
export function renderMappingCsv(employees: readonly Employee[]): string {
  const rows = employees.map((employee) => `${employee.mobile.slice(1)},${employee.mailbox}`);
  return ['External User ID,Microsoft 365 User Mailbox', ...rows].join('\r\n') + '\r\n';
}

/** About 6% (at least one, once there are three employees) never registered an email. */
function pickWithoutEmail(employees: Employee[], random: SeededRandom): Employee[] {
  if (employees.length < 3) return [];
  const count = Math.max(1, Math.round(employees.length * 0.06));
  const pool = [...employees];
  const picked: Employee[] = [];
  while (picked.length < count) picked.push(pool.splice(random.int(0, pool.length), 1)[0]);
  return picked;
}

function uniqueLocalPart(first: string, last: string, taken: Set<string>): string {
  const base = `${asciiLocal(first)}.${asciiLocal(last)}`;
  let candidate = base;
  for (let n = 2; taken.has(candidate); n++) candidate = `${base}${n}`;
  taken.add(candidate);
  return candidate;
}

/** "Jürgen" -> "jurgen", "O'Connor" -> "oconnor", "Al Mansoori" -> "almansoori". */
function asciiLocal(name: string): string {
  return name
    .normalize('NFD')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}
