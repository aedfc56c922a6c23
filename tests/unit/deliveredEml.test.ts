import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createPopulation } from '../../emulators/telemessage/population';
import { renderRawMessage } from '../../emulators/telemessage/rfc822';
import { renderThreadedDay, threadDayId, threadDays, threadedSendTime } from '../../emulators/telemessage/smtpFormats';
import { TrafficModel, type ItemSpec } from '../../emulators/telemessage/traffic';
import { ImporterError } from '../../importer/errors';
import type { ArchiveItem, ItemKind, SourceItemRef } from '../../importer/model';
import { parseRawItem } from '../../importer/parse/itemParser';

/** EMLs as an SMTP or SFTP delivery carries them: documented headers only (docs/telemessage-formats.md). */

const CRLF = '\r\n';
const DAY = '2025-03-02';
const LISTED: SourceItemRef = { id: 'TM-1', archivedAt: new Date('2025-03-02T10:00:00Z'), type: '', sizeBytes: 1 };

/** An RFC 2047 B word of `text` in `charset`, the bytes given for charsets Node cannot encode. */
const word = (charset: string, bytes: Buffer | string) => `=?${charset}?B?${Buffer.from(bytes).toString('base64')}?=`;

function eml(headers: string[], body = `hi${CRLF}`, contentType = 'text/plain; charset=UTF-8'): string {
  return (
    [
      'Message-ID: <TM-1@archive.telemessage.example>',
      'Date: Sun, 02 Mar 2025 09:13:22 +0000',
      'Subject: test',
      'MIME-Version: 1.0',
      'X-TELEMESSAGE-ArchiveMessageID: TM-1',
      ...headers,
      `Content-Type: ${contentType}`,
    ].join(CRLF) +
    CRLF +
    CRLF +
    body
  );
}

function parse(raw: string | Buffer, ref: SourceItemRef | undefined = LISTED): Promise<ArchiveItem> {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
  const chunks = Array.from({ length: Math.ceil(bytes.length / 11) }, (_, i) => bytes.subarray(i * 11, i * 11 + 11));
  return parseRawItem(Readable.from(chunks), { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, ref });
}

async function refusal(raw: string): Promise<string> {
  const error = await parse(raw).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImporterError);
  expect((error as ImporterError).code).toBe('MalformedItem');
  return (error as ImporterError).message;
}

async function readAll(stream: Readable): Promise<Buffer> {
  return Buffer.concat(await stream.toArray());
}

