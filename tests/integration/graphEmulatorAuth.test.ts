import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientSecretCredential } from '@azure/identity';
import { Client, GraphError, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { startGraphEmulator, GraphEmulator } from '../../emulators/graph/server';
import { startSigninEmulator } from '../../emulators/signin/server';

// Bearer tokens shaped like the sign-in emulator's, signed by a key this test serves as a JWKS.
const TENANT = 'cccccccc-0000-0000-0000-000000000001';
const APP_A = 'app-aaaa';
const APP_B = 'app-bbbb';
const SUSAN = { id: 'dddddddd-0000-0000-0000-000000000001', userPrincipalName: 'susan@contoso.com', mail: 'susan@contoso.com', displayName: 'Susan' };
const BOB = { id: 'dddddddd-0000-0000-0000-000000000002', userPrincipalName: 'bob@contoso.com', mail: 'bob@contoso.com', displayName: 'Bob' };

const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const strangerKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const KID = 'test-key-1';

let jwks: http.Server;
let issuer: string;
let jwksUri: string;
let emulator: GraphEmulator;

interface TokenClaims {
  aud?: string;
  iss?: string;
  appid?: string;
  roles?: string[];
  exp?: number;
}

function token(claims: TokenClaims = {}, key: crypto.KeyObject = signingKey.privateKey): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: KID };
  const payload = {
    aud: 'https://graph.microsoft.com',
    iss: issuer,
    tid: TENANT,
    appid: APP_A,
    azp: claims.appid ?? APP_A,
    roles: ['Mail.ReadWrite', 'User.Read.All'],
    iat: now,
    nbf: now,
    exp: now + 3600,
    ...claims,
  };
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const signingInput = `${encode(header)}.${encode(payload)}`;
  return `${signingInput}.${crypto.sign('RSA-SHA256', Buffer.from(signingInput), key).toString('base64url')}`;
}

function graphClient(url: string, accessToken: string): Client {
  return Client.initWithMiddleware({
    authProvider: { getAccessToken: async () => accessToken },
    baseUrl: url,
    customHosts: new Set(['localhost']),
  });
}

async function failure(request: Promise<unknown>): Promise<GraphError> {
  try {
    await request;
  } catch (error) {
    return error as GraphError;
  }
  throw new Error('the request succeeded');
}

const get = (path: string, accessToken?: string) => fetch(`${emulator.url}/v1.0${path}`, { headers: accessToken ? { Authorization: `Bearer ${accessToken}` } : {} });

