import { Readable } from 'node:stream';
import { encodedWords, header, quotedPrintable, textTokens } from './mimeEncoding';
import { participantHeaders, participantParams, type RenderOptions } from './rfc822';
import { rawMessageOf, type RawMessage, type Segment } from './rawSegments';
import { stableHash } from './seededRandom';
import type { ItemSpec, ItemType, Participant } from './traffic';

/**
 * The two SMTP deliveries TeleMessage documents besides one email per message
 * (docs/telemessage-formats.md §2): a day's thread as one email, and any email wrapped in an
 * Exchange journal report. Both are exact-size streams, like renderRawMessage.
 */

const CRLF = '\r\n';

/** One thread's messages of one UTC day: what a threaded delivery sends as one email. */
export interface ThreadDay {
  threadId: string;
  /** YYYY-MM-DD (UTC), the day the messages were sent. */
  day: string;
  /** In the order they were sent; never empty. */
  items: ItemSpec[];
}

/** Groups well-formed items by thread and UTC day of sending, each group in sending order. */
export function threadDays(items: Iterable<ItemSpec>): ThreadDay[] {
  const groups = new Map<string, ThreadDay>();
  for (const item of items) {
    if (item.malformation) continue;
    const day = item.sentAt.slice(0, 10);
    const key = `${item.threadId}|${day}`;
    const group = groups.get(key) ?? { threadId: item.threadId, day, items: [] };
    group.items.push(item);
    groups.set(key, group);
  }
  const all = [...groups.values()];
  for (const group of all) group.items.sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.id.localeCompare(b.id));
  return all.sort((a, b) => a.day.localeCompare(b.day) || a.threadId.localeCompare(b.threadId));
}

/** TeleMessage sends a day's threads "at 01:00 AM the following day"; its page names no zone, so UTC here. */
export function threadedSendTime(day: string): Date {
  return new Date(Date.parse(`${day}T01:00:00Z`) + 86_400_000);
}

/** The id a thread-day email carries in X-TELEMESSAGE-ArchiveMessageID (our assumption: one id per thread and day). */
export function threadDayId(thread: ThreadDay): string {
  return `TD-${thread.day.replace(/-/g, '')}-${thread.threadId.replace(/^TH-/, '')}`;
}

/**
 * One email holding a thread's day: the archived line as From, every other party as To, a
 * text/plain transcript (a line per message) and every message's media as attachments, in order.
 * Its layout is not documented: docs/telemessage-formats.md §2.2 lists what is assumed.
 */
export function renderThreadedDay(thread: ThreadDay, seed: string, options: RenderOptions = {}): RawMessage {
  const first = thread.items[0];
  const participants = threadParticipants(thread.items);
  const attachments = thread.items.flatMap((item) => item.attachments.map((spec, n) => ({ item, spec, n })));
  const id = threadDayId(thread);
  const group = first.chat?.group;

  let head = header('Message-ID', [`<${id}@archive.telemessage.example>`]);
  head += header('Date', [rfc5322Date(first.sentAt)]);
  head += participantHeaders(participants);
  head += header('Subject', textTokens(group ? `${first.chat?.app} conversation in ${group} on ${thread.day}` : `Conversation on ${thread.day}`));
  head += header('MIME-Version', ['1.0']);
  head += header('X-TELEMESSAGE-ArchiveMessageID', [id]);
  head += header('X-TELEMESSAGE-MessageType', [threadType(thread.items)]);
  head += header('X-TELEMESSAGE-THREAD_ID', [thread.threadId]);
  head += header('X-TELEMESSAGE-Network', textTokens(first.network));
  head += header('X-TELEMESSAGE-ArchiveSource', textTokens(first.chat?.app ?? 'Mobile Network'));
  head += header('X-TELEMESSAGE-ArchiveInitiator', [first.subscriber.number]);
  if (group) {
    head += header('X-TELEMESSAGE-ThreadName', textTokens(group));
    head += header('X-TELEMESSAGE-GroupID', [`GR-${thread.threadId.slice(3)}`]);
    head += header('X-TELEMESSAGE-GROUP_NAME', textTokens(group));
  }
  if (options.emulatorHeaders ?? true) {
    head += header('X-TELEMESSAGE-Subscriber', [first.subscriber.number]);
    head += header('X-TELEMESSAGE-ArchivedAt', [
      thread.items
        .map((i) => i.archivedAt)
        .sort()
        .at(-1) as string,
    ]);
    if (first.chat) head += header('X-TELEMESSAGE-ChatApp', [first.chat.app]);
    if (group) head += header('X-TELEMESSAGE-ChatGroup', textTokens(group));
    for (const p of participants) head += header('X-TELEMESSAGE-Participant', participantParams(p));
  }

  const transcript = quotedPrintable(thread.items.map(transcriptLine).join('\n')) + CRLF;
  const textHead = header('Content-Type', ['text/plain;', 'charset=UTF-8']) + header('Content-Transfer-Encoding', ['quoted-printable']);
  if (attachments.length === 0) return rawMessageOf([head + textHead + CRLF, transcript]);

  const boundary = `----=_TM_Thread_${stableHash([seed, 'thread-day', id]).slice(0, 20)}`;
  const segments: Segment[] = [
    head + header('Content-Type', ['multipart/mixed;', `boundary="${boundary}"`]) + CRLF,
    'This is a multi-part message in MIME format.' + CRLF,
    `--${boundary}${CRLF}${textHead}${CRLF}${transcript}`,
  ];
  for (const { item, spec, n } of attachments) {
    segments.push(
      `--${boundary}${CRLF}` +
        header('Content-Type', [`${spec.contentType};`, `name="${spec.filename}"`]) +
        header('Content-Disposition', ['attachment;', `filename="${spec.filename}"`]) +
        header('Content-Transfer-Encoding', ['base64']) +
        CRLF,
      // The same key as the item's own email, so a message's media is the same bytes either way.
      { format: spec.format, size: spec.size, key: [seed, 'attachment', item.id, n], encoding: 'base64' },
    );
  }
  segments.push(`--${boundary}--${CRLF}`);
  return rawMessageOf(segments);
}

