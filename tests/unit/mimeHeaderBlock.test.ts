import { Readable } from 'node:stream';
import { addressList, decodeWords, parseHeaderBlock, readHeaderBlock, UnreadableMimeError } from '../../emulators/graph/mimeHeaderBlock';

// The listing fields of a delivered message, read from its header block only.

it('reads the header block and stops, without reading the body', async () => {
  let bodyRead = false;
  const stream = Readable.from(
    (function* () {
      yield Buffer.from('Subject: one\r\nFrom: a@b\r\n\r\nbody starts');
      bodyRead = true;
      yield Buffer.from('x'.repeat(1024));
    })(),
  );
  expect(await readHeaderBlock(stream)).toBe('Subject: one\r\nFrom: a@b');
  expect(bodyRead).toBe(false);
  await expect(readHeaderBlock(Readable.from([]))).rejects.toBeInstanceOf(UnreadableMimeError);
});

it('unfolds headers and decodes RFC 2047 words in B and Q, in any charset, joining adjacent words', () => {
  const fields = parseHeaderBlock(
    [
      'Message-ID: <x@y>',
      'Date: Wed, 15 Jan 2025 09:13:22 +0200',
      'Subject: =?UTF-8?B?16nXnNeV150=?=',
      ' =?UTF-8?B?INei15XXnNed?= and =?ISO-8859-1?Q?caf=E9_cr=E8me?=',
      'From: =?UTF-8?Q?Jos=C3=A9?= Mobile <jose@contoso.example>',
      'To: "Levi, Dan" <dan@contoso.example>, bare@contoso.example,',
      '  "Quote \\"me\\"" <q@contoso.example>',
      'Content-Type: multipart/mixed;',
      '  boundary="b"',
    ].join('\r\n'),
  );
  expect(fields.subject).toBe('שלום עולם and café crème');
  expect(fields.from).toEqual({ emailAddress: { name: 'José Mobile', address: 'jose@contoso.example' } });
  expect(fields.toRecipients).toEqual([
    { emailAddress: { name: 'Levi, Dan', address: 'dan@contoso.example' } },
    { emailAddress: { name: 'bare@contoso.example', address: 'bare@contoso.example' } },
    { emailAddress: { name: 'Quote "me"', address: 'q@contoso.example' } },
  ]);
  expect(fields.sentDateTime).toBe('2025-01-15T07:13:22Z');
  expect(fields.internetMessageId).toBe('<x@y>');
  expect(fields.hasAttachments).toBe(true);
  expect(fields.headers.find((h) => h.name === 'Content-Type')?.value).toBe('multipart/mixed; boundary="b"');
});

it('reads raw UTF-8 header text and leaves an unknown charset as it was', () => {
  const block = Buffer.from('Subject: Grüße\r\nX-Other: 1', 'utf8').toString('latin1');
  expect(parseHeaderBlock(block).subject).toBe('Grüße');
  expect(parseHeaderBlock(block).hasAttachments).toBe(false);
  expect(decodeWords('=?x-no-such-charset?B?YQ==?=')).toBe('=?x-no-such-charset?B?YQ==?=');
  expect(addressList('')).toEqual([]);
  expect(() => parseHeaderBlock('not a header')).toThrow(UnreadableMimeError);
});
