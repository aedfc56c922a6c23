import { SignJWT, generateKeyPair } from 'jose';
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
    h.signin.registerApp({ tenantId: TENANT, clientId: BOT_ID, clientSecret: 'bot-password-for-tests', roles: [] });
    server = startServer({
      ...h.env,
      PORT: '0',
      HOST: '127.0.0.1',
      BOT_ID,
      BOT_APP_TYPE: 'SingleTenant',
      BOT_PASSWORD: 'bot-password-for-tests',
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

  it.each([
    ['no token', async () => undefined],
    ['a token signed by another key', async () => forged()],
    ['an expired token', async () => h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: SERVICE_URL, lifetimeSeconds: -600 })],
    ['a token for another bot', async () => h.signin.mintChannelToken({ audience: '11111111-2222-3333-4444-555555555555', serviceUrl: SERVICE_URL })],
    ['a token for another service URL', async () => h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: 'https://attacker.example/' })],
    ['a token from another issuer', async () => h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: SERVICE_URL, issuer: 'https://sts.attacker.example/' })],
  ])('refuses %s with 401, and nothing runs', async (_what, token) => {
    const runsBefore = (await h.stores.runs.list('default')).length;
    const res = await post({ ...invoke(), value: { action: { type: 'Action.Execute', verb: 'rerun', data: {} } } }, await token());
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain('AdaptiveCard');
    expect((await h.stores.runs.list('default')).length).toBe(runsBefore);
    expect(await conversationCount()).toBe(0);
  });

  it('refuses a request bigger than an activity can be, before parsing it', async () => {
    const token = await h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: SERVICE_URL });
    const res = await post({ ...invoke(), text: 'x'.repeat(300 * 1024) }, token);
    expect(res.status).toBe(413);
  });

  async function forged(): Promise<string> {
    const { privateKey } = await generateKeyPair('RS256');
    return new SignJWT({ serviceurl: SERVICE_URL })
      .setProtectedHeader({ alg: 'RS256', kid: 'attacker-key' })
      .setIssuer('https://api.botframework.com')
      .setAudience(BOT_ID)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  }
});
