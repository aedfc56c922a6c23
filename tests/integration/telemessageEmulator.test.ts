import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { MailParser, simpleParser, type AddressObject, type AttachmentStream, type MessageText, type ParsedMail } from 'mailparser';
import { startTeleMessageEmulator, type ExpectedItem, type TeleMessageEmulator, type TeleMessageEmulatorOptions } from '../../emulators/telemessage/server';
import { renderRawMessage } from '../../emulators/telemessage/rfc822';
import { MALFORMATIONS, type ItemType, type Participant } from '../../emulators/telemessage/traffic';

const MIB = 1024 * 1024;
const CREDENTIALS = { username: 'compliance-admin@contoso.example', password: 'S3cret;pass"word' };
const DAY = '2025-01-15';
const DAY_WINDOW = { from: '2025-01-15T00:00:00Z', to: '2025-01-16T00:00:00Z' };
const TWO_DAYS = { from: '2025-01-14T00:00:00Z', to: '2025-01-16T00:00:00Z' };
const BASE: TeleMessageEmulatorOptions = {
  seed: 'acme',
  credentials: CREDENTIALS,
  population: { employees: 30 },
  days: ['2025-01-14', DAY],
  now: new Date('2025-01-20T00:00:00Z'),
  traffic: { itemsPerDay: 400, malformedRatio: 0.01, hugeAttachments: [151 * MIB] },
};

interface ListedItem {
  id: string;
  archivedAt: string;
  type: ItemType;
  sizeBytes: number;
}

// ---- a tiny client, written the way the importer will talk to TeleMessage ----

