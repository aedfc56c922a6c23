import { Readable, type Transform } from 'node:stream';
import { Decoder } from 'libbase64';
import { MailParser, type AttachmentStream } from 'mailparser';
import { Base64Decoder, decodeBase64Natively } from '../../importer/parse/base64Decoder';
import { walkMime } from '../../importer/parse/mimeWalk';

/** Bytes through a decoder, the body cut into the given chunk sizes. */
async function through(decoder: Transform, body: Buffer, cuts: number[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < body.length; i++) chunks.push(body.subarray(at, (at += cuts[i % cuts.length])));
  const out: Buffer[] = [];
  decoder.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise((resolve, reject) => decoder.once('end', resolve).once('error', reject));
  for (const c of chunks) if (!decoder.write(c)) await new Promise((resolve) => decoder.once('drain', resolve));
  decoder.end();
  await ended;
  return Buffer.concat(out);
}

const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + (i >> 3)) & 0xff));
const lines = (b64: string, width: number, eol: string) => (b64.match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join(eol) + eol;

describe('base64 decoding of MIME parts', () => {
  const bodies: [string, Buffer][] = [];
  for (const n of [0, 1, 2, 3, 4, 57, 100, 1000, 20_000, 70_001]) {
    const b64 = bytes(n).toString('base64');
    bodies.push([`${n} bytes, 76-character CRLF lines`, Buffer.from(lines(b64, 76, '\r\n'))]);
    bodies.push([`${n} bytes, 63-character LF lines`, Buffer.from(lines(b64, 63, '\n'))]);
  }
  // The odd ones mailparser's own decoder reads its way, which must stay the same.
  bodies.push(['a stray character mid-body', Buffer.from('QUJD\r\nRE*VG\r\nR0hJ\r\n')]);
  bodies.push(['padding mid-body, then more', Buffer.from('QQ==\r\nQUJD\r\nRA==\r\n')]);
  bodies.push(['base64url characters', Buffer.from('QU-_\r\nQUJD\r\n')]);
  bodies.push(['padding, then a line break only', Buffer.from('QUI=\r\n\r\n')]);
  bodies.push(['a space inside a line', Buffer.from('QUJD RE\r\nVG\r\n')]);
  bodies.push(['one padding character after a partial quartet, then more', Buffer.from('QUJDQQ=\r\nQUJD\r\n')]);
  bodies.push(['a tab and a form feed between lines', Buffer.from('QUJD\t\r\nRE\fVG\r\n')]);
  bodies.push(['no line breaks at all', Buffer.from(bytes(5000).toString('base64'))]);
  bodies.push(['a partial quartet at the end, unpadded', Buffer.from('QUJDRA\r\n')]);

  it.each(bodies)('gives the same bytes as mailparser’s own decoder: %s, in any chunking', async (_name, body) => {
    const expected = await through(new Decoder(), body, [body.length || 1]);
    for (const cuts of [[body.length || 1], [1], [3, 5, 7], [4096], [16_384, 77]]) {
      expect(await through(new Base64Decoder(() => new Decoder()), body, cuts)).toEqual(expected);
    }
  });

  it('gives the same bytes as mailparser’s own decoder for 300 bodies of random lines, padding and strays, in random chunkings', async () => {
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const odd = ['=', '==', '*', '-', '_', ' ', '\t', 'é'];
    for (let n = 0; n < 300; n++) {
      let text = '';
      const length = random(400);
      for (let i = 0; i < length; i++) {
        const r = random(100);
        text += r < 8 ? '\r\n' : r < 10 ? '\n' : r < 11 && n % 3 === 0 ? odd[random(odd.length)] : alphabet[random(64)];
      }
      const body = Buffer.from(text, 'latin1');
      const expected = await through(new Decoder(), body, [body.length || 1]);
      const cuts = [1 + random(9), 1 + random(90), 1 + random(5)];
      expect({ text, cuts, out: await through(new Base64Decoder(() => new Decoder()), body, cuts) }).toEqual({ text, cuts, out: expected });
    }
  });

  it('is the decoder mailparser takes for base64 parts: attachments come out whole', async () => {
    const data = bytes(50_000);
    const raw = [
      'Subject: x',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'hello',
      '--b',
      'Content-Type: image/jpeg; name="a.jpg"',
      'Content-Transfer-Encoding: base64',
      '',
      lines(data.toString('base64'), 76, '\r\n'),
      '--b',
      'Content-Type: image/png; name="b.png"',
      'Content-Transfer-Encoding: BASE64',
      '',
      lines(data.subarray(0, 1001).toString('base64'), 76, '\r\n'),
      '--b--',
      '',
    ].join('\r\n');
    const seen: Buffer[] = [];
    const made: string[] = [];
    const parser = new MailParser();
    decodeBase64Natively(parser);
    const internals = parser as unknown as { createNode: (node: { getDecoder?: () => Transform }) => unknown };
    const createNode = internals.createNode;
    internals.createNode = function (this: unknown, node) {
      const result = createNode.call(this, node);
      made.push((result as { decoder?: Transform }).decoder?.constructor.name ?? '');
      return result;
    };
    expect(made).toEqual([]);
    await new Promise<void>((resolve, reject) => {
      parser.on('data', (part: AttachmentStream | { type: 'text' }) => {
        if (part.type !== 'attachment') return;
        const chunks: Buffer[] = [];
        part.content.on('data', (c: Buffer) => chunks.push(c));
        part.content.on('end', () => {
          seen.push(Buffer.concat(chunks));
          part.release?.();
        });
      });
      parser.on('end', resolve).on('error', reject);
      Readable.from([Buffer.from(raw)]).pipe(parser);
    });
    expect(seen).toEqual([data, data.subarray(0, 1001)]);
    expect(made.filter((name) => name === 'Base64Decoder')).toHaveLength(2);

    const walked: Buffer[] = [];
    await walkMime(Readable.from([Buffer.from(raw)]), async (attachment) => {
      const chunks: Buffer[] = [];
      for await (const c of attachment.content as AsyncIterable<Buffer>) chunks.push(c);
      walked.push(Buffer.concat(chunks));
      return 'next';
    });
    expect(walked).toEqual([data, data.subarray(0, 1001)]);
  });
});