describe('participants from the display formats, without X-TELEMESSAGE-Participant', () => {
  test('default format: name, mobile number and email; number-only parties; stand-in addresses are not emails', async () => {
    const item = await parse(
      eml([
        'From: Noa Levi +972531234567 <Noa.Levi@Contoso.Example>',
        'To: +14155550123 <14155550123@telemessage.invalid>, 447700900123, Dana Cohen 447700900456 <447700900456@relay.telemessage.example>',
        'Cc: "Pat O\'Brien, Sales" +1 (415) 555-0199 <pat@fabrikam.example>, Ann Lee (+44 7700 900789) <ann@fabrikam.example>, Sam Roe Mobile <sam@fabrikam.example>',
        'X-TELEMESSAGE-MessageType: SMS',
      ]),
    );
    expect(item.participants).toEqual([
      { role: 'from', number: '+972531234567', email: 'noa.levi@contoso.example', name: 'Noa Levi' },
      { role: 'to', number: '+14155550123' },
      { role: 'to', number: '+447700900123' },
      { role: 'to', number: '+447700900456', name: 'Dana Cohen' },
      { role: 'cc', number: '+14155550199', email: 'pat@fabrikam.example', name: "Pat O'Brien, Sales" },
      { role: 'cc', number: '+447700900789', email: 'ann@fabrikam.example', name: 'Ann Lee' },
      { role: 'cc', email: 'sam@fabrikam.example', name: 'Sam Roe' },
    ]);
    expect(item).toMatchObject({ id: 'TM-1', kind: 'sms', at: new Date('2025-03-02T09:13:22Z'), archivedAt: LISTED.archivedAt, text: 'hi' });
  });

  test.each([
    ['Hebrew (UTF-8)', word('UTF-8', 'נועה לוי'), 'נועה לוי'],
    ['Hebrew (ISO-8859-8)', word('ISO-8859-8', Buffer.from([0xf0, 0xe5, 0xf2, 0xe4])), 'נועה'],
    ['Arabic (UTF-8)', word('UTF-8', 'محمد علي'), 'محمد علي'],
    ['Arabic (windows-1256)', word('windows-1256', Buffer.from([0xe3, 0xcd, 0xe3, 0xcf])), 'محمد'],
    ['Japanese (ISO-2022-JP)', '=?ISO-2022-JP?B?GyRCRnxLXBsoQg==?=', '日本'],
    ['Japanese (Shift_JIS)', word('Shift_JIS', Buffer.from([0x93, 0xfa, 0x96, 0x7b])), '日本'],
    ['Chinese (GB2312)', word('GB2312', Buffer.from([0xd5, 0xd4, 0xc8, 0xfd])), '赵三'],
    ['Chinese (Big5)', word('Big5', Buffer.from([0xa4, 0xfd, 0xa4, 0x40])), '王一'],
    ['Korean (UTF-8, Q)', '=?UTF-8?Q?=EA=B9=80=EB=AF=BC=EC=A4=80?=', '김민준'],
    ['Cyrillic (KOI8-R)', word('KOI8-R', Buffer.from([0xe9, 0xd7, 0xc1, 0xce])), 'Иван'],
    ['Cyrillic (windows-1251)', word('windows-1251', Buffer.from([0xc8, 0xe2, 0xe0, 0xed])), 'Иван'],
  ])('%s names decode and keep the number apart', async (_script, encoded, name) => {
    const item = await parse(eml([`From: ${encoded} +79161234567 <ivan@contoso.example>`, 'To: 14155550123', 'X-TELEMESSAGE-MessageType: SMS']));
    expect(item.participants[0]).toEqual({ role: 'from', number: '+79161234567', email: 'ivan@contoso.example', name });
  });

  test("an EML encrypted with the company's own key is held with the reason, not filed as ciphertext", async () => {
    expect(await refusal(eml(['From: 972531234567 <noa@contoso.example>', 'To: 14155550123', 'X-TELEMESSAGE-ENC-DATAKEY: v2:AAAA', 'X-TELEMESSAGE-ENC-KEY-ID: k1']))).toMatch(
      /encrypted with the company's own key/,
    );
  });

  test('an item still needs a sender and a recipient it can name', async () => {
    expect(await refusal(eml(['To: 14155550123']))).toMatch(/no From address/);
    expect(await refusal(eml(['From: Noa Levi +972531234567 <noa@contoso.example>']))).toMatch(/no To or Cc address/);
    expect(await refusal(eml(['From: undisclosed-recipients:;', 'To: nobody']))).toMatch(/^The item names no participants/);
  });
});

describe('the kind', () => {
  const party = ['From: Noa Levi +972531234567 <noa@contoso.example>', 'To: 14155550123'];
  const withMedia = (type: string, name: string) =>
    eml(
      party,
      `--b${CRLF}Content-Type: text/plain${CRLF}${CRLF}look${CRLF}--b${CRLF}Content-Type: ${type}; name="${name}"${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}AAAA${CRLF}--b--${CRLF}`,
      'multipart/mixed; boundary="b"',
    );
  const kindOf = async (raw: string) => (await parse(raw)).kind;

  test.each<[string, ItemKind]>([
    ['SMS', 'sms'],
    ['mms', 'mms'],
    ['WhatsApp', 'chat'],
    ['WeChat', 'chat'],
    ['TeleMessage App', 'chat'],
    ['VOICE_CALL_LOG', 'voiceCallLog'],
    ['Voice Recording', 'voiceRecording'],
  ])('type %j is %s', async (type, kind) => {
    expect(await kindOf(eml([...party, `X-TELEMESSAGE-MessageType: ${type}`]))).toBe(kind);
  });

  test('a call type that does not say whether it was recorded is judged by its audio', async () => {
    expect(await kindOf(eml([...party, 'X-TELEMESSAGE-MessageType: Voice']))).toBe('voiceCallLog');
    expect(await kindOf(withMedia('audio/wav', 'call.wav').replace('Subject: test', 'Subject: test\r\nX-TELEMESSAGE-MessageType: Voice'))).toBe('voiceRecording');
  });

  test('with no type, the headers and media decide; a type it does not know is held with the reason', async () => {
    expect(await kindOf(eml(party))).toBe('sms');
    expect(await kindOf(withMedia('image/jpeg', 'a.jpg'))).toBe('mms');
    expect(await kindOf(withMedia('audio/mpeg', 'a.mp3'))).toBe('voiceRecording');
    expect(await kindOf(eml([...party, 'X-TELEMESSAGE-ArchiveSource: WhatsApp']))).toBe('chat');
    expect(await kindOf(eml([...party, 'X-TELEMESSAGE-GROUP_NAME: Desk']))).toBe('chat');
    expect(await refusal(eml([...party, 'X-TELEMESSAGE-MessageType: FAX']))).toMatch(/type "FAX" is not one of SMS, MMS, CHAT/);
  });

  test('a chat takes its app and group from ArchiveSource and GROUP_NAME, the archived line from ArchiveInitiator', async () => {
    const item = await parse(
      eml([
        ...party,
        'X-TELEMESSAGE-MessageType: CHAT',
        'X-TELEMESSAGE-ArchiveSource: WhatsApp',
        `X-TELEMESSAGE-GROUP_NAME: ${word('UTF-8', 'צוות מסחר')}`,
        'X-TELEMESSAGE-GroupID: GR-1',
        'X-TELEMESSAGE-THREAD_ID: TH-1',
        'X-TELEMESSAGE-Network: Verizon',
        'X-TELEMESSAGE-ArchiveInitiator: 972531234567',
      ]),
    );
    expect(item).toMatchObject({ kind: 'chat', chat: { app: 'WhatsApp', group: 'צוות מסחר' }, threadId: 'TH-1', network: 'Verizon', subscriber: '+972531234567' });
  });
});

