import { csvCell, csvLine } from '../../importer/spreadsheetCsv';

describe('spreadsheet-safe CSV', () => {
  it.each([
    ['=SUM(A1:A9)', `'=SUM(A1:A9)`],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['+445204334324', `'+445204334324`],
    ['-1', `'-1`],
    ['@cmd', `'@cmd`],
    ['\tx', `"'\tx"`],
    ['\rx', `"'\rx"`],
  ])('neutralises a cell beginning with a formula character: %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('leaves plain cells alone and quotes delimiters, quotes and line breaks', () => {
    expect(csvCell('445204334324')).toBe('445204334324');
    expect(csvCell('susan@company.com')).toBe('susan@company.com');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('a;b')).toBe('"a;b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvLine([3, 'NotAnEmail', undefined])).toBe('3,NotAnEmail,\r\n');
  });
});
