import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ContainerClient } from '@azure/storage-blob';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { RetryPolicy } from '../../importer/retryPolicy';
import { WriteOnceBlob } from '../../importer/stage/writeOnceBlob';

// The Shared Key path runs against Azurite (tests/integration/rawStore.test.ts). Azurite takes
// bearer tokens only over HTTPS with its OAuth mode, so the managed identity's path is checked
// here against a stand-in that records what Blob Storage would be sent and answers as it does.
// Each answer calls writeHead and end apart: restify, loaded by other test files of the same
// jest worker, patches http's response so that writeHead returns nothing.
describe('write-once raw blob with a token credential', () => {
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  const stored = new Set<string>();
  let failNext = 0;
  let server: http.Server;
  let containerUrl: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        if (failNext > 0) {
          failNext--;
          res.writeHead(503, { 'x-ms-error-code': 'ServerBusy' });
          res.end();
        } else if (stored.has(req.url ?? '')) {
          res.writeHead(409, { 'x-ms-error-code': 'BlobAlreadyExists' });
          res.end();
        } else {
          stored.add(req.url ?? '');
          res.writeHead(201);
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    containerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/account/raw`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends a bearer token asked for once, writes once, and reports a blob already there', async () => {
    let tokensIssued = 0;
    const credential: TokenCredential = {
      getToken: async (scope): Promise<AccessToken> => {
        expect(scope).toBe('https://storage.azure.com/.default');
        tokensIssued++;
        return { token: `token-${tokensIssued}`, expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const writer = WriteOnceBlob.for(new ContainerClient(containerUrl, credential), new RetryPolicy({ baseDelayMs: 1, maxDelayMs: 5 }))!;
    const bytes = Buffer.from('Subject: hello\r\n\r\nbody\r\n');

    expect(await writer.put('ab12', bytes, 'message/rfc822')).toBe(false);
    expect(await writer.put('ab12', bytes, 'message/rfc822')).toBe(true);

    expect(tokensIssued).toBe(1);
    expect(seen.map((r) => [r.method, r.url])).toEqual([
      ['PUT', '/account/raw/ab12'],
      ['PUT', '/account/raw/ab12'],
    ]);
    const first = seen[0];
    expect(first.headers.authorization).toBe('Bearer token-1');
    expect(first.headers['if-none-match']).toBe('*');
    expect(first.headers['x-ms-blob-type']).toBe('BlockBlob');
    expect(first.headers['x-ms-blob-content-type']).toBe('message/rfc822');
    expect(first.body.equals(bytes)).toBe(true);
  });

  it('repeats a write the service could not take, and stops at a refusal', async () => {
    seen.length = 0;
    const credential: TokenCredential = { getToken: async () => ({ token: 'token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const writer = WriteOnceBlob.for(new ContainerClient(containerUrl, credential), new RetryPolicy({ baseDelayMs: 1, maxDelayMs: 5 }))!;

    failNext = 1;
    expect(await writer.put('cd34', Buffer.from('x'), 'message/rfc822')).toBe(false);
    expect(seen).toHaveLength(2);

    failNext = 10;
    await expect(writer.put('ef56', Buffer.from('y'), 'message/rfc822')).rejects.toMatchObject({ statusCode: 503, code: 'ServerBusy' });
  });
});
