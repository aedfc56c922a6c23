import type { ZipEntryHeader } from '../../importer/source/sftp/zipArchive';
import { deliveryOrder } from '../../importer/source/sftp/landingContainer';
import { DEFAULT_ZIP_LIMITS } from '../../importer/source/sftp/zipLimits';
import { checkAgainstManifest, parseManifest } from '../../importer/source/sftp/zipManifest';
import { checkEntries, unsafeNameReason } from '../../importer/source/sftp/zipSafety';

const MIB = 1024 * 1024;
let offset = 0;
const header = (name: string, extra: Partial<ZipEntryHeader> = {}): ZipEntryHeader => {
  const e = {
    name,
    compressedSize: 100,
    uncompressedSize: 300,
    compressionMethod: 8,
    encrypted: false,
    crc32: 0,
    localHeaderOffset: offset,
    isDirectory: name.endsWith('/'),
    entry: undefined as never,
    ...extra,
  };
  offset += 30 + name.length + e.compressedSize;
  return e;
};
const refused = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
  return undefined;
};

describe('the manifest, read as Smarsh documents it and tolerant of what it does not say', () => {
  it('reads Count: and the EML names, whatever the case, BOM, line ends or other lines', () => {
    const text = '\uFEFFTeleMessage export\r\ncount : 2\r\n  a.eml\r\nDate: 2026-11-24\nsub/B.EML\n\n';
    expect(parseManifest(Buffer.from(text))).toEqual({ count: 2, names: ['a.eml', 'sub/B.EML'] });
  });

  it('refuses a manifest without a Count:, with two, or with one that is not a number', () => {
    expect(refused(() => parseManifest(Buffer.from('a.eml\r\n')))).toEqual({ code: 'ManifestUnreadable', message: 'The manifest has no Count: line.' });
    expect(refused(() => parseManifest(Buffer.from('Count: 1\r\nCount: 1\r\na.eml')))?.message).toMatch(/more than one Count:/);
    expect(refused(() => parseManifest(Buffer.from('Count: two\r\na.eml')))?.message).toBe('The manifest\'s Count: value "two" is not a number.');
  });

  it("names the manifest's files relative to its folder, and refuses a name listed twice", () => {
    const entries = [header('day/x.mf'), header('day/a.eml'), header('day/b.eml')];
    expect(checkAgainstManifest(entries[0], { count: 2, names: ['b.eml', 'a.eml'] }, entries).map((e) => e.name)).toEqual(['day/b.eml', 'day/a.eml']);
    expect(refused(() => checkAgainstManifest(entries[0], { count: 2, names: ['a.eml', 'a.eml'] }, entries))?.message).toBe('The manifest lists "a.eml" twice.');
    // A label or a number before the name, as an undocumented layout might write it.
    expect(checkAgainstManifest(entries[0], { count: 2, names: ['File: a.eml', '2. b.eml'] }, entries).map((e) => e.name)).toEqual(['day/a.eml', 'day/b.eml']);
  });
});

describe('entry names that could escape or confuse', () => {
  it('refuses .. segments, absolute paths, backslashes, drive letters and control characters, and accepts ordinary names', () => {
    expect(unsafeNameReason('../x.eml')).toMatch(/\.\./);
    expect(unsafeNameReason('a/../../x.eml')).toMatch(/\.\./);
    expect(unsafeNameReason('/x.eml')).toBe('is an absolute path');
    expect(unsafeNameReason('..\\x.eml')).toBe('holds a backslash');
    expect(unsafeNameReason('C:x.eml')).toBe('starts with a drive letter');
    expect(unsafeNameReason('x\u0000.eml')).toBe('holds a control character');
    expect(unsafeNameReason('')).toBe('is empty');
    for (const ok of ['x.eml', 'day/x.eml', './x.eml', 'x..y.eml', 'Ünïcødé 名前.eml']) expect([ok, unsafeNameReason(ok)]).toEqual([ok, undefined]);
  });
});

describe('bombs and abuse, from the central directory alone', () => {
  it('refuses an entry whose ratio is over the limit, but not a small entry that compresses well', () => {
    expect(refused(() => checkEntries([header('tiny.eml', { compressedSize: 10, uncompressedSize: 50_000 })], DEFAULT_ZIP_LIMITS))).toBeUndefined();
    expect(refused(() => checkEntries([header('big.eml', { compressedSize: 20_000, uncompressedSize: 64 * MIB })], DEFAULT_ZIP_LIMITS))).toEqual({
      code: 'TooLarge',
      message: 'The entry "big.eml" inflates 3355 times its compressed size; at most 100 times is accepted.',
    });
  });

  it('refuses a stored entry whose sizes differ, an encrypted one, an unknown method, and entries that share bytes', () => {
    expect(refused(() => checkEntries([header('s.eml', { compressionMethod: 0, compressedSize: 10, uncompressedSize: 20 })], DEFAULT_ZIP_LIMITS))?.code).toBe('CorruptEntry');
    expect(refused(() => checkEntries([header('e.eml', { encrypted: true })], DEFAULT_ZIP_LIMITS))?.code).toBe('EncryptedEntry');
    expect(refused(() => checkEntries([header('m.eml', { compressionMethod: 12 })], DEFAULT_ZIP_LIMITS))?.code).toBe('UnsupportedCompression');
    const first = header('one.eml');
    expect(refused(() => checkEntries([first, { ...header('two.eml'), localHeaderOffset: first.localHeaderOffset + 40 }], DEFAULT_ZIP_LIMITS))?.message).toBe(
      'The entries "one.eml" and "two.eml" overlap in the ZIP.',
    );
  });

  it('refuses too many entries and too much in all', () => {
    const limits = { ...DEFAULT_ZIP_LIMITS, maxEntries: 2, maxTotalBytes: 500 };
    expect(refused(() => checkEntries([header('a.eml'), header('b.eml'), header('c.eml')], limits))?.code).toBe('TooManyEntries');
    expect(refused(() => checkEntries([header('a.eml'), header('b.eml')], limits))?.message).toBe('The ZIP inflates to 600 bytes in all; at most 500 are accepted.');
  });
});

describe('the order ZIPs are taken in', () => {
  it('follows day, file number and time zipped as numbers, documented names before others', () => {
    const names = ['other.zip', '202611250000-TeleMessage_1_000100.zip', '202611240000-TeleMessage_10_235900.zip', '202611240000-TeleMessage_2_120000.zip', '202611240000-TeleMessage_2_90000.zip'];
    expect([...names].sort(deliveryOrder)).toEqual([
      '202611240000-TeleMessage_2_90000.zip',
      '202611240000-TeleMessage_2_120000.zip',
      '202611240000-TeleMessage_10_235900.zip',
      '202611250000-TeleMessage_1_000100.zip',
      'other.zip',
    ]);
  });
});
