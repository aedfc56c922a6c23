import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { HeaderLines, Headers, StructuredHeader } from 'mailparser';
import { ImporterError } from '../errors';
import { toE164 } from '../../phone/phoneNumber';
import type { ArchiveItem, AttachmentInfo, ItemKind, Participant, SourceItemRef } from '../model';
import { addressParticipants } from './addressParticipants';
import { decodeEncodedWords } from './encodedWords';
import { parseIsoDateTime, parseMailDate } from './mailDate';
import { FramingProbe } from './mimeFraming';
import { attachmentName, walkMime, type WalkedMessage } from './mimeWalk';
import { inferKind, KNOWN_TYPES, kindOfType } from './messageKind';
import { parseParticipantHeader } from './participantHeader';

export { kindOfType } from './messageKind';

export interface RawItemInfo {
  /** SHA-256 of the raw bytes (the name they are kept under). */
  sha256: string;
  size: number;
  /** The listing entry, when the item came from a source listing. */
  ref?: SourceItemRef;
  /** Receives each attachment's decoded bytes, by index, so they need not be parsed out again (an item held in memory). */
  keepAttachments?: Map<number, Buffer>;
}

/**
 * Reads a raw TeleMessage item into an ArchiveItem: the archive API's (RFC 822,
 * docs/telemessage-api.md §2) and the EML an SMTP or SFTP delivery carries
 * (docs/telemessage-formats.md), whose participants are read from From, To and Cc when it has no
 * X-TELEMESSAGE-Participant headers. A threaded day's email is one item, as delivered.
 * Attachments stream through SHA-256 and a byte counter and are discarded, so memory stays flat
 * whatever their size; openAttachment() streams them again when the sink needs the bytes.
 * A broken item throws ImporterError('MalformedItem') with a reason an admin can act on.
 */
export async function parseRawItem(raw: Readable, info: RawItemInfo): Promise<ArchiveItem> {
  const probe = new FramingProbe();
  const attachments: AttachmentInfo[] = [];
  // The visitor never stops the walk, so it always ends with the message.
  const message = (await walkMime(
    raw,
    async (attachment, index) => {
      const hash = createHash('sha256');
      let size = 0;
      const kept: Buffer[] | undefined = info.keepAttachments && [];
      for await (const chunk of attachment.content as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        kept?.push(chunk);
      }
      if (kept) info.keepAttachments!.set(index, kept.length === 1 ? kept[0] : Buffer.concat(kept, size));
      attachments.push({ index, name: attachmentName(attachment, index), contentType: attachment.contentType, size, sha256: hash.digest('hex') });
      return 'next';
    },
    probe,
  )) as WalkedMessage;

  // A short read of the kept copy would look like a cut item: say what it really is.
  if (probe.bytes !== info.size) {
    throw new ImporterError('RawItemUnreadable', `Raw item ${info.sha256} read back as ${probe.bytes} bytes, not the ${info.size} that were kept.`);
  }
  const contentType = message.headers.get('content-type') as StructuredHeader | undefined;
  const damage = probe.damage({
    contentType: contentType?.value ?? 'text/plain',
    boundary: contentType?.params.boundary,
    transferEncoding: text(message.headers, 'content-transfer-encoding'),
  });
  if (damage) throw malformed(damage);
  return toArchiveItem(message, attachments, info);
}

