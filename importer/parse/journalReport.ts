import { Readable } from 'node:stream';
import { ImporterError } from '../errors';

/** What an Exchange journal report's envelope part says about the message it carries. */
export interface JournalEnvelope {
  sender?: string;
  subject?: string;
  messageId?: string;
  /** Every recipient line's address (`Recipient:`, and `To:`/`Cc:`/`Bcc:` as newer reports write them), in order. */
  recipients: string[];
}

export type UnwrappedMessage =
  /** Not a journal report: `message` is the input, byte for byte. */
  | { journal: false; message: Readable }
  /** A journal report: `message` is the raw bytes of the message it carries, streamed out of it. */
  | { journal: true; envelope: JournalEnvelope; message: Readable };

/** A header block larger than this is no journal report's: the message passes through. */
const MAX_HEADER_BYTES = 256 * 1024;
/** The envelope part is a few lines per recipient; a bigger one is not read into memory. */
const MAX_ENVELOPE_BYTES = 4 * 1024 * 1024;

/**
 * Detects an Exchange journal report (a header `X-MS-Journal-Report`, docs/telemessage-formats.md
 * §2.4) and gives back the original message it carries as a stream of its raw bytes, with the
 * envelope's sender and recipients. Only the header block and the envelope part are held; the
 * carried message streams through, so a big one never sits in memory. Any other message passes
 * through unchanged. A report whose carried message cannot be found, or that is cut short, is a
 * MalformedItem, so it is held and reported, never dropped.
 */
export async function unwrapJournalReport(raw: Readable): Promise<UnwrappedMessage> {
  const reader = new ChunkReader(raw);
  const headerEnd = await reader.find(blankLine, 0, MAX_HEADER_BYTES);
  const headers = headerEnd ? parseHeaderBlock(reader.buffer.subarray(0, headerEnd.start)) : undefined;
  if (!headers?.has('x-ms-journal-report')) return { journal: false, message: reader.passThrough() };

  const boundary = boundaryOf(headers.get('content-type'));
  if (!boundary) throw malformed('The journal report (X-MS-Journal-Report) has no multipart body, so the message it carries cannot be found.');
  const delimiter = Buffer.from(`\n--${boundary}`, 'latin1');
  const envelope: JournalEnvelope = { recipients: [] };
  // From the blank line's last '\n': a delimiter may open the body at once.
  let at = (headerEnd as { end: number }).end - 1;
  for (;;) {
    const found = await reader.find(delimiterIn(delimiter), at, MAX_ENVELOPE_BYTES);
    if (!found || found.close) throw malformed('The journal report carries no message/rfc822 part: the message it should carry is missing.');
    const partHeaderEnd = await reader.find(blankLine, found.end - 1, MAX_HEADER_BYTES);
    if (!partHeaderEnd) throw malformed('A part of the journal report has no readable headers: it was cut short or is not MIME.');
    const part = parseHeaderBlock(reader.buffer.subarray(found.end, partHeaderEnd.start));
    const contentType = (part.get('content-type') ?? 'text/plain').toLowerCase();
    const encoding = (part.get('content-transfer-encoding') ?? '7bit').trim().toLowerCase();
    reader.drop(partHeaderEnd.end - 1);
    if (contentType.startsWith('message/rfc822')) {
      if (!['7bit', '8bit', 'binary', 'base64'].includes(encoding)) throw malformed(`The message the journal report carries is written in ${encoding.slice(0, 40)}, which is not read.`);
      return { journal: true, envelope, message: reader.partStream(delimiter, encoding === 'base64') };
    }
    const next = await reader.find(delimiterIn(delimiter), 0, MAX_ENVELOPE_BYTES);
    if (!next) throw malformed('A part of the journal report before the message it carries is too big or never ends.');
    if (contentType.startsWith('text/')) readEnvelope(decodeText(reader.buffer.subarray(1, next.contentEnd), encoding, charsetOf(contentType)), envelope);
    at = next.start;
  }
}

function malformed(reason: string): ImporterError {
  return new ImporterError('MalformedItem', reason);
}

interface Match {
  start: number;
  end: number;
}
interface DelimiterMatch extends Match {
  /** Where the part before it ends: a CRLF before the delimiter belongs to the delimiter. */
  contentEnd: number;
  close: boolean;
}
/** Looks for something in `buffer` from `from`; `complete` false means "more bytes could change the answer". */
type Finder<M extends Match> = (buffer: Buffer, from: number, complete: boolean) => M | undefined | 'more';

/** The end of a header block: a line break, then an empty line. */
const blankLine: Finder<Match> = (buffer, from) => {
  for (let i = buffer.indexOf(0x0a, from); i !== -1; i = buffer.indexOf(0x0a, i + 1)) {
    if (buffer[i + 1] === 0x0a) return { start: i, end: i + 2 };
    if (buffer[i + 1] === 0x0d && buffer[i + 2] === 0x0a) return { start: i, end: i + 3 };
  }
  return 'more';
};

/** `\n--boundary`, then `--` (the close) or the rest of the delimiter line. */
function delimiterIn(delimiter: Buffer): Finder<DelimiterMatch> {
  return (buffer, from, complete) => {
    for (let i = buffer.indexOf(delimiter, from); i !== -1; i = buffer.indexOf(delimiter, i + 1)) {
      const after = i + delimiter.length;
      const lineEnd = buffer.indexOf(0x0a, after);
      if (lineEnd === -1 && !complete) return 'more';
      const rest = buffer.subarray(after, lineEnd === -1 ? buffer.length : lineEnd).toString('latin1');
      // A longer boundary that begins with ours is not ours.
      if (!/^(--)?[ \t\r]*$/.test(rest) && !rest.startsWith('--')) continue;
      const contentEnd = i > 0 && buffer[i - 1] === 0x0d ? i - 1 : i;
      return { start: i, end: lineEnd === -1 ? buffer.length : lineEnd + 1, contentEnd, close: rest.startsWith('--') };
    }
    return 'more';
  };
}

