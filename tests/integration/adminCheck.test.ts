import type { AddressInfo } from 'node:net';
import restify, { type Server } from 'restify';
import type { Activity } from '@microsoft/agents-activity';
import { TABLES, type Importer } from '../../importer';
import { createTabApi, type TabApi } from '../../tab/api/tabApi';
import { botUnderTest, cardOf, textsOf, type BotUnderTest } from '../support/botTestAdapter';
import { APP, CONNECTOR, TENANT, harnessImporter, quietLog, startHarness, type Harness } from '../support/importerHarness';

// One admin check for the bot and the tab: an object id pasted in upper case is the same admin
// as the lower-case `oid` Entra puts in tokens and activities.
const ADMIN = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const STRANGER = '9b2c6a1e-0d4f-4e8a-b7c3-5f1e2d3c4b5a';

describe('who is an admin', () => {
  let h: Harness;
  let importer: Importer;
  let b: BotUnderTest;
  let tab: TabApi;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 10, hugeAttachments: [] } } });
    importer = await harnessImporter(h);
    b = await botUnderTest(importer, h.storage);
    tab = createTabApi({ importer, auth: { mode: 'authenticated', authorityHost: h.signin.authorityHost, tenantId: TENANT, clientId: APP.clientId }, log: quietLog });
    server = restify.createServer();
    server.use(restify.plugins.queryParser({ mapParams: false }));
    tab.mount(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    await Promise.all([tab?.stop(), importer?.runs.stop()]);
    server?.close();
    await h?.close();
  });

  /** What the tab's first call answers for a signed-in user with this object id. */
  const tabStatus = async (oid: string) => {
    const token = await h.signin.mintUserToken({ tenantId: TENANT, audience: APP.clientId, oid, name: 'Ada Admin', preferredUsername: 'ada@contoso.example', scopes: ['access_as_user'] });
    return (await fetch(`${url}/api/tab/me`, { headers: { authorization: `Bearer ${token}` } })).status;
  };
  /** The bot's answer to "status" from a user with this object id. */
  const botAnswer = async (aadObjectId: string) => {
    const activity: Partial<Activity> = {
      type: 'message',
      text: 'status',
      from: { id: `29:${aadObjectId}`, name: 'Ada Admin', aadObjectId },
      conversation: { id: `chat-${aadObjectId}`, conversationType: 'personal', tenantId: TENANT } as Activity['conversation'],
      recipient: { id: 'bot', name: 'Number Archiver' },
    };
    const [reply] = await b.say(activity);
    return reply.text ?? textsOf(cardOf(reply)).join('\n');
  };

  it('an admin id saved in upper case is stored in its one form and passes the bot and the tab', async () => {
    const current = await importer.connector.settings();
    await importer.connector.update({ admins: [` ${ADMIN.toUpperCase()} `] }, 'test', { etag: current.etag });
    expect((await importer.connector.settings()).value.admins).toEqual([ADMIN]);

    expect(await tabStatus(ADMIN)).toBe(200);
    expect(await botAnswer(ADMIN)).not.toContain('you are not on its admin list');
    expect(await tabStatus(STRANGER)).toBe(403);
    expect(await botAnswer(STRANGER)).toContain('you are not on its admin list');
  });

  it('an upper-case id in a row written before ids were normalised passes both too', async () => {
    const table = await h.storage.table(TABLES.connector);
    const row = await table.getEntity<{ settings: string }>('config', CONNECTOR);
    const settings = { ...JSON.parse(row.settings), admins: [ADMIN.toUpperCase()] };
    await table.updateEntity({ partitionKey: 'config', rowKey: CONNECTOR, settings: JSON.stringify(settings) }, 'Replace', { etag: row.etag });
    expect((await importer.connector.settings()).value.admins).toEqual([ADMIN.toUpperCase()]);

    expect(await tabStatus(ADMIN)).toBe(200);
    expect(await botAnswer(ADMIN)).not.toContain('you are not on its admin list');
    expect(await tabStatus(STRANGER)).toBe(403);
  });
});
