// `npm run bench -- --bot`: how fast /api/messages answers an admin's card action while an import
// is running. The server runs as in production (its own process, runtime flags, authentication
// on: every invoke carries a Bot Framework channel token checked against the channel's keys, the
// sign-in emulator's here); an import of a generated day runs in it meanwhile. Each invoke is an
// Action.Execute ("status"), answered in the HTTP response, as Teams waits for it.
import { startHarness, TENANT } from '../tests/support/importerHarness';
import { freePort, startServer } from '../tests/support/serverProcess';

const BOT_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const ADMIN = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const SERVICE_URL = 'https://smba.trafficmanager.net/emea/';
const MIN_INVOKES = 200;

export interface BotBenchResult {
  invokes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Deliveries the import had done when the first and the last invoke were answered. */
  importProgress: { first: number; last: number };
}

export async function runBotBench(log: (line: string) => void): Promise<BotBenchResult> {
  const now = new Date();
  const day = (offset: number) => new Date(now.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
  const h = await startHarness({ telemessage: { days: [day(-1), day(0)], now, population: { employees: 60 }, traffic: { itemsPerDay: 6000, hugeAttachments: [] } } });
  // As in Azure: the bot is a user-assigned managed identity, its tokens from App Service's identity endpoint.
  h.signin.registerManagedIdentity({ tenantId: TENANT, clientId: BOT_ID, principalId: 'a3d2c1b0-9f8e-4d7c-8b6a-5f4e3d2c1b0a' });
  const port = await freePort();
  const server = startServer({
    ...h.env,
    ...h.signin.managedIdentityEnvironment,
    PORT: String(port),
    HOST: '127.0.0.1',
    RUN_LEASE_SECONDS: '60',
    BOT_ID,
    BOT_APP_TYPE: 'UserAssignedMSI',
    BOT_OPENID_METADATA_URL: h.signin.botFrameworkMetadataUrl,
    ADMIN_OBJECT_IDS: ADMIN,
  });
  try {
    const url = await server.listening;
    log(`server at ${url}; waiting for its scheduled import to be under way...`);
    const delivered = async () => (await h.stores.runs.list('default', 1))[0];
    for (let i = 0; i < 600; i++) {
      const run = await delivered();
      if (run?.status === 'running' && run.counts.imported > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const token = await h.signin.mintChannelToken({ audience: BOT_ID, serviceUrl: SERVICE_URL });
    const body = (n: number) =>
      JSON.stringify({
        type: 'invoke',
        name: 'adaptiveCard/action',
        id: `bench-${n}`,
        channelId: 'msteams',
        serviceUrl: SERVICE_URL,
        from: { id: '29:admin', aadObjectId: ADMIN },
        recipient: { id: `28:${BOT_ID}` },
        conversation: { id: 'a:bench-chat', conversationType: 'personal', tenantId: TENANT },
        value: { action: { type: 'Action.Execute', verb: 'status' }, trigger: 'manual' },
      });
    const times: number[] = [];
    const progress: number[] = [];
    for (let n = 0; times.length < MIN_INVOKES * 2; n++) {
      const run = n % 25 === 0 ? await delivered() : undefined;
      if (run && run.status !== 'running') break;
      if (run) progress.push(run.counts.imported);
      const start = performance.now();
      const res = await fetch(`${url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body(n) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`invoke ${n} answered ${res.status}`);
      times.push(performance.now() - start);
    }
    const final = await delivered();
    if (times.length < MIN_INVOKES)
      throw new Error(`the import ended after ${times.length} invokes (run ${final?.status}, ${JSON.stringify(final?.counts)}, ${final?.error ?? ''}); make the day bigger`);
    log(`the import was still ${final?.status === 'running' ? 'running' : final?.status} after the last invoke`);
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
    return { invokes: times.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: times[times.length - 1], importProgress: { first: progress[0] ?? 0, last: progress[progress.length - 1] ?? 0 } };
  } finally {
    await server.stop();
    await h.close();
  }
}

export function formatBotBench(r: BotBenchResult): string {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return [
    'bot endpoint (authentication on, an import running)',
    `  invokes            ${r.invokes} Action.Execute "status", one after another`,
    `  response time      p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)} (target < 300 ms: ${r.p99Ms < 300 ? 'ok' : 'MISSED'}), max ${ms(r.maxMs)}`,
    `  import meanwhile   ${r.importProgress.first.toLocaleString('en-US')} → ${r.importProgress.last.toLocaleString('en-US')} deliveries imported`,
  ].join('\n');
}

// Started by `npm run bench -- --bot` with NODE_EXTRA_CA_CERTS set to the local CA.
if (require.main === module) {
  runBotBench((line) => process.stdout.write(`${line}\n`))
    .then((r) => process.stdout.write(`${formatBotBench(r)}\n`))
    .catch((err: Error) => {
      process.stderr.write(`bot bench failed: ${err.message}\n`);
      process.exit(1);
    });
}