async function signIn(em: TeleMessageEmulator, password = CREDENTIALS.password): Promise<Response> {
  return fetch(`${em.url}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: CREDENTIALS.username, password }),
  });
}

async function token(em: TeleMessageEmulator): Promise<string> {
  const response = await signIn(em);
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

function listPage(em: TeleMessageEmulator, bearer: string, query: Record<string, string>): Promise<Response> {
  return fetch(`${em.url}/api/v1/archive/items?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${bearer}` } });
}

async function listAll(em: TeleMessageEmulator, bearer: string, window: { from: string; to: string }, pageSize: number) {
  const items: ListedItem[] = [];
  const pageLengths: number[] = [];
  let cursor: string | undefined;
  do {
    const response = await listPage(em, bearer, { ...window, pageSize: String(pageSize), ...(cursor ? { cursor } : {}) });
    expect(response.status).toBe(200);
    const page = (await response.json()) as { items: ListedItem[]; nextCursor?: string };
    items.push(...page.items);
    pageLengths.push(page.items.length);
    cursor = page.nextCursor;
  } while (cursor);
  return { items, pageLengths };
}

function fetchRaw(em: TeleMessageEmulator, bearer: string, id: string): Promise<Response> {
  return fetch(`${em.url}/api/v1/archive/items/${encodeURIComponent(id)}/raw`, { headers: { authorization: `Bearer ${bearer}` } });
}

async function downloadRaw(em: TeleMessageEmulator, bearer: string, id: string): Promise<Buffer> {
  const response = await fetchRaw(em, bearer, id);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('message/rfc822');
  const raw = Buffer.from(await response.arrayBuffer());
  expect(raw.length).toBe(Number(response.headers.get('content-length')));
  return raw;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The documented grammar: `role=..; number=..; email=..; name*=utf-8''<percent-encoded>`. */
function parseParticipantHeader(value: string): Omit<Participant, 'employeeId'> {
  const fields = new Map(
    value
      .split(';')
      .map((param) => param.trim())
      .filter(Boolean)
      .map((param) => [param.slice(0, param.indexOf('=')), param.slice(param.indexOf('=') + 1)] as const),
  );
  const participant: Omit<Participant, 'employeeId'> = {
    role: fields.get('role') as Participant['role'],
    number: fields.get('number') as string,
  };
  if (fields.has('email')) participant.email = fields.get('email');
  if (fields.has('name*')) participant.name = decodeURIComponent((fields.get('name*') as string).replace(/^utf-8''/i, ''));
  return participant;
}

function participantsOf(mail: ParsedMail): Omit<Participant, 'employeeId'>[] {
  const header = mail.headers.get('x-telemessage-participant');
  return header === undefined ? [] : ([] as string[]).concat(header as string | string[]).map(parseParticipantHeader);
}

const wire = (participants: Participant[]) => participants.map(({ employeeId: _employeeId, ...rest }) => rest);
const lf = (text: string) => text.replace(/\r\n/g, '\n').trim();
const rawHeader = (raw: Buffer, name: string) => new RegExp(`^${name}: (.*(?:\\r\\n[ \\t].*)*)`, 'mi').exec(raw.toString('latin1'))?.[1].replace(/\r\n[ \t]/g, ' ');

describe('TeleMessage emulator', () => {
  let em: TeleMessageEmulator;
  let bearer: string;
  let expectedDay: ExpectedItem[];
  const wellFormed = () => expectedDay.filter((item) => !item.malformation);

  beforeAll(async () => {
    em = await startTeleMessageEmulator(BASE);
    bearer = await token(em);
    expectedDay = em.listExpected(DAY_WINDOW.from, DAY_WINDOW.to);
  });
  afterAll(() => em.close());

  describe('sign-in', () => {
    test('issues a short-lived bearer token for the right credentials', async () => {
      const response = await signIn(em);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const body = await response.json();
      expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    });

    test('refuses a wrong password without echoing it', async () => {
      const response = await signIn(em, 'wrong-Password-42');
      expect(response.status).toBe(401);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ error: 'invalid_credentials', message: expect.any(String) });
      expect(text).not.toContain('wrong-Password-42');
    });

    test('answers 400 for a body without credentials and 401 for a request without a token', async () => {
      const bad = await fetch(`${em.url}/api/v1/auth/token`, { method: 'POST', body: 'not json' });
      expect(bad.status).toBe(400);
      const anonymous = await fetch(`${em.url}/api/v1/archive/items?${new URLSearchParams(DAY_WINDOW)}`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toContain('invalid_token');
      expect(await anonymous.json()).toMatchObject({ error: 'invalid_token' });
      expect((await listPage(em, 'made-up-token', DAY_WINDOW)).status).toBe(401);
    });
  });

  describe('listing', () => {
    test('pages through a window without gaps or duplicates, in (archivedAt, id) order', async () => {
      const { items, pageLengths } = await listAll(em, bearer, TWO_DAYS, 37);
      expect(items).toHaveLength(800);
      expect(pageLengths.slice(0, -1).every((length) => length === 37)).toBe(true);
      expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
      for (let i = 1; i < items.length; i++) {
        const [a, b] = [items[i - 1], items[i]];
        expect(a.archivedAt < b.archivedAt || (a.archivedAt === b.archivedAt && a.id < b.id)).toBe(true);
      }
      // Both days of a catch-up window, each complete.
      expect(items.filter((item) => item.archivedAt.startsWith('2025-01-14'))).toHaveLength(400);
      const expected = em.listExpected(TWO_DAYS.from, TWO_DAYS.to);
      expect(items).toEqual(expected.map(({ id, archivedAt, type, sizeBytes }) => ({ id, archivedAt, type, sizeBytes })));
    });

    test('returns everything in one page, with no cursor, when it fits', async () => {
      const response = await listPage(em, bearer, { ...DAY_WINDOW, pageSize: '1000' });
      const page = await response.json();
      expect(page.items).toHaveLength(400);
      expect(page).not.toHaveProperty('nextCursor');
    });

    test('treats the window as half-open [from, to)', async () => {
      const pivot = expectedDay[200].archivedAt;
      const before = await listAll(em, bearer, { from: DAY_WINDOW.from, to: pivot }, 1000);
      const after = await listAll(em, bearer, { from: pivot, to: DAY_WINDOW.to }, 1000);
      expect(before.items.map((item) => item.id)).not.toContain(expectedDay[200].id);
      expect(after.items[0].id).toBe(expectedDay[200].id);
      expect(before.items.length + after.items.length).toBe(400);
      expect(before.items.every((item) => item.archivedAt < pivot)).toBe(true);
    });

    test('answers 400 with a clear message for bad parameters', async () => {
      const { nextCursor } = await (await listPage(em, bearer, { ...DAY_WINDOW, pageSize: '10' })).json();
      const cases: [Record<string, string>, RegExp][] = [
        [{ to: DAY_WINDOW.to }, /from must be an ISO 8601/],
        [{ from: '15/01/2025', to: DAY_WINDOW.to }, /from must be an ISO 8601/],
        [{ from: DAY_WINDOW.to, to: DAY_WINDOW.from }, /from must be earlier than to/],
        [{ ...DAY_WINDOW, pageSize: '0' }, /pageSize must be an integer from 1 to 1000/],
        [{ ...DAY_WINDOW, pageSize: '1001' }, /pageSize/],
        [{ ...DAY_WINDOW, pageSize: 'ten' }, /pageSize/],
        [{ ...DAY_WINDOW, cursor: 'garbage' }, /cursor is not one this API issued/],
        [{ ...TWO_DAYS, cursor: nextCursor }, /cursor belongs to a different from\/to window/],
      ];
      for (const [query, message] of cases) {
        const response = await listPage(em, bearer, query);
        expect(response.status).toBe(400);
        const body = await response.json();
        expect(body.error).toBe('invalid_request');
        expect(body.message).toMatch(message);
      }
    });

    test('serves only what is archived by the emulator clock; unknown ids are 404', async () => {
      const noon = new Date('2025-01-15T12:00:00Z');
      em.setNow(noon);
      try {
        const { items } = await listAll(em, bearer, DAY_WINDOW, 1000);
        expect(items.length).toBeGreaterThan(0);
        expect(items.length).toBeLessThan(400);
        expect(items.every((item) => Date.parse(item.archivedAt) < noon.getTime())).toBe(true);
        const notYet = expectedDay.find((item) => Date.parse(item.archivedAt) >= noon.getTime()) as ExpectedItem;
        expect((await fetchRaw(em, bearer, notYet.id)).status).toBe(404);
      } finally {
        em.setNow(BASE.now);
      }
      const unknown = await fetchRaw(em, bearer, 'TM-20250115-0000001-00000000');
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ error: 'not_found' });
    });
  });

  describe('determinism', () => {
    test('the same seed gives the same listing and the same bytes; another seed does not', async () => {
      const twin = await startTeleMessageEmulator(BASE);
      const other = await startTeleMessageEmulator({ ...BASE, seed: 'globex' });
      try {
        const [twinBearer, otherBearer] = await Promise.all([token(twin), token(other)]);
        const ours = await listAll(em, bearer, DAY_WINDOW, 500);
        expect((await listAll(twin, twinBearer, DAY_WINDOW, 500)).items).toEqual(ours.items);
        const theirs = await listAll(other, otherBearer, DAY_WINDOW, 500);
        expect(theirs.items.map((i) => i.id).filter((id) => ours.items.some((o) => o.id === id))).toEqual([]);

        const sample = ours.items.filter((item) => item.sizeBytes < 3 * MIB).filter((_, i) => i % 40 === 0);
        for (const item of sample) {
          const first = sha256(await downloadRaw(em, bearer, item.id));
          expect(sha256(await downloadRaw(em, bearer, item.id))).toBe(first);
          expect(sha256(await downloadRaw(twin, twinBearer, item.id))).toBe(first);
        }
        const otherHashes = new Set<string>();
        for (const item of theirs.items.filter((i) => i.sizeBytes < 3 * MIB).filter((_, i) => i % 40 === 0)) {
          otherHashes.add(sha256(await downloadRaw(other, otherBearer, item.id)));
        }
        for (const item of sample) expect(otherHashes.has(sha256(await downloadRaw(em, bearer, item.id)))).toBe(false);
      } finally {
        await Promise.all([twin.close(), other.close()]);
      }
    });
  });

  describe('raw items', () => {
    const parsedOf = async (item: ExpectedItem) => simpleParser(await downloadRaw(em, bearer, item.id));
    const firstOf = (type: ItemType, extra: (item: ExpectedItem) => boolean = () => true) =>
      wellFormed().find((item) => item.type === type && item.sizeBytes < 20 * MIB && extra(item)) as ExpectedItem;

    test('carry the TeleMessage headers and a matching Message-ID and Date', async () => {
      const item = firstOf('SMS');
      const raw = await downloadRaw(em, bearer, item.id);
      const mail = await simpleParser(raw);
      expect(mail.headers.get('x-telemessage-archivemessageid')).toBe(item.id);
      expect(mail.headers.get('x-telemessage-messagetype')).toBe('SMS');
      expect(mail.headers.get('x-telemessage-thread_id')).toBe(item.threadId);
      expect(mail.headers.get('x-telemessage-network')).toBe(item.network);
      expect(mail.headers.get('x-telemessage-direction')).toBe(item.direction);
      expect(mail.headers.get('x-telemessage-subscriber')).toBe(item.subscriber.number);
      expect(mail.headers.get('x-telemessage-archivedat')).toBe(item.archivedAt);
      expect(mail.messageId).toBe(`<${item.id}@archive.telemessage.example>`);
      expect(mail.date?.toISOString()).toBe(new Date(item.sentAt).toISOString());
      expect(mail.subject).toBe(item.subject);
      expect(raw.length).toBe(item.sizeBytes);
    });

    test('SMS is a text/plain body without attachments', async () => {
      const item = firstOf('SMS');
      const mail = await parsedOf(item);
      expect(mail.attachments).toHaveLength(0);
      expect(lf(mail.text ?? '')).toBe(lf(item.text));
    });

    test('MMS carries its media with the right type, size and magic bytes', async () => {
      const item = firstOf('MMS', (i) => i.attachments.length >= 2);
      const mail = await parsedOf(item);
      const magic: Record<string, string> = { 'image/jpeg': 'ffd8ff', 'image/png': '89504e47', 'video/mp4': '66747970' };
      expect(mail.attachments.map((a) => [a.filename, a.contentType, a.size])).toEqual(item.attachments.map((a) => [a.filename, a.contentType, a.size]));
      for (const attachment of mail.attachments) {
        const head = attachment.content.subarray(0, 8).toString('hex');
        expect(head).toContain(magic[attachment.contentType]);
      }
      const types = new Set(wellFormed().flatMap((i) => (i.type === 'MMS' ? i.attachments.map((a) => a.contentType) : [])));
      expect([...types].sort()).toEqual(['image/jpeg', 'image/png', 'video/mp4']);
    });

    test('CHAT names its app and, for groups, the group', async () => {
      const item = firstOf('CHAT', (i) => i.chat?.group !== undefined);
      const mail = await parsedOf(item);
      expect(mail.headers.get('x-telemessage-chatapp')).toBe(item.chat?.app);
      expect(mail.subject).toContain(item.chat?.group);
      expect(participantsOf(mail).length).toBeGreaterThanOrEqual(3);
      expect((mail.cc as AddressObject).value.length).toBe(participantsOf(mail).filter((p) => p.role === 'cc').length);
    });

    test('VOICE_RECORDING has an audio file and the call metadata', async () => {
      for (const format of ['mp3', 'wav']) {
        const item = firstOf('VOICE_RECORDING', (i) => i.attachments[0].format === format);
        const mail = await parsedOf(item);
        expect(mail.attachments).toHaveLength(1);
        const [audio] = mail.attachments;
        expect(audio.contentType).toBe(format === 'mp3' ? 'audio/mpeg' : 'audio/wav');
        expect(audio.size).toBe(item.attachments[0].size);
        expect(audio.content.subarray(0, 4).toString('latin1')).toBe(format === 'mp3' ? 'ID3\u0004' : 'RIFF');
        expect(Number(mail.headers.get('x-telemessage-callduration'))).toBe(item.call?.durationSeconds);
        expect(Math.abs(item.call!.durationSeconds * 16000 - audio.size)).toBeLessThan(16000);
        expect(lf(mail.text ?? '')).toBe(lf(item.text));
      }
    });

    test('VOICE_CALL_LOG has no attachment but parties, direction, start and duration', async () => {
      const item = firstOf('VOICE_CALL_LOG', (i) => i.call?.status === 'answered');
      const mail = await parsedOf(item);
      expect(mail.attachments).toHaveLength(0);
      expect(mail.headers.get('x-telemessage-direction')).toMatch(/^(inbound|outbound)$/);
      expect(mail.headers.get('x-telemessage-callstart')).toBe(item.call?.start);
      expect(Number(mail.headers.get('x-telemessage-callduration'))).toBe(item.call?.durationSeconds);
      expect(mail.headers.get('x-telemessage-callstatus')).toBe('answered');
      expect(participantsOf(mail).map((p) => p.role)).toEqual(['from', 'to']);
      expect(mail.text).toContain(`Duration: ${item.call?.durationSeconds} seconds`);
      expect(mail.text).toContain(`Direction: ${item.direction}`);
    });

    test('participants parse to number, email, name and role; From/To show name and number in the default display format, with the registered email', async () => {
      const sample = wellFormed()
        .filter((item) => item.sizeBytes < 3 * MIB)
        .slice(0, 60);
      let withoutEmail = 0;
      for (const item of sample) {
        const mail = await parsedOf(item);
        expect(participantsOf(mail)).toEqual(wire(item.participants));
        const from = (mail.from as AddressObject).value[0];
        const sender = item.participants[0];
        expect(from.address).toBe(sender.email ?? `${sender.number.slice(1)}@telemessage.invalid`);
        expect(from.name).toBe(sender.name ? `${sender.name} ${sender.number}` : sender.number);
        withoutEmail += item.participants.filter((p) => p.email === undefined).length;
      }
      expect(withoutEmail).toBeGreaterThan(0);
      // Employees with no email at TeleMessage appear by number only.
      const unregistered = em.population.employees.filter((e) => e.telemessageEmail === undefined).map((e) => e.id);
      const seen = wellFormed()
        .flatMap((i) => i.participants)
        .filter((p) => p.employeeId && unregistered.includes(p.employeeId));
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((p) => p.email === undefined)).toBe(true);
    });

    test('Hebrew, Arabic, accents and emoji survive in bodies, names and subjects', async () => {
      const scripts: [string, RegExp][] = [
        ['hebrew', /[\u0590-\u05ff]/],
        ['arabic', /[\u0600-\u06ff]/],
        ['emoji', /\p{Extended_Pictographic}/u],
        ['accents', /[\u00c0-\u017f]/],
      ];
      for (const [, script] of scripts) {
        const inBody = wellFormed().find((i) => script.test(i.text) && i.sizeBytes < 3 * MIB) as ExpectedItem;
        expect(inBody).toBeDefined();
        const mail = await parsedOf(inBody);
        expect(lf(mail.text ?? '')).toBe(lf(inBody.text));
      }
      const rtlName = wellFormed().find((i) => /[\u0590-\u06ff]/.test(i.participants[0]?.name ?? '') && i.sizeBytes < 3 * MIB) as ExpectedItem;
      const mail = await parsedOf(rtlName);
      expect((mail.from as AddressObject).value[0].name).toBe(`${rtlName.participants[0].name} ${rtlName.participants[0].number}`);
      expect(mail.subject).toBe(rtlName.subject);
      expect(participantsOf(mail)[0].name).toBe(rtlName.participants[0].name);
    });

    test('a 151 MiB attachment streams in full with the advertised length', async () => {
      const item = expectedDay.find((i) => i.attachments.some((a) => a.size === 151 * MIB)) as ExpectedItem;
      const response = await fetchRaw(em, bearer, item.id);
      expect(Number(response.headers.get('content-length'))).toBe(item.sizeBytes);
      const hash = createHash('sha256');
      let rawBytes = 0;
      const parser = new MailParser();
      const attachments: { contentType: string; size: number; head: string }[] = [];
      const parsed = new Promise<void>((resolve, reject) => {
        parser.on('data', (attachment: AttachmentStream | MessageText) => {
          if (attachment.type !== 'attachment') return;
          let size = 0;
          let head = '';
          attachment.content.on('data', (chunk: Buffer) => {
            if (size === 0) head = chunk.subarray(0, 8).toString('hex');
            size += chunk.length;
          });
          attachment.content.on('end', () => {
            attachments.push({ contentType: attachment.contentType, size, head });
            attachment.release?.();
          });
        });
        parser.on('end', resolve);
        parser.on('error', reject);
      });
      const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
      body.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        rawBytes += chunk.length;
      });
      body.pipe(parser);
      await parsed;
      expect(rawBytes).toBe(item.sizeBytes);
      // The bytes that crossed HTTP (through backpressure) are exactly the generated ones.
      const generated = createHash('sha256');
      for await (const chunk of renderRawMessage(item, 'acme').stream()) generated.update(chunk as Buffer);
      expect(hash.digest('hex')).toBe(generated.digest('hex'));
      expect(attachments).toEqual([{ contentType: 'video/mp4', size: 151 * MIB, head: '0000001c66747970' }]);
    });
  });

  describe('malformed items', () => {
    let broken: TeleMessageEmulator;
    let brokenBearer: string;
    let brokenItems: ExpectedItem[];
    const byKind = (kind: string, extra: (i: ExpectedItem) => boolean = () => true) => brokenItems.find((i) => i.malformation === kind && i.sizeBytes < 3 * MIB && extra(i)) as ExpectedItem;

    beforeAll(async () => {
      broken = await startTeleMessageEmulator({ ...BASE, traffic: { itemsPerDay: 400, malformedRatio: 0.2, hugeAttachments: [] } });
      brokenBearer = await token(broken);
      brokenItems = broken.listExpected(DAY_WINDOW.from, DAY_WINDOW.to);
    });
    afterAll(() => broken.close());

    test('every kind of breakage appears, at about the configured ratio', () => {
      const kinds = new Set(brokenItems.map((i) => i.malformation).filter(Boolean));
      expect([...kinds].sort()).toEqual([...MALFORMATIONS].sort());
      const share = brokenItems.filter((i) => i.malformation).length / brokenItems.length;
      expect(share).toBeGreaterThan(0.1);
      expect(share).toBeLessThan(0.3);
      expect(expectedDay.some((i) => i.malformation)).toBe(true);
    });

    test('each breakage looks broken to a parser in its own way', async () => {
      const missing = await simpleParser(await downloadRaw(broken, brokenBearer, byKind('missing-participants').id));
      expect(missing.from).toBeUndefined();
      expect(participantsOf(missing)).toEqual([]);

      const badDate = await downloadRaw(broken, brokenBearer, byKind('invalid-date').id);
      expect(Number.isNaN(Date.parse(rawHeader(badDate, 'Date') ?? ''))).toBe(true);

      const garbage = await downloadRaw(broken, brokenBearer, byKind('garbage-bytes').id);
      expect(garbage.toString('latin1')).not.toMatch(/^[!-9;-~]+: /);

      const truncatedItem = byKind('truncated-body', (i) => i.attachments.length > 0);
      const truncated = await downloadRaw(broken, brokenBearer, truncatedItem.id);
      expect(truncated.length).toBe(truncatedItem.sizeBytes);
      const boundary = /boundary="([^"]+)"/.exec(truncated.toString('latin1'))?.[1];
      expect(truncated.toString('latin1')).not.toContain(`--${boundary}--`);

      const mismatchedItem = byKind('broken-boundary', (i) => i.attachments.length > 0);
      const mismatched = await downloadRaw(broken, brokenBearer, mismatchedItem.id);
      const declared = /boundary="([^"]+)"/.exec(mismatched.toString('latin1'))?.[1];
      expect(mismatched.toString('latin1').split(`--${declared}`)).toHaveLength(1);
      expect((await simpleParser(mismatched)).attachments).toHaveLength(0);
    });
  });

  describe('volume, skew and mix', () => {
    test('itemsPerDay sets the volume and skew concentrates traffic on a few employees', async () => {
      const flat = await startTeleMessageEmulator({ ...BASE, traffic: { itemsPerDay: 600, skew: 0, hugeAttachments: [] } });
      const steep = await startTeleMessageEmulator({ ...BASE, traffic: { itemsPerDay: 600, skew: 2, hugeAttachments: [] } });
      try {
        const topThreeShare = (items: ExpectedItem[]) => {
          const counts = new Map<string, number>();
          for (const item of items) counts.set(item.subscriber.employeeId, (counts.get(item.subscriber.employeeId) ?? 0) + 1);
          const top = [...counts.values()].sort((a, b) => b - a).slice(0, 3);
          return top.reduce((a, b) => a + b, 0) / items.length;
        };
        const flatItems = flat.listExpected(DAY_WINDOW.from, DAY_WINDOW.to);
        const steepItems = steep.listExpected(DAY_WINDOW.from, DAY_WINDOW.to);
        expect((await listAll(flat, await token(flat), DAY_WINDOW, 1000)).items).toHaveLength(600);
        expect(steepItems).toHaveLength(600);
        expect(topThreeShare(flatItems)).toBeLessThan(0.3);
        expect(topThreeShare(steepItems)).toBeGreaterThan(0.6);
      } finally {
        await Promise.all([flat.close(), steep.close()]);
      }
    });

    test('the mix knob chooses the kinds', async () => {
      const callsOnly = await startTeleMessageEmulator({
        ...BASE,
        traffic: { itemsPerDay: 50, hugeAttachments: [], mix: { SMS: 0, MMS: 0, CHAT: 0, VOICE_RECORDING: 0, VOICE_CALL_LOG: 1 } },
      });
      try {
        const { items } = await listAll(callsOnly, await token(callsOnly), DAY_WINDOW, 1000);
        expect(new Set(items.map((i) => i.type))).toEqual(new Set(['VOICE_CALL_LOG']));
      } finally {
        await callsOnly.close();
      }
      const kinds = new Set(expectedDay.map((i) => i.type));
      expect(kinds).toEqual(new Set(['SMS', 'MMS', 'CHAT', 'VOICE_RECORDING', 'VOICE_CALL_LOG']));
    });
  });

  describe('faults', () => {
    beforeEach(() => em.reset());
    afterAll(() => em.reset());
    const small = () => wellFormed().find((i) => i.sizeBytes > 20_000 && i.sizeBytes < MIB) as ExpectedItem;

    test('rejectLogins makes the right password fail with 401', async () => {
      em.setFaults({ rejectLogins: true });
      const response = await signIn(em);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'invalid_credentials' });
      expect(em.stats().faultsInjected.rejectedLogins).toBe(1);
      em.setFaults({ rejectLogins: false });
      expect((await signIn(em)).status).toBe(200);
    });

    test('a token expires after N requests; signing in again works', async () => {
      em.setFaults({ expireTokensAfterRequests: 2 });
      const first = await token(em);
      expect((await listPage(em, first, DAY_WINDOW)).status).toBe(200);
      expect((await listPage(em, first, DAY_WINDOW)).status).toBe(200);
      const expired = await listPage(em, first, DAY_WINDOW);
      expect(expired.status).toBe(401);
      expect(await expired.json()).toMatchObject({ error: 'invalid_token' });
      expect((await listPage(em, first, DAY_WINDOW)).status).toBe(401);
      const second = await token(em);
      expect((await listPage(em, second, DAY_WINDOW)).status).toBe(200);
      expect(em.stats().faultsInjected.expiredTokens).toBe(1);
    });

    test('a token expires when its lifetime passes on the emulator clock', async () => {
      const issued = await token(em);
      em.setNow(new Date(BASE.now!.getTime() + 901 * 1000));
      try {
        const response = await listPage(em, issued, DAY_WINDOW);
        expect(response.status).toBe(401);
        expect((await response.json()).message).toMatch(/expired/);
        expect((await listPage(em, await token(em), DAY_WINDOW)).status).toBe(200);
      } finally {
        em.setNow(BASE.now);
      }
    });

    test('5xx for the next N requests, then for a share of them', async () => {
      em.setFaults({ failNextRequests: 2, failStatus: 500 });
      expect((await signIn(em)).status).toBe(500);
      const failed = await listPage(em, bearer, DAY_WINDOW);
      expect(failed.status).toBe(500);
      expect(await failed.json()).toMatchObject({ error: 'server_error' });
      const fresh = await token(em);
      expect((await listPage(em, fresh, DAY_WINDOW)).status).toBe(200);

      em.setFaults({ failRatio: 0.5, failStatus: 503 });
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await listPage(em, fresh, { ...DAY_WINDOW, pageSize: '1' })).status);
      expect(statuses).toContain(503);
      expect(statuses).toContain(200);
      expect(em.stats().faultsInjected.serverErrors).toBe(2 + statuses.filter((s) => s === 503).length);
    });

    test('latency makes a client with a short timeout give up', async () => {
      const fresh = await token(em);
      em.setFaults({ latencyMs: 10_000 });
      await expect(
        fetch(`${em.url}/api/v1/archive/items?${new URLSearchParams(DAY_WINDOW)}`, {
          headers: { authorization: `Bearer ${fresh}` },
          signal: AbortSignal.timeout(500),
        }),
      ).rejects.toThrow(/aborted|timeout/i);
      expect(em.stats().faultsInjected.delayedResponses).toBe(1);
    });

    test('a cut download ends early with an error; the next one is whole', async () => {
      const item = small();
      const fresh = await token(em);
      const whole = sha256(await downloadRaw(em, fresh, item.id));
      em.setFaults({ cutNextDownloads: 1, cutAfterBytes: 10_000 });
      const response = await fetchRaw(em, fresh, item.id);
      expect(response.status).toBe(200);
      expect(Number(response.headers.get('content-length'))).toBe(item.sizeBytes);
      let received = 0;
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const reading = (async () => {
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) received += chunk.value.length;
      })();
      await expect(reading).rejects.toThrow();
      expect(received).toBeLessThanOrEqual(10_000);
      expect(sha256(await downloadRaw(em, fresh, item.id))).toBe(whole);
      const stats = em.stats();
      expect(stats.faultsInjected.cutDownloads).toBe(1);
      expect(stats.downloadsStarted).toBe(3);
    });

    test('knobs, stats and reset are also reachable over HTTP', async () => {
      const set = await fetch(`${em.url}/_emulator/faults`, {
        method: 'POST',
        body: JSON.stringify({ failNextRequests: 1, latencyMs: 10 }),
      });
      expect(set.status).toBe(200);
      expect(await set.json()).toMatchObject({ failNextRequests: 1, latencyMs: 10, rejectLogins: false });
      expect((await signIn(em)).status).toBe(503);
      expect((await signIn(em)).status).toBe(200);

      const invalid = await fetch(`${em.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ failRatio: 2, bogus: 1 }) });
      expect(invalid.status).toBe(400);
      expect((await invalid.json()).message).toMatch(/failRatio/);

      const stats = await (await fetch(`${em.url}/_emulator/stats`)).json();
      expect(stats).toMatchObject({ requests: 2, tokensIssued: 1, faultsInjected: { serverErrors: 1, delayedResponses: 2 } });

      expect((await fetch(`${em.url}/_emulator/reset`, { method: 'POST' })).status).toBe(200);
      expect(await (await fetch(`${em.url}/_emulator/faults`)).json()).toMatchObject({ failNextRequests: 0, latencyMs: 0 });
      expect(em.stats().requests).toBe(0);
    });

    test('the control API also exposes the clock, the expected items and the mapping CSV', async () => {
      const clock = await fetch(`${em.url}/_emulator/clock`, { method: 'POST', body: JSON.stringify({ now: '2025-01-15T06:00:00Z' }) });
      expect(await clock.json()).toEqual({ now: '2025-01-15T06:00:00.000Z', pinned: true });
      const expected = (await (await fetch(`${em.url}/_emulator/expected?${new URLSearchParams(DAY_WINDOW)}`)).json()) as ExpectedItem[];
      expect(expected.map((i) => i.id)).toEqual(em.listExpected(DAY_WINDOW.from, DAY_WINDOW.to).map((i) => i.id));
      expect(expected.every((i) => i.archivedAt < '2025-01-15T06:00:00.000Z')).toBe(true);
      const [first, second] = em.population.employees;
      const csv = await (await fetch(`${em.url}/_emulator/mapping.csv?employees=${first.id},${second.id}`)).text();
      expect(csv).toBe(`External User ID,Microsoft 365 User Mailbox\r\n${first.mobile.slice(1)},${first.mailbox}\r\n${second.mobile.slice(1)},${second.mailbox}\r\n`);
      const population = await (await fetch(`${em.url}/_emulator/population`)).json();
      expect(population.employees).toHaveLength(30);
    });
  });
});
