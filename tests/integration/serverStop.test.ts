import { CONNECTOR, startHarness, type Harness } from '../support/importerHarness';
import { startConnector, type ConnectorStandIn } from '../support/connectorStandIn';
import { startServer, type ServerProcess } from '../support/serverProcess';

// The server's stop (SIGTERM, as App Service sends before a restart) stops every run it started,
// whoever asked for it: a rerun asked for in the chat ends `interrupted` like a scheduled run, not
// left `running` for the next run to find.
const ADMIN = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

describe("the server's stop", () => {
  let h: Harness;
  let connector: ConnectorStandIn;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 20, hugeAttachments: [] } } });
    connector = await startConnector();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await connector.close();
    await h.close();
  });

  const say = (url: string, activity: object) =>
    fetch(`${url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        channelId: 'msteams',
        serviceUrl: connector.url,
        from: { id: '29:admin', aadObjectId: ADMIN },
        recipient: { id: '28:bot' },
        conversation: { id: 'a:admin-chat', conversationType: 'personal' },
        ...activity,
      }),
    });

  it('stops a rerun asked for in the chat: its run record says interrupted, and the server exits', async () => {
    server = startServer({ ...h.env, PORT: '0', LOCAL_DEV_UNAUTHENTICATED: 'true', ADMIN_OBJECT_IDS: ADMIN });
    const url = await server.listening;
    expect((await say(url, { type: 'conversationUpdate', id: 'install-1', membersAdded: [{ id: '28:bot' }] })).status).toBe(200);
    // The server's own scheduled run at start ends first, so the rerun can take the connector.
    const scheduled = await waitUntil(async () => {
      const runs = await h.stores.runs.list(CONNECTOR);
      return runs.length > 0 && runs.every((r) => r.status !== 'running') ? runs[0] : undefined;
    }, 'the scheduled run to end');

    // TeleMessage now answers nothing for minutes: the rerun is still going when the server stops.
    h.telemessage.setFaults({ latencyMs: 600_000 });
    expect((await say(url, { type: 'message', id: 'ask-1', text: `rerun ${scheduled.runId}` })).status).toBe(200);
    await waitUntil(() => connector.posted.some((p) => p.texts[1].includes('Rerun started')), 'the "Rerun started" card');
    const rerun = await waitUntil(async () => (await h.stores.runs.list(CONNECTOR)).find((r) => r.trigger === 'rerun' && r.status === 'running'), 'the rerun to be recorded');

    await server.stop();
    expect(server.child.exitCode).toBe(0);
    server = undefined;
    const ended = await h.stores.runs.get(CONNECTOR, rerun.runId);
    expect(ended).toMatchObject({ trigger: 'rerun', rerunOf: scheduled.runId, requestedBy: ADMIN, status: 'interrupted' });
    expect(ended.error).toMatch(/^Stopped before the end, as asked/);
    expect(ended.endedAt).toBeInstanceOf(Date);
    h.telemessage.setFaults({ latencyMs: 0 });
  }, 120_000);
});

async function waitUntil<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
