import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createPopulation } from '../../emulators/telemessage/population';
import { renderRawMessage } from '../../emulators/telemessage/rfc822';
import { wrapJournalReport, type JournalEnvelope } from '../../emulators/telemessage/smtpFormats';
import { TrafficModel } from '../../emulators/telemessage/traffic';
import { ImporterError } from '../../importer/errors';
import { parseRawItem } from '../../importer/parse/itemParser';
import { unwrapJournalReport } from '../../importer/parse/journalReport';

const MIB = 1024 * 1024;
const CRLF = '\r\n';
const population = createPopulation({ seed: 'journal', employees: 30 });
const model = new TrafficModel('journal', population, { itemsPerDay: 200, malformedRatio: 0, hugeAttachments: [120 * MIB] });
const items = Array.from({ length: model.itemsPerDay }, (_, i) => model.item('2025-03-02', i));

const envelopeOf = (recipients: string[]): JournalEnvelope => ({
  sender: 'noa.levi@contoso.example',
  recipients,
  subject: 'SMS from Noa Levi',
  messageId: '<TM-1@archive.telemessage.example>',
  journalMailbox: 'telemessage-capture@contoso.example',
  date: new Date('2025-03-03T01:00:00Z'),
});

/** The bytes in pieces of 1 to 13 bytes, so every delimiter and line end falls across reads. */
function trickle(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, n = 1; at < bytes.length; at += n, n = (n % 13) + 1) chunks.push(bytes.subarray(at, at + n));
  return Readable.from(chunks);
}

async function readAll(stream: Readable): Promise<Buffer> {
  return Buffer.concat(await stream.toArray());
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function refusal(raw: string): Promise<string> {
  const error = await unwrapJournalReport(trickle(Buffer.from(raw)))
    .then(
      async (result) => readAll(result.message).then(() => undefined),
      (e: unknown) => e,
    )
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ImporterError);
  expect((error as ImporterError).code).toBe('MalformedItem');
  return (error as ImporterError).message;
}

describe('journal reports', () => {
  test('the carried message comes out byte for byte, with the envelope, however the bytes arrive', async () => {
    const samples = [items.find((i) => i.attachments.length > 0 && i.attachments[0].size < MIB), items.find((i) => i.attachments.length === 0)];
    for (const spec of samples) {
      const original = renderRawMessage(spec!, 'journal', { emulatorHeaders: false });
      const originalBytes = await readAll(original.stream());
      const report = wrapJournalReport(original, envelopeOf(['noa.levi@contoso.example', 'dana.cohen@contoso.example']));
      const reportBytes = await readAll(report.stream());
      expect(reportBytes.length).toBe(report.size);
      expect(reportBytes.toString('latin1')).toMatch(/^X-MS-Journal-Report:\s*$/m);

      const unwrapped = await unwrapJournalReport(trickle(reportBytes));
      expect(unwrapped.journal).toBe(true);
      expect(sha256(await readAll(unwrapped.message))).toBe(sha256(originalBytes));
      expect(unwrapped.journal && unwrapped.envelope).toEqual({
        sender: 'noa.levi@contoso.example',
        subject: 'SMS from Noa Levi',
        messageId: '<TM-1@archive.telemessage.example>',
        recipients: ['noa.levi@contoso.example', 'dana.cohen@contoso.example'],
      });
    }
  });

  test('what is unwrapped parses as the item itself', async () => {
    const spec = items.find((i) => i.type === 'MMS' && i.attachments[0]?.size < MIB)!;
    const original = renderRawMessage(spec, 'journal', { emulatorHeaders: false });
    const unwrapped = await unwrapJournalReport(wrapJournalReport(original, envelopeOf(['a@contoso.example'])).stream());
    const bytes = await readAll(unwrapped.message);
    const ref = { id: spec.id, archivedAt: new Date(spec.archivedAt), type: '', sizeBytes: bytes.length };
    const item = await parseRawItem(Readable.from([bytes]), { sha256: sha256(bytes), size: bytes.length, ref });
    expect(item).toMatchObject({ id: spec.id, kind: 'mms', attachments: spec.attachments.map((a) => ({ name: a.filename, size: a.size })) });
  });

  test('a message that is not a journal report passes through unchanged, with or without media', async () => {
    for (const spec of [items[0], items.find((i) => i.attachments.length > 0 && i.attachments[0].size < MIB)!]) {
      const bytes = await readAll(renderRawMessage(spec, 'journal').stream());
      const result = await unwrapJournalReport(trickle(bytes));
      expect(result.journal).toBe(false);
      expect((await readAll(result.message)).equals(bytes)).toBe(true);
    }
  });

  test('a 120 MiB carried message streams out without being held in memory', async () => {
    const spec = items.find((i) => i.attachments.some((a) => a.size === 120 * MIB))!;
    const original = renderRawMessage(spec, 'journal', { emulatorHeaders: false });
    const expected = createHash('sha256');
    for await (const chunk of original.stream()) expected.update(chunk as Buffer);
    const before = process.memoryUsage().rss;
    let peak = before;
    const unwrapped = await unwrapJournalReport(wrapJournalReport(original, envelopeOf(['a@contoso.example'])).stream());
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of unwrapped.message) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(size).toBe(original.size);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
    expect((peak - before) / MIB).toBeLessThan(60);
  });

  test('a base64-written carried message and newer To:/Cc: envelope lines are read too', async () => {
    const inner = `From: a@x.example${CRLF}To: b@x.example${CRLF}Subject: hi${CRLF}${CRLF}hello${CRLF}`;
    const raw = [
      'X-MS-Journal-Report:',
      'Content-Type: multipart/mixed; boundary="jr"',
      '',
      '--jr',
      'Content-Type: text/plain; charset="utf-8"',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Sender: a@x.example',
      'Subject: hi',
      'To: b@x.example',
      'Cc: c@x.example, Forwarded: d@x.example',
      'Bcc: e@x.example, Expanded: desk@x.example',
      '',
      '--jr',
      'Content-Type: message/rfc822',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(inner).toString('base64').replace(/.{20}/g, `$&${CRLF}`),
      '--jr--',
      '',
    ].join(CRLF);
    const result = await unwrapJournalReport(trickle(Buffer.from(raw)));
    expect(result.journal && result.envelope.recipients).toEqual(['b@x.example', 'c@x.example', 'e@x.example']);
    expect((await readAll(result.message)).toString()).toBe(inner);
  });

  test('a report whose message is missing or cut short is refused with the reason, never passed off as a message', async () => {
    const head = ['X-MS-Journal-Report:', 'Content-Type: multipart/mixed; boundary="jr"', '', '--jr', 'Content-Type: text/plain', '', 'Sender: a@x.example', ''].join(CRLF);
    expect(await refusal(`${head}--jr--${CRLF}`)).toMatch(/carries no message\/rfc822 part/);
    expect(await refusal(`${head}--jr${CRLF}Content-Type: message/rfc822${CRLF}${CRLF}From: a@x.example${CRLF}Subject: cut`)).toMatch(/cut short/);
    expect(await refusal('X-MS-Journal-Report:\r\nContent-Type: text/plain\r\n\r\nSender: a@x.example\r\n')).toMatch(/no multipart body/);
  });
});
