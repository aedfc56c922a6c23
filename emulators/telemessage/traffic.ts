import { MEDIA_TYPES, type MediaFormat } from './mediaBytes';
import { chatGroupName, messageText } from './messageTexts';
import type { Employee, ExternalParty, Population } from './population';
import { SeededRandom, stableHash } from './seededRandom';

export type ItemType = 'SMS' | 'MMS' | 'CHAT' | 'VOICE_RECORDING' | 'VOICE_CALL_LOG';

/** Each malformed item is broken in exactly one of these ways. */
export type Malformation = 'missing-participants' | 'truncated-body' | 'broken-boundary' | 'invalid-date' | 'garbage-bytes';
export const MALFORMATIONS: readonly Malformation[] = ['missing-participants', 'truncated-body', 'broken-boundary', 'invalid-date', 'garbage-bytes'];

export type ParticipantRole = 'from' | 'to' | 'cc';

export interface Participant {
  role: ParticipantRole;
  /** E.164. */
  number: string;
  /** As registered at TeleMessage (employees) or saved (some external contacts). */
  name?: string;
  /** The User's Email address property; absent when TeleMessage has none for the number. */
  email?: string;
  /** Set for company employees; not on the wire, for tests to join against the population. */
  employeeId?: string;
}

export interface AttachmentSpec {
  filename: string;
  contentType: string;
  format: MediaFormat;
  /** Decoded size in bytes. */
  size: number;
}

export interface CallSpec {
  /** ISO 8601, whole seconds. */
  start: string;
  durationSeconds: number;
  status: 'answered' | 'missed';
}

/** Everything about one archived item, derived from (seed, day, index) alone. */
export interface ItemSpec {
  id: string;
  day: string;
  index: number;
  /** When TeleMessage archived it (ISO 8601 with ms); the listing window filters on this. */
  archivedAt: string;
  type: ItemType;
  /** When it was sent, or when the call started (ISO 8601, whole seconds). */
  sentAt: string;
  /** The archived employee whose line carried the item. */
  subscriber: { employeeId: string; number: string };
  network: string;
  direction: 'inbound' | 'outbound';
  threadId: string;
  participants: Participant[];
  subject: string;
  /** The text/plain body (for calls, the call summary); '' when the item has none. */
  text: string;
  attachments: AttachmentSpec[];
  chat?: { app: string; group?: string };
  call?: CallSpec;
  malformation?: Malformation;
}

/** Log-normal sizes in bytes, clamped to [min, max]. */
export interface SizeDistribution {
  min: number;
  median: number;
  max: number;
}

export interface TrafficOptions {
  /** Items archived per UTC day; default 2000. */
  itemsPerDay?: number;
  /** Zipf exponent over employees: 0 = everyone equal, default 1.1 = a few heavy users carry much of it. */
  skew?: number;
  /** Relative weights of the kinds; default SMS 45, CHAT 20, MMS 15, VOICE_CALL_LOG 12, VOICE_RECORDING 8. */
  mix?: Partial<Record<ItemType, number>>;
  /** Per media format; recordings' call durations follow from their size (16,000 bytes a second). */
  attachmentSizes?: Partial<Record<MediaFormat, SizeDistribution>>;
  /** Share of items that are malformed; default 0.003. */
  malformedRatio?: number;
  /**
   * Attachment sizes in bytes placed once per day, spread evenly through it (even positions an
   * MMS video, odd a WAV recording). Default 4, 12, 36, 151 and 160 MiB: past the 3 MB inline
   * limit, the 35 MB default mailbox limit and the 150 MB upload session limit.
   */
  hugeAttachments?: number[];
}

const MIB = 1024 * 1024;
const KIB = 1024;
const MAX_ITEMS_PER_DAY = 1_000_000;
const DAY_MS = 86_400_000;
const AUDIO_BYTES_PER_SECOND = 16_000;

