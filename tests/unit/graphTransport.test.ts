import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { AuthenticationHandler, Client, ResponseType } from '@microsoft/microsoft-graph-client';
import { GraphTransport } from '../../importer/sink/graphTransport';
import { ensureLocalTls } from '../../emulators/tls/localCa';

// The transport's own behaviour against stand-ins that record what they are sent (over HTTPS with
// the local CA: the SDK hands tokens only to HTTPS hosts); the Graph emulator exercises it in the
// sink's integration tests.
// Each answer calls writeHead and end apart: restify, loaded by other test files of the same
// jest worker, patches http's response so that writeHead returns nothing.
describe('Graph transport', () => {
  const seen: { method: string; url: string; host: string; authorization?: string; body: Buffer }[] = [];
  const servers: https.Server[] = [];
  let graphUrl: string;
  let elsewhereUrl: string;

  const listen = async (host: string, handler: http.RequestListener): Promise<string> => {
    const tls = ensureLocalTls();
    const server = https.createServer({ cert: tls.cert, key: tls.key }, handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `https://${host}:${(server.address() as AddressInfo).port}`;
  };
  const record = (req: http.IncomingMessage, then: (body: Buffer) => void) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', authorization: req.headers.authorization, body });
      then(body);
    });
  };

  // A large MIME sent in two halves, the second only once the client says it has the first.
  const MIB = 1024 * 1024;
  let sendSecondHalf: () => void = () => undefined;
  const streamBig = (res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write(Buffer.alloc(2 * MIB, 'a'));
    sendSecondHalf = () => res.end(Buffer.alloc(2 * MIB, 'b'));
  };

  beforeAll(async () => {
    elsewhereUrl = await listen('127.0.0.1', (req, res) => record(req, () => (res.writeHead(200, { 'content-type': 'text/plain' }), res.end('MIME-Version: 1.0\r\n'))));
    graphUrl = await listen('localhost', (req, res) =>
      record(req, (body) => {
        if (req.url === '/v1.0/users/u/messages/big/$value') return void streamBig(res);
        if (req.url === '/v1.0/users/u/moved') return void (res.writeHead(302, { location: `${elsewhereUrl}/content` }), res.end());
        if (req.url === '/v1.0/users/u/refused')
          return void (res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' }), res.end(JSON.stringify({ error: { code: 'ApplicationThrottled', message: 'slow down' } })));
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'created', bytes: body.length }));
      }),
    );
  });
  afterAll(() => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))));

  function client(): Client {
    const auth = new AuthenticationHandler({ getAccessToken: async () => 'the-token' });
    auth.setNext(new GraphTransport());
    return Client.initWithMiddleware({ middleware: auth, baseUrl: graphUrl, customHosts: new Set(['localhost']) });
  }

  it('sends JSON, small and large Blob bodies whole, with the token', async () => {
    seen.length = 0;
    const big = 'A'.repeat(600 * 1024);
    expect(await client().api('/users/u/messages').post({ subject: 'hello' })).toEqual({ id: 'created', bytes: 19 });
    expect(
      await client()
        .api('/users/u/messages')
        .post(new Blob(['{"a":"', 'x', '"}'], { type: 'application/json' })),
    ).toEqual({ id: 'created', bytes: 9 });
    expect(
      await client()
        .api('/users/u/messages')
        .post(new Blob(['{"a":"', new Blob([big]), '"}'], { type: 'application/json' })),
    ).toEqual({ id: 'created', bytes: big.length + 8 });
    expect(seen.map((r) => r.authorization)).toEqual(['Bearer the-token', 'Bearer the-token', 'Bearer the-token']);
    expect(JSON.parse(seen[2].body.toString()).a).toBe(big);
  });

  it("hands Graph's refusal to the client with its status and code", async () => {
    await expect(client().api('/users/u/refused').post({})).rejects.toMatchObject({ statusCode: 429, code: 'ApplicationThrottled', message: 'slow down' });
  });

  it("hands a large answer on as it arrives, never held whole (a message's MIME read by $value)", async () => {
    const res = (await client().api('/users/u/messages/big/$value').responseType(ResponseType.RAW).get()) as Response;
    expect(res.status).toBe(200);
    // The answer is in hand while the server still holds back its second half.
    const reader = res.body!.getReader();
    let received = 0;
    while (received < 2 * MIB) received += (await reader.read()).value!.length;
    expect(received).toBe(2 * MIB);
    sendSecondHalf();
    let last = 0;
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      received += next.value.length;
      last = next.value[next.value.length - 1];
    }
    expect(received).toBe(4 * MIB);
    expect(String.fromCharCode(last)).toBe('b');
  });

  it('follows a redirect of a read, without taking the token to the other host', async () => {
    seen.length = 0;
    const content = (await client()
      .api('/users/u/moved')
      .responseType('text' as never)
      .get()) as string;
    expect(content).toBe('MIME-Version: 1.0\r\n');
    expect(seen.map((r) => [r.url, r.authorization])).toEqual([
      ['/v1.0/users/u/moved', 'Bearer the-token'],
      ['/content', undefined],
    ]);
  });
});
