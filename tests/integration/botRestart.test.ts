import type { RunRecord } from '../../importer';
import { CONNECTOR, startHarness, type Harness } from '../support/importerHarness';
import { runArchiveCli } from '../support/archiveCli';
import { startConnector, type ConnectorStandIn } from '../support/connectorStandIn';
import { startServer, type ServerProcess } from '../support/serverProcess';
import { BACKFILL_DAY } from '../support/mixedDay';

// No summary is lost or sent twice across a restart, and a rerun asked for in the chat is stopped
// by the server's stop like any run. The Bot Connector service cannot run here,
// so a small stand-in records what the bot posts to the conversation (the Playground's mock
// connector does the same in the end-to-end test, but cannot be read back).
const ADMIN = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

describe('the bot across a server stop and restart', () => {
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

  const start = async () => {
    server = startServer({ ...h.env, PORT: '0', LOCAL_DEV_UNAUTHENTICATED: 'true', ADMIN_OBJECT_IDS: ADMIN, BOT_CARD_CHECK_SECONDS: '1' });
    return server.listening;
  };
  /** An activity from the admin's chat, as Teams posts it to the server's bot endpoint. */
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
  const kill = async () => {
    server!.child.kill('SIGKILL');
    await server!.stop();
    server = undefined;
  };
  const summariesOf = (runId: string) => connector.posted.filter((p) => p.texts[1].includes(`"runId":"${runId}"`));

  it('posts the card of a run that ended while the server was down, once, after the restart', async () => {
    const url = await start();
    // The admin installs the bot: the conversation is stored, a hello is posted.
    const res = await say(url, { type: 'conversationUpdate', id: 'install-1', membersAdded: [{ id: '28:bot' }] });
    expect(res.status).toBe(200);
    await waitUntil(() => connector.posted.some((p) => p.texts[1].includes('I will post a summary here')), 'the hello');
    // The server's own scheduled run at start is over, so its lease is free for the next run.
    await waitUntil(async () => {
      const runs = await h.stores.runs.list('default');
      return runs.length > 0 && runs.every((r) => r.status !== 'running');
    }, 'the scheduled run to end');

    // Killed: a run then ends with no server to post its card (the CLI ran it).
    await kill();
    // A run's record reads final a moment before its lease is released; killed in that moment,
    // the server leaves the lease to expire (RUN_LEASE_SECONDS). Ask again until it has.
    let cli = await runArchiveCli(BACKFILL_DAY, h.env);
    const leaseGone = Date.now() + (Number(h.env.RUN_LEASE_SECONDS) + 5) * 1000;
    while (cli.stderr.startsWith('RunInProgress') && Date.now() < leaseGone) {
      await new Promise((r) => setTimeout(r, 1000));
      cli = await runArchiveCli(BACKFILL_DAY, h.env);
    }
    expect([cli.code, cli.stderr]).toEqual([0, '']);
    const runId = /^run (\S+) /m.exec(cli.stdout)![1];
    expect(summariesOf(runId)).toHaveLength(0);

    await start();
    await waitUntil(() => summariesOf(runId).length > 0, 'the run card after the restart');
    // And it stays at one, however often the server checks or restarts.
    await new Promise((r) => setTimeout(r, 2500));
    await kill();
    await start();
    await new Promise((r) => setTimeout(r, 2500));
    expect(summariesOf(runId)).toHaveLength(1);
    expect(summariesOf(runId)[0].conversationId).toBe('a:admin-chat');
  }, 120_000);

  it('stops a rerun asked for in the chat when the server stops: its run record says interrupted, and the server exits', async () => {
    if (server) await kill();
    const url = await start();
    expect((await say(url, { type: 'conversationUpdate', id: 'install-2', membersAdded: [{ id: '28:bot' }] })).status).toBe(200);
    // Every run so far has ended (the server's scheduled one at start too), so the rerun can take the connector.
    let latest: RunRecord | undefined;
    await waitUntil(async () => {
      const runs = await h.stores.runs.list(CONNECTOR);
      latest = runs[0];
      return runs.length > 0 && runs.every((r) => r.status !== 'running');
    }, 'the runs to end');

    // TeleMessage now answers nothing for minutes: the rerun is still going when the server stops.
    h.telemessage.setFaults({ latencyMs: 600_000 });
    try {
      expect((await say(url, { type: 'message', id: 'ask-1', text: `rerun ${latest!.runId}` })).status).toBe(200);
      await waitUntil(() => connector.posted.some((p) => p.texts[1].includes('Rerun started')), 'the "Rerun started" card');
      let rerun: RunRecord | undefined;
      await waitUntil(async () => {
        rerun = (await h.stores.runs.list(CONNECTOR)).find((r) => r.trigger === 'rerun' && r.status === 'running');
        return rerun !== undefined;
      }, 'the rerun to be recorded');

      // SIGTERM, as App Service sends before a restart.
      await server!.stop();
      expect(server!.child.exitCode).toBe(0);
      server = undefined;
      const ended = await h.stores.runs.get(CONNECTOR, rerun!.runId);
      expect(ended).toMatchObject({ trigger: 'rerun', rerunOf: latest!.runId, requestedBy: ADMIN, status: 'interrupted' });
      expect(ended.error).toMatch(/^Stopped before the end, as asked/);
      expect(ended.endedAt).toBeInstanceOf(Date);
    } finally {
      h.telemessage.setFaults({ latencyMs: 0 });
    }
  }, 120_000);
});

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