beforeAll(async () => {
  const publicJwk = { ...signingKey.publicKey.export({ format: 'jwk' }), kid: KID, use: 'sig', alg: 'RS256' };
  jwks = http.createServer((req, res) => {
    res.writeHead(req.url === `/${TENANT}/discovery/v2.0/keys` ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
  issuer = `${base}/${TENANT}/v2.0`;
  jwksUri = `${base}/${TENANT}/discovery/v2.0/keys`;
  emulator = await startGraphEmulator({ auth: { jwksUri, issuer }, users: [SUSAN, BOB] });
});

afterAll(async () => {
  await emulator.close();
  await new Promise((resolve) => jwks.close(resolve));
});

beforeEach(() => emulator.reset());

it('serves a caller whose token is valid and holds the permissions', async () => {
  const client = graphClient(emulator.url, token());
  expect((await client.api(`/users/${SUSAN.userPrincipalName}`).get()).id).toBe(SUSAN.id);
  const folder = await client.api(`/users/${SUSAN.id}/mailFolders`).post({ displayName: 'Enterprise Number Archiver' });
  expect(folder.displayName).toBe('Enterprise Number Archiver');
});

it.each([
  ['no token', undefined, 'Access token is empty.'],
  ['a token signed by another key', () => token({}, strangerKey.privateKey), 'Invalid signature'],
  ['an expired token', () => token({ exp: Math.floor(Date.now() / 1000) - 3600 }), 'expired'],
  ['a token for another audience', () => token({ aud: 'https://management.azure.com' }), 'Invalid audience'],
  ['a token from another issuer', () => token({ iss: 'https://login.example/other/v2.0' }), 'Invalid issuer'],
  ['a malformed token', () => 'not-a-jwt', 'malformed'],
])('answers %s with 401 InvalidAuthenticationToken and never echoes the token', async (_, makeToken, reason) => {
  const accessToken = makeToken?.();
  const response = await get(`/users/${SUSAN.id}/mailFolders`, accessToken);
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  const text = await response.text();
  const body = JSON.parse(text);
  expect(body.error.code).toBe('InvalidAuthenticationToken');
  expect(body.error.message).toContain(reason);
  if (accessToken) expect(text).not.toContain(accessToken);
  expect(emulator.stats().refused.unauthenticated).toBe(1);
});

it('answers a token without mail permissions with 403 ErrorAccessDenied', async () => {
  const client = graphClient(emulator.url, token({ roles: ['User.Read.All', 'Mail.Read'] }));
  await client.api(`/users/${SUSAN.id}/mailFolders`).get();
  const error = await failure(client.api(`/users/${SUSAN.id}/mailFolders`).post({ displayName: 'x' }));
  expect(error.statusCode).toBe(403);
  expect(error.code).toBe('ErrorAccessDenied');
  expect(emulator.mailbox(SUSAN.id).folders.map((f) => f.displayName)).not.toContain('x');
});

it('answers a token without directory permissions with 403 Authorization_RequestDenied', async () => {
  const client = graphClient(emulator.url, token({ roles: ['Mail.ReadWrite'] }));
  const error = await failure(client.api(`/users/${SUSAN.id}`).get());
  expect(error.statusCode).toBe(403);
  expect(error.code).toBe('Authorization_RequestDenied');
});

it('serves the /_emulator/ inspection endpoints without a token', async () => {
  await graphClient(emulator.url, token()).api(`/users/${SUSAN.id}/mailFolders`).post({ displayName: 'Seen by the test' });
  const snapshot = await (await fetch(`${emulator.url}/_emulator/mailboxes/${SUSAN.id}`)).json();
  expect(snapshot.folders.map((f: { path: string }) => f.path)).toContain('/Seen by the test');
  const stats = await (await fetch(`${emulator.url}/_emulator/stats`)).json();
  expect(stats.served.byOperation.createFolder).toBe(1);
});

it('keeps throttling buckets per (app, mailbox)', async () => {
  const limited = await startGraphEmulator({ auth: { jwksUri, issuer }, users: [SUSAN, BOB], limits: { requestsPerWindow: 3 } });
  try {
    const appA = graphClient(limited.url, token({ appid: APP_A }))
      .api(`/users/${SUSAN.id}/mailFolders`)
      .middlewareOptions([new RetryHandlerOptions(0, 0)]);
    for (let i = 0; i < 3; i++) await appA.get();
    const throttled = await failure(appA.get());
    expect(throttled.statusCode).toBe(429);
    expect(throttled.code).toBe('ApplicationThrottled');
    await graphClient(limited.url, token({ appid: APP_B }))
      .api(`/users/${SUSAN.id}/mailFolders`)
      .get();
    await graphClient(limited.url, token({ appid: APP_A }))
      .api(`/users/${BOB.id}/mailFolders`)
      .get();
    expect(limited.stats().refused.rate).toBe(1);
    // The other emulator instance in this process is untouched.
    expect(emulator.stats().refused.rate).toBe(0);
  } finally {
    await limited.close();
  }
});

it('accepts the app tokens the sign-in emulator issues through @azure/identity', async () => {
  const app = { tenantId: TENANT, clientId: APP_A, clientSecret: 'secret-for-tests', roles: ['Mail.ReadWrite', 'User.Read.All'] };
  const signin = await startSigninEmulator({ apps: [app] });
  const graph = await startGraphEmulator({ auth: { jwksUri: signin.jwksUri(TENANT), issuer: signin.issuer(TENANT) }, users: [SUSAN] });
  try {
    const credential = new ClientSecretCredential(TENANT, APP_A, app.clientSecret, { authorityHost: signin.authorityHost, disableInstanceDiscovery: true });
    const client = Client.initWithMiddleware({
      authProvider: { getAccessToken: async () => (await credential.getToken('https://graph.microsoft.com/.default')).token },
      baseUrl: graph.url,
      customHosts: new Set(['localhost']),
    });
    await client.api(`/users/${SUSAN.id}/mailFolders`).post({ displayName: 'Enterprise Number Archiver' });
    expect(graph.mailbox(SUSAN.id).folders.map((f) => f.displayName)).toContain('Enterprise Number Archiver');
  } finally {
    await graph.close();
    await signin.close();
  }
});
