/** The few MIME encodings the raw items need: RFC 2047 words, RFC 2231 values, QP, base64 lines. */

const CRLF = '\r\n';
const MAX_LINE = 76;
/** UTF-8 bytes per encoded word: 39 bytes -> 52 base64 chars, 64 with the =?UTF-8?B?...?= frame. */
const WORD_BYTES = 39;
const BASE64_LINE = 76;

/** A header as `Name: value`, folded between tokens so lines stay within 76 characters. */
export function header(name: string, tokens: readonly string[]): string {
  let out = `${name}:`;
  let lineLength = out.length;
  for (const token of tokens) {
    if (lineLength + 1 + token.length > MAX_LINE) {
      out += `${CRLF} ${token}`;
      lineLength = 1 + token.length;
    } else {
      out += ` ${token}`;
      lineLength += 1 + token.length;
    }
  }
  return out + CRLF;
}

/** Unstructured text (Subject and the like): words as they are if ASCII, else RFC 2047 words. */
export function textTokens(text: string): string[] {
  return isPlainAscii(text) ? text.split(' ').filter(Boolean) : encodedWords(text);
}

/** A display name for an address header: atoms, a quoted string, or RFC 2047 words. */
export function phraseTokens(name: string): string[] {
  if (!isPlainAscii(name)) return encodedWords(name);
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(name)) return name.split(' ').filter(Boolean);
  return [`"${name.replace(/["\\]/g, '\\$&')}"`];
}

/** `=?UTF-8?B?...?=` words, split on code point boundaries so each decodes on its own. */
export function encodedWords(text: string): string[] {
  const words: string[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (pendingBytes === 0) return;
    words.push(`=?UTF-8?B?${Buffer.concat(pending).toString('base64')}?=`);
    pending = [];
    pendingBytes = 0;
  };
  for (const codePoint of text) {
    const bytes = Buffer.from(codePoint, 'utf8');
    if (pendingBytes + bytes.length > WORD_BYTES) flush();
    pending.push(bytes);
    pendingBytes += bytes.length;
  }
  flush();
  return words;
}

/** RFC 2231 extended value (`utf-8''...`): percent-encoded, so never a space, quote or ';'. */
export function extendedValue(text: string): string {
  let out = "utf-8''";
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Quoted-printable of UTF-8 text, CRLF line ends, soft breaks keep lines within 76 characters. */
export function quotedPrintable(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const bytes = Buffer.from(line, 'utf8');
      const out: string[] = [];
      let current = '';
      bytes.forEach((byte, i) => {
        const last = i === bytes.length - 1;
        const literal = (byte >= 33 && byte <= 126 && byte !== 61) || ((byte === 32 || byte === 9) && !last);
        const token = literal ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
        if (current.length + token.length > MAX_LINE - 1) {
          out.push(`${current}=`);
          current = '';
        }
        current += token;
      });
      out.push(current);
      return out.join(CRLF);
    })
    .join(CRLF);
}

/** Size of `rawBytes` bytes as base64 in 76-character lines, each ending in CRLF. */
export function base64Size(rawBytes: number): number {
  const chars = 4 * Math.ceil(rawBytes / 3);
  return chars + 2 * Math.ceil(chars / BASE64_LINE);
}

/**
 * Base64 of one chunk in CRLF-terminated 76-character lines. Chunks must be multiples of 57
 * bytes (except the last) so the lines of consecutive chunks join seamlessly.
 */
export function base64Lines(raw: Buffer): Buffer {
  const encoded = Buffer.from(raw.toString('base64'), 'latin1');
  const out = Buffer.allocUnsafe(base64Size(raw.length));
  let at = 0;
  for (let offset = 0; offset < encoded.length; offset += BASE64_LINE) {
    at += encoded.copy(out, at, offset, Math.min(offset + BASE64_LINE, encoded.length));
    out[at++] = 13;
    out[at++] = 10;
  }
  return out;
}

function isPlainAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}
