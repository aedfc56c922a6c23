import { readMappingCsv, MappingFileError, type ParsedMappingFile } from '../../importer/mapping/admin/csvMapping';
import { toE164 } from '../../phone/phoneNumber';
import { parsePhoneNumberFromString, getCountries, getExampleNumber } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';

async function refusal(input: Parameters<typeof readMappingCsv>[0], options?: Parameters<typeof readMappingCsv>[1]): Promise<MappingFileError> {
  const err = await readMappingCsv(input, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MappingFileError);
  expect((err as MappingFileError).code).toBe('InvalidMappingCsv');
  return err as MappingFileError;
}

const lines = (file: ParsedMappingFile) => file.problems.map((p) => `${p.line} ${p.code}`);

describe('mapping CSV', () => {
  it("reads TeleMessage's published format and normalises numbers to E.164", async () => {
    const file = await readMappingCsv('External User ID,Microsoft 365 User Mailbox\n445204334324,susan@company.com\n12025550123,Bob@Company.com\n');
    expect(file.entries).toEqual([
      { number: '+445204334324', mailbox: 'susan@company.com' },
      { number: '+12025550123', mailbox: 'bob@company.com' },
    ]);
    expect(file.problems).toEqual([]);
    expect(file.header).toEqual({ number: 'External User ID', mailbox: 'Microsoft 365 User Mailbox' });
  });

  it('reads an Excel-saved file: BOM, semicolons, CRLF, quoted values with spaces inside, blank lines', async () => {
    const csv = '\uFEFF"Mobile Number";"Email"\r\n" +44 7700 900123 ";"  Ann@Company.com "\r\n\r\n;;\r\n0049 151 1234 5678;dieter@company.com\r\n';
    const file = await readMappingCsv(Buffer.from(csv, 'utf8'));
    expect(file.delimiter).toBe(';');
    expect(file.entries).toEqual([
      { number: '+447700900123', mailbox: 'ann@company.com' },
      { number: '+4915112345678', mailbox: 'dieter@company.com' },
    ]);
    expect(file.problems).toEqual([]);
  });

  it.each([
    ['Phone,UPN', ','],
    ['phone number;e-mail', ';'],
    ['CELL\tUser Principal Name', '\t'],
    ['MSISDN,Email Address,Department', ','],
    ['Number,Mailbox', ','],
    ['Mobile,Mail', ','],
  ])('recognises the header %j', async (header, delimiter) => {
    const row = ['+1 202 555 0123', 'bob@company.com', 'Sales'].slice(0, header.split(delimiter).length).join(delimiter);
    const file = await readMappingCsv(`${header}\n${row}\n`);
    expect(file.entries).toEqual([{ number: '+12025550123', mailbox: 'bob@company.com' }]);
  });

  it('reads a file without a header when both columns are obvious, in either order', async () => {
    expect((await readMappingCsv('445204334324,susan@company.com\n')).entries).toEqual([{ number: '+445204334324', mailbox: 'susan@company.com' }]);
    const file = await readMappingCsv('susan@company.com,445204334324\nbob@company.com,12025550123\n');
    expect(file.header).toBeUndefined();
    expect(file.entries.map((e) => e.number)).toEqual(['+445204334324', '+12025550123']);
  });

  it('uses the default country only for numbers written without a country code', async () => {
    expect(toE164('(202) 555-0123', 'US')).toBe('+12025550123');
    expect(toE164('050-123-4567', 'IL')).toBe('+972501234567');
    expect(toE164('972501234567', 'US')).toBe('+972501234567');
    const file = await readMappingCsv('Mobile Number,Email\n07700 900123,ann@company.com\n', { defaultCountry: 'GB' });
    expect(file.entries).toEqual([{ number: '+447700900123', mailbox: 'ann@company.com' }]);
    const without = await readMappingCsv('Mobile Number,Email\n07700 900123,ann@company.com\n');
    expect(without.problems[0]).toMatchObject({ line: 2, code: 'NotANumber', value: '07700 900123' });
    expect(without.problems[0].message).toMatch(/default country/);
  });

  it('the fast path for international numbers agrees with libphonenumber on every country', () => {
    let checked = 0;
    for (const country of getCountries()) {
      const example = getExampleNumber(country, examples);
      if (!example) continue;
      const e164 = example.number;
      for (const written of [e164, e164.slice(1), `00${e164.slice(1)}`, e164.slice(0, -1), `${e164}1`, `${e164.slice(0, 4)}0${e164.slice(4)}`]) {
        const parsed = parsePhoneNumberFromString(`+${written.replace(/^\+|^00/, '')}`);
        expect([written, toE164(written)]).toEqual([written, parsed?.isPossible() ? parsed.number : undefined]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('lists every bad row with its line: not a number, not an email, missing values', async () => {
    const csv = 'External User ID,Microsoft 365 User Mailbox\n445204334324,susan@company.com\n12ab,x@company.com\n12025550123,not-an-email\n,y@company.com\n12025550124,\n';
    const file = await readMappingCsv(csv);
    expect(lines(file)).toEqual(['3 NotANumber', '4 NotAnEmail', '5 MissingNumber', '6 MissingMailbox']);
    expect(file.entries).toEqual([{ number: '+445204334324', mailbox: 'susan@company.com' }]);
  });

  it('refuses one number mapped to two mailboxes, and keeps a repeated identical row once', async () => {
    const dup = await readMappingCsv('External User ID,Microsoft 365 User Mailbox\n445204334324,a@company.com\n+44 5204 334324,b@company.com\n');
    expect(dup.problems).toEqual([
      { line: 3, code: 'ConflictingMailboxes', value: '+44 5204 334324', message: 'the number +445204334324 is mapped to a@company.com on line 2 and to b@company.com here' },
    ]);
    const same = await readMappingCsv('External User ID,Microsoft 365 User Mailbox\n445204334324,a@company.com\n445204334324,A@company.com\n');
    expect(same.entries).toHaveLength(1);
    expect(same.repeated).toBe(1);
    expect(same.problems).toEqual([]);
  });

  it('refuses empty, header-only, binary, oversized and too-long files with a reason', async () => {
    expect((await refusal('')).reason).toBe('empty');
    expect((await refusal('\uFEFF\r\n\r\n')).reason).toBe('empty');
    const headerOnly = await refusal('External User ID,Microsoft 365 User Mailbox\r\n');
    expect(headerOnly.reason).toBe('headerOnly');
    expect(headerOnly.message).toMatch(/header and no rows/);
    expect((await refusal(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0xff, 0xfe]))).reason).toBe('notText');
    expect((await refusal(Buffer.from('Phone,UPN\n1\u0000,a@b.com\n'))).reason).toBe('notText');
    const large = await refusal('Phone,UPN\n' + '445204334324,a@company.com\n'.repeat(100), { maxBytes: 1000 });
    expect(large.reason).toBe('tooLarge');
    expect(large.message).toMatch(/larger than/);
    expect((await refusal('Phone,UPN\n' + Array.from({ length: 11 }, (_, i) => `4452043343${String(i).padStart(2, '0')},a${i}@company.com`).join('\n'), { maxRows: 10 })).reason).toBe('tooManyRows');
  });

  it('says what header it expected, and reports unbalanced quotes as invalid CSV', async () => {
    const noColumns = await refusal('phone,who\n1,2\n');
    expect(noColumns.reason).toBe('noColumns');
    expect(noColumns.message).toMatch(/External User ID,Microsoft 365 User Mailbox/);
    expect((await refusal('Mobile Number,Email\n"445204334324,a@company.com\n')).reason).toBe('malformedCsv');
  });

  it('reads a file that arrives in chunks split anywhere, even inside a character', async () => {
    const text = '\uFEFFName;Mobile Number;Email\r\nZoë Ó;+44 7700 900123;zoe@company.com\r\n';
    const bytes = Buffer.from(text, 'utf8');
    async function* oneByteAtATime() {
      for (const b of bytes) yield Buffer.from([b]);
    }
    expect((await readMappingCsv(oneByteAtATime())).entries).toEqual([{ number: '+447700900123', mailbox: 'zoe@company.com' }]);
  });
});