/** The archived line is the sender; everyone else, once each by number, a recipient. */
function threadParticipants(items: ItemSpec[]): Participant[] {
  const owner = items[0].subscriber.number;
  const byNumber = new Map<string, Participant>();
  for (const p of items.flatMap((item) => item.participants)) {
    if (!byNumber.has(p.number)) byNumber.set(p.number, { ...p, role: p.number === owner ? 'from' : 'to' });
  }
  const all = [...byNumber.values()];
  return [...all.filter((p) => p.role === 'from'), ...all.filter((p) => p.role !== 'from')];
}

/** One type for the thread: the kind they share, MMS for SMS with media among them. */
function threadType(items: ItemSpec[]): ItemType {
  const types = new Set(items.map((i) => i.type));
  if (types.size === 1) return items[0].type;
  if ([...types].every((t) => t === 'SMS' || t === 'MMS')) return 'MMS';
  return items[0].type;
}

function transcriptLine(item: ItemSpec): string {
  const sender = item.participants.find((p) => p.role === 'from');
  const who = sender ? [sender.name, sender.number].filter(Boolean).join(' ') : 'unknown';
  const media = item.attachments.map((a) => ` [${a.filename}]`).join('');
  return `[${item.sentAt.replace('T', ' ').replace('Z', ' UTC')}] ${who}: ${item.text.replace(/\n/g, ' ')}${media}`;
}

/** What an Exchange journal report says about the message it carries. */
export interface JournalEnvelope {
  /** The original's sender address. */
  sender: string;
  /** Every envelope recipient of the original (the mailboxes it was delivered to). */
  recipients: string[];
  subject: string;
  /** The original's Message-ID, angle brackets included. */
  messageId: string;
  /** The journal mailbox the report goes to (here: the capture mailbox). */
  journalMailbox: string;
  /** When the report was made. */
  date: Date;
}

/**
 * Wraps a message as an Exchange journal report: an envelope message marked by an
 * `X-MS-Journal-Report:` header, a text/plain part with `Sender:`, `Subject:`, `Message-Id:` and
 * a `Recipient:` line per recipient, and the original attached whole as message/rfc822. The
 * original's bytes are streamed, never held, and come out of an unwrap unchanged.
 */
export function wrapJournalReport(original: RawMessage, envelope: JournalEnvelope): RawMessage {
  const key = stableHash(['journal', envelope.messageId, envelope.journalMailbox, envelope.date.toISOString()]);
  const boundary = `----=_JR_${key.slice(0, 24)}`;
  const domain = envelope.journalMailbox.split('@')[1] ?? 'journal.invalid';
  const lines = [`Sender: ${envelope.sender}`, `Subject: ${envelope.subject}`, `Message-Id: ${envelope.messageId}`, ...envelope.recipients.map((r) => `Recipient: ${r}`)];
  const ascii = lines.every((line) => /^[\x20-\x7e]*$/.test(line));

  // The address Exchange Online journal reports come from.
  let head = header('From', ['Microsoft', 'Exchange', `<MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@${domain}>`]);
  head += header('To', [`<${envelope.journalMailbox}>`]);
  head += header('Date', [envelope.date.toUTCString().replace('GMT', '+0000')]);
  head += header('Subject', /^[\x20-\x7e]*$/.test(envelope.subject) ? envelope.subject.split(' ').filter(Boolean) : encodedWords(envelope.subject));
  head += header('Message-ID', [`<JR-${key.slice(0, 32)}@${domain}>`]);
  head += 'X-MS-Journal-Report:' + CRLF;
  head += header('MIME-Version', ['1.0']);
  head += header('Content-Type', ['multipart/mixed;', `boundary="${boundary}"`]) + CRLF;
  head += `--${boundary}${CRLF}`;
  head += header('Content-Type', ['text/plain;', `charset="${ascii ? 'us-ascii' : 'utf-8'}"`]);
  head += header('Content-Transfer-Encoding', [ascii ? '7bit' : '8bit']) + CRLF;
  head += lines.join(CRLF) + CRLF + CRLF;
  head += `--${boundary}${CRLF}`;
  head += header('Content-Type', ['message/rfc822']) + CRLF;
  const prefix = Buffer.from(head, 'utf8');
  // The line break before the closing delimiter belongs to the delimiter, not to the original.
  const suffix = Buffer.from(`${CRLF}--${boundary}--${CRLF}`, 'latin1');
  return {
    size: prefix.length + original.size + suffix.length,
    stream: () =>
      Readable.from(
        (async function* () {
          yield prefix;
          yield* original.stream();
          yield suffix;
        })(),
        { objectMode: false },
      ),
  };
}

/** `Wed, 15 Jan 2025 09:13:22 +0000`. */
function rfc5322Date(iso: string): string {
  return new Date(iso).toUTCString().replace('GMT', '+0000');
}
