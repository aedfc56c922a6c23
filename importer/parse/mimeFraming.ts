import { Transform, type TransformCallback } from 'node:stream';
import { ImporterError } from '../errors';

/** A header field: printable ASCII name (no colon), optional obsolete whitespace, then ':'. */
const HEADER_FIELD = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;
const LONGEST_LINE = 1000;
/** Boundaries are at most 70 characters (RFC 2046), so a delimiter line is short. */
const LONGEST_DELIMITER = 200;
const MOST_DELIMITER_CANDIDATES = 10_000;
const NEWLINE = 0x0a;
const DASH = 0x2d;
const NEWLINE_DASH = Buffer.from('\n-', 'latin1');

/** What the framing verdict needs to know about the item's top-level part. */
export interface RootPart {
  contentType: string;
  boundary?: string;
  transferEncoding?: string;
}

/**
 * Watches the raw bytes on their way into the MIME parser for the damage a lenient parser
 * papers over: bytes that are not a message at all (failing at once), a body cut off, and
 * multipart delimiters that never come. It keeps a few bytes and the short lines that could be
 * delimiters, never the body.
 */
export class FramingProbe extends Transform {
  /** Bytes that went through. */
  bytes = 0;
  private start: Buffer | undefined = Buffer.alloc(0);
  private tail = Buffer.alloc(0);
  private readonly delimiters = new Set<string>();
  /** The beginning of a line that starts with '-' and has not ended yet. */
  private partial: Buffer | undefined;
  private atLineStart = true;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.start) {
      const problem = this.judgeStart(chunk, false);
      if (problem) return done(problem);
    }
    this.bytes += chunk.length;
    this.scan(chunk);
    this.tail = chunk.length >= 3 ? Buffer.from(chunk.subarray(-3)) : Buffer.concat([this.tail, chunk]).subarray(-3);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.start) {
      const problem = this.judgeStart(Buffer.alloc(0), true);
      if (problem) return done(problem);
    }
    // The last line may lack a line break; a closing delimiter there still counts.
    if (this.partial) this.record(this.partial);
    done();
  }

  /** Why the item's framing is broken, once every byte went through; undefined when sound. */
  damage(root: RootPart): string | undefined {
    if (/^multipart\//i.test(root.contentType)) {
      if (!root.boundary) return 'The item declares a multipart body without a boundary, so its parts cannot be told apart.';
      const opening = `--${root.boundary}`;
      const closing = `--${root.boundary}--`;
      if (!this.delimiters.has(opening) && !this.delimiters.has(closing)) {
        return 'The multipart body never uses its declared boundary, so its parts cannot be told apart.';
      }
      if (!this.delimiters.has(closing)) return 'The body ends before its closing MIME boundary: the item was cut short.';
      return undefined;
    }
    if (this.tail.length > 0 && this.tail[this.tail.length - 1] !== NEWLINE) return 'The body ends in the middle of a line: the item was cut short.';
    if (/^quoted-printable$/i.test(root.transferEncoding ?? '') && /=\r?\n$/.test(this.tail.toString('latin1'))) {
      return 'The body ends in a quoted-printable soft line break: the item was cut short.';
    }
    return undefined;
  }

  /** A message starts with a header field; anything else is not one (binary or garbled data). */
  private judgeStart(chunk: Buffer, final: boolean): ImporterError | undefined {
    const start = Buffer.concat([this.start as Buffer, chunk.subarray(0, LONGEST_LINE)]);
    const lineEnd = start.indexOf(NEWLINE);
    if (lineEnd === -1 && start.length < LONGEST_LINE && !final) {
      this.start = start;
      return undefined;
    }
    this.start = undefined;
    if (start.length === 0) return new ImporterError('MalformedItem', 'The item is empty.');
    const firstLine = start.subarray(0, lineEnd === -1 ? start.length : lineEnd).toString('latin1');
    if (!HEADER_FIELD.test(firstLine)) {
      return new ImporterError('MalformedItem', 'The item is not an RFC 822 message: it does not begin with a header (binary or garbled data).');
    }
    return undefined;
  }

  /** Records every short line that starts with '-', across chunk boundaries. */
  private scan(chunk: Buffer): void {
    let at = 0;
    if (this.partial || !this.atLineStart) {
      const end = chunk.indexOf(NEWLINE);
      if (this.partial) {
        const line = Buffer.concat([this.partial, chunk.subarray(0, end === -1 ? chunk.length : end)]);
        this.partial = line.length <= LONGEST_DELIMITER ? line : undefined;
        if (end !== -1 && this.partial) this.record(this.partial);
        if (end !== -1) this.partial = undefined;
      }
      if (end === -1) {
        this.atLineStart = false;
        return;
      }
      at = end + 1;
    }
    while (at < chunk.length) {
      if (chunk[at] === DASH) {
        const end = chunk.indexOf(NEWLINE, at);
        if (end === -1) {
          // Copied, so the chunk itself is not kept alive.
          this.partial = chunk.length - at <= LONGEST_DELIMITER ? Buffer.from(chunk.subarray(at)) : undefined;
          this.atLineStart = false;
          return;
        }
        this.record(chunk.subarray(at, end));
        at = end + 1;
        continue;
      }
      const next = chunk.indexOf(NEWLINE_DASH, at);
      if (next === -1) {
        this.atLineStart = chunk[chunk.length - 1] === NEWLINE;
        return;
      }
      at = next + 1;
    }
    this.atLineStart = true;
  }

  private record(line: Buffer): void {
    if (line.length > LONGEST_DELIMITER || this.delimiters.size >= MOST_DELIMITER_CANDIDATES) return;
    this.delimiters.add(line.toString('latin1').replace(/[\r \t]+$/, ''));
  }
}
