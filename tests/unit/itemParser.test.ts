import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ImporterError } from '../../importer/errors';
import type { ArchiveItem, SourceItemRef } from '../../importer/model';
import { openAttachment } from '../../importer/parse/attachmentStream';
import { parseRawItem } from '../../importer/parse/itemParser';
import { parseIsoDateTime, parseMailDate } from '../../importer/parse/mailDate';

const CRLF = '\r\n';
const BOUNDARY = '----=_TM_Part_unit';
const HEADERS = [
  'Message-ID: <TM-20250115-0000042-9c1f03ab@archive.telemessage.example>',
  'Date: Wed, 15 Jan 2025 09:13:22 +0000',
  'From: Noa Levi Mobile <noa.levi@contoso.example>',
  'To: +14155550123 <14155550123@telemessage.invalid>',
  'Subject: =?UTF-8?B?16nXnNeV150=?= from Noa',
  'MIME-Version: 1.0',
  'X-TELEMESSAGE-ArchiveMessageID: TM-20250115-0000042-9c1f03ab',
  'X-TELEMESSAGE-MessageType: SMS',
  'X-TELEMESSAGE-THREAD_ID: TH-0123456789abcdef',
  'X-TELEMESSAGE-Network: =?UTF-8?Q?Orange_FR?=',
  'X-TELEMESSAGE-Direction: outbound',
  'X-TELEMESSAGE-Subscriber: +972531234567',
  'X-TELEMESSAGE-ArchivedAt: 2025-01-15T09:14:02.311Z',
  "X-TELEMESSAGE-Participant: role=from; number=+972531234567;\r\n email=Noa.Levi@Contoso.Example; future=1; name*=utf-8''%D7%A0%D7%95%D7%A2%D7%94%20%D7%9C%D7%95%D7%99",
  'X-TELEMESSAGE-Participant: role=to; number=+14155550123',
];
const TEXT_PART = ['Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: quoted-printable'];

function sms(body: string, headers: string[] = HEADERS): string {
  return [...headers, ...TEXT_PART].join(CRLF) + CRLF + CRLF + body;
}

function mms(parts: string[], end = `--${BOUNDARY}--${CRLF}`): string {
  const headers = HEADERS.map((h) => h.replace('MessageType: SMS', 'MessageType: MMS'));
  return [...headers, `Content-Type: multipart/mixed; boundary="${BOUNDARY}"`].join(CRLF) + CRLF + CRLF + parts.map((p) => `--${BOUNDARY}${CRLF}${p}${CRLF}`).join('') + end;
}

