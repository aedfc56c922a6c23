import type { HeaderLines } from 'mailparser';
import { toE164 } from '../../phone/phoneNumber';
import type { Participant, ParticipantRole } from '../model';
import { decodeEncodedWords } from './encodedWords';

const ROLES: readonly [string, ParticipantRole][] = [
  ['from', 'from'],
  ['to', 'to'],
  ['cc', 'cc'],
];

/** A phone number as a display name writes it: an optional '+', digits, and separators between them. */
const PHONE = /\+?\d[\d ().\-/]{4,22}\d/g;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The participants an EML names in From, To and Cc, read the way TeleMessage writes them
 * (docs/telemessage-formats.md §2.3): the default display format is `First Last Mobile <email>`,
 * so the mobile number is taken from the display name (comments included), else from an address
 * whose local part is the number; the address is the participant's email unless it only stands in
 * for the number. Read from the raw lines, not mailparser's address objects, because those drop
 * comments and split a number such as `+1 (415) 555-0199`. Names are RFC 2047 words in any charset
 * the runtime knows (Hebrew, Arabic, CJK, Cyrillic), or raw UTF-8.
 */
export function addressParticipants(headerLines: HeaderLines): Participant[] {
  const participants: Participant[] = [];
  for (const [key, role] of ROLES) {
    for (const { line } of headerLines.filter((l) => l.key === key)) {
      const value = rawText(line.slice(line.indexOf(':') + 1)).replace(/\r?\n[ \t]/g, ' ');
      for (const entry of splitEntries(value)) {
        const participant = toParticipant(entry, role);
        if (participant) participants.push(participant);
      }
    }
  }
  return participants;
}

/** mailparser hands header lines over byte for byte (latin1); 8-bit names are most often UTF-8. */
function rawText(value: string): string {
  if (!/[\x80-\xff]/.test(value)) return value;
  try {
    return UTF8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

function toParticipant(rawEntry: string, role: ParticipantRole): Participant | undefined {
  // A group (`Desk: a@x, b@y;`) names its members: the label is not a party.
  const entry = rawEntry
    .replace(/^\s*[^"<>(),:@]*:\s*/, '')
    .replace(/;\s*$/, '')
    .trim();
  const angle = /<([^<>]*)>\s*$/.exec(entry);
  const bare = angle ? undefined : /(?:^|\s)([^\s"<>(),;]+@[^\s"<>(),;]+)\s*$/.exec(entry);
  const addr = (angle?.[1] ?? bare?.[1] ?? '').trim();
  const phrase = angle ? entry.slice(0, angle.index) : bare ? entry.slice(0, bare.index) : entry;
  let display = decodeEncodedWords(unquote(phrase)).replace(/\s+/g, ' ').trim();

  let number: string | undefined;
  for (const match of [...display.matchAll(PHONE)].reverse()) {
    number = toE164(match[0]);
    if (number) {
      display = display.slice(0, match.index) + display.slice(match.index + match[0].length);
      break;
    }
  }
  const [local = '', domain = ''] = addr.split('@');
  // A number@stand-in address: its local part is the number.
  const localNumber = /^\+?\d{6,17}$/.test(local) ? toE164(local) : undefined;
  number ??= localNumber;
  const standIn = domain.toLowerCase().endsWith('.invalid') || (localNumber !== undefined && localNumber === number);
  // Should `Mobile` in format #1 be the word itself rather than the number, it is no part of the name.
  const name = display
    .replace(/\(\s*\)|\[\s*\]/g, '')
    .replace(/\sMobile\s*$/, '')
    .replace(/\s+/g, ' ')
    .replace(/^[\s,;:-]+|[\s,;:-]+$/g, '');

  const participant: Participant = { role };
  if (number) participant.number = number;
  if (!standIn && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(addr)) participant.email = addr.toLowerCase();
  if (name && name.toLowerCase() !== addr.toLowerCase()) participant.name = name;
  return participant.number || participant.email ? participant : undefined;
}

/** A phrase's text: quoted strings unquoted, comments' parentheses kept as text (a number may sit in one). */
function unquote(phrase: string): string {
  return phrase.replace(/"((?:[^"\\]|\\.)*)"/g, (_m, inner: string) => inner.replace(/\\(.)/g, '$1'));
}

/** An address list's entries: split on commas outside quotes, angle brackets and comments. */
function splitEntries(value: string): string[] {
  const entries: string[] = [];
  let current = '';
  let depth = 0;
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (quoted && char === '\\') {
      current += char + (value[++i] ?? '');
      continue;
    }
    if (char === '"' && depth === 0) quoted = !quoted;
    else if (!quoted && char === '(') depth++;
    else if (!quoted && char === ')' && depth > 0) depth--;
    else if (!quoted && depth === 0 && char === '<') angle = true;
    else if (!quoted && depth === 0 && char === '>') angle = false;
    else if (!quoted && depth === 0 && !angle && char === ',') {
      entries.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  return [...entries, current].filter((e) => e.trim() !== '');
}