const DEFAULT_MIX: Record<ItemType, number> = { SMS: 45, CHAT: 20, MMS: 15, VOICE_CALL_LOG: 12, VOICE_RECORDING: 8 };
const DEFAULT_SIZES: Record<MediaFormat, SizeDistribution> = {
  jpeg: { min: 30 * KIB, median: 350 * KIB, max: 6 * MIB },
  png: { min: 8 * KIB, median: 120 * KIB, max: 3 * MIB },
  mp4: { min: 200 * KIB, median: 2.5 * MIB, max: 30 * MIB },
  mp3: { min: 16 * KIB, median: 1 * MIB, max: 30 * MIB },
  wav: { min: 16 * KIB, median: 1.5 * MIB, max: 40 * MIB },
};
const DEFAULT_HUGE = [4 * MIB, 12 * MIB, 36 * MIB, 151 * MIB, 160 * MIB];

/** Archive activity by UTC hour: quiet nights, busy business hours. */
const HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 10, 11, 12, 12, 11, 9, 7, 5, 4, 3, 2, 1];
const HOUR_CUMULATIVE = HOUR_WEIGHTS.reduce<number[]>((acc, w) => [...acc, acc[acc.length - 1] + w], [0]);

const CHAT_APPS: readonly (readonly [string, number])[] = [
  ['WhatsApp', 60],
  ['Signal', 15],
  ['Telegram', 15],
  ['WeChat', 10],
];

type Content = { sentAtMs: number; text: string; attachments: AttachmentSpec[]; call?: CallSpec };
type Party = { number: string; name?: string; email?: string; employeeId?: string; country: Employee['country'] };

/**
 * The traffic of any day as a pure function of (seed, day, index). Archive times grow with the
 * index, so a time window maps to an index range by binary search and no day is ever built whole.
 */
export class TrafficModel {
  readonly itemsPerDay: number;
  private readonly mix: (readonly [ItemType, number])[];
  private readonly sizes: Record<MediaFormat, SizeDistribution>;
  private readonly malformedRatio: number;
  /** Index within a day -> huge attachment size. */
  private readonly huge = new Map<number, { size: number; rank: number }>();
  /** Employees in heavy-first order with cumulative Zipf weights. */
  private readonly byActivity: Employee[];
  private readonly activityCumulative: number[];

  constructor(
    readonly seed: string,
    readonly population: Population,
    options: TrafficOptions = {},
  ) {
    this.itemsPerDay = options.itemsPerDay ?? 2000;
    if (!Number.isInteger(this.itemsPerDay) || this.itemsPerDay < 0 || this.itemsPerDay > MAX_ITEMS_PER_DAY) {
      throw new RangeError(`itemsPerDay must be an integer from 0 to ${MAX_ITEMS_PER_DAY}`);
    }
    if (population.employees.length === 0) throw new RangeError('the population needs at least one employee');
    if (population.employees.length + population.externals.length < 2) {
      throw new RangeError('the population needs someone for its employee to talk to');
    }
    this.mix = Object.entries({ ...DEFAULT_MIX, ...options.mix }) as [ItemType, number][];
    this.sizes = { ...DEFAULT_SIZES, ...options.attachmentSizes };
    this.malformedRatio = options.malformedRatio ?? 0.003;
    const hugeSizes = options.hugeAttachments ?? DEFAULT_HUGE;
    hugeSizes.forEach((size, rank) => {
      const index = Math.floor(((2 * rank + 1) * this.itemsPerDay) / (2 * hugeSizes.length));
      if (index < this.itemsPerDay && !this.huge.has(index)) this.huge.set(index, { size, rank });
    });

    const skew = options.skew ?? 1.1;
    const order = new SeededRandom([seed, 'activity']);
    this.byActivity = [...population.employees];
    for (let i = this.byActivity.length - 1; i > 0; i--) {
      const j = order.int(0, i + 1);
      [this.byActivity[i], this.byActivity[j]] = [this.byActivity[j], this.byActivity[i]];
    }
    let total = 0;
    this.activityCumulative = this.byActivity.map((_, rank) => (total += 1 / Math.pow(rank + 1, skew)));
  }

