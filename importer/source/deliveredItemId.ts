import { Transform, type TransformCallback } from 'node:stream';

/** What identifies a delivered item, read from its header block alone. */
export interface DeliveredItemId {
  /** X-TELEMESSAGE-ArchiveMessageID, else the Message-ID (without its angle brackets), else `sha256:<raw sha>`. */
  id: string;
  /** X-TELEMESSAGE-MessageType (SMS, MMS, …) when present, else ''. */
  type: string;
}

/** The longest header block kept: TeleMessage's are a few kilobytes; the rest of the item is body. */
export const MAX_HEADER_BLOCK = 256 * 1024;
const LONGEST_ID = 512;

/**
 * The item's id and type from the header block of its EML. Ids are data from outside: one that is
 * empty, too long or holds control characters is not trusted and the content hash stands in.
 */
export function deliveredItemId(headerBlock: Buffer | string, sha256: string): DeliveredItemId {
  const headers = readHeaders(typeof headerBlock === 'string' ? headerBlock : headerBlock.toString('latin1'));
  const archiveId = usable(headers.get('x-telemessage-archivemessageid'));
  const messageId = usable(headers.get('message-id')?.replace(/^<(.*)>$/, '$1'));
  const type = headers.get('x-telemessage-messagetype') ?? '';
  return { id: archiveId ?? messageId ?? `sha256:${sha256}`, type: /^[A-Za-z_]{1,40}$/.test(type) ? type.toUpperCase() : '' };
}

function usable(value: string | undefined): string | undefined {
  const v = value?.trim();
  // eslint-disable-next-line no-control-regex
  return v && v.length <= LONGEST_ID && !/[\x00-\x1f\x7f]/.test(v) ? v : undefined;
}

/** The first value of each header, names lower-cased, folded lines joined (RFC 5322 §2.2.3). */
function readHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  const end = block.search(/\r?\n\r?\n/);
  const lines = (end >= 0 ? block.slice(0, end) : block).split(/\r?\n/);
  let name: string | undefined;
  let value = '';
  const flush = () => {
    if (name && !headers.has(name)) headers.set(name, value.trim());
  };
  for (const line of lines) {
    if (/^[ \t]/.test(line) && name) {
      value += ` ${line.trim()}`;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : undefined;
    value = colon > 0 ? line.slice(colon + 1) : '';
  }
  flush();
  return headers;
}

/**
 * Passes the bytes through untouched and keeps the header block (up to the first empty line, at
 * most MAX_HEADER_BLOCK bytes) on the way, so an item is read once for both staging and its id.
 */
export class HeaderBlockTap extends Transform {
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private done = false;

  /** The header block seen so far (all of it once the stream has ended). */
  get headerBlock(): Buffer {
    return Buffer.concat(this.kept);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.done) {
      const room = MAX_HEADER_BLOCK - this.keptBytes;
      const part = chunk.subarray(0, room);
      this.kept.push(Buffer.from(part));
      this.keptBytes += part.length;
      const all = this.headerBlock;
      const end = all.indexOf('\r\n\r\n') >= 0 ? all.indexOf('\r\n\r\n') : all.indexOf('\n\n');
      if (end >= 0) {
        this.kept.splice(0, this.kept.length, all.subarray(0, end));
        this.keptBytes = end;
        this.done = true;
      } else if (this.keptBytes >= MAX_HEADER_BLOCK) this.done = true;
    }
    callback(null, chunk);
  }
}
