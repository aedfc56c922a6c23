import { parseMappingCsv } from '../../importer/mapping/csvMapping';
import { toE164 } from '../../importer/mapping/phoneNumber';
import { ImporterError } from '../../importer/errors';

function problemsOf(run: () => unknown): { message: string; details: readonly string[] } {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ImporterError);
    expect((err as ImporterError).code).toBe('InvalidMappingCsv');
    return { message: (err as Error).message, details: (err as ImporterError).details ?? [] };
  }
  throw new Error('expected the CSV to be rejected');
}

describe('mapping CSV', () => {
  it("reads TeleMessage's published format and normalises numbers to E.164", () => {
    const csv = 'External User ID,Microsoft 365 User Mailbox\n445204334324,susan@company.com\n12025550123,Bob@Company.com\n';
    expect(parseMappingCsv(csv)).toEqual([
      { number: '+445204334324', mailbox: 'susan@company.com' },
      { number: '+12025550123', mailbox: 'bob@company.com' },
    ]);
  });

  it('accepts a BOM, semicolons, Excel quoting, other header names and written-out numbers', () => {
    const csv = '\uFEFF"Mobile Number";"Email"\r\n"+44 7700 900123";"ann@company.com"\r\n\r\n0049 151 1234 5678;dieter@company.com\r\n';
    expect(parseMappingCsv(Buffer.from(csv, 'utf8'))).toEqual([
      { number: '+447700900123', mailbox: 'ann@company.com' },
      { number: '+4915112345678', mailbox: 'dieter@company.com' },
    ]);
  });

  it('uses the default country only for numbers written without a country code', () => {
    expect(toE164('(202) 555-0123', 'US')).toBe('+12025550123');
    expect(toE164('050-123-4567', 'IL')).toBe('+972501234567');
    expect(toE164('972501234567', 'US')).toBe('+972501234567');
  });

  it('rejects the whole file, line by line, when any row is bad', () => {
    const csv = 'External User ID,Microsoft 365 User Mailbox\n445204334324,susan@company.com\n12ab,x@company.com\n12025550123,not-an-email\n';
    const { message, details } = problemsOf(() => parseMappingCsv(csv));
    expect(message).toMatch(/2 problems; nothing was changed/);
    expect(details).toEqual(['line 3: "12ab" is not a phone number', 'line 4: "not-an-email" is not an email address']);
  });

  it('refuses one number mapped to two mailboxes, and keeps a repeated identical row once', () => {
    const dup = 'External User ID,Microsoft 365 User Mailbox\n445204334324,a@company.com\n+44 5204 334324,b@company.com\n';
    expect(problemsOf(() => parseMappingCsv(dup)).details).toEqual(['line 3: +445204334324 is already mapped to a@company.com on line 2']);
    const same = 'External User ID,Microsoft 365 User Mailbox\n445204334324,a@company.com\n445204334324,A@company.com\n';
    expect(parseMappingCsv(same)).toHaveLength(1);
  });

  it('says what header it expected, and refuses empty, oversized or binary files', () => {
    expect(problemsOf(() => parseMappingCsv('phone,who\n1,2\n')).message).toMatch(/External User ID,Microsoft 365 User Mailbox/);
    expect(problemsOf(() => parseMappingCsv('')).message).toMatch(/empty/);
    expect(problemsOf(() => parseMappingCsv('x'.repeat(100), { maxBytes: 10 })).message).toMatch(/limit is 10 bytes/);
    expect(problemsOf(() => parseMappingCsv(Buffer.from([0xff, 0xfe, 0x00, 0x41]))).message).toMatch(/not UTF-8/);
    const many = 'Mobile Number,Email\n' + Array.from({ length: 30 }, (_, i) => `bad${i},x@y.com`).join('\n');
    const { details } = problemsOf(() => parseMappingCsv(many));
    expect(details).toHaveLength(21);
    expect(details[20]).toBe('… and 10 more');
  });

  it('reports unbalanced quotes as invalid CSV', () => {
    expect(problemsOf(() => parseMappingCsv('Mobile Number,Email\n"445204334324,a@company.com\n')).message).toMatch(/not valid CSV/);
  });
});