  /** Archive time of an item: strictly inside the day, never decreasing with the index. */
  archivedAtMs(day: string, index: number): number {
    const jitter = new SeededRandom([this.seed, 'time', day, index]).next();
    const fraction = (index + 0.05 + 0.9 * jitter) / this.itemsPerDay;
    const target = fraction * HOUR_CUMULATIVE[24];
    let hour = 0;
    while (HOUR_CUMULATIVE[hour + 1] <= target) hour++;
    const withinHour = (target - HOUR_CUMULATIVE[hour]) / HOUR_WEIGHTS[hour];
    return dayStartMs(day) + Math.floor((hour + withinHour) * 3_600_000);
  }

  /** The first index whose archive time is at or after `ms` (itemsPerDay if none). */
  lowerBound(day: string, ms: number): number {
    let low = 0;
    let high = this.itemsPerDay;
    if (ms <= dayStartMs(day)) return 0;
    if (ms >= dayStartMs(day) + DAY_MS) return high;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.archivedAtMs(day, middle) < ms) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Ids sort like (day, index), which keeps (archivedAt, id) order when two items share a millisecond. */
  itemId(day: string, index: number): string {
    const check = stableHash([this.seed, 'id', day, index]).slice(0, 8);
    return `TM-${day.replace(/-/g, '')}-${String(index).padStart(7, '0')}-${check}`;
  }

  /** The (day, index) an id names, if this model could have issued it. */
  locate(id: string): { day: string; index: number } | undefined {
    const match = /^TM-(\d{4})(\d{2})(\d{2})-(\d{7})-[0-9a-f]{8}$/.exec(id);
    if (!match) return undefined;
    const day = `${match[1]}-${match[2]}-${match[3]}`;
    const index = Number(match[4]);
    if (!isDay(day) || index >= this.itemsPerDay || this.itemId(day, index) !== id) return undefined;
    return { day, index };
  }

  item(day: string, index: number): ItemSpec {
    const random = new SeededRandom([this.seed, 'item', day, index]);
    const archivedAtMs = this.archivedAtMs(day, index);
    const huge = this.huge.get(index);
    const type: ItemType = huge ? (huge.rank % 2 === 0 ? 'MMS' : 'VOICE_RECORDING') : random.weighted(this.mix);
    const owner = this.pickOwner(random);
    const direction = random.chance(0.5) ? 'outbound' : 'inbound';
    const isCall = type === 'VOICE_RECORDING' || type === 'VOICE_CALL_LOG';
    const groupChance = type === 'CHAT' ? 0.35 : type === 'SMS' || type === 'MMS' ? 0.12 : 0;
    const others = this.pickCounterparts(random, owner, random.chance(groupChance) ? random.int(2, 6) : 1);
    const ownerParty = employeeParty(owner);
    const [sender, ...receivers] = direction === 'outbound' ? [ownerParty, ...others] : [others[0], ownerParty, ...others.slice(1)];
    const participants: Participant[] = [sender, ...receivers].map((party, position) => toParticipant(party, position === 0 ? 'from' : position === 1 ? 'to' : 'cc'));

    let chat: ItemSpec['chat'];
    if (type === 'CHAT') {
      chat = { app: random.weighted(CHAT_APPS) };
      if (others.length > 1) chat.group = chatGroupName(random);
    }
    const { sentAtMs, text, attachments, call } = isCall
      ? this.callContent(random, type, huge, archivedAtMs, direction, participants)
      : this.messageContent(random, type, huge, archivedAtMs, sender.country);

    const malformation = !huge && random.chance(this.malformedRatio) ? random.pick(MALFORMATIONS) : undefined;
    const threadParties = participants.map((p) => p.number).sort();
    const family = chat ? `chat:${chat.app}:${chat.group ?? ''}` : isCall ? 'voice' : 'messaging';
    return {
      id: this.itemId(day, index),
      day,
      index,
      archivedAt: new Date(archivedAtMs).toISOString(),
      type,
      sentAt: isoSeconds(sentAtMs),
      subscriber: { employeeId: owner.id, number: owner.mobile },
      network: owner.network,
      direction,
      threadId: `TH-${stableHash([this.seed, 'thread', family, ...threadParties]).slice(0, 16)}`,
      participants: malformation === 'missing-participants' ? [] : participants,
      subject: subjectLine(type, direction, sender, receivers, chat),
      text,
      attachments,
      ...(chat ? { chat } : {}),
      ...(call ? { call } : {}),
      ...(malformation ? { malformation } : {}),
    };
  }

