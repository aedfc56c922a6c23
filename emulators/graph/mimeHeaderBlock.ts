import type { Readable } from 'node:stream';
import type { InternetMessageHeader, Recipient } from './messageInput';

/**
 * What Exchange shows of a delivered message before anyone opens it, read from the MIME header
 * block only: the body (up to 150 MB of attachments) is never read to list a message.
 */
export interface HeaderBlockFields {
  headers: InternetMessageHeader[];
  subject: string;
  from?: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  internetMessageId?: string;
  /** The Date header as an ISO instant, when it is readable. */
  sentDateTime?: string;
  hasAttachments: boolean;
}

/** A header block larger than this is not a mail message's; transport would refuse it too. */
const MAX_HEADER_BYTES = 1024 * 1024;

export class UnreadableMimeError extends Error {}

/** Reads the stream up to the blank line that ends the header block, then lets it go. */
export async function readHeaderBlock(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      const sofar = Buffer.concat(chunks);
      const end = headerEnd(sofar);
      if (end !== -1) return sofar.subarray(0, end).toString('latin1');
      if (length > MAX_HEADER_BYTES) throw new UnreadableMimeError('the MIME header block is larger than 1 MiB');
      chunks.splice(0, chunks.length, sofar);
    }
  } finally {
    stream.destroy();
  }
  // A message with headers only (no body) is still a message.
  if (length > 0) return Buffer.concat(chunks).toString('latin1');
  throw new UnreadableMimeError('the message is empty');
}

function headerEnd(bytes: Buffer): number {
  const crlf = bytes.indexOf('\r\n\r\n');
  const lf = bytes.indexOf('\n\n');
  if (crlf === -1) return lf;
  return lf === -1 ? crlf : Math.min(crlf, lf);
}

/** Unfolds the block into headers, in order, values decoded as Exchange shows them. */
export function parseHeaderBlock(block: string): HeaderBlockFields {
  const headers: InternetMessageHeader[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length > 0) headers[headers.length - 1].value += ` ${line.trim()}`;
    else {
      const colon = line.indexOf(':');
      if (colon > 0) headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
    }
  }
  if (headers.length === 0) throw new UnreadableMimeError('the message has no header fields');
  const first = (name: string) => headers.find((h) => h.name.toLowerCase() === name)?.value;
  const date = first('date');
  const sent = date === undefined ? NaN : Date.parse(date);
  const contentType = (first('content-type') ?? 'text/plain').toLowerCase();
  const from = addressList(first('from') ?? '')[0];
  return {
    // The raw (8-bit) bytes were read as latin1; UTF-8 header text is decoded back here.
    headers: headers.map(({ name, value }) => ({ name, value: utf8(value) })),
    subject: decodeWords(utf8(first('subject') ?? '')),
    ...(from && { from }),
    toRecipients: addressList(first('to') ?? ''),
    ccRecipients: addressList(first('cc') ?? ''),
    ...(first('message-id') && { internetMessageId: first('message-id') }),
    ...(!Number.isNaN(sent) && { sentDateTime: new Date(sent).toISOString().replace(/\.\d{3}Z$/, 'Z') }),
    // Exchange says so when the message is multipart/mixed (or says it outright with X-MS-Has-Attach).
    hasAttachments: contentType.startsWith('multipart/mixed') || /^yes$/i.test(first('x-ms-has-attach') ?? ''),
  };
}

function utf8(latin1: string): string {
  return /[\x80-\xff]/.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
}

/** RFC 2047 words (B and Q, any charset Node knows); whitespace between adjacent words goes. */
export function decodeWords(text: string): string {
  return text
    .replace(/(=\?[^?]+\?[bBqQ]\?[^?]*\?=)\s+(?==\?[^?]+\?[bBqQ]\?[^?]*\?=)/g, '$1')
    .replace(/=\?([^?*]+)(?:\*[^?]*)?\?([bBqQ])\?([^?]*)\?=/g, (word, charset: string, encoding: string, data: string) => {
      const bytes =
        encoding.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64')
          : Buffer.from(
              data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
              'latin1',
            );
      try {
        return new TextDecoder(charset.toLowerCase()).decode(bytes);
      } catch {
        return word;
      }
    });
}

/** `Name <address>, "Other, Name" <other@x>, bare@x` into Graph recipients. */
export function addressList(value: string): Recipient[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = false;
  for (const ch of value) {
    if (ch === '"' && !angle) quoted = !quoted;
    else if (ch === '<' && !quoted) angle = true;
    else if (ch === '>' && !quoted) angle = false;
    if (ch === ',' && !quoted && !angle) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = /^(.*?)<([^>]*)>\s*$/.exec(part);
      if (!match) return { emailAddress: { name: part, address: part } };
      const name = decodeWords(
        match[1]
          .trim()
          .replace(/^"(.*)"$/, '$1')
          .replace(/\\(.)/g, '$1'),
      );
      return { emailAddress: { name: name || match[2].trim(), address: match[2].trim() } };
    });
}
