import { createPublicKey } from 'node:crypto';
import { SignJWT, base64url, generateKeyPair, type JWK } from 'jose';
import { runsEnded, startHarness, TENANT, type Harness } from '../support/importerHarness';
import { startServer, type ServerProcess } from '../support/serverProcess';

// /api/messages with authentication on: the channel's OpenID metadata and token issuer are the
// sign-in emulator's, so every verdict below is the production validation's, offline.
const BOT_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const ADMIN = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const SERVICE_URL = 'https://smba.trafficmanager.net/emea/';

describe('the bot endpoint, authenticated', () => {
  let h: Harness;
  let server: ServerProcess;
  let url: string;

  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 10, hugeAttachments: [] } } });
    // As in Azure: the bot is the user-assigned managed identity, whose tokens App Service's identity endpoint hands out.
    h.signin.registerManagedIdentity({ tenantId: TENANT, clientId: BOT_ID, principalId: 'a3d2c1b0-9f8e-4d7c-8b6a-5f4e3d2c1b0a' });
    server = startServer({
      ...h.env,
      ...h.signin.managedIdentityEnvironment,
      PORT: '0',
      HOST: '127.0.0.1',
      BOT_ID,
      BOT_APP_TYPE: 'UserAssignedMSI',
      BOT_OPENID_METADATA_URL: h.signin.botFrameworkMetadataUrl,
      ADMIN_OBJECT_IDS: ADMIN,
    });
    url = await server.listening;
    // The server's scheduled run at start ends before anything is counted.
    await runsEnded(h, 50_000);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await h?.close();
  });

  /** An Action.Execute from the admin: its answer comes back in the HTTP response, no reply is posted. */
  const invoke = (serviceUrl = SERVICE_URL) => ({
    type: 'invoke',
    name: 'adaptiveCard/action',
    id: `invoke-${Math.random()}`,
    channelId: 'msteams',
    serviceUrl,
    from: { id: '29:admin', aadObjectId: ADMIN, name: 'Admin' },
    recipient: { id: `28:${BOT_ID}`, name: 'Number Archiver' },
    conversation: { id: 'a:personal-chat', conversationType: 'personal', tenantId: TENANT },
    channelData: { tenant: { id: TENANT } },
    value: { action: { type: 'Action.Execute', verb: 'runs' }, trigger: 'manual' },
  });

  const post = (body: object, token?: string) =>
    fetch(`${url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });

  const conversationCount = async () => {
    let n = 0;
    for await (const _ of (await h.storage.table('conversations')).listEntities()) n++;
    return n;
  };

  it('answers a correctly signed channel token for the bot', async () => {
    const token = await h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: SERVICE_URL });
    const res = await post(invoke(), token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { statusCode: number; type: string; value: { body: { text?: string }[] } };
    expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(body.value.body[0].text).toBe('Recent imports');
  });

  /** The server's log lines since `from`, as JSON. */
  const logSince = (from: number) =>
    server
      .output()
      .slice(from)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string });
  const REFUSED = 'bot endpoint refused a request: its token is not valid';

  it.each([
    ['no token', 'MissingToken', async (): Promise<string | undefined> => undefined],
    ['a token signed by another key', 'InvalidToken', async () => forged()],
    ['an expired token', 'ExpiredToken', async () => h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: SERVICE_URL, lifetimeSeconds: -600 })],
    ['a token for another bot', 'WrongAudience', async () => h.signin.mintChannelToken({ audience: '11111111-2222-3333-4444-555555555555', serviceUrl: SERVICE_URL })],
    ['a token for another service URL', 'WrongServiceUrl', async () => h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: 'https://attacker.example/' })],
    ['a token from another issuer', 'WrongIssuer', async () => h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: SERVICE_URL, issuer: 'https://sts.attacker.example/' })],
    ['an unsigned token (alg: none)', 'InvalidToken', async () => unsigned()],
    ['a token stripped of its signature', 'InvalidToken', async () => (await h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: SERVICE_URL })).replace(/[^.]+$/, '')],
    ["a token signed HS256 with the channel's public key", 'InvalidToken', async () => confused()],
    ["a token signed by another key under the channel's key id", 'InvalidToken', async () => forged((await channelKey()).kid)],
    ['a token not valid until an hour from now', 'InvalidToken', async () => h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: SERVICE_URL, notBeforeSeconds: 3600 })],
  ])('refuses %s with 401, logs it once as a warning (%s) without a stack, and nothing runs', async (_what, reason, token) => {
    const runsBefore = (await h.stores.runs.list('default')).length;
    const from = server.output().length;
    const res = await post({ ...invoke(), value: { action: { type: 'Action.Execute', verb: 'rerun', data: {} } } }, await token());
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).not.toContain('AdaptiveCard');
    expect(text).not.toMatch(/\bat .+:\d+:\d+/);
    // pino writes the line as the request is answered; wait for it rather than for a while.
    await waitUntil(() => logSince(from).some((l) => l.msg === REFUSED), 'the refusal in the log');
    const refusals = logSince(from).filter((l) => l.msg === REFUSED);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ level: 40, reason });
    expect(server.output().slice(from)).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(logSince(from).filter((l) => l.level >= 50)).toEqual([]);
    expect((await h.stores.runs.list('default')).length).toBe(runsBefore);
    expect(await conversationCount()).toBe(0);
  });

  it("answers 503, not 401, when the channel's signing keys cannot be read, and says why in the log", async () => {
    // Nothing listens on port 9: the keys are out of reach, as when the app cannot reach login.botframework.com.
    const blind = startServer({
      ...h.env,
      ...h.signin.managedIdentityEnvironment,
      PORT: '0',
      HOST: '127.0.0.1',
      BOT_ID,
      BOT_APP_TYPE: 'UserAssignedMSI',
      BOT_OPENID_METADATA_URL: 'https://127.0.0.1:9/v1/.well-known/openidconfiguration',
      ADMIN_OBJECT_IDS: ADMIN,
    });
    try {
      const blindUrl = await blind.listening;
      const token = await h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: SERVICE_URL });
      const res = await fetch(`${blindUrl}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(invoke()) });
      expect(res.status).toBe(503);
      await waitUntil(() => blind.output().includes('signing keys are unavailable'), 'the error in the log');
      expect(blind.output()).not.toMatch(/\n\s+at .+:\d+:\d+/);
    } finally {
      await blind.stop();
    }
  });

  it('refuses a request bigger than an activity can be, before parsing it', async () => {
    const token = await h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: SERVICE_URL });
    const res = await post({ ...invoke(), text: 'x'.repeat(300 * 1024) }, token);
    expect(res.status).toBe(413);
  });

  const claims = () => new SignJWT({ serviceurl: SERVICE_URL }).setIssuer('https://api.botframework.com').setAudience(BOT_ID).setIssuedAt().setExpirationTime('1h');

  /** Signed by a key the channel never published, under a made-up key id or the channel's own. */
  async function forged(kid = 'attacker-key'): Promise<string> {
    const { privateKey } = await generateKeyPair('RS256');
    return claims().setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
  }

  /** The channel's published signing key, as its OpenID metadata points to it. */
  async function channelKey(): Promise<JWK & { kid: string }> {
    const metadata = (await (await fetch(h.signin.botFrameworkMetadataUrl)).json()) as { jwks_uri: string };
    const { keys } = (await (await fetch(metadata.jwks_uri)).json()) as { keys: (JWK & { kid: string })[] };
    return keys[0];
  }

  /** The algorithm-confusion forgery: HMAC keyed with the channel's public key, which anyone can read. */
  async function confused(): Promise<string> {
    const key = await channelKey();
    const pem = createPublicKey({ key, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    return claims().setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(new TextEncoder().encode(pem));
  }

  async function unsigned(): Promise<string> {
    const part = (o: object) => base64url.encode(JSON.stringify(o));
    const now = Math.floor(Date.now() / 1000);
    return `${part({ alg: 'none', typ: 'JWT', kid: (await channelKey()).kid })}.${part({ serviceurl: SERVICE_URL, iss: 'https://api.botframework.com', aud: BOT_ID, iat: now, nbf: now, exp: now + 3600 })}.`;
  }
});

async function waitUntil(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
