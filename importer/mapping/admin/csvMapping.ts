import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse, type InfoRecord } from 'csv-parse';
import { z } from 'zod';
import { toE164, type CountryCode } from '../../../phone/phoneNumber';
import { ImporterError } from '../../errors';

/** One row of the custom mapping: a mobile number (E.164) archived into one mailbox. */
export interface MappingEntry {
  number: string;
  mailbox: string;
}

export interface ParseMappingOptions {
  /** Country for numbers written without a country code (the connector's default country). */
  defaultCountry?: CountryCode;
  maxBytes?: number;
  maxRows?: number;
  abortSignal?: AbortSignal;
}

export type MappingProblemCode = 'MissingNumber' | 'NotANumber' | 'MissingMailbox' | 'NotAnEmail' | 'ConflictingMailboxes' | 'UnknownMailbox';

/** What is wrong with one row, by its line in the file, in words an admin can act on. */
export interface MappingProblem {
  line: number;
  code: MappingProblemCode;
  /** The cell as written. */
  value: string;
  message: string;
}

/** A file that could be read, row by row: its entries and whatever is wrong with its rows. */
export interface ParsedMappingFile {
  /** One per number, in file order; a number written twice with the same mailbox counts once. */
  entries: MappingEntry[];
  /** The line each entry was first written on. */
  lines: Map<string, number>;
  /** Data rows read (blank lines aside). */
  rows: number;
  /** Rows that repeat an earlier row exactly (same number, same mailbox): harmless, counted. */
  repeated: number;
  problems: MappingProblem[];
  /** The header as found, or undefined when the file has none (both columns obvious). */
  header?: { number: string; mailbox: string };
  delimiter: string;
}

export type MappingFileReason = 'empty' | 'headerOnly' | 'notText' | 'tooLarge' | 'tooManyRows' | 'noColumns' | 'malformedCsv' | 'rowProblems';

/** A mapping file refused whole: `reason` says why, `problems` lists the rows when that is why. */
export class MappingFileError extends ImporterError {
  constructor(
    readonly reason: MappingFileReason,
    message: string,
    readonly problems: readonly MappingProblem[] = [],
  ) {
    super(
      'InvalidMappingCsv',
      message,
      problems.slice(0, MAX_REPORTED_PROBLEMS).map((p) => `line ${p.line}: ${p.message}`),
    );
    this.name = 'MappingFileError';
  }
}

export const MAX_MAPPING_BYTES = 8 * 1024 * 1024;
export const MAX_MAPPING_ROWS = 100_000;
/** How many problems an error's message and details carry; the CSV report has them all. */
const MAX_REPORTED_PROBLEMS = 20;
/** How much of the file is read to find the delimiter and the header. */
const SNIFF_BYTES = 64 * 1024;

// TeleMessage's published header first, then the spellings admins produce, compared without case or spaces.
const NUMBER_HEADERS = new Set(['externaluserid', 'mobilenumber', 'mobile', 'phone', 'phonenumber', 'cell', 'cellphone', 'msisdn', 'number']);
const MAILBOX_HEADERS = new Set(['microsoft365usermailbox', 'office365usermailbox', 'email', 'e-mail', 'mail', 'emailaddress', 'e-mailaddress', 'mailbox', 'upn', 'userprincipalname']);
/** zod's own email pattern, tested directly: one regex per row instead of a schema parse. */
const EMAIL = z.regexes.email;

/**
 * Reads a custom mapping CSV as it streams: TeleMessage's `External User ID,Microsoft 365 User
 * Mailbox` or the variants people save (other header spellings or no header, a BOM, `,` `;` or
 * tab, quotes, CRLF, blank lines, spaces inside quotes). Every row is checked and every problem
 * kept with its line; a file that cannot be read at all (empty, header only, binary, too large)
 * throws a MappingFileError. Mailboxes are checked against the directory by the caller.
 */
