import { parse } from 'csv-parse/sync';
import type { CountryCode } from 'libphonenumber-js/max';
import { z } from 'zod';
import { ImporterError } from '../errors';
import { toE164 } from './phoneNumber';

/** One row of the custom mapping: a mobile number (E.164) archived into one mailbox. */
export interface MappingEntry {
  number: string;
  mailbox: string;
}

export interface ParseMappingOptions {
  /** Country for numbers written without a country code. */
  defaultCountry?: CountryCode;
  maxBytes?: number;
  maxRows?: number;
}

export const MAX_MAPPING_BYTES = 5 * 1024 * 1024;
export const MAX_MAPPING_ROWS = 100_000;
const MAX_REPORTED_PROBLEMS = 20;

// TeleMessage's published header first, then the variants admins produce by hand.
const NUMBER_HEADERS = ['external user id', 'mobile number', 'mobile', 'phone number', 'number', 'msisdn'];
const MAILBOX_HEADERS = ['microsoft 365 user mailbox', 'office 365 user mailbox', 'email', 'email address', 'mailbox', 'upn', 'user principal name'];
const email = z.email();

/**
 * Parses the custom mapping CSV published by TeleMessage (`External User ID,Microsoft 365 User
 * Mailbox`) or an obvious variant (`Mobile Number`, `Email`, a BOM, `;` delimiters). All or
 * nothing: any bad row rejects the whole file with every problem listed by line.
 */
export function parseMappingCsv(input: Buffer | string, options: ParseMappingOptions = {}): MappingEntry[] {
  const maxBytes = options.maxBytes ?? MAX_MAPPING_BYTES;
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes) throw invalid(`The mapping file is ${size} bytes; the limit is ${maxBytes} bytes.`);
  const text = (typeof input === 'string' ? input : input.toString('utf8')).replace(/^\uFEFF/, '');
  if (text.includes('\uFFFD') || text.includes('\u0000')) throw invalid('The mapping file is not UTF-8 text.');

  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  let rows: string[][];
  try {
    rows = parse(text, { delimiter, skip_empty_lines: true, trim: true, relax_column_count: true }) as string[][];
  } catch (err) {
    throw invalid(`The mapping file is not valid CSV: ${(err as Error).message}`);
  }
  if (rows.length === 0) throw invalid('The mapping file is empty.');

  const header = rows[0].map((h) => h.toLowerCase().replace(/\s+/g, ' '));
  const numberCol = header.findIndex((h) => NUMBER_HEADERS.includes(h));
  const mailboxCol = header.findIndex((h) => MAILBOX_HEADERS.includes(h));
  if (numberCol < 0 || mailboxCol < 0) {
    throw invalid(
      `The header must name a number column and a mailbox column, like "External User ID,Microsoft 365 User Mailbox"; found "${rows[0].join(delimiter)}".`,
    );
  }
  const body = rows.slice(1);
  const maxRows = options.maxRows ?? MAX_MAPPING_ROWS;
  if (body.length > maxRows) throw invalid(`The mapping file has ${body.length} rows; the limit is ${maxRows}.`);

  const problems: string[] = [];
  const byNumber = new Map<string, { mailbox: string; line: number }>();
  body.forEach((row, i) => {
    const line = i + 2;
    const rawNumber = row[numberCol] ?? '';
    const rawMailbox = row[mailboxCol] ?? '';
    const number = toE164(rawNumber, options.defaultCountry);
    const mailbox = rawMailbox.toLowerCase();
    if (!number) problems.push(`line ${line}: "${rawNumber}" is not a phone number`);
    if (!email.safeParse(mailbox).success) problems.push(`line ${line}: "${rawMailbox}" is not an email address`);
    if (!number || !email.safeParse(mailbox).success) return;
    const seen = byNumber.get(number);
    if (seen && seen.mailbox !== mailbox) {
      problems.push(`line ${line}: ${number} is already mapped to ${seen.mailbox} on line ${seen.line}`);
    } else if (!seen) {
      byNumber.set(number, { mailbox, line });
    }
  });
  if (problems.length) {
    const shown = problems.slice(0, MAX_REPORTED_PROBLEMS);
    const more = problems.length - shown.length;
    throw invalid(
      `The mapping file has ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was changed.`,
      more > 0 ? [...shown, `… and ${more} more`] : shown,
    );
  }
  return [...byNumber].map(([number, { mailbox }]) => ({ number, mailbox }));
}

function invalid(message: string, details?: string[]): ImporterError {
  return new ImporterError('InvalidMappingCsv', message, details);
}
