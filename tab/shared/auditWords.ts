import { displayNumber } from '../../phone/phoneDisplay';

/**
 * An audit entry as a sentence an admin reads ("Alex Wilber changed the schedule from 02:00 to
 * 03:00 UTC"): the tab's audit page and its CSV export say the same words. Values from outside
 * (names, mailboxes) stay text: the page renders them as text, the CSV makes them spreadsheet-safe.
 */
export interface WordedEntry {
  actor: string;
  action: string;
  before?: unknown;
  after?: unknown;
  detail?: Record<string, unknown>;
}

/** Object id -> display name, as far as Graph knows them. */
export type Names = Readonly<Record<string, string>>;

const MAX_SENTENCE = 600;
const SYSTEM_ACTORS: Record<string, string> = { scheduler: 'The daily schedule', system: 'The archiver', 'local-dev': 'Local development (unauthenticated)' };

/** Who did it: the display name where Graph knows the object id, else the id (or the scheduler) as it was recorded. */
export function actorName(actor: string, names: Names): string {
  if (actor.startsWith('system:')) return `The deployment's ${actor.slice('system:'.length)}`;
  return names[actor.toLowerCase()] ?? SYSTEM_ACTORS[actor] ?? actor;
}

const text = (v: unknown): string =>
  v === undefined || v === null || v === '' ? 'none' : Array.isArray(v) ? (v.length ? v.map(text).join(', ') : 'none') : typeof v === 'object' ? JSON.stringify(v) : String(v);
const person = (id: unknown, names: Names) => (typeof id === 'string' ? (names[id.toLowerCase()] ?? id) : text(id));
/** A number as the tab and the bot show every number (international format). */
const phone = (v: unknown) => (typeof v === 'string' ? displayNumber(v) : text(v));
const count = (n: unknown, one: string, many = `${one}s`) => `${typeof n === 'number' ? n.toLocaleString('en-US') : text(n)} ${n === 1 ? one : many}`;

/** What one setting's change reads as, after "<who> …"; undefined for a field the sentence need not name. */
function settingChange(key: string, before: unknown, after: unknown, names: Names): string | undefined {
  switch (key) {
    case 'scheduleUtc':
      return `changed the schedule from ${text(before)} to ${text(after)} UTC`;
    case 'scheduleTimeZone':
      return `changed the schedule's time zone from ${text(before)} to ${text(after)}`;
    case 'automaticMapping':
      return `turned automatic mapping ${after ? 'on' : 'off'}`;
    case 'defaultCountry':
      return `changed the default country from ${text(before)} to ${text(after)}`;
    case 'tenantDomains':
      return `changed the tenant's mail domains from ${text(before)} to ${text(after)}`;
    case 'admins': {
      const was = Array.isArray(before) ? before : [];
      const now = Array.isArray(after) ? after : [];
      const added = now.filter((a) => !was.includes(a)).map((a) => person(a, names));
      const removed = was.filter((a) => !now.includes(a)).map((a) => person(a, names));
      return (
        [added.length && `added ${added.join(', ')} as ${added.length > 1 ? 'admins' : 'an admin'}`, removed.length && `removed ${removed.join(', ')} from the admins`].filter(Boolean).join(' and ') ||
        undefined
      );
    }
    case 'termsAcceptedAt':
      return after ? 'accepted the terms' : undefined;
    case 'mappingConfirmedAt':
      return after ? 'saved the user mapping step' : undefined;
    case 'consentedAt':
      return after ? 'recorded the admin consent' : undefined;
    case 'setupCompletedAt':
      return after ? 'finished the setup' : undefined;
    case 'delivery':
      return `changed how TeleMessage delivers from ${text(before ?? 'api')} to ${text(after)}`;
    case 'captureMailbox':
      return `changed the capture mailbox from ${text(before)} to ${text(after)}`;
    case 'folderName':
      return `renamed the archive folder from ${text(before)} to ${text(after)}`;
    default:
      return `changed ${key} from ${text(before)} to ${text(after)}`;
  }
}

function settingsChanged(entry: WordedEntry, names: Names): string {
  const before = (entry.before ?? {}) as Record<string, unknown>;
  const after = (entry.after ?? {}) as Record<string, unknown>;
  const parts = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((k) => settingChange(k, before[k], after[k], names))
    .filter((p): p is string => Boolean(p));
  return parts.length ? joinWords(parts) : 'saved the settings unchanged';
}

function joinWords(parts: string[]): string {
  return parts.length < 2 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** What the entry says was done, after "<who> …". */
function deed(entry: WordedEntry, names: Names): string {
  const d = entry.detail ?? {};
  const after = (entry.after ?? {}) as Record<string, unknown>;
  const before = (entry.before ?? {}) as Record<string, unknown>;
  switch (entry.action) {
    case 'settings.changed':
      return settingsChanged(entry, names);
    case 'admins.added':
      return `added ${typeof d.displayName === 'string' ? d.displayName : person(d.admin, names)} as an admin`;
    case 'admins.removed':
      return `removed ${typeof d.displayName === 'string' ? d.displayName : person(d.admin, names)} from the admins`;
    case 'telemessage.credentials.changed':
      return before.username === after.username
        ? `changed the TeleMessage password of ${text(after.username)}`
        : `changed the TeleMessage sign-in from ${text(before.username)} to ${text(after.username)}`;
    case 'mapping.applied':
      return `applied a mapping file of ${count(d.fileRows, 'row')}: ${d.added ?? 0} added, ${d.changed ?? 0} changed, ${d.removed ?? 0} removed`;
    case 'mapping.numberMapped':
      return d.previously ? `mapped ${phone(d.number)} to ${text(d.mailbox)} (was ${text(d.previously)})` : `mapped ${phone(d.number)} to ${text(d.mailbox)}`;
    case 'mapping.numberUnmapped':
      return `removed ${phone(d.number)} from the mapping${d.previously ? ` (was ${text(d.previously)})` : ''}`;
    case 'mapping.restored':
      return `restored the mapping version ${text(d.restoredFrom)}`;
    case 'run.started':
      return `started a ${text(d.trigger)} run (${text(d.runId)})`;
    case 'run.ended':
      return `ended the run ${text(d.runId)}: ${text(d.status)}${d.error ? `, ${text(d.error)}` : ''}`;
    case 'run.rerun.requested':
      return `asked for a rerun of ${text(d.rerunOf)}`;
    case 'run.backfill.requested':
      return `asked for a backfill from ${text(d.from)} to ${text(d.to)}`;
    case 'run.collected':
      return 'collected what TeleMessage delivered';
    case 'tenant.preflight':
      return `checked the tenant against ${text(d.mailbox)}: ${d.ok ? 'every check passed' : 'a check failed'}`;
    default: {
      const details = Object.entries(d)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k} ${text(v)}`);
      return `did ${entry.action}${details.length ? ` (${details.join('; ')})` : ''}`;
    }
  }
}

/** The whole sentence, capped in length. */
export function auditSentence(entry: WordedEntry, names: Names): string {
  const sentence = `${actorName(entry.actor, names)} ${deed(entry, names)}`;
  return sentence.length > MAX_SENTENCE ? `${sentence.slice(0, MAX_SENTENCE)}…` : sentence;
}
