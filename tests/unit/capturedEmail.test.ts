import { Readable } from 'node:stream';
import { unwrapJournalReport } from '../../importer/source/captureUnwrap';
import { deliveredItemId, HeaderBlockTap } from '../../importer/source/deliveredItemId';
import { ImporterError } from '../../importer/errors';

const ORIGINAL = [
  'Message-ID: <A-1@archive.telemessage.example>',
  'X-TELEMESSAGE-ArchiveMessageID: A-1',
  'X-TELEMESSAGE-MessageType: SMS',
  'Content-Type: multipart/mixed; boundary="inner"',
  '',
  '--inner',
  'Content-Type: text/plain',
  '',
  'hello -- not a delimiter',
  '--inner--',
  '',
].join('\r\n');

function report(original: string, options: { cut?: number } = {}): Buffer {
  const text = [
    'From: Microsoft Exchange <MicrosoftExchange@contoso.example>',
    'X-MS-Journal-Report:',
    'Content-Type: multipart/mixed;',
    '\tboundary="JR_1"',
    '',
    '--JR_1',
    'Content-Type: text/plain; charset="us-ascii"',
    '',
    'Sender: +15550001111@telemessage.invalid',
    'Recipient: capture@contoso.example',
    '',
    '--JR_1',
    'Content-Type: message/rfc822',
    '',
    original,
    '--JR_1--',
    '',
  ].join('\r\n');
  const bytes = Buffer.from(text);
  return options.cut ? bytes.subarray(0, options.cut) : bytes;
}

/** The bytes in chunks of `size`, so delimiters and header ends fall across chunk boundaries. */
const chunked = (bytes: Buffer, size: number) => Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));

async function read(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('a capture email', () => {
  it.each([1, 7, 64, 100_000])('unwrapped from a journal report gives the original byte for byte (chunks of %i bytes)', async (size) => {
    const unwrapped = await unwrapJournalReport(chunked(report(ORIGINAL), size));
    expect(unwrapped.journal).toBe(true);
    expect((await read(unwrapped.message)).toString()).toBe(ORIGINAL);
  });

  it('that is no journal report passes through unchanged', async () => {
    const unwrapped = await unwrapJournalReport(chunked(Buffer.from(ORIGINAL), 5));
    expect(unwrapped.journal).toBe(false);
    expect((await read(unwrapped.message)).toString()).toBe(ORIGINAL);
  });

  it('refuses, as malformed, a report cut short and one carrying no message', async () => {
    const cut = await unwrapJournalReport(Readable.from([report(ORIGINAL, { cut: report(ORIGINAL).length - 40 })]));
    await expect(read(cut.message)).rejects.toMatchObject({ constructor: ImporterError, code: 'MalformedItem' });
    const empty = Buffer.from('X-MS-Journal-Report:\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSender: x\r\n--b--\r\n');
    await expect(unwrapJournalReport(Readable.from([empty]))).rejects.toMatchObject({ code: 'MalformedItem', message: expect.stringMatching(/carries no message\/rfc822 part/) });
  });

  it('is identified by its ArchiveMessageID, else its Message-ID, else its content hash; the type only when it is a plain word', () => {
    expect(deliveredItemId(ORIGINAL, 'f'.repeat(64))).toEqual({ id: 'A-1', type: 'SMS' });
    expect(deliveredItemId('Message-ID:\r\n <folded@tm>\r\nX-TELEMESSAGE-MessageType: mms\r\n\r\nbody', 'f'.repeat(64))).toEqual({ id: 'folded@tm', type: 'MMS' });
    expect(deliveredItemId('Subject: none\r\nX-TELEMESSAGE-MessageType: <b>x</b>\r\n\r\n', 'a'.repeat(64))).toEqual({ id: `sha256:${'a'.repeat(64)}`, type: '' });
    // An id with control characters or of absurd length is not trusted.
    expect(deliveredItemId(`X-TELEMESSAGE-ArchiveMessageID: ${'x'.repeat(600)}\r\nMessage-ID: <m@tm>\r\n\r\n`, 'a'.repeat(64)).id).toBe('m@tm');
    // Headers after the blank line are body, not headers.
    expect(deliveredItemId('Subject: a\r\n\r\nX-TELEMESSAGE-ArchiveMessageID: body-1\r\n', 'b'.repeat(64)).id).toBe(`sha256:${'b'.repeat(64)}`);
  });

  it('keeps its header block while its bytes stream through untouched', async () => {
    const tap = new HeaderBlockTap();
    const out = await read(chunked(Buffer.from(ORIGINAL), 3).pipe(tap));
    expect(out.toString()).toBe(ORIGINAL);
    expect(tap.headerBlock.toString()).toBe(ORIGINAL.slice(0, ORIGINAL.indexOf('\r\n\r\n')));
  });
});