/** Reads `raw` on demand into one buffer, from which what is consumed is dropped. */
class ChunkReader {
  buffer: Buffer = Buffer.alloc(0);
  private ended = false;
  private readonly chunks: AsyncIterator<Buffer | string>;

  constructor(private readonly raw: Readable) {
    this.chunks = raw[Symbol.asyncIterator]();
  }

  /** The first match at or after `from`, reading until found, `limit` bytes are held, or the stream ends. */
  async find<M extends Match>(finder: Finder<M>, from: number, limit: number): Promise<M | undefined> {
    for (;;) {
      const found = finder(this.buffer, Math.max(from, 0), this.ended);
      if (found !== 'more' && found !== undefined) return found;
      if (this.ended || this.buffer.length > limit) return undefined;
      await this.read();
    }
  }

  drop(count: number): void {
    this.buffer = this.buffer.subarray(count);
  }

  /** What was read, then the rest of the stream: the input unchanged. */
  passThrough(): Readable {
    const head = this.buffer;
    const chunks = this.chunks;
    return Readable.from(
      (async function* () {
        if (head.length > 0) yield head;
        for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
      })(),
      { objectMode: false },
    );
  }

  /** The current part's content (the buffer starts at the '\n' ending its headers), up to the next delimiter, streamed. */
  partStream(delimiter: Buffer, base64: boolean): Readable {
    const finder = delimiterIn(delimiter);
    // The generator below is a function of its own, with no `this` of the reader's.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const reader = this;
    // The '\n' ending the part's headers is not content, but a delimiter right after it ends an empty part.
    let from = 0;
    let first = true;
    async function* content(): AsyncGenerator<Buffer> {
      try {
        for (;;) {
          const found = finder(reader.buffer, from, reader.ended);
          const start = first ? 1 : 0;
          if (found !== 'more' && found !== undefined) {
            if (found.contentEnd > start) yield reader.buffer.subarray(start, found.contentEnd);
            return;
          }
          if (reader.ended) throw malformed('The journal report ends before the message it carries does: it was cut short.');
          // Keep enough to see a delimiter that straddles two reads (and the CR before it), and
          // one already seen whose line has not ended yet.
          const seen = reader.buffer.lastIndexOf(delimiter);
          const safe = Math.min(reader.buffer.length - delimiter.length - 1, seen === -1 ? Infinity : seen - 1);
          if (safe > start) {
            yield reader.buffer.subarray(start, safe);
            reader.drop(safe);
            first = false;
          }
          from = 0;
          await reader.read();
        }
      } finally {
        // Whatever follows the carried message (the closing delimiter) is not needed: stop reading.
        await reader.chunks.return?.();
      }
    }
    const bytes = Readable.from(content(), { objectMode: false });
    return base64 ? Readable.from(decodeBase64(bytes), { objectMode: false }) : bytes;
  }

  private async read(): Promise<void> {
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value, 'latin1') : next.value;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }
}

async function* decodeBase64(encoded: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let carry = '';
  for await (const chunk of encoded) {
    const text = carry + chunk.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, '');
    const whole = text.length - (text.length % 4);
    carry = text.slice(whole);
    if (whole > 0) yield Buffer.from(text.slice(0, whole), 'base64');
  }
  if (carry.length > 0) yield Buffer.from(carry, 'base64');
}

/** Header names (lower case) to their first value, unfolded. */
function parseHeaderBlock(block: Buffer): Map<string, string> {
  const headers = new Map<string, string>();
  const text = block.toString('latin1').replace(/\r?\n[ \t]/g, ' ');
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\//i.test(contentType)) return undefined;
  const match = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

function charsetOf(contentType: string): string {
  return /charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1] ?? 'utf-8';
}

function decodeText(bytes: Buffer, encoding: string, charset: string): string {
  let decoded: Buffer = bytes;
  if (encoding === 'base64') decoded = Buffer.from(bytes.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  else if (encoding === 'quoted-printable') {
    decoded = Buffer.from(
      bytes
        .toString('latin1')
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    );
  }
  try {
    return new TextDecoder(charset.toLowerCase() === 'us-ascii' ? 'utf-8' : charset).decode(decoded);
  } catch {
    return decoded.toString('latin1');
  }
}

/** `Sender:`, `Subject:`, `Message-Id:` and the recipient lines; `, Expanded: …` / `, Forwarded: …` annotations are dropped. */
function readEnvelope(text: string, envelope: JournalEnvelope): void {
  for (const line of text.split(/\r?\n/)) {
    const match = /^(Sender|Subject|Message-Id|Recipient|To|Cc|Bcc)\s*:\s*(.*)$/i.exec(line.trim());
    if (!match) continue;
    const [, name, value] = match;
    const key = name.toLowerCase();
    if (key === 'subject') envelope.subject ??= value.trim();
    else if (key === 'message-id') envelope.messageId ??= value.trim();
    else {
      const address = value.split(',')[0].trim().replace(/^<|>$/g, '');
      if (!address) continue;
      if (key === 'sender') envelope.sender ??= address;
      else envelope.recipients.push(address);
    }
  }
}
