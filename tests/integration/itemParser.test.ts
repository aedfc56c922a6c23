import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { mediaChunks } from '../../emulators/telemessage/mediaBytes';
import { renderRawMessage } from '../../emulators/telemessage/rfc822';
import { startTeleMessageEmulator, type ExpectedItem, type TeleMessageEmulator, type TeleMessageEmulatorOptions } from '../../emulators/telemessage/server';
import { MALFORMATIONS, type Malformation } from '../../emulators/telemessage/traffic';
import { ImporterError } from '../../importer/errors';
import type { ArchiveItem, ItemKind, SourceItemRef } from '../../importer/model';
import { openAttachment } from '../../importer/parse/attachmentStream';
import { parseRawItem } from '../../importer/parse/itemParser';
import { RetryPolicy } from '../../importer/retryPolicy';
import { TeleMessageSource } from '../../importer/source/telemessageSource';

const MIB = 1024 * 1024;
const HUGE = 151 * MIB;
const DAY = { from: new Date('2025-01-15T00:00:00Z'), to: new Date('2025-01-16T00:00:00Z') };
const CREDENTIALS = { username: 'archiver@contoso.example', password: 'parse-tests-password' };
const BASE: TeleMessageEmulatorOptions = {
  seed: 'parse-tests',
  credentials: CREDENTIALS,
  population: { employees: 40 },
  days: ['2025-01-15'],
  now: new Date('2025-01-20T00:00:00Z'),
  traffic: { itemsPerDay: 260, malformedRatio: 0, hugeAttachments: [HUGE] },
};
const KINDS: Record<string, ItemKind> = { SMS: 'sms', MMS: 'mms', CHAT: 'chat', VOICE_RECORDING: 'voiceRecording', VOICE_CALL_LOG: 'voiceCallLog' };

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const refOf = (item: ExpectedItem): SourceItemRef => ({ id: item.id, archivedAt: new Date(item.archivedAt), type: item.type, sizeBytes: item.sizeBytes });

async function digest(chunks: AsyncIterable<unknown> | Iterable<unknown>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of chunks) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

// Each test here waits for its parse to finish, however long a loaded machine takes to do the
// work (some 4 s of CPU for the 151 MiB item); the limit only catches a parse that never ends.
jest.setTimeout(300_000);

const attachmentDigests = new Map<string, Promise<{ sha256: string; size: number }>>();

/** What the emulator wrote, computed from its generator rather than from the wire; once per attachment. */
function attachmentDigest(seed: string, item: ExpectedItem, n: number): Promise<{ sha256: string; size: number }> {
  const key = `${seed}/${item.id}/${n}`;
  const spec = item.attachments[n];
  if (!attachmentDigests.has(key)) attachmentDigests.set(key, digest(mediaChunks(spec.format, spec.size, [seed, 'attachment', item.id, n])));
  return attachmentDigests.get(key)!;
}

async function expectedArchiveItem(seed: string, item: ExpectedItem, raw: { sha256: string; size: number }): Promise<ArchiveItem> {
  const attachments = await Promise.all(
    item.attachments.map(async (a, index) => ({ index, name: a.filename, contentType: a.contentType, size: a.size, sha256: (await attachmentDigest(seed, item, index)).sha256 })),
  );
  return {
    id: item.id,
    kind: KINDS[item.type],
    at: new Date(item.call?.start ?? item.sentAt),
    archivedAt: new Date(item.archivedAt),
    threadId: item.threadId,
    network: item.network,
    direction: item.direction,
    ...(item.call ? { durationSeconds: item.call.durationSeconds, callStatus: item.call.status } : {}),
    subscriber: item.subscriber.number,
    ...(item.chat ? { chat: item.chat } : {}),
    participants: item.participants.map(({ employeeId: _employeeId, ...p }) => ({ ...p, ...(p.email ? { email: p.email.toLowerCase() } : {}) })),
    subject: item.subject,
    text: item.text,
    attachments,
    raw,
  };
}

/** The largest growth of RSS while `work` runs, sampled, against the level before it. */
async function rssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growthMib: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growthMib: (peak - before) / MIB };
  } finally {
    clearInterval(sample);
  }
}

async function caught(promise: Promise<unknown>): Promise<ImporterError> {
  try {
    await promise;
  } catch (error) {
    return error as ImporterError;
  }
  throw new Error('expected a failure');
}