export async function readMappingCsv(input: Buffer | string | AsyncIterable<Buffer | string>, options: ParseMappingOptions = {}): Promise<ParsedMappingFile> {
  const maxBytes = options.maxBytes ?? MAX_MAPPING_BYTES;
  const maxRows = options.maxRows ?? MAX_MAPPING_ROWS;
  const text = textOf(chunksOf(input), maxBytes);
  const head = await sniff(text);
  if (!head.text.replace(/^\uFEFF/, '').trim())
    throw new MappingFileError('empty', 'The mapping file is empty: it needs a header like "External User ID,Microsoft 365 User Mailbox" and one row per mobile number.');
  const delimiter = delimiterOf(firstLine(head.text));

  const result: ParsedMappingFile = { entries: [], lines: new Map(), rows: 0, repeated: 0, problems: [], delimiter };
  const mailboxOf = new Map<string, string>();
  let columns: { number: number; mailbox: number } | undefined;
  // Rows are checked inside the parser's record hook: no object per row crosses a stream.
  const onRecord = (cells: string[], info: InfoRecord): null => {
    if (!columns) {
      // csv-parse trims around quotes only: "  a@b.com " as Excel saves it is trimmed here.
      const record = cells.map((c) => c.trim());
      const found = headerColumns(record);
      if (found) {
        columns = found;
        result.header = { number: record[found.number], mailbox: record[found.mailbox] };
        return null;
      }
      columns = obviousColumns(record, options.defaultCountry);
      if (!columns) {
        throw new MappingFileError(
          'noColumns',
          `The first row must name a number column and a mailbox column, like "External User ID,Microsoft 365 User Mailbox" (found "${record.join(delimiter).slice(0, 200)}").`,
        );
      }
    }
    result.rows++;
    if (result.rows > maxRows) throw new MappingFileError('tooManyRows', `The mapping file has more than ${maxRows.toLocaleString('en-US')} rows, the most one file may hold.`);
    // Only the two columns that matter are trimmed: the rest of the row is never looked at.
    checkRow((cells[columns.number] ?? '').trim(), (cells[columns.mailbox] ?? '').trim(), info.lines, options.defaultCountry, result, mailboxOf);
    return null;
  };
  const parser = parse({ delimiter, bom: true, relax_quotes: true, skip_empty_lines: true, skip_records_with_empty_values: true, relax_column_count: true, on_record: onRecord });
  parser.resume();
  try {
    await pipeline(Readable.from(head.rest(), { objectMode: false }), parser, { signal: options.abortSignal });
  } catch (err) {
    throw fileError(err, options.abortSignal);
  }
  if (result.rows === 0) {
    throw new MappingFileError(
      result.header ? 'headerOnly' : 'empty',
      result.header
        ? 'The mapping file has a header and no rows. Nothing was changed: to remove every number from the mapping, remove them one by one or restore an empty version on purpose.'
        : 'The mapping file is empty.',
    );
  }
  return result;
}

/** Validates a single number and mailbox as a file row would be, for single edits. */
export function checkEntry(rawNumber: string, rawMailbox: string, defaultCountry?: CountryCode): { entry?: MappingEntry; problems: MappingProblem[] } {
  const result: ParsedMappingFile = { entries: [], lines: new Map(), rows: 1, repeated: 0, problems: [], delimiter: ',' };
  checkRow(rawNumber.trim(), rawMailbox.trim(), 1, defaultCountry, result, new Map());
  return { entry: result.entries[0], problems: result.problems };
}

function checkRow(rawNumber: string, rawMailbox: string, line: number, defaultCountry: CountryCode | undefined, result: ParsedMappingFile, mailboxOf: Map<string, string>): void {
  const number = rawNumber ? toE164(rawNumber, defaultCountry) : undefined;
  const mailbox = rawMailbox.toLowerCase();
  const problems = result.problems;
  if (!rawNumber) problems.push({ line, code: 'MissingNumber', value: '', message: 'the mobile number is missing' });
  else if (!number)
    problems.push({
      line,
      code: 'NotANumber',
      value: rawNumber,
      message: `"${rawNumber}" is not a phone number${defaultCountry ? '' : " (a national number needs the connector's default country, or write it with its country code)"}`,
    });
  if (!rawMailbox) problems.push({ line, code: 'MissingMailbox', value: '', message: 'the mailbox is missing' });
  const isEmail = rawMailbox !== '' && EMAIL.test(mailbox);
  if (rawMailbox && !isEmail) problems.push({ line, code: 'NotAnEmail', value: rawMailbox, message: `"${rawMailbox}" is not an email address` });
  if (!number || !isEmail) return;
  const seen = mailboxOf.get(number);
  if (seen === undefined) {
    mailboxOf.set(number, mailbox);
    result.lines.set(number, line);
    result.entries.push({ number, mailbox });
  } else if (seen === mailbox) {
    result.repeated++;
  } else {
    problems.push({ line, code: 'ConflictingMailboxes', value: rawNumber, message: `the number ${number} is mapped to ${seen} on line ${result.lines.get(number)} and to ${mailbox} here` });
  }
}

