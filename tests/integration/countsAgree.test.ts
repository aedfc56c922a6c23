import type { AddressInfo } from 'node:net';
import restify, { type Server } from 'restify';
import { brokenIdentities, summarizeReplay, summarizeRun, type Importer, type RunCounts, type RunRecord } from '../../importer';
import { createTabApi, type TabApi } from '../../tab/api/tabApi';
import { statusCard } from '../../bot/statusCard';
import { replayText } from '../../bot/cards';
import { CONNECTOR, harnessImporter, quietLog, startHarness, type Harness } from '../support/importerHarness';
import { runArchiveCli } from '../support/archiveCli';

const MIB = 1024 * 1024;
const DAY = { from: new Date('2026-11-24T00:00:00Z'), to: new Date('2026-11-25T00:00:00Z') };

/**
 * A newcomer's day, end to end: a run with failures (malformed items) and partials (an
 * attachment over the mailbox's 35 MB), a rerun, a remap, a backfill with automatic mapping off,
 * an acknowledgement. After each step the run record, the tab's API, the CLI and the verification
 * show the same counts, and those keep the identities of docs/counts.md.
 */
describe('one set of counts everywhere, and failures that stay until resolved', () => {
  let h: Harness;
  let importer: Importer;
  let server: Server;
  let tab: TabApi;
  let url: string;
  let first: RunRecord;
  let malformed: string[];

  const api = async (method: string, path: string, init: { body?: unknown; ifMatch?: string } = {}) => {
    const headers: Record<string, string> = init.body === undefined ? {} : { 'content-type': 'application/json' };
    if (init.ifMatch) headers['if-match'] = init.ifMatch;
    const res = await fetch(`${url}${path}`, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
    return { status: res.status, json: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  /** The counts of `runId` read every way an admin can read them: all equal, and keeping the identities. */
  async function expectOneSetOfCounts(runId: string): Promise<RunCounts> {
    const record = await importer.runs.get(runId);
    const c = record.counts;
    expect(brokenIdentities(c)).toEqual([]);
    // The identities, spelled out as docs/counts.md states them.
    expect(c.afterFanOut).toBe(c.imported + c.partiallyImported + c.alreadyArchived + c.deliveriesFailed);
    expect(c.availableFromSource).toBe(c.itemsImported + c.itemsPartial + c.failed + c.notImported);
    expect(c.failed).toBe(c.failuresOutstanding + c.failuresAcknowledged);

    const fromTab = await api('GET', `/api/tab/runs/${runId}`);
    expect(fromTab.status).toBe(200);
    expect(fromTab.json.run.counts).toEqual(c);

    const report = await importer.runs.verify(runId);
    expect(report.counts).toEqual(c);
    expect(report.ok).toBe(true);
    expect(report.verified).toBe(c.afterFanOut - c.deliveriesFailed);

    const summary = summarizeRun(record);
    // The tab shows the importer's own sentence, never one of its own.
    expect(fromTab.json.run.summary).toBe(summary);
    const runs = await runArchiveCli(['--runs'], h.env);
    expect(runs.code).toBe(0);
    expect(runs.stdout.split('\n').find((l) => l.startsWith(runId))).toContain(summary);
    const verify = await runArchiveCli(['--verify', runId], h.env);
    expect(verify.stdout).toContain(`counts: ${summary}`);
    expect(verify.stdout).toContain(`verified: ${report.verified} of ${c.afterFanOut - c.deliveriesFailed} archived deliveries`);
    expect(verify.code).toBe(0);
    return c;
  }

  const outstandingIds = async () => [...new Set((await importer.runs.failures()).outstanding.map((f) => f.itemId))].sort();
  const dayFigures = async () => {
    const [day] = (await importer.runs.dailyCounts(30)).filter((d) => d.day === '2026-11-24');
    const all = Object.values(day.kinds);
    return { failed: all.reduce((n, k) => n + k.failed, 0), acknowledged: all.reduce((n, k) => n + k.acknowledged, 0) };
  };
  const statusText = async () => JSON.stringify(await statusCard(importer, h.telemessage.now()));

  beforeAll(async () => {
    h = await startHarness({ telemessage: { seed: 'newcomer', traffic: { itemsPerDay: 60, malformedRatio: 0.07, hugeAttachments: [36 * MIB] }, days: ['2026-11-24'] } });
    importer = await harnessImporter(h, { now: () => h.telemessage.now(), runLeaseSeconds: 15 });
    server = restify.createServer();
    tab = createTabApi({ importer, auth: { mode: 'localUnauthenticated' }, log: quietLog });
    tab.mount(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    malformed = h.telemessage
      .listExpected(DAY.from, DAY.to)
      .filter((i) => i.malformation)
      .map((i) => i.id)
      .sort();
  }, 60_000);
  afterAll(async () => {
    await Promise.all([tab?.stop(), importer?.runs.stop()]);
    // fetch keeps its connections alive: close them, or the server would hold the worker open.
    server?.server.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await h?.close();
  });

  it('the first run: failures and partials, counted the same everywhere', async () => {
    expect(malformed.length).toBeGreaterThan(0);
    first = await importer.runs.start('scheduler', { trigger: 'schedule' });
    expect(first.status).toBe('partial');
    const c = await expectOneSetOfCounts(first.runId);
    expect(c).toMatchObject({ availableFromSource: h.telemessage.listExpected(DAY.from, DAY.to).length, failed: malformed.length, failuresOutstanding: malformed.length, alreadyArchived: 0 });
    expect(c.itemsPartial).toBeGreaterThan(0);
    expect(c.partiallyImported).toBeGreaterThan(0);
    expect(await outstandingIds()).toEqual(malformed);
    expect(await dayFigures()).toEqual({ failed: malformed.length, acknowledged: 0 });
    // The card's reasons: failures only, the partial listed on its own.
    const log = [];
    for await (const row of importer.runs.log(first.runId)) log.push(row);
    expect(
      log
        .filter((r) => r.outcome === 'malformed')
        .map((r) => r.itemId)
        .sort(),
    ).toEqual(malformed);
  }, 240_000);

  it('a rerun leaves the malformed items failing: it ends partial, and its log and `status` say what is still failing and why', async () => {
    const rerun = await importer.runs.rerun(first.runId, 'admin-1');
    expect(rerun.status).toBe('partial');
    const c = await expectOneSetOfCounts(rerun.runId);
    expect(c).toMatchObject({ imported: 0, partiallyImported: 0, failed: malformed.length, failuresOutstanding: malformed.length });
    // Nothing new was written: every delivery of the window was archived by the first run.
    expect(c.alreadyArchived).toBe(c.afterFanOut);
    expect(c.itemsAlreadyArchived).toBe(c.itemsImported + c.itemsPartial);
    expect([...new Set(rerun.stillFailing!.map((f) => f.itemId))].sort()).toEqual(malformed);
    expect(rerun.stillFailing!.every((f) => /Malformed/.test(f.reason))).toBe(true);
    const log = [];
    for await (const row of importer.runs.log(rerun.runId)) log.push(row);
    expect(
      log
        .filter((r) => r.outcome === 'failed' && r.reason.startsWith('Still failing: Malformed'))
        .map((r) => r.itemId)
        .sort(),
    ).toEqual(malformed);
    expect(await outstandingIds()).toEqual(malformed);
    const listed = await runArchiveCli(['--failures'], h.env);
    expect(listed.stdout).toContain(`${malformed.length} items failing, 0 acknowledged`);
    for (const id of malformed) expect(listed.stdout.split('\n').some((l) => l.startsWith(`${id}  `) && l.includes('Malformed'))).toBe(true);
    expect(await statusText()).toContain(`${malformed.length} item${malformed.length === 1 ? '' : 's'} still failing`);
    expect(await statusText()).not.toContain('Nothing is failing');
  }, 240_000);

  it('a remap replays the held items and says how many were new', async () => {
    const line = (await importer.mapping.unmappedAlerts()).sort((a, b) => b.itemCount - a.itemCount)[0];
    expect(line).toBeDefined();
    const { etag } = await importer.connector.settings();
    const change = await importer.mapping.mapNumber(line.number, h.staff[0].mailbox, 'admin-1', { etag });
    expect(change.replay.status).toBe('done');
    const replay = (change.replay as { run: RunRecord }).run;
    const c = await expectOneSetOfCounts(replay.runId);
    expect(c.imported + c.partiallyImported).toBeGreaterThan(0);
    const archivedNow = c.itemsImported + c.itemsPartial - c.itemsAlreadyArchived;
    expect(archivedNow).toBeGreaterThan(0);
    expect(summarizeReplay(replay)).toBe(
      `${c.availableFromSource} held: ${c.itemsAlreadyArchived} already archived, ${archivedNow} new${c.failed ? `, ${c.failed} failed` : ''}${c.notImported ? `, ${c.notImported} still not imported` : ''}`,
    );
    // The tab and the bot say the same sentence: the tab's from the API, the card's from the run.
    expect((await api('GET', `/api/tab/runs/${replay.runId}`)).json.run.replaySummary).toBe(summarizeReplay(replay));
    expect(replayText(replay)).toBe(`${summarizeReplay(replay)}.`);
    expect(await outstandingIds()).toEqual(malformed);
  }, 240_000);

  it('a backfill with automatic mapping off does not call archived items "not imported"', async () => {
    const before = (await importer.runs.verify(first.runId)).counts;
    const { value, etag } = await importer.connector.settings();
    await importer.connector.update({ ...value, automaticMapping: false }, 'admin-1', { etag });
    const backfill = await importer.runs.backfill(DAY, 'admin-1');
    expect(backfill.status).toBe('partial');
    const c = await expectOneSetOfCounts(backfill.runId);
    // Items archived through automatic mapping stay archived; only those never archived are "not imported".
    expect(c.notImported).toBe(before.notImported);
    expect(c.itemsImported + c.itemsPartial).toBe(before.itemsImported + before.itemsPartial);
    expect(c.imported + c.partiallyImported).toBe(0);
    expect(c.failuresOutstanding).toBe(malformed.length);
  }, 240_000);

  it('an admin acknowledges the malformed items through the tab: audited, listed as acknowledged, no longer outstanding', async () => {
    const [itemId] = malformed;
    const connectorEtag = (await api('GET', '/api/tab/connector')).json.etag as string;
    expect((await api('POST', `/api/tab/failures/${encodeURIComponent(itemId)}/acknowledge`, { body: { reason: 'Corrupt at the source' } })).status).toBe(428);
    expect((await api('POST', `/api/tab/failures/${encodeURIComponent(itemId)}/acknowledge`, { body: { reason: 'Corrupt at the source' }, ifMatch: '"stale"' })).status).toBe(412);
    expect((await api('POST', `/api/tab/failures/${encodeURIComponent(itemId)}/acknowledge`, { body: { reason: '  ' }, ifMatch: connectorEtag })).status).toBe(400);
    expect(await outstandingIds()).toEqual(malformed);
    // One from the CLI (a reason is required there too), the rest from the tab.
    expect((await runArchiveCli(['--acknowledge', itemId], h.env)).stderr).toContain('Say why');
    const byCli = await runArchiveCli(['--acknowledge', itemId, '--reason', 'Corrupt at the source; TeleMessage cannot resend it', '--requested-by', 'local-dev'], h.env);
    expect(byCli.stdout).toContain(`acknowledged ${itemId}`);
    for (const id of malformed.slice(1)) {
      const answer = await api('POST', `/api/tab/failures/${encodeURIComponent(id)}/acknowledge`, { body: { reason: 'Corrupt at the source; TeleMessage cannot resend it' }, ifMatch: connectorEtag });
      expect(answer.status).toBe(200);
    }
    expect((await api('POST', `/api/tab/failures/${encodeURIComponent(itemId)}/acknowledge`, { body: { reason: 'again' }, ifMatch: connectorEtag })).status).toBe(404);

    const failures = await api('GET', '/api/tab/failures');
    expect(failures.json.outstanding).toEqual([]);
    expect([...new Set(failures.json.acknowledged.map((f: { itemId: string }) => f.itemId))].sort()).toEqual(malformed);
    expect(failures.json.acknowledged[0].acknowledgement).toMatchObject({
      by: 'local-dev',
      name: 'Local development (unauthenticated)',
      reason: 'Corrupt at the source; TeleMessage cannot resend it',
    });
    expect((await api('GET', '/api/tab/connector')).json.status.failures).toEqual({ outstandingItems: 0, acknowledgedItems: malformed.length });
    expect(await dayFigures()).toEqual({ failed: 0, acknowledged: malformed.length });
    const audit = await importer.audit.list(new Date(Date.now() - 3_600_000), new Date(Date.now() + 60_000));
    expect(
      audit
        .filter((e) => e.action === 'failure.acknowledged')
        .map((e) => e.detail?.itemId)
        .sort(),
    ).toEqual(malformed);
    expect(await statusText()).not.toContain('still failing');

    // The next rerun is clean, and still shows the acknowledged failures, never hides them.
    const rerun = await importer.runs.rerun(first.runId, 'admin-1');
    expect(rerun.status).toBe('succeeded');
    const c = await expectOneSetOfCounts(rerun.runId);
    expect(c).toMatchObject({ failed: malformed.length, failuresAcknowledged: malformed.length, failuresOutstanding: 0 });
    const log = [];
    for await (const row of importer.runs.log(rerun.runId)) log.push(row);
    expect(
      log
        .filter((r) => r.outcome === 'acknowledged')
        .map((r) => r.itemId)
        .sort(),
    ).toEqual(malformed);
    expect((await h.stores.runs.list(CONNECTOR, 50)).every((r) => r.status !== 'running')).toBe(true);
  }, 240_000);
});