describe('item parser', () => {
  let em: TeleMessageEmulator;
  let source: TeleMessageSource;
  let items: ExpectedItem[];
  const download = async (item: ExpectedItem) => Buffer.concat(await (await source.download(refOf(item))).toArray());
  const parseDownloaded = async (item: ExpectedItem) => {
    const bytes = await download(item);
    return { bytes, parsed: await parseRawItem(Readable.from([bytes]), { sha256: sha256(bytes), size: bytes.length, ref: refOf(item) }) };
  };
  const hugeItem = () => items.find((i) => i.attachments.some((a) => a.size === HUGE)) as ExpectedItem;

  beforeAll(async () => {
    em = await startTeleMessageEmulator(BASE);
    source = new TeleMessageSource({ baseUrl: em.url, ...CREDENTIALS, password: async () => CREDENTIALS.password, retry: new RetryPolicy({ baseDelayMs: 5 }) });
    items = em.listExpected(DAY.from, DAY.to);
  });
  afterAll(() => em.close());

  test('reads every kind as the emulator wrote it: times, participants, text, attachments and their SHA-256', async () => {
    const sample = items.filter((i) => i !== hugeItem());
    const parsedItems: ArchiveItem[] = [];
    for (const item of sample) {
      const { bytes, parsed } = await parseDownloaded(item);
      expect(parsed).toEqual(await expectedArchiveItem('parse-tests', item, { sha256: sha256(bytes), size: item.sizeBytes }));
      parsedItems.push(parsed);
    }
    // The sample covered what the comparison is meant to prove.
    expect(new Set(parsedItems.map((i) => i.kind))).toEqual(new Set(Object.values(KINDS)));
    const names = parsedItems.flatMap((i) => i.participants.map((p) => p.name ?? ''));
    expect(names.some((n) => /[\u0590-\u05ff]/.test(n))).toBe(true);
    expect(names.some((n) => /[\u0600-\u06ff]/.test(n))).toBe(true);
    expect(parsedItems.some((i) => /\p{Extended_Pictographic}/u.test(i.text))).toBe(true);
    expect(parsedItems.some((i) => /[\u0590-\u06ff]/.test(i.text))).toBe(true);
    expect(parsedItems.some((i) => i.chat?.group)).toBe(true);
    expect(parsedItems.some((i) => i.participants.some((p) => p.number && !p.email))).toBe(true);
    expect(parsedItems.some((i) => i.callStatus === 'missed' && i.durationSeconds === 0)).toBe(true);
    expect(parsedItems.some((i) => i.attachments.length >= 2)).toBe(true);
  });

  test('a 151 MiB attachment is hashed as it streams by: memory stays flat', async () => {
    const warmUp = items.filter((i) => i !== hugeItem()).reduce((a, b) => (b.sizeBytes > a.sizeBytes ? b : a));
    await parseRawItem(await source.download(refOf(warmUp)), { sha256: 'warm-up', size: warmUp.sizeBytes });

    const item = hugeItem();
    const raw = await digest(renderRawMessage(item, 'parse-tests').stream());
    const { result, growthMib } = await rssGrowth(async () => parseRawItem(await source.download(refOf(item)), { ...raw, ref: refOf(item) }));
    expect(result).toEqual(await expectedArchiveItem('parse-tests', item, raw));
    expect(result.attachments[0].size).toBe(HUGE);
    // Holding the attachment would take 151 MiB, the raw item 207 MiB.
    expect(growthMib).toBeLessThan(64);
  });

  test('an attachment opens as a stream of its decoded bytes, same SHA-256 as parsed, at any size', async () => {
    const mms = items.find((i) => i.attachments.length >= 2 && i !== hugeItem()) as ExpectedItem;
    const { bytes, parsed } = await parseDownloaded(mms);
    for (const info of parsed.attachments) {
      const opened = await openAttachment(Readable.from([bytes]), info.index);
      expect({ index: opened.index, name: opened.name, contentType: opened.contentType }).toEqual({ index: info.index, name: info.name, contentType: info.contentType });
      expect(await digest(opened.stream)).toEqual({ sha256: info.sha256, size: info.size });
    }
    expect(await caught(openAttachment(Readable.from([bytes]), parsed.attachments.length))).toMatchObject({ code: 'NotFound' });

    const item = hugeItem();
    const expected = await attachmentDigest('parse-tests', item, 0);
    const { result, growthMib } = await rssGrowth(async () => digest((await openAttachment(await source.download(refOf(item)), 0)).stream));
    expect(result).toEqual(expected);
    expect(growthMib).toBeLessThan(64);
  });

  test('a consumer that stops reading an attachment stops the read of the raw item', async () => {
    const raw = await source.download(refOf(hugeItem()));
    const opened = await openAttachment(raw, 0);
    for await (const _chunk of opened.stream) break;
    await new Promise((resolve) => setImmediate(resolve));
    expect(raw.destroyed).toBe(true);
  });

  test('the same bytes always give the same item', async () => {
    const twin = await startTeleMessageEmulator(BASE);
    try {
      const twinSource = new TeleMessageSource({ baseUrl: twin.url, ...CREDENTIALS, password: async () => CREDENTIALS.password });
      for (const item of items.filter((i) => i.type === 'MMS' && i !== hugeItem()).slice(0, 3)) {
        const first = (await parseDownloaded(item)).parsed;
        expect((await parseDownloaded(item)).parsed).toEqual(first);
        const twinBytes = Buffer.concat(await (await twinSource.download(refOf(item))).toArray());
        expect(await parseRawItem(Readable.from([twinBytes]), { sha256: sha256(twinBytes), size: twinBytes.length, ref: refOf(item) })).toEqual(first);
      }
    } finally {
      await twin.close();
    }
  });

  describe('malformed items', () => {
    let broken: TeleMessageEmulator;
    let brokenSource: TeleMessageSource;
    let brokenItems: ExpectedItem[];
    const reasons: Record<Malformation, RegExp> = {
      'missing-participants': /^The item names no participants/,
      'invalid-date': /^The Date header "31\/02\/2025 25:61 local time" is not a valid RFC 5322 date\.$/,
      'truncated-body': /^The body ends (before its closing MIME boundary|in the middle of a line|in a quoted-printable soft line break): the item was cut short\.$/,
      'broken-boundary': /^The multipart body never uses its declared boundary/,
      'garbage-bytes': /^The item is not an RFC 822 message: it does not begin with a header/,
    };

    beforeAll(async () => {
      broken = await startTeleMessageEmulator({ ...BASE, seed: 'broken-items', traffic: { itemsPerDay: 400, malformedRatio: 0.25, hugeAttachments: [] } });
      brokenSource = new TeleMessageSource({ baseUrl: broken.url, ...CREDENTIALS, password: async () => CREDENTIALS.password });
      brokenItems = broken.listExpected(DAY.from, DAY.to);
    });
    afterAll(() => broken.close());

    test('each breakage is a MalformedItem with its own reason; no well-formed item is refused', async () => {
      const seen = new Map<Malformation, Set<string>>();
      let wellFormed = 0;
      for (const item of brokenItems.filter((i) => i.sizeBytes < 8 * MIB)) {
        const bytes = Buffer.concat(await (await brokenSource.download(refOf(item))).toArray());
        const parsing = parseRawItem(Readable.from([bytes]), { sha256: sha256(bytes), size: bytes.length, ref: refOf(item) });
        if (!item.malformation) {
          await expect(parsing).resolves.toMatchObject({ id: item.id });
          wellFormed++;
          continue;
        }
        const error = await caught(parsing);
        expect(error).toBeInstanceOf(ImporterError);
        expect({ id: item.id, code: error.code, message: error.message }).toEqual({ id: item.id, code: 'MalformedItem', message: expect.stringMatching(reasons[item.malformation]) });
        seen.set(item.malformation, (seen.get(item.malformation) ?? new Set()).add(error.message));
      }
      expect([...seen.keys()].sort()).toEqual([...MALFORMATIONS].sort());
      expect(wellFormed).toBeGreaterThan(200);
      // An admin reading the run log can tell the breakages apart.
      const owners = new Map<string, Malformation>();
      for (const [malformation, messages] of seen) {
        for (const message of messages) {
          expect(owners.get(message) ?? malformation).toBe(malformation);
          owners.set(message, malformation);
        }
      }
      const truncations = brokenItems.filter((i) => i.malformation === 'truncated-body');
      expect(truncations.some((i) => i.attachments.length > 0) && truncations.some((i) => i.attachments.length === 0)).toBe(true);
    });
  });
});