function fileError(err: unknown, signal?: AbortSignal): unknown {
  if (err instanceof ImporterError || signal?.aborted) return err;
  return new MappingFileError('malformedCsv', `The mapping file is not valid CSV: ${(err as Error).message}`);
}

function headerColumns(record: string[]): { number: number; mailbox: number } | undefined {
  const names = record.map((h) => h.toLowerCase().replace(/[\s_]+/g, ''));
  const number = names.findIndex((h) => NUMBER_HEADERS.has(h));
  const mailbox = names.findIndex((h) => MAILBOX_HEADERS.has(h));
  return number >= 0 && mailbox >= 0 ? { number, mailbox } : undefined;
}

/** A file without a header: the first row must show which column is the number and which the mailbox. */
function obviousColumns(record: string[], defaultCountry?: CountryCode): { number: number; mailbox: number } | undefined {
  const mailboxes = record.flatMap((v, i) => (EMAIL.test(v.toLowerCase()) ? [i] : []));
  const numbers = record.flatMap((v, i) => (v && toE164(v, defaultCountry) ? [i] : []));
  return mailboxes.length === 1 && numbers.length === 1 ? { number: numbers[0], mailbox: mailboxes[0] } : undefined;
}

async function* chunksOf(input: Buffer | string | AsyncIterable<Buffer | string>): AsyncIterable<Buffer> {
  if (typeof input === 'string') yield Buffer.from(input, 'utf8');
  else if (Buffer.isBuffer(input)) yield input;
  else for await (const chunk of input) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

/** UTF-8 text, refused as soon as it is too large or turns out not to be text. */
async function* textOf(chunks: AsyncIterable<Buffer>, maxBytes: number): AsyncIterable<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > maxBytes) {
      throw new MappingFileError('tooLarge', `The mapping file is larger than ${formatMiB(maxBytes)}, the most one file may be; split it or remove unused columns.`);
    }
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw notText();
    }
    if (text.includes('\u0000')) throw notText();
    if (text) yield text;
  }
  try {
    const tail = decoder.decode();
    if (tail) yield tail;
  } catch {
    throw notText();
  }
}

function notText(): MappingFileError {
  return new MappingFileError('notText', 'The mapping file is not a text CSV file (it looks binary, or is not UTF-8): save it from the spreadsheet as "CSV UTF-8".');
}

/** Reads the start of the file (to its first line break, or SNIFF_BYTES), keeping it for the parser. */
async function sniff(text: AsyncIterable<string>): Promise<{ text: string; rest(): AsyncIterable<string> }> {
  const iterator = text[Symbol.asyncIterator]();
  let head = '';
  let done = false;
  while (!done && !/[^\r\n][\r\n]/.test(head.trimStart()) && head.length < SNIFF_BYTES) {
    const next = await iterator.next();
    if (next.done) done = true;
    else head += next.value;
  }
  return {
    text: head,
    async *rest() {
      if (head) yield head;
      if (done) return;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    },
  };
}

function firstLine(text: string): string {
  return (
    text
      .replace(/^\uFEFF/, '')
      .trimStart()
      .split(/\r\n|\n|\r/, 1)[0] ?? ''
  );
}

/** The delimiter of the first line: whichever of , ; and tab appears most outside quotes. */
function delimiterOf(line: string): string {
  const unquoted = line.replace(/"[^"]*"/g, '');
  const count = (d: string) => unquoted.split(d).length - 1;
  const [best] = [',', ';', '\t'].sort((a, b) => count(b) - count(a));
  return count(best) > 0 ? best : ',';
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toLocaleString('en-US', { maximumFractionDigits: 1 })} MiB`;
}
