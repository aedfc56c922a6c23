import { createHash } from 'node:crypto';
import { header, phraseTokens, quotedPrintable, textTokens, extendedValue } from './mimeEncoding';
import { rawMessageOf, segmentSize, type RawMessage, type Segment } from './rawSegments';
import { SeededRandom, stableHash } from './seededRandom';
import type { ItemSpec, Participant } from './traffic';

export type { RawMessage } from './rawSegments';

export interface RenderOptions {
  /**
   * Also write the headers only this emulator invents (X-TELEMESSAGE-Participant, -Subscriber,
   * -ArchivedAt, -Direction, -ChatApp, -ChatGroup, -Call*). Default true, as the archive API
   * contract (docs/telemessage-api.md) has them; false gives only what docs/telemessage-formats.md
   * documents, as an SMTP or SFTP delivery carries it.
   */
  emulatorHeaders?: boolean;
}

const CRLF = '\r\n';
/** Number-only participants need an address in From/To/Cc; this one can never be a mailbox. */
export const PLACEHOLDER_DOMAIN = 'telemessage.invalid';

/** The RFC 822 bytes of an item: identical on every call for the same seed, item and options. */
export function renderRawMessage(item: ItemSpec, seed: string, options: RenderOptions = {}): RawMessage {
  const segments = item.malformation === 'garbage-bytes' ? garbage(item, seed) : mimeSegments(item, seed, options);
  if (item.malformation !== 'truncated-body') return rawMessageOf(segments);
  // Cut somewhere in the body (segment 0 is the header block), as an interrupted transfer would.
  const fullSize = segments.reduce((sum, segment) => sum + segmentSize(segment), 0);
  const headerSize = segmentSize(segments[0]);
  const fraction = new SeededRandom([seed, 'truncate', item.id]).next();
  return rawMessageOf(segments, headerSize + Math.floor((fullSize - headerSize) * (0.3 + 0.5 * fraction)));
}

function garbage(item: ItemSpec, seed: string): Segment[] {
  const size = new SeededRandom([seed, 'garbage', item.id]).int(512, 8192);
  return [{ format: 'garbage', size, key: [seed, 'garbage', item.id], encoding: 'binary' }];
}

function mimeSegments(item: ItemSpec, seed: string, options: RenderOptions): Segment[] {
  const head = messageHeaders(item, options.emulatorHeaders ?? true);
  const multipart = item.attachments.length > 0 || item.malformation === 'broken-boundary';
  if (!multipart) {
    return [head + header('Content-Type', ['text/plain;', 'charset=UTF-8']) + header('Content-Transfer-Encoding', ['quoted-printable']) + CRLF, quotedPrintable(item.text) + CRLF];
  }

  const boundary = `----=_TM_Part_${stableHash([seed, 'boundary', item.id]).slice(0, 20)}`;
  // A broken item declares one boundary and uses another, so no part can be found.
  const declared = item.malformation === 'broken-boundary' ? `----=_TM_Part_${stableHash([seed, 'declared', item.id]).slice(0, 20)}` : boundary;
  const segments: Segment[] = [head + header('Content-Type', ['multipart/mixed;', `boundary="${declared}"`]) + CRLF, 'This is a multi-part message in MIME format.' + CRLF];
  if (item.text) {
    segments.push(
      `--${boundary}${CRLF}` + header('Content-Type', ['text/plain;', 'charset=UTF-8']) + header('Content-Transfer-Encoding', ['quoted-printable']) + CRLF + quotedPrintable(item.text) + CRLF,
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

function messageHeaders(item: ItemSpec, emulatorHeaders: boolean): string {
  let out = header('Message-ID', [`<${item.id}@archive.telemessage.example>`]);
  out += header('Date', [item.malformation === 'invalid-date' ? '31/02/2025 25:61 local time' : rfc5322Date(item.sentAt)]);
  out += participantHeaders(item.participants);
  out += header('Subject', textTokens(item.subject));
  out += header('MIME-Version', ['1.0']);
  out += documentedHeaders(item);
  if (emulatorHeaders) out += emulatorOnlyHeaders(item);
  return out;
}

/** From, To and Cc in TeleMessage's default display format (docs/telemessage-formats.md §2.3). */
export function participantHeaders(participants: readonly Participant[]): string {
  let out = '';
  for (const [name, role] of [
    ['From', 'from'],
    ['To', 'to'],
    ['Cc', 'cc'],
  ] as const) {
    const list = participants.filter((p) => p.role === role);
    if (list.length > 0) out += header(name, addressList(list));
  }
  return out;
}

/**
 * The X-TELEMESSAGE headers public code reads TeleMessage's EMLs by (names as spelled there,
 * `OriginalMesageIntegrity` included); their values are our assumptions, listed in
 * docs/telemessage-formats.md §4.2.
 */
function documentedHeaders(item: ItemSpec): string {
  let out = header('X-TELEMESSAGE-ArchiveMessageID', [item.id]);
  out += header('X-TELEMESSAGE-MessageType', [item.type]);
  out += header('X-TELEMESSAGE-THREAD_ID', [item.threadId]);
  out += header('X-TELEMESSAGE-Network', textTokens(item.network));
  out += header('X-TELEMESSAGE-ArchiveSource', textTokens(item.chat?.app ?? 'Mobile Network'));
  out += header('X-TELEMESSAGE-ArchiveInitiator', [item.subscriber.number]);
  if (item.chat?.group) {
    out += header('X-TELEMESSAGE-ThreadName', textTokens(item.chat.group));
    out += header('X-TELEMESSAGE-GroupID', [`GR-${item.threadId.slice(3)}`]);
    out += header('X-TELEMESSAGE-GROUP_NAME', textTokens(item.chat.group));
  }
  out += header('X-TELEMESSAGE-OriginalMesageIntegrity', [createHash('sha256').update(item.text, 'utf8').digest('base64')]);
  return out;
}

function emulatorOnlyHeaders(item: ItemSpec): string {
  let out = header('X-TELEMESSAGE-Direction', [item.direction]);
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

/**
 * Display format #1, `First Last Mobile <email>`: the name, then the mobile number (E.164, an
 * atom after the name's own words), then the address. A party TeleMessage has no email for gets
 * a placeholder address whose local part is the number.
 */
function addressList(participants: readonly Participant[]): string[] {
  return participants.flatMap((participant, i) => {
    const address = participant.email ?? `${participant.number.slice(1)}@${PLACEHOLDER_DOMAIN}`;
    const tokens = [...(participant.name ? phraseTokens(participant.name) : []), participant.number, `<${address}>`];
    if (i < participants.length - 1) tokens[tokens.length - 1] += ',';
    return tokens;
  });
}

/** `role=from; number=+1...; email=...; name*=utf-8''...`: no value can hold a space or ';'. */
export function participantParams(participant: Participant): string[] {
  const params = [`role=${participant.role}`, `number=${participant.number}`];
  if (participant.email) params.push(`email=${participant.email}`);
  if (participant.name) params.push(`name*=${extendedValue(participant.name)}`);
  return params.map((param, i) => (i < params.length - 1 ? `${param};` : param));
}

/** `Wed, 15 Jan 2025 09:13:22 +0000`. */
function rfc5322Date(iso: string): string {
  return new Date(iso).toUTCString().replace('GMT', '+0000');
}