  /** A recording's audio size sets its duration; a call log has a duration and no media. */
  private callContent(random: SeededRandom, type: ItemType, huge: { size: number } | undefined, archivedAtMs: number, direction: ItemSpec['direction'], participants: Participant[]): Content {
    const status = type === 'VOICE_RECORDING' || random.chance(0.8) ? 'answered' : 'missed';
    const attachments: AttachmentSpec[] = [];
    let durationSeconds = 0;
    let format: MediaFormat | undefined;
    let size = 0;
    if (type === 'VOICE_RECORDING') {
      format = huge ? 'wav' : random.chance(0.7) ? 'mp3' : 'wav';
      size = huge ? huge.size : this.mediaSize(random, format);
      durationSeconds = Math.max(1, Math.round(size / AUDIO_BYTES_PER_SECOND));
    } else if (status === 'answered') {
      durationSeconds = Math.max(1, Math.round(random.logNormal(90, 1.2)));
    }
    // The call ended a little before TeleMessage archived it.
    const startMs = Math.floor((archivedAtMs - 1000 * (durationSeconds + random.int(5, 300))) / 1000) * 1000;
    if (format) {
      const other = direction === 'outbound' ? participants[1] : participants[0];
      attachments.push(attachment(format, size, `call_${stamp(startMs)}_${other.number.slice(1)}`));
    }
    const call: CallSpec = { start: isoSeconds(startMs), durationSeconds, status };
    return { sentAtMs: startMs, text: callSummary(type, direction, call, participants), attachments, call };
  }

  /** SMS, MMS and chat: a text (MMS may have none) and, for MMS and some chats, media. */
  private messageContent(random: SeededRandom, type: ItemType, huge: { size: number } | undefined, archivedAtMs: number, senderCountry: Employee['country']): Content {
    const sentAtMs = Math.floor((archivedAtMs - random.int(1000, 120_000)) / 1000) * 1000;
    const text = type === 'MMS' && (huge || random.chance(0.3)) ? '' : messageText(random, senderCountry);
    const attachments: AttachmentSpec[] = [];
    if (huge) attachments.push(attachment('mp4', huge.size, `VID_${stamp(sentAtMs)}`));
    else if (type === 'MMS') {
      const count = random.weighted([
        [1, 70],
        [2, 20],
        [3, 10],
      ] as const);
      for (let n = 1; n <= count; n++) {
        const format = random.weighted<MediaFormat>([
          ['jpeg', 55],
          ['png', 20],
          ['mp4', 25],
        ]);
        const prefix = format === 'mp4' ? 'VID' : format === 'png' ? 'Screenshot' : 'IMG';
        attachments.push(attachment(format, this.mediaSize(random, format), `${prefix}_${stamp(sentAtMs)}_${n}`));
      }
    } else if (type === 'CHAT' && random.chance(0.15)) {
      attachments.push(attachment('jpeg', this.mediaSize(random, 'jpeg'), `IMG-${stamp(sentAtMs)}-WA0001`));
    }
    return { sentAtMs, text, attachments };
  }

