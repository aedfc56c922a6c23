import { badRequest } from './graphError';
import { flatString } from './flatString';

/**
 * MAPI extended property ids as Graph accepts them ("Integer 0x0E07",
 * "String {guid} Name ArchiveKey"). Exchange matches ids without regard to case or leading
 * zeros, so every id is reduced to one canonical spelling before it is stored or compared.
 */
const TYPES = ['ApplicationTime', 'Binary', 'Boolean', 'CLSID', 'Currency', 'Double', 'Float', 'Integer', 'Long', 'Object', 'Short', 'String', 'SystemTime'] as const;
type PropertyType = (typeof TYPES)[number];

const TAGGED = /^(\w+)\s+0x([0-9a-f]{1,4})$/i;
const NAMED = /^(\w+)\s+\{([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}\s+(Name\s+(.+)|Id\s+0x([0-9a-f]{1,8}))$/i;

const invalidId = (id: string) => badRequest(`The extended property id '${id}' is not valid.`, 'ErrorInvalidExtendedProperty');

function propertyType(id: string, name: string): PropertyType {
  const type = TYPES.find((t) => t.toLowerCase() === name.toLowerCase());
  if (!type) throw invalidId(id);
  return type;
}

// Every stored property carries its id; interning keeps one copy of each id string, not one per message.
const interned = new Map<string, string>();
const INTERN_LIMIT = 10_000;

export function canonicalPropertyId(id: string): string {
  const known = interned.get(id);
  if (known !== undefined) return known;
  const canonical = canonicalize(id);
  if (interned.size < INTERN_LIMIT) interned.set(id, canonical);
  return canonical;
}

function canonicalize(id: string): string {
  const trimmed = id.trim();
  const tagged = TAGGED.exec(trimmed);
  if (tagged) return `${propertyType(id, tagged[1])} 0x${parseInt(tagged[2], 16).toString(16)}`;
  const named = NAMED.exec(trimmed);
  if (!named) throw invalidId(id);
  const type = propertyType(id, named[1]);
  const guid = named[2].toLowerCase();
  return named[4] !== undefined ? `${type} {${guid}} Name ${named[4]}` : `${type} {${guid}} Id 0x${parseInt(named[5], 16).toString(16)}`;
}

/**
 * Key under which a property is stored, indexed and compared. Graph matches ids without regard to
 * case except the Name of a named property, which is case-sensitive; the name is hex-encoded here
 * so that comparisons made without regard to case still tell "ArchiveKey" from "archivekey".
 */
export function propertyKey(canonicalId: string): string {
  const at = canonicalId.indexOf('} Name ');
  if (at === -1) return canonicalId.toLowerCase();
  return `${canonicalId.slice(0, at).toLowerCase()}} name ${Buffer.from(canonicalId.slice(at + 7), 'utf8').toString('hex')}`;
}

export const MESSAGE_FLAGS = canonicalPropertyId('Integer 0x0E07');
export const CLIENT_SUBMIT_TIME = canonicalPropertyId('SystemTime 0x0039');
export const MESSAGE_DELIVERY_TIME = canonicalPropertyId('SystemTime 0x0E06');

/** PR_MESSAGE_FLAGS bits that Graph surfaces as isRead and isDraft. */
export const MSGFLAG_READ = 0x1;
export const MSGFLAG_UNSENT = 0x8;

export interface ExtendedProperty {
  id: string;
  value: string;
}

/** Validates an incoming property and returns it with its canonical id and normalised value. */
export function parseExtendedProperty(raw: unknown): ExtendedProperty {
  if (raw === null || typeof raw !== 'object') throw badRequest('An extended property must be an object.');
  const { id, value } = raw as Record<string, unknown>;
  if (typeof id !== 'string') throw badRequest("An extended property needs a string 'id'.");
  if (typeof value !== 'string') {
    throw badRequest(`The value of extended property '${id}' must be a string.`, 'ErrorInvalidExtendedPropertyValue');
  }
  const canonical = canonicalPropertyId(id);
  const type = canonical.slice(0, canonical.indexOf(' '));
  const invalidValue = () => badRequest(`The value '${value}' is not valid for extended property '${id}'.`, 'ErrorInvalidExtendedPropertyValue');
  switch (type) {
    case 'Integer':
    case 'Long':
    case 'Short':
      if (!/^-?\d+$/.test(value.trim())) throw invalidValue();
      return { id: canonical, value: String(parseInt(value, 10)) };
    case 'SystemTime': {
      const time = Date.parse(value);
      if (Number.isNaN(time)) throw invalidValue();
      return { id: canonical, value: graphDateTime(time) };
    }
    case 'Boolean':
      if (!/^(true|false)$/i.test(value)) throw invalidValue();
      return { id: canonical, value: value.toLowerCase() };
    default:
      return { id: canonical, value };
  }
}

/** Graph writes instants in UTC to the second, e.g. 2024-05-01T10:00:00Z. */
export function graphDateTime(time: number): string {
  return flatString(`${new Date(time).toISOString().slice(0, 19)}Z`);
}
