import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MailParser, type AttachmentStream, type HeaderLines, type Headers, type MessageText } from 'mailparser';
import { ImporterError } from '../errors';
import { decodeBase64Natively } from './base64Decoder';

/** Streaming only: no HTML rendering, no link detection, no hashing we do not ask for. */
const PARSER_OPTIONS = { skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true, checksumAlgo: false } as const;

export interface WalkedMessage {
  headers: Headers;
  headerLines: HeaderLines;
  /** Every text/plain part, joined; '' when there is none. */
  text: string;
}

/**
 * Called for each attachment in order. It must read `attachment.content` to its end (or stop
 * the walk): the parser moves on only then, which is what keeps memory flat.
 */
export type AttachmentVisitor = (attachment: AttachmentStream, index: number) => Promise<'next' | 'stop'>;

/**
 * Streams a raw item through mailparser's MailParser, one attachment at a time. Resolves with
 * the headers and text, or undefined when the visitor stopped early. A failure of `raw` itself
 * (storage, network) and of the visitor pass through unchanged; the parser's own failures mean
 * the item is broken and become MalformedItem.
 */
export async function walkMime(raw: Readable, visit: AttachmentVisitor, probe?: Transform): Promise<WalkedMessage | undefined> {
  const parser = new MailParser(PARSER_OPTIONS);
  decodeBase64Natively(parser);
  const stop = new AbortController();
  let rawError: unknown;
  let visitError: unknown;
  let stopped = false;
  let text = '';
  // The attachment being read when `raw` fails: the parser leaves its content open, neither ended nor
  // failed, and the visitor reading it would wait for ever (seen when a run was stopped mid-item).
  let reading: AttachmentStream | undefined;
  raw.once('error', (error) => {
    rawError ??= error;
    (reading?.content as Readable | undefined)?.destroy(error);
  });

  const consume = async (parts: AsyncIterable<AttachmentStream | MessageText>) => {
    let index = 0;
    for await (const part of parts) {
      if (part.type === 'text') {
        text = part.text ?? '';
        continue;
      }
      let verdict: 'next' | 'stop';
      try {
        reading = part;
        verdict = await visit(part, index++);
      } catch (error) {
        visitError = error;
        throw error;
      } finally {
        reading = undefined;
      }
      part.release?.();
      if (verdict === 'stop') {
        stopped = true;
        // Ends the walk without reading the rest of the item.
        stop.abort();
        return;
      }
    }
  };

  // MailParser narrows read() to parsed parts, which the pipeline typings cannot follow.
  const parsing = parser as unknown as Transform;
  try {
    await (probe ? pipeline(raw, probe, parsing, consume, { signal: stop.signal }) : pipeline(raw, parsing, consume, { signal: stop.signal }));
  } catch (error) {
    if (stopped) return undefined;
    if (visitError !== undefined) throw visitError;
    if (rawError !== undefined) throw rawError;
    if (error instanceof ImporterError) throw error;
    throw new ImporterError('MalformedItem', `The item's MIME structure cannot be parsed (${(error as Error).message}).`);
  }
  if (stopped) return undefined;
  return { headers: parser.headers || new Map(), headerLines: parser.headerLines || [], text };
}

/** The attachment's file name, or a stable stand-in when the part gave none. */
export function attachmentName(attachment: AttachmentStream, index: number): string {
  return attachment.filename?.trim() || `attachment-${index + 1}`;
}