  private pickOwner(random: SeededRandom): Employee {
    const point = random.next() * this.activityCumulative[this.activityCumulative.length - 1];
    let low = 0;
    let high = this.activityCumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.activityCumulative[middle] <= point) low = middle + 1;
      else high = middle;
    }
    return this.byActivity[low];
  }

  /** A quarter of counterparts are colleagues, the rest outside numbers; never the same number twice. */
  private pickCounterparts(random: SeededRandom, owner: Employee, count: number): Party[] {
    const { employees, externals } = this.population;
    const used = new Set([owner.mobile]);
    const parties: Party[] = [];
    const wanted = Math.min(count, employees.length - 1 + externals.length);
    while (parties.length < wanted) {
      const colleague = externals.length === 0 || (employees.length > 1 && random.chance(0.25));
      const party = colleague ? employeeParty(random.pick(employees)) : externalParty(random.pick(externals));
      if (used.has(party.number)) continue;
      used.add(party.number);
      parties.push(party);
    }
    return parties;
  }

  private mediaSize(random: SeededRandom, format: MediaFormat): number {
    const { min, median, max } = this.sizes[format];
    return Math.min(max, Math.max(min, Math.round(random.logNormal(median, 0.9))));
  }
}

export function isDay(day: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && new Date(`${day}T00:00:00Z`).toISOString().startsWith(day);
}

export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

function employeeParty(employee: Employee): Party {
  return {
    number: employee.mobile,
    name: employee.displayName,
    email: employee.telemessageEmail,
    employeeId: employee.id,
    country: employee.country,
  };
}

function externalParty(party: ExternalParty): Party {
  return { number: party.number, name: party.name, email: party.email, country: party.country };
}

function toParticipant(party: Party, role: ParticipantRole): Participant {
  const participant: Participant = { role, number: party.number };
  if (party.name !== undefined) participant.name = party.name;
  if (party.email !== undefined) participant.email = party.email;
  if (party.employeeId !== undefined) participant.employeeId = party.employeeId;
  return participant;
}

function attachment(format: MediaFormat, size: number, baseName: string): AttachmentSpec {
  const { contentType, extension } = MEDIA_TYPES[format];
  return { filename: `${baseName}.${extension}`, contentType, format, size };
}

function label(party: { number: string; name?: string }): string {
  return party.name ?? party.number;
}

function subjectLine(type: ItemType, direction: 'inbound' | 'outbound', sender: Party, receivers: Party[], chat: { app: string; group?: string } | undefined): string {
  switch (type) {
    case 'SMS':
    case 'MMS':
      return receivers.length > 1 ? `${type} from ${label(sender)} to a group of ${receivers.length}` : `${type} from ${label(sender)}`;
    case 'CHAT': {
      const app = chat?.app ?? 'Chat';
      return chat?.group ? `${app} message from ${label(sender)} in ${chat.group}` : `${app} message from ${label(sender)}`;
    }
    case 'VOICE_RECORDING':
      return `Voice call recording: ${label(sender)} to ${label(receivers[0])} (${direction})`;
    case 'VOICE_CALL_LOG':
      return `Voice call log: ${label(sender)} to ${label(receivers[0])} (${direction})`;
  }
}

function callSummary(type: ItemType, direction: string, call: CallSpec, participants: Participant[]): string {
  const party = (p: Participant) => (p.name ? `${p.name} (${p.number})` : p.number);
  return [
    type === 'VOICE_RECORDING' ? 'Voice call recording' : 'Voice call log',
    `Direction: ${direction}`,
    `Status: ${call.status}`,
    `From: ${party(participants[0])}`,
    `To: ${party(participants[1])}`,
    `Start: ${call.start}`,
    `Duration: ${call.durationSeconds} seconds`,
  ].join('\n');
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** 20250115_091322, the stamp phones put in media file names. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
}
