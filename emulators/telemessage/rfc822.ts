import { Readable } from 'node:stream';
import { mediaChunks, type MediaFormat } from './mediaBytes';
import {
  base64Lines,
  base64Size,
  extendedValue,
  header,
  phraseTokens,
  quotedPrintable,
  textTokens,
} from './mimeEncoding';
import { SeededRandom, stableHash, type SeedParts } from './seededRandom';
import type { ItemSpec, Participant } from './traffic';

/** One archived item as TeleMessage hands it over: exact size up front, bytes on demand. */
export interface RawMessage {
  size: number;
  stream(): Readable;
}

/** Generated file bytes, written base64 (attachments) or as they are (garbage items). */
interface FileSegment {
  format: MediaFormat | 'garbage';
  size: number;
  key: SeedParts;
  encoding: 'base64' | 'binary';
}
type Segment = string | FileSegment;

const CRLF = '\r\n';
/** Number-only participants need an address in From/To/Cc; this one can never be a mailbox. */
const PLACEHOLDER_DOMAIN = 'telemessage.invalid';

/** The RFC 822 bytes of an item: identical on every call for the same seed and item. */
export function renderRawMessage(item: ItemSpec, seed: string): RawMessage {
  const segments = item.malformation === 'garbage-bytes' ? garbage(item, seed) : mimeSegments(item, seed);
  const fullSize = segments.reduce((sum, segment) => sum + segmentSize(segment), 0);
  let size = fullSize;
  if (item.malformation === 'truncated-body') {
    // Cut somewhere in the body (segment 0 is the header block), as an interrupted transfer would.
    const headerSize = segmentSize(segments[0]);
    const fraction = new SeededRandom([seed, 'truncate', item.id]).next();
    size = headerSize + Math.floor((fullSize - headerSize) * (0.3 + 0.5 * fraction));
  }
  return { size, stream: () => Readable.from(bytes(segments, size), { objectMode: false }) };
}

function* bytes(segments: Segment[], limit: number): Generator<Buffer> {
  let sent = 0;
  for (const segment of segments) {
    const chunks = typeof segment === 'string' ? [Buffer.from(segment, 'utf8')] : fileChunks(segment);
    for (const chunk of chunks) {
      if (sent + chunk.length >= limit) {
        yield chunk.subarray(0, limit - sent);
        return;
      }
      sent += chunk.length;
      yield chunk;
    }
  }
}

function* fileChunks(segment: FileSegment): Generator<Buffer> {
  for (const chunk of mediaChunks(segment.format, segment.size, segment.key)) {
    yield segment.encoding === 'base64' ? base64Lines(chunk) : chunk;
  }
}

function segmentSize(segment: Segment): number {
  if (typeof segment === 'string') return Buffer.byteLength(segment, 'utf8');
  return segment.encoding === 'base64' ? base64Size(segment.size) : segment.size;
}

function garbage(item: ItemSpec, seed: string): Segment[] {
  const size = new SeededRandom([seed, 'garbage', item.id]).int(512, 8192);
  return [{ format: 'garbage', size, key: [seed, 'garbage', item.id], encoding: 'binary' }];
}