describe("the emulator's SMTP and SFTP EML", () => {
  const population = createPopulation({ seed: 'delivered', employees: 40 });
  const model = new TrafficModel('delivered', population, { itemsPerDay: 300, malformedRatio: 0, hugeAttachments: [] });
  const items: ItemSpec[] = Array.from({ length: model.itemsPerDay }, (_, i) => model.item(DAY, i));
  const refOf = (id: string, archivedAt: string): SourceItemRef => ({ id, archivedAt: new Date(archivedAt), type: '', sizeBytes: 1 });

  async function parsed(raw: { size: number; stream(): Readable }, ref: SourceItemRef): Promise<ArchiveItem> {
    const bytes = await readAll(raw.stream());
    return parseRawItem(Readable.from([bytes]), { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, ref });
  }

  test('without our own headers, every item reads to the same parties, kind, time, text and media as with them', async () => {
    for (const spec of items.slice(0, 120)) {
      const ref = refOf(spec.id, spec.archivedAt);
      const full = await parsed(renderRawMessage(spec, 'delivered'), ref);
      const bare = await parsed(renderRawMessage(spec, 'delivered', { emulatorHeaders: false }), ref);
      const expected = spec.call ? { ...full, at: new Date(spec.sentAt) } : full;
      const { direction: _d, durationSeconds: _s, callStatus: _c, raw: _r, ...same } = expected;
      expect({ ...bare, raw: undefined }).toEqual({ ...same, raw: undefined });
    }
  });

  test("a threaded day is one item: every party once, every message in the transcript, every message's media", async () => {
    const thread = threadDays(items).find((t) => t.items.length >= 2 && t.items.some((i) => i.attachments.length > 0)) as ReturnType<typeof threadDays>[number];
    expect(thread).toBeDefined();
    const item = await parsed(renderThreadedDay(thread, 'delivered', { emulatorHeaders: false }), refOf(threadDayId(thread), `${DAY}T23:59:59Z`));
    const numbers = new Set(thread.items.flatMap((i) => i.participants.map((p) => p.number)));
    expect(item.id).toBe(threadDayId(thread));
    expect(new Set(item.participants.map((p) => p.number))).toEqual(numbers);
    expect(item.participants.filter((p) => p.role === 'from').map((p) => p.number)).toEqual([thread.items[0].subscriber.number]);
    expect(item.attachments.map((a) => a.name)).toEqual(thread.items.flatMap((i) => i.attachments.map((a) => a.filename)));
    expect(item.attachments.map((a) => a.size)).toEqual(thread.items.flatMap((i) => i.attachments.map((a) => a.size)));
    expect(item.text.split('\n')).toHaveLength(thread.items.length);
    expect(item.at).toEqual(new Date(thread.items[0].sentAt));
    expect(item.threadId).toBe(thread.threadId);
    expect(threadedSendTime(thread.day)).toEqual(new Date(Date.parse(`${thread.day}T01:00:00Z`) + 86_400_000));
  });
});