function mediaPart(name: string, type: string, data: Buffer): string {
  const base64 = data.toString('base64').replace(/.{76}/g, `$&${CRLF}`);
  return [`Content-Type: ${type}; name="${name}"`, `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64', '', base64].join(CRLF);
}

function parse(raw: string | Buffer, ref?: SourceItemRef): Promise<ArchiveItem> {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
  // Small chunks, so every check sees lines split across chunk boundaries.
  const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
  return parseRawItem(Readable.from(chunks), { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, ref });
}

async function reason(raw: string | Buffer, ref?: SourceItemRef): Promise<string> {
  try {
    await parse(raw, ref);
  } catch (error) {
    expect(error).toBeInstanceOf(ImporterError);
    expect((error as ImporterError).code).toBe('MalformedItem');
    return (error as ImporterError).message;
  }
  throw new Error('expected MalformedItem');
}

describe('parseRawItem', () => {
  test('reads headers, participants and text the way the contract writes them', async () => {
    const item = await parse(sms(`Hello =F0=9F=91=8B, see you at=\r\n 10${CRLF}`));
    expect(item).toEqual({
      id: 'TM-20250115-0000042-9c1f03ab',
      kind: 'sms',
      at: new Date('2025-01-15T09:13:22Z'),
      archivedAt: new Date('2025-01-15T09:14:02.311Z'),
      threadId: 'TH-0123456789abcdef',
      network: 'Orange FR',
      direction: 'outbound',
      subscriber: '+972531234567',
      participants: [
        { role: 'from', number: '+972531234567', email: 'noa.levi@contoso.example', name: 'נועה לוי' },
        { role: 'to', number: '+14155550123' },
      ],
      subject: 'שלום from Noa',
      text: 'Hello 👋, see you at 10',
      attachments: [],
      raw: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: expect.any(Number) },
    });
  });

  test('calls take their time from CallStart and carry duration and status', async () => {
    const headers = [
      ...HEADERS.map((h) => h.replace('MessageType: SMS', 'MessageType: VOICE_CALL_LOG')),
      'X-TELEMESSAGE-CallStart: 2025-01-15T09:10:00Z',
      'X-TELEMESSAGE-CallDuration: 0',
      'X-TELEMESSAGE-CallStatus: missed',
    ];
    const item = await parse(sms(`Voice call log${CRLF}Status: missed${CRLF}`, headers));
    expect(item).toMatchObject({ kind: 'voiceCallLog', at: new Date('2025-01-15T09:10:00Z'), durationSeconds: 0, callStatus: 'missed', text: 'Voice call log\nStatus: missed' });
  });

  test('a missing type or id comes from the listing; a contradicting id is refused', async () => {
    const ref: SourceItemRef = { id: 'TM-20250115-0000042-9c1f03ab', archivedAt: new Date('2025-01-15T09:14:02.311Z'), type: 'CHAT', sizeBytes: 1 };
    const headers = HEADERS.filter((h) => !/MessageType|ArchiveMessageID/.test(h));
    expect(await parse(sms(`hi${CRLF}`, headers), ref)).toMatchObject({ id: ref.id, kind: 'chat' });
    expect(await reason(sms(`hi${CRLF}`, headers))).toMatch(/no X-TELEMESSAGE-ArchiveMessageID/);
    expect(await reason(sms(`hi${CRLF}`), { ...ref, id: 'TM-20250115-0000043-00000000' })).toMatch(/says it is TM-20250115-0000042-9c1f03ab, but it was listed as TM-20250115-0000043/);
    expect(
      await reason(
        sms(
          `hi${CRLF}`,
          HEADERS.map((h) => h.replace('SMS', 'FAX')),
        ),
      ),
    ).toMatch(/type "FAX" is not one of/);
  });

  test('attachments are counted and hashed; file names and types as the parts give them', async () => {
    const photo = Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), Buffer.alloc(5000, 7)]);
    const clip = Buffer.alloc(3001, 9);
    const raw = mms([[...TEXT_PART, '', 'Look'].join(CRLF), mediaPart('IMG_1.jpg', 'image/jpeg', photo), mediaPart('VID_1.mp4', 'video/mp4', clip)]);
    const item = await parse(raw);
    const hex = (data: Buffer) => createHash('sha256').update(data).digest('hex');
    expect(item.kind).toBe('mms');
    expect(item.text).toBe('Look');
    expect(item.attachments).toEqual([
      { index: 0, name: 'IMG_1.jpg', contentType: 'image/jpeg', size: photo.length, sha256: hex(photo) },
      { index: 1, name: 'VID_1.mp4', contentType: 'video/mp4', size: clip.length, sha256: hex(clip) },
    ]);
    const second = await openAttachment(Readable.from([Buffer.from(raw)]), 1);
    expect(Buffer.concat(await second.stream.toArray())).toEqual(clip);
  });

  test('a closing delimiter without a final line break is still a whole item', async () => {
    const raw = mms([mediaPart('a.png', 'image/png', Buffer.alloc(100, 1))], `--${BOUNDARY}--`);
    expect((await parse(raw)).attachments).toHaveLength(1);
  });

  test('each breakage is named', async () => {
    const photo = mediaPart('IMG_1.jpg', 'image/jpeg', Buffer.alloc(4000, 3));
    const whole = mms([photo]);
    expect(await reason(whole.slice(0, whole.length - 3000))).toBe('The body ends before its closing MIME boundary: the item was cut short.');
    expect(await reason(whole.replace(`boundary="${BOUNDARY}"`, 'boundary="other"'))).toBe('The multipart body never uses its declared boundary, so its parts cannot be told apart.');
    expect(await reason(whole.replace(`; boundary="${BOUNDARY}"`, ''))).toMatch(/multipart body without a boundary/);
    expect(await reason(sms('Hello wor'))).toBe('The body ends in the middle of a line: the item was cut short.');
    expect(await reason(sms(`Hello wor=${CRLF}`))).toBe('The body ends in a quoted-printable soft line break: the item was cut short.');
    expect(
      await reason(
        sms(
          `hi${CRLF}`,
          HEADERS.filter((h) => !/^(X-TELEMESSAGE-Participant|From|To):/.test(h)),
        ),
      ),
    ).toMatch(/^The item names no participants/);
    expect(
      await reason(
        sms(
          `hi${CRLF}`,
          HEADERS.filter((h) => !h.includes('role=to')),
        ),
      ),
    ).toMatch(/role=to/);
    expect(
      await reason(
        sms(
          `hi${CRLF}`,
          HEADERS.map((h) => (h.startsWith('Date:') ? 'Date: 31/02/2025 25:61 local time' : h)),
        ),
      ),
    ).toBe('The Date header "31/02/2025 25:61 local time" is not a valid RFC 5322 date.');
    expect(
      await reason(
        sms(
          `hi${CRLF}`,
          HEADERS.filter((h) => !h.startsWith('Date:')),
        ),
      ),
    ).toMatch(/no Date header/);
    expect(await reason(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a, 0x41, 0x3a]))).toMatch(/not an RFC 822 message/);
    expect(await reason('just some words\r\nand more\r\n')).toMatch(/not an RFC 822 message/);
    expect(await reason('')).toBe('The item is empty.');
  });

  test('a raw copy that reads short is a storage problem, and a failing stream passes its error through', async () => {
    const bytes = Buffer.from(sms(`hi${CRLF}`));
    await expect(parseRawItem(Readable.from([bytes]), { sha256: 'x', size: bytes.length + 10 })).rejects.toMatchObject({ code: 'RawItemUnreadable' });
    const failing = new Readable({
      read() {
        this.push(bytes.subarray(0, 200));
        this.destroy(Object.assign(new Error('blob read failed'), { statusCode: 503 }));
      },
    });
    await expect(parseRawItem(failing, { sha256: 'x', size: bytes.length })).rejects.toMatchObject({ message: 'blob read failed', statusCode: 503 });
  });

  test('a stream that fails in the middle of an attachment (a run stopped mid-item) fails the parse, which does not wait for ever', async () => {
    // Big enough that the parser holds the attachment's content back while it is read.
    const whole = Buffer.from(mms([mediaPart('VID_1.mp4', 'video/mp4', Buffer.alloc(2_000_000, 5))]));
    for (const failing of ['as it reads', 'from outside'] as const) {
      let sent = 0;
      const raw = new Readable({
        highWaterMark: 65_536,
        read() {
          if (sent < whole.length / 2) this.push(whole.subarray(sent, (sent += 65_536)));
          else if (failing === 'as it reads') this.destroy(new Error('The operation was aborted.'));
        },
      });
      // What a shutdown does to a download of the raw copy: its abort signal ends the stream.
      if (failing === 'from outside') setTimeout(() => raw.destroy(new Error('The operation was aborted.')), 30);
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        parseRawItem(raw, { sha256: 'x', size: whole.length }).then(
          () => 'parsed',
          (err: Error) => err.message,
        ),
        new Promise((resolve) => (timer = setTimeout(resolve, 5_000, 'still waiting after 5 s'))),
      ]);
      clearTimeout(timer);
      expect([failing, outcome]).toEqual([failing, 'The operation was aborted.']);
    }
  });

  test('line ends of bare LF are accepted', async () => {
    const item = await parse(sms('Hello\n').replace(/\r\n/g, '\n'));
    expect(item.text).toBe('Hello');
    expect(item.participants).toHaveLength(2);
  });
});

describe('dates', () => {
  test('RFC 5322, obsolete forms included', () => {
    expect(parseMailDate('Wed, 15 Jan 2025 09:13:22 +0000')).toEqual(new Date('2025-01-15T09:13:22Z'));
    expect(parseMailDate('15 Jan 2025 09:13 +0200')).toEqual(new Date('2025-01-15T07:13:00Z'));
    expect(parseMailDate('Wed, 15 Jan 25 09:13:22 GMT')).toEqual(new Date('2025-01-15T09:13:22Z'));
    expect(parseMailDate('Wed, 15 Jan 2025 09:13:22 EST (Eastern)')).toEqual(new Date('2025-01-15T14:13:22Z'));
    expect(parseMailDate('Sat, 29 Feb 2024 23:59:60 -0130')).toEqual(new Date('2024-03-01T01:29:59Z'));
  });

  test.each(['31/02/2025 25:61 local time', '31 Feb 2025 10:00:00 +0000', '15 Jan 2025 24:00:00 +0000', '15 Jan 2025 09:13:22', '15 Foo 2025 09:13:22 +0000', '15 Jan 2025 09:13:22 +0075', ''])(
    'refuses %j',
    (value) => expect(parseMailDate(value)).toBeUndefined(),
  );

  test('ISO 8601 needs a zone and a real calendar day', () => {
    expect(parseIsoDateTime('2025-01-15T09:14:02.311Z')).toEqual(new Date('2025-01-15T09:14:02.311Z'));
    expect(parseIsoDateTime('2025-01-15T11:14:02+02:00')).toEqual(new Date('2025-01-15T09:14:02Z'));
    expect(parseIsoDateTime('2025-01-15T09:14:02')).toBeUndefined();
    expect(parseIsoDateTime('2025-02-30T09:14:02Z')).toBeUndefined();
  });
});
