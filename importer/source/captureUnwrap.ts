import { Readable } from 'node:stream';
import { ImporterError } from '../errors';

/**
 * SEAM: unwrapping an Exchange journal report belongs to importer/parse/journalReport.ts (branch
 * tm-formats, `unwrapJournalReport`, same signature). Until it is on this branch, this minimal
 * one stands in: it finds the message/rfc822 part of a report marked `X-MS-Journal-Report` and
 * streams it out (7bit, 8bit or binary; a base64 one is refused as malformed). When tm-formats
 * lands, this file becomes `export { unwrapJournalReport } from '../parse/journalReport';`.
 */
export type UnwrappedCapture = { journal: false; message: Readable } | { journal: true; message: Readable };

const MAX_HEADER_BYTES = 256 * 1024;
/** The envelope parts before the carried message are a few lines per recipient. */
const MAX_BEFORE_MESSAGE = 4 * 1024 * 1024;

export async function unwrapJournalReport(raw: Readable): Promise<UnwrappedCapture> {
  const chunks = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let buffer = Buffer.alloc(0);
  let ended = false;
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const next = await chunks.next();
    if (next.done) ended = true;
    else buffer = Buffer.concat([buffer, next.value]);
    return !next.done;
  };
  const rest = (head: Buffer) =>
    Readable.from(
      (async function* () {
        if (head.length) yield head;
        for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
      })(),
      { objectMode: false },
    );

  let headerEnd = blankLineAt(buffer, 0);
  while (headerEnd === undefined && buffer.length < MAX_HEADER_BYTES && (await more())) headerEnd = blankLineAt(buffer, 0);
  const headers = headerEnd === undefined ? undefined : headerMap(buffer.subarray(0, headerEnd.start));
  if (!headers?.has('x-ms-journal-report')) return { journal: false, message: rest(buffer) };

  const boundary = /boundary\s*=\s*"?([^";\r\n]+)"?/i.exec(headers.get('content-type') ?? '')?.[1];
  if (!boundary) throw malformed('The journal report (X-MS-Journal-Report) has no multipart body, so the message it carries cannot be found.');
  const delimiter = Buffer.from(`\n--${boundary}`, 'latin1');
  let at = headerEnd!.end - 1;
  for (;;) {
    let found = buffer.indexOf(delimiter, at);
    while (found < 0 && buffer.length < MAX_BEFORE_MESSAGE && (await more())) found = buffer.indexOf(delimiter, at);
    if (found < 0 || buffer.subarray(found + delimiter.length, found + delimiter.length + 2).toString() === '--') {
      throw malformed('The journal report carries no message/rfc822 part: the message it should carry is missing.');
    }
    let partEnd = blankLineAt(buffer, found + 1);
    while (partEnd === undefined && (await more())) partEnd = blankLineAt(buffer, found + 1);
    if (!partEnd) throw malformed('A part of the journal report has no readable headers: it was cut short.');
    const lineEnd = buffer.indexOf(0x0a, found + 1);
    const part = headerMap(buffer.subarray(lineEnd + 1, partEnd.start));
    if ((part.get('content-type') ?? '').toLowerCase().startsWith('message/rfc822')) {
      const encoding = (part.get('content-transfer-encoding') ?? '7bit').toLowerCase();
      if (!['7bit', '8bit', 'binary'].includes(encoding)) throw malformed(`The message the journal report carries is written in ${encoding.slice(0, 40)}, which is not read.`);
      return { journal: true, message: carried(buffer.subarray(partEnd.end), chunks, delimiter) };
    }
    at = partEnd.end - 1;
  }
}

/** The carried message's bytes up to (not including) the line break before the next delimiter; holds back only a delimiter's length. */
function carried(start: Buffer, chunks: AsyncIterator<Buffer>, delimiter: Buffer): Readable {
  return Readable.from(
    (async function* () {
      let pending = start;
      for (;;) {
        const found = pending.indexOf(delimiter);
        if (found >= 0) {
          yield pending.subarray(0, found > 0 && pending[found - 1] === 0x0d ? found - 1 : found);
          return;
        }
        // Everything but a tail that could be the start of the delimiter (and its CR) can go.
        const keep = Math.min(pending.length, delimiter.length + 1);
        if (pending.length > keep) {
          yield pending.subarray(0, pending.length - keep);
          pending = pending.subarray(pending.length - keep);
        }
        const next = await chunks.next();
        if (next.done) throw malformed('The journal report ends inside the message it carries: it was cut short.');
        pending = Buffer.concat([pending, next.value]);
      }
    })(),
    { objectMode: false },
  );
}

function blankLineAt(buffer: Buffer, from: number): { start: number; end: number } | undefined {
  for (let i = buffer.indexOf(0x0a, from); i !== -1; i = buffer.indexOf(0x0a, i + 1)) {
    if (buffer[i + 1] === 0x0a) return { start: i, end: i + 2 };
    if (buffer[i + 1] === 0x0d && buffer[i + 2] === 0x0a) return { start: i, end: i + 3 };
  }
  return undefined;
}

/** Header names lower-cased, first value, folded lines joined. */
function headerMap(block: Buffer): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of block.toString('latin1').replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!map.has(name)) map.set(name, line.slice(colon + 1).trim());
  }
  return map;
}

function malformed(reason: string): ImporterError {
  return new ImporterError('MalformedItem', reason);
}