function toArchiveItem({ headers, headerLines, text: body }: WalkedMessage, attachments: AttachmentInfo[], info: RawItemInfo): ArchiveItem {
  const id = text(headers, 'x-telemessage-archivemessageid') ?? info.ref?.id;
  if (!id) throw malformed('The item has no X-TELEMESSAGE-ArchiveMessageID header, so it cannot be identified.');
  if (info.ref && info.ref.id !== id) throw malformed(`The item says it is ${id}, but it was listed as ${info.ref.id}.`);

  // Smarsh's bring-your-own-key pipeline replaces every part with ciphertext and says so here: never file ciphertext as a message.
  if (text(headers, 'x-telemessage-enc-datakey')) throw malformed("The item is encrypted with the company's own key (X-TELEMESSAGE-ENC-DATAKEY); it cannot be read without that key.");
  const kind = kindOf(headers, attachments, info.ref?.type);
  // mailparser turns an unreadable Date into "now"; the raw line tells the truth.
  const dateLine = rawHeader(headerLines, 'date');
  if (dateLine === undefined) throw malformed('The item has no Date header, so when it happened is unknown.');
  const sent = parseMailDate(dateLine);
  if (!sent) throw malformed(`The Date header "${dateLine.slice(0, 80)}" is not a valid RFC 5322 date.`);

  const callStartLine = text(headers, 'x-telemessage-callstart');
  const callStart = callStartLine === undefined ? undefined : parseIsoDateTime(callStartLine);
  if (callStartLine !== undefined && !callStart) throw malformed(`X-TELEMESSAGE-CallStart "${callStartLine.slice(0, 80)}" is not an ISO 8601 time.`);

  const durationLine = text(headers, 'x-telemessage-callduration');
  if (durationLine !== undefined && !/^\d{1,9}$/.test(durationLine)) throw malformed(`X-TELEMESSAGE-CallDuration "${durationLine.slice(0, 40)}" is not a whole number of seconds.`);

  const archivedAtLine = text(headers, 'x-telemessage-archivedat');
  const archivedAt = (archivedAtLine === undefined ? undefined : parseIsoDateTime(archivedAtLine)) ?? info.ref?.archivedAt;
  if (!archivedAt) throw malformed('The item has no readable X-TELEMESSAGE-ArchivedAt header, so its archive time is unknown.');

  const declared = texts(headers, 'x-telemessage-participant');
  const participants = declared.length > 0 ? declared.map(parseParticipantHeader) : addressParticipants(headerLines);
  if (declared.length > 0) checkParticipants(participants);
  else checkAddressParticipants(participants);

  const direction = text(headers, 'x-telemessage-direction')?.toLowerCase();
  const callStatus = text(headers, 'x-telemessage-callstatus')?.toLowerCase();
  // Our own headers first; else what public code reads TeleMessage's chats by (docs/telemessage-formats.md §4.2).
  const chatApp = text(headers, 'x-telemessage-chatapp') ?? (kind === 'chat' ? text(headers, 'x-telemessage-archivesource') : undefined);
  const chatGroup = text(headers, 'x-telemessage-chatgroup') ?? text(headers, 'x-telemessage-group_name');
  const item: ArchiveItem = {
    id,
    kind,
    at: callStart ?? sent,
    archivedAt,
    participants,
    // mailparser has decoded Subject already; decoding twice could alter a literal "=?".
    subject: typeof headers.get('subject') === 'string' ? (headers.get('subject') as string).trim() : '',
    text: body.replace(/\r\n?/g, '\n').replace(/\n+$/, ''),
    attachments,
    raw: { sha256: info.sha256, size: info.size },
  };
  const threadId = text(headers, 'x-telemessage-thread_id');
  const network = text(headers, 'x-telemessage-network');
  const initiator = text(headers, 'x-telemessage-archiveinitiator');
  const subscriber = text(headers, 'x-telemessage-subscriber') ?? (initiator ? toE164(initiator) : undefined);
  if (threadId) item.threadId = threadId;
  if (network) item.network = network;
  if (direction === 'inbound' || direction === 'outbound') item.direction = direction;
  if (durationLine !== undefined) item.durationSeconds = Number(durationLine);
  if (callStatus === 'answered' || callStatus === 'missed') item.callStatus = callStatus;
  if (subscriber) item.subscriber = subscriber;
  if (chatApp) item.chat = chatGroup ? { app: chatApp, group: chatGroup } : { app: chatApp };
  return item;
}

function checkParticipants(participants: Participant[]): void {
  if (participants.length === 0) throw malformed('The item names no participants: it has no X-TELEMESSAGE-Participant headers, so it cannot be filed to anyone.');
  if (!participants.some((p) => p.role === 'from')) throw malformed('No participant of the item has role=from, so its sender is unknown.');
  if (!participants.some((p) => p.role === 'to')) throw malformed('No participant of the item has role=to, so its recipient is unknown.');
}

function checkAddressParticipants(participants: Participant[]): void {
  if (participants.length === 0) {
    throw malformed('The item names no participants: it has neither X-TELEMESSAGE-Participant headers nor a From, To or Cc address with a number or an email, so it cannot be filed to anyone.');
  }
  if (!participants.some((p) => p.role === 'from')) throw malformed('The item has no From address with a number or an email, so its sender is unknown.');
  if (!participants.some((p) => p.role === 'to' || p.role === 'cc')) throw malformed('The item has no To or Cc address with a number or an email, so its recipient is unknown.');
}

/** The kind its type names (the header, else the listing's); an item that names none is judged by its headers and media. */
function kindOf(headers: Headers, attachments: AttachmentInfo[], listedType: string | undefined): ItemKind {
  const attachmentTypes = attachments.map((a) => a.contentType);
  const type = text(headers, 'x-telemessage-messagetype') ?? (listedType || undefined);
  if (type !== undefined) {
    const kind = kindOfType(
      type,
      attachmentTypes.some((t) => t.toLowerCase().startsWith('audio/')),
    );
    if (!kind) throw malformed(`The item's type "${type.slice(0, 60)}" is not one of ${KNOWN_TYPES}, nor a name for one.`);
    return kind;
  }
  const has = (name: string) => text(headers, name) !== undefined;
  return inferKind({
    attachmentTypes,
    callHeaders: has('x-telemessage-callstart') || has('x-telemessage-callduration'),
    chatHints: [text(headers, 'x-telemessage-archivesource'), text(headers, 'x-telemessage-network')],
    chatHeaders: ['x-telemessage-chatapp', 'x-telemessage-chatgroup', 'x-telemessage-groupid', 'x-telemessage-group_name'].some(has),
  });
}

function malformed(reason: string): ImporterError {
  return new ImporterError('MalformedItem', reason);
}

/** A header's text (the first, if repeated), encoded words decoded. */
function text(headers: Headers, name: string): string | undefined {
  const value = headers.get(name);
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first.trim() !== '' ? decodeEncodedWords(first.trim()) : undefined;
}

function texts(headers: Headers, name: string): string[] {
  const value = headers.get(name);
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

/** A header exactly as written, unfolded, for the headers mailparser rewrites. */
function rawHeader(lines: HeaderLines, key: string): string | undefined {
  const line = lines.find((l) => l.key === key)?.line;
  return line
    ?.slice(line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]/g, ' ')
    .trim();
}