function mimeSegments(item: ItemSpec, seed: string): Segment[] {
  const head = messageHeaders(item);
  const multipart = item.attachments.length > 0 || item.malformation === 'broken-boundary';
  if (!multipart) {
    return [
      head + header('Content-Type', ['text/plain;', 'charset=UTF-8']) + header('Content-Transfer-Encoding', ['quoted-printable']) + CRLF,
      quotedPrintable(item.text) + CRLF,
    ];
  }

  const boundary = `----=_TM_Part_${stableHash([seed, 'boundary', item.id]).slice(0, 20)}`;
  // A broken item declares one boundary and uses another, so no part can be found.
  const declared = item.malformation === 'broken-boundary' ? `----=_TM_Part_${stableHash([seed, 'declared', item.id]).slice(0, 20)}` : boundary;
  const segments: Segment[] = [
    head + header('Content-Type', ['multipart/mixed;', `boundary="${declared}"`]) + CRLF,
    'This is a multi-part message in MIME format.' + CRLF,
  ];
  if (item.text) {
    segments.push(
      `--${boundary}${CRLF}` +
        header('Content-Type', ['text/plain;', 'charset=UTF-8']) +
        header('Content-Transfer-Encoding', ['quoted-printable']) +
        CRLF +
        quotedPrintable(item.text) +
        CRLF,
    );
  }
  item.attachments.forEach((attachment, n) => {
    segments.push(
      `--${boundary}${CRLF}` +
        header('Content-Type', [`${attachment.contentType};`, `name="${attachment.filename}"`]) +
        header('Content-Disposition', ['attachment;', `filename="${attachment.filename}"`]) +
        header('Content-Transfer-Encoding', ['base64']) +
        CRLF,
      { format: attachment.format, size: attachment.size, key: [seed, 'attachment', item.id, n], encoding: 'base64' },
    );
  });
  segments.push(`--${boundary}--${CRLF}`);
  return segments;
}

function messageHeaders(item: ItemSpec): string {
  const byRole = (role: Participant['role']) => item.participants.filter((p) => p.role === role);
  let out = header('Message-ID', [`<${item.id}@archive.telemessage.example>`]);
  out += header('Date', [item.malformation === 'invalid-date' ? '31/02/2025 25:61 local time' : rfc5322Date(item.sentAt)]);
  for (const [name, role] of [['From', 'from'], ['To', 'to'], ['Cc', 'cc']] as const) {
    const list = byRole(role);
    if (list.length > 0) out += header(name, addressList(list));
  }
  out += header('Subject', textTokens(item.subject));
  out += header('MIME-Version', ['1.0']);
  out += header('X-TELEMESSAGE-ArchiveMessageID', [item.id]);
  out += header('X-TELEMESSAGE-MessageType', [item.type]);
  out += header('X-TELEMESSAGE-THREAD_ID', [item.threadId]);
  out += header('X-TELEMESSAGE-Network', textTokens(item.network));
  out += header('X-TELEMESSAGE-Direction', [item.direction]);
  out += header('X-TELEMESSAGE-Subscriber', [item.subscriber.number]);
  out += header('X-TELEMESSAGE-ArchivedAt', [item.archivedAt]);
  if (item.chat) {
    out += header('X-TELEMESSAGE-ChatApp', [item.chat.app]);
    if (item.chat.group) out += header('X-TELEMESSAGE-ChatGroup', textTokens(item.chat.group));
  }
  if (item.call) {
    out += header('X-TELEMESSAGE-CallStart', [item.call.start]);
    out += header('X-TELEMESSAGE-CallDuration', [String(item.call.durationSeconds)]);
    out += header('X-TELEMESSAGE-CallStatus', [item.call.status]);
  }
  for (const participant of item.participants) out += header('X-TELEMESSAGE-Participant', participantParams(participant));
  return out;
}

/** `Noa Levi Mobile <noa.levi@contoso.example>`; number-only parties get a placeholder address. */
function addressList(participants: Participant[]): string[] {
  return participants.flatMap((participant, i) => {
    const display = participant.name ? `${participant.name} Mobile` : participant.number;
    const address = participant.email ?? `${participant.number.slice(1)}@${PLACEHOLDER_DOMAIN}`;
    const tokens = [...phraseTokens(display), `<${address}>`];
    if (i < participants.length - 1) tokens[tokens.length - 1] += ',';
    return tokens;
  });
}

/** `role=from; number=+1...; email=...; name*=utf-8''...`: no value can hold a space or ';'. */
function participantParams(participant: Participant): string[] {
  const params = [`role=${participant.role}`, `number=${participant.number}`];
  if (participant.email) params.push(`email=${participant.email}`);
  if (participant.name) params.push(`name*=${extendedValue(participant.name)}`);
  return params.map((param, i) => (i < params.length - 1 ? `${param};` : param));
}

/** `Wed, 15 Jan 2025 09:13:22 +0000`. */
function rfc5322Date(iso: string): string {
  return new Date(iso).toUTCString().replace('GMT', '+0000');
}
