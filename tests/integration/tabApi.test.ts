import { SignJWT, generateKeyPair } from 'jose';
import { renderMappingCsv } from '../../emulators/telemessage/population';
import { APP, CONNECTOR, TENANT, TM_PASSWORD, TM_USER, runsEnded, startHarness, type Harness } from '../support/importerHarness';
import { startServer, type ServerProcess } from '../support/serverProcess';
import { tabApiCaller } from '../support/tabApiCaller';

// The tab's API with authentication on, in the server as its own process: every token below is
// minted by the sign-in emulator (or forged), and every verdict is the production validation's.
const ADMIN = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const OTHER_USER = '9b2e7f10-6c4d-4a8e-b1f3-2d5c6e7f8a90';
const OTHER_TENANT = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

describe('the tab API', () => {
  let h: Harness;
  let server: ServerProcess;
  let url: string;

  const api = tabApiCaller(
    () => h,
    () => url,
    { oid: ADMIN, name: 'Ada Admin', preferredUsername: 'ada@contoso.example' },
  );
  const { mint, etag } = api;

  const settings = async () => (await h.stores.connectors.getOrDefault(CONNECTOR)).value;
  const auditText = async () => JSON.stringify(await h.stores.audit.list(CONNECTOR, new Date(Date.now() - 86_400_000), new Date(Date.now() + 60_000)));
  const runCount = async () => (await h.stores.runs.list(CONNECTOR, 1000)).length;

  const idle = () => runsEnded(h, 60_000);

  beforeAll(async () => {
    h = await startHarness({ automaticMapping: false, telemessage: { traffic: { itemsPerDay: 30, hugeAttachments: [] } } });
    server = startServer({ ...h.env, PORT: '0', HOST: '127.0.0.1', ADMIN_OBJECT_IDS: ADMIN });
    url = await server.listening;
    // The server's scheduled run at start ends before anything is counted.
    await idle();
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await h?.close();
  });

  describe('refuses a caller it cannot trust, and changes nothing', () => {
    it.each([
      ['no token', async () => null],
      ['a token signed by another key', async () => forged()],
      ['an expired token', async () => mint({ lifetimeSeconds: -600 })],
      ['a token for another application', async () => mint({ audience: '11111111-2222-4333-8444-555555555555' })],
      ['a token of another tenant', async () => mint({ tenantId: OTHER_TENANT })],
      ['a version 1 token', async () => mint({ version: '1.0' })],
      ['a token without the access_as_user scope', async () => mint({ scopes: ['User.Read'] })],
    ])('%s: 401', async (_what, token) => {
      const before = await settings();
      const auditBefore = await auditText();
      const res = await api('PATCH', '/api/tab/connector', {
        token: await token(),
        body: { automaticMapping: true },
        headers: { 'if-match': (await h.stores.connectors.getOrDefault(CONNECTOR)).etag ?? '' },
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(res.json.error.message).toEqual(expect.any(String));
      expect(await settings()).toEqual(before);
      expect(await auditText()).toBe(auditBefore);
    });

    it('answers 401 without a token on every route, and starts no run', async () => {
      const before = await runCount();
      const routes = [
        ['GET', '/api/tab/me'],
        ['GET', '/api/tab/connector'],
        ['GET', '/api/tab/runs'],
        ['POST', '/api/tab/runs'],
        ['GET', '/api/tab/runs/0000000000000-abcdef12'],
        ['GET', '/api/tab/runs/0000000000000-abcdef12/log.csv'],
        ['POST', '/api/tab/runs/0000000000000-abcdef12/rerun'],
        ['POST', '/api/tab/backfill'],
        ['GET', '/api/tab/unmapped'],
        ['POST', '/api/tab/mapping/numbers'],
        ['DELETE', '/api/tab/mapping/numbers/%2B14155550123'],
        ['POST', '/api/tab/mapping/preview'],
        ['PUT', '/api/tab/mapping'],
        ['GET', '/api/tab/mapping/versions'],
        ['POST', '/api/tab/mapping/restore'],
        ['GET', '/api/tab/mapping.csv'],
        ['GET', '/api/tab/telemessage'],
        ['PUT', '/api/tab/telemessage'],
        ['POST', '/api/tab/preflight'],
        ['PUT', '/api/tab/delivery'],
        ['POST', '/api/tab/delivery/check'],
        ['GET', '/api/tab/audit'],
        ['GET', '/api/tab/stats/daily'],
      ];
      for (const [method, path] of routes) {
        const res = await api(method, path, { token: null, body: method === 'GET' || method === 'DELETE' ? undefined : {} });
        expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 401`);
      }
      expect(await runCount()).toBe(before);
    });

    it('refuses a signed-in user who is not an admin with 403, saying who can grant access', async () => {
      const before = await settings();
      const runsBefore = await runCount();
      const token = await mint({ oid: OTHER_USER, preferredUsername: 'bob@contoso.example' });
      const patch = await api('PATCH', '/api/tab/connector', { token, body: { admins: [OTHER_USER] }, headers: { 'if-match': await etag() } });
      expect(patch.status).toBe(403);
      expect(patch.json.error.code).toBe('NotAnAdmin');
      expect(patch.json.error.message).toContain('bob@contoso.example');
      expect(patch.json.error.message).toContain(OTHER_USER);
      expect(patch.json.error.admins).toEqual([ADMIN]);
      expect(patch.json.error.caller).toMatchObject({ oid: OTHER_USER, username: 'bob@contoso.example' });
      expect((await api('POST', '/api/tab/runs', { token, body: {} })).status).toBe(403);
      expect(await settings()).toEqual(before);
      expect(await runCount()).toBe(runsBefore);
    });
  });

  it('marks every answer nosniff: data, refusals, files and unknown routes', async () => {
    const answers = [
      await api('GET', '/api/tab/me'),
      await api('GET', '/api/tab/me', { token: null }),
      await api('GET', '/api/tab/runs?pageSize=nonsense'),
      await api('GET', '/api/tab/mapping.csv'),
      await api('GET', '/api/tab/no-such-route'),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 401, 400, 200, 404]);
    for (const answer of answers) expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
  });

  describe('for an admin', () => {
    it('GET /api/tab/me names the caller', async () => {
      const res = await api('GET', '/api/tab/me');
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ oid: ADMIN, name: 'Ada Admin', username: 'ada@contoso.example', admin: true });
    });

    it('GET /api/tab/connector gives the settings, status and an ETag, and never the password', async () => {
      const res = await api('GET', '/api/tab/connector');
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe(res.json.etag);
      expect(res.json.telemessage).toEqual({ delivery: 'api', configured: true, username: TM_USER, description: `TeleMessage archive API as ${TM_USER}` });
      expect(res.json.settings.admins).toEqual([ADMIN]);
      expect(res.json.status.lastRun.status).not.toBe('running');
      expect(new Date(res.json.status.nextRunAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(res.text).not.toContain(TM_PASSWORD);
    });

    it('PATCH /api/tab/connector needs If-Match, validates every field, refuses a stale ETag, and then saves', async () => {
      const before = await settings();
      const missing = await api('PATCH', '/api/tab/connector', { body: { scheduleUtc: '03:30' } });
      expect(missing.status).toBe(428);
      const bad = await api('PATCH', '/api/tab/connector', { body: { scheduleUtc: '25:00', admins: ['not-a-guid'], extra: 1 }, headers: { 'if-match': await etag() } });
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe('InvalidRequest');
      expect(bad.json.error.message).toContain('scheduleUtc');
      const empty = await api('PATCH', '/api/tab/connector', { body: { admins: [] }, headers: { 'if-match': await etag() } });
      expect(empty.status).toBe(400);
      expect(empty.json.error.message).toContain('at least one admin');
      const notJson = await fetch(`${url}/api/tab/connector`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${await mint()}`, 'if-match': await etag(), 'content-type': 'application/json' },
        body: '{"scheduleUtc":',
      });
      expect(notJson.status).toBe(400);
      const stale = await api('PATCH', '/api/tab/connector', { body: { scheduleUtc: '03:30' }, headers: { 'if-match': 'W/"datetime\'2020-01-01T00%3A00%3A00Z\'"' } });
      expect(stale.status).toBe(412);
      expect(await settings()).toEqual(before);

      const ok = await api('PATCH', '/api/tab/connector', { body: { scheduleUtc: '03:30', termsAccepted: true, tenantDomains: ['contoso.example'] }, headers: { 'if-match': await etag() } });
      expect(ok.status).toBe(200);
      const after = await settings();
      expect(after.scheduleUtc).toBe('03:30');
      expect(after.tenantDomains).toEqual(['contoso.example']);
      expect(after.termsAcceptedAt).toEqual(expect.any(String));
      expect(ok.json.etag).toBe((await h.stores.connectors.getOrDefault(CONNECTOR)).etag);
      expect(await auditText()).toContain('"actor":"' + ADMIN + '","action":"settings.changed"');
    });

    it('PATCH /api/tab/connector saves the schedule with its time zone and the mapping step, validating both', async () => {
      const before = await settings();
      for (const body of [{ scheduleTimeZone: 'Mars/Olympus_Mons' }, { scheduleTimeZone: 'x'.repeat(65) }, { mappingConfirmed: false }, { scheduleUtc: '7:30', scheduleTimeZone: 'Asia/Tokyo' }]) {
        const res = await api('PATCH', '/api/tab/connector', { body, headers: { 'if-match': await etag() } });
        expect(`${JSON.stringify(body)} ${res.status}`).toBe(`${JSON.stringify(body)} 400`);
        expect(res.json.error.code).toBe('InvalidRequest');
      }
      expect((await api('PATCH', '/api/tab/connector', { body: { scheduleTimeZone: 'Mars/Olympus_Mons' }, headers: { 'if-match': await etag() } })).json.error.message).toContain('IANA time zone');
      expect(await settings()).toEqual(before);

      const ok = await api('PATCH', '/api/tab/connector', {
        body: { scheduleUtc: '00:15', scheduleTimeZone: 'Asia/Tokyo', automaticMapping: false, mappingConfirmed: true },
        headers: { 'if-match': await etag() },
      });
      expect(ok.status).toBe(200);
      expect(ok.json.settings).toMatchObject({ scheduleUtc: '00:15', scheduleTimeZone: 'Asia/Tokyo', automaticMapping: false, mappingConfirmedAt: expect.any(String) });
      expect(await settings()).toMatchObject({ scheduleUtc: '00:15', scheduleTimeZone: 'Asia/Tokyo', mappingConfirmedAt: ok.json.settings.mappingConfirmedAt });
      const restored = await api('PATCH', '/api/tab/connector', {
        body: { scheduleUtc: before.scheduleUtc, scheduleTimeZone: before.scheduleTimeZone, automaticMapping: before.automaticMapping },
        headers: { 'if-match': await etag() },
      });
      expect(restored.status).toBe(200);
    });

    it('PATCH /api/tab/connector finishes the setup only once every step is saved, and refuses untrusted callers first', async () => {
      // A connector whose consent step is not done (as the store would hold it mid-setup).
      const current = await h.stores.connectors.getOrDefault(CONNECTOR);
      const { consentedAt: _c, setupCompletedAt: _f, ...unfinished } = current.value;
      await h.stores.connectors.save(unfinished, current.etag);
      const before = await settings();
      const auditBefore = await auditText();

      const untrusted = [];
      for (const token of [await forged(), await mint({ oid: OTHER_USER })]) {
        untrusted.push((await api('PATCH', '/api/tab/connector', { token, body: { consented: true, setupCompleted: true }, headers: { 'if-match': await etag() } })).status);
      }
      expect(untrusted).toEqual([401, 403]);
      const refused = await api('PATCH', '/api/tab/connector', { body: { setupCompleted: true }, headers: { 'if-match': await etag() } });
      expect(refused.status).toBe(409);
      expect(refused.json.error).toMatchObject({ code: 'SetupIncomplete', missing: ['consent'] });
      expect(refused.json.error.message).toContain('Admin consent');
      expect(await settings()).toEqual(before);
      expect(await auditText()).toBe(auditBefore);

      // The request's own step counts: consent and finish together.
      const ok = await api('PATCH', '/api/tab/connector', { body: { consented: true, setupCompleted: true }, headers: { 'if-match': await etag() } });
      expect(ok.status).toBe(200);
      expect(await settings()).toMatchObject({ consentedAt: expect.any(String), setupCompletedAt: expect.any(String) });
      expect(ok.json.settings.setupCompletedAt).toBe((await settings()).setupCompletedAt);
    });

    it('POST /api/tab/runs starts a run for the caller and answers once it is recorded; like every write, it needs If-Match', async () => {
      const before = await runCount();
      expect((await api('POST', '/api/tab/runs', { body: {} })).status).toBe(428);
      expect((await api('POST', '/api/tab/runs', { body: {}, headers: { 'if-match': 'W/"stale"' } })).status).toBe(412);
      expect(await runCount()).toBe(before);
      const res = await api('POST', '/api/tab/runs', { body: {}, headers: { 'if-match': await etag() } });
      expect(res.status).toBe(202);
      expect(res.json.run).toMatchObject({ trigger: 'manual', requestedBy: ADMIN, status: 'running' });
      await idle();
      const stored = await h.stores.runs.get(CONNECTOR, res.json.run.runId);
      expect(stored.requestedBy).toBe(ADMIN);
      expect(stored.status).not.toBe('running');
    });

    it('GET /api/tab/runs pages through the runs, newest first', async () => {
      const all = await h.stores.runs.list(CONNECTOR, 100);
      expect(all.length).toBeGreaterThanOrEqual(2);
      const first = await api('GET', '/api/tab/runs?pageSize=1');
      expect(first.status).toBe(200);
      expect(first.json.runs.map((r: { runId: string }) => r.runId)).toEqual([all[0].runId]);
      expect(first.json.next).toBe(all[0].runId);
      const second = await api('GET', `/api/tab/runs?pageSize=1&after=${first.json.next}`);
      expect(second.json.runs.map((r: { runId: string }) => r.runId)).toEqual([all[1].runId]);
      const bad = await api('GET', '/api/tab/runs?pageSize=1000');
      expect(bad.status).toBe(400);
      expect((await api('GET', '/api/tab/runs?after=x')).status).toBe(400);
    });

    it('POST /api/tab/runs/:id/rerun replays that run’s window', async () => {
      const [latest] = await h.stores.runs.list(CONNECTOR, 1);
      const before = await runCount();
      expect((await api('POST', '/api/tab/runs/0000000000000-abcdef12/rerun', { body: {} })).status).toBe(404);
      expect(await runCount()).toBe(before);
      expect((await api('POST', `/api/tab/runs/${latest.runId}/rerun`, { body: {} })).status).toBe(428);
      expect(await runCount()).toBe(before);
      const res = await api('POST', `/api/tab/runs/${latest.runId}/rerun`, { body: {}, headers: { 'if-match': await etag() } });
      expect(res.status).toBe(202);
      expect(res.json.run).toMatchObject({ trigger: 'rerun', rerunOf: latest.runId, requestedBy: ADMIN });
      await idle();
    });

    it('POST /api/tab/backfill validates the window, then imports it', async () => {
      const before = await runCount();
      for (const body of [
        { from: '2026-11-24T00:00:00Z', to: '2026-11-23T00:00:00Z' },
        { from: '2026-01-01T00:00:00Z', to: '2026-11-23T00:00:00Z' },
        { from: 'yesterday', to: 'today' },
        { from: '2026-11-23T00:00:00Z', to: '2099-01-01T00:00:00Z' },
      ]) {
        const res = await api('POST', '/api/tab/backfill', { body });
        expect(res.status).toBe(400);
        expect(res.json.error.code).toBe('InvalidRequest');
      }
      expect(await runCount()).toBe(before);
      const window = { from: '2026-11-23T00:00:00Z', to: '2026-11-24T00:00:00Z' };
      expect((await api('POST', '/api/tab/backfill', { body: window, headers: { 'if-match': 'W/"stale"' } })).status).toBe(412);
      expect(await runCount()).toBe(before);
      const res = await api('POST', '/api/tab/backfill', { body: window, headers: { 'if-match': await etag() } });
      expect(res.status).toBe(202);
      expect(res.json.run).toMatchObject({ trigger: 'backfill', window: { from: '2026-11-23T00:00:00.000Z', to: '2026-11-24T00:00:00.000Z' } });
      await idle();
    });

    it('GET /api/tab/runs/:id gives the run with its log rows, and its log as CSV', async () => {
      // The backfill's run: the items of numbers without a mailbox are in its log.
      const withLog = (await h.stores.runs.list(CONNECTOR, 100)).find((r) => r.trigger === 'backfill')!;
      expect(withLog.counts.unmapped).toBeGreaterThan(0);
      const rows: unknown[] = [];
      for await (const row of h.stores.runLog.rows(withLog.runId)) rows.push(row);
      const res = await api('GET', `/api/tab/runs/${withLog.runId}`);
      expect(res.status).toBe(200);
      expect(res.json.run.runId).toBe(withLog.runId);
      expect(res.json.log).toHaveLength(Math.min(rows.length, 500));
      expect(rows.length).toBeGreaterThan(0);

      const csv = await api('GET', `/api/tab/runs/${withLog.runId}/log.csv`);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toContain('text/csv');
      expect(csv.headers.get('content-disposition')).toContain(`run-${withLog.runId}.csv`);
      expect(csv.text.trim().split(/\r?\n/)).toHaveLength(rows.length + 1);

      expect((await api('GET', '/api/tab/runs/0000000000000-abcdef12')).status).toBe(404);
      expect((await api('GET', '/api/tab/runs/0000000000000-abcdef12/log.csv')).status).toBe(404);
      expect((await api('GET', '/api/tab/runs/not-a-run')).status).toBe(400);
    });

    it('GET /api/tab/unmapped and POST /api/tab/mapping/numbers: map a number without a mailbox, refusing bad input unchanged', async () => {
      const report = await api('GET', '/api/tab/unmapped');
      expect(report.status).toBe(200);
      const target = [...report.json.archivedLines, ...report.json.employees][0] as { number: string };
      expect(target).toBeDefined();
      const mailbox = [...h.users][0];
      const versionBefore = (await settings()).mappingVersion;

      expect((await api('POST', '/api/tab/mapping/numbers', { body: { number: target.number, mailbox } })).status).toBe(428);
      const badMailbox = await api('POST', '/api/tab/mapping/numbers', { body: { number: target.number, mailbox: 'not an email' }, headers: { 'if-match': await etag() } });
      expect(badMailbox.status).toBe(400);
      const unknown = await api('POST', '/api/tab/mapping/numbers', { body: { number: target.number, mailbox: 'nobody@contoso.example' }, headers: { 'if-match': await etag() } });
      expect(unknown.status).toBe(422);
      expect(unknown.json.error.code).toBe('UnknownMailbox');
      const badNumber = await api('POST', '/api/tab/mapping/numbers', { body: { number: 'abc-not-a-number', mailbox }, headers: { 'if-match': await etag() } });
      expect(badNumber.status).toBe(422);
      expect(badNumber.json.error.code).toBe('InvalidPhoneNumber');
      expect((await settings()).mappingVersion).toBe(versionBefore);

      const ok = await api('POST', '/api/tab/mapping/numbers', { body: { number: target.number, mailbox }, headers: { 'if-match': await etag() } });
      expect(ok.status).toBe(200);
      expect(ok.json.newlyMapped).toEqual([target.number]);
      const active = await h.stores.mappings.load((await settings()).mappingVersion);
      expect(active.get(target.number)).toBe(mailbox);
      await idle();

      const removed = await api('DELETE', `/api/tab/mapping/numbers/${encodeURIComponent(target.number)}`, { headers: { 'if-match': await etag() } });
      expect(removed.status).toBe(200);
      expect((await h.stores.mappings.load((await settings()).mappingVersion)).has(target.number)).toBe(false);
    });

    it('POST /api/tab/mapping/preview shows the row report and the preview; PUT applies a good file only', async () => {
      const versionBefore = (await settings()).mappingVersion;
      const good = renderMappingCsv(h.staff.slice(0, 8));
      const broken = good + 'not-a-number,someone@contoso.example\r\n14155550100,not-an-email\r\n';

      const report = await api('POST', '/api/tab/mapping/preview', { csv: broken });
      expect(report.status).toBe(200);
      expect(report.json.check.ok).toBe(false);
      expect(report.json.check.problems.map((p: { line: number }) => p.line)).toEqual([10, 11]);
      expect(report.json.reportCsv).toContain('not-a-number');
      const refused = await api('PUT', '/api/tab/mapping', { csv: broken, headers: { 'if-match': await etag() } });
      expect(refused.status).toBe(422);
      expect(refused.json.error.code).toBe('InvalidMappingCsv');
      expect(refused.json.error.problems).toHaveLength(2);
      expect((await settings()).mappingVersion).toBe(versionBefore);

      const preview = await api('POST', '/api/tab/mapping/preview', { csv: good });
      expect(preview.json.check.ok).toBe(true);
      expect(preview.json.diff).toMatchObject({ added: expect.any(Number), removed: expect.any(Number) });
      expect((await settings()).mappingVersion).toBe(versionBefore);

      const applied = await api('PUT', '/api/tab/mapping', { csv: good, headers: { 'if-match': await etag() } });
      expect(applied.status).toBe(200);
      const after = await settings();
      expect(after.mappingVersion).not.toBe(versionBefore);
      expect((await h.stores.mappings.load(after.mappingVersion)).size).toBe(8);
      await idle();
    });

    it('refuses an upload over 8 MiB with 413, and changes nothing', async () => {
      const versionBefore = (await settings()).mappingVersion;
      const big = Buffer.alloc(8 * 1024 * 1024 + 1, 'a');
      const preview = await api('POST', '/api/tab/mapping/preview', { csv: big });
      expect(preview.status).toBe(413);
      expect(preview.json.error.message).toContain('8 MiB');
      expect((await api('PUT', '/api/tab/mapping', { csv: big, headers: { 'if-match': await etag() } })).status).toBe(413);
      expect((await api('PATCH', '/api/tab/connector', { body: { tenantDomains: Array(5000).fill('contoso.example') }, headers: { 'if-match': await etag() } })).status).toBe(413);
      expect((await settings()).mappingVersion).toBe(versionBefore);
    });

    it('lists mapping versions, restores one, and exports the mapping as CSV', async () => {
      const versions = await api('GET', '/api/tab/mapping/versions');
      expect(versions.status).toBe(200);
      const listed = versions.json.versions as { version: string; active: boolean; rows: number }[];
      expect(listed.length).toBeGreaterThanOrEqual(2);
      const earlier = listed.find((v) => !v.active)!;
      expect((await api('POST', '/api/tab/mapping/restore', { body: { version: '../etc' }, headers: { 'if-match': await etag() } })).status).toBe(400);
      expect((await api('POST', '/api/tab/mapping/restore', { body: { version: '0000000000000-00000000' }, headers: { 'if-match': await etag() } })).status).toBe(404);
      const restored = await api('POST', '/api/tab/mapping/restore', { body: { version: earlier.version, confirmRemovals: true }, headers: { 'if-match': await etag() } });
      expect(restored.status).toBe(200);
      const active = await h.stores.mappings.load((await settings()).mappingVersion);
      expect(active.size).toBe(earlier.rows);
      await idle();

      const exported = await api('GET', '/api/tab/mapping.csv');
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toContain('text/csv');
      const lines = exported.text.trim().split(/\r?\n/);
      expect(lines[0]).toBe('External User ID,Microsoft 365 User Mailbox');
      expect(lines).toHaveLength(active.size + 1);
    });

    it('PUT /api/tab/telemessage needs If-Match like every write: without it 428, stale 412, and nothing changes', async () => {
      const before = await settings();
      const auditBefore = await auditText();
      const change = { username: 'someone.else@contoso.example', password: 'another-password-456' };
      const missing = await api('PUT', '/api/tab/telemessage', { body: change });
      expect(missing.status).toBe(428);
      expect(missing.json.error.code).toBe('PreconditionRequired');
      const stale = await api('PUT', '/api/tab/telemessage', { body: change, headers: { 'if-match': 'W/"datetime\'2020-01-01T00%3A00%3A00Z\'"' } });
      expect(stale.status).toBe(412);
      expect(await settings()).toEqual(before);
      expect(await h.secrets.get('telemessage-password')).toBe(TM_PASSWORD);
      expect(await auditText()).toBe(auditBefore);
      expect((await api('GET', '/api/tab/telemessage')).json.description).toBe(`TeleMessage archive API as ${TM_USER}`);
    });

    it('PUT /api/tab/telemessage checks the sign-in with TeleMessage first: a wrong password stores nothing', async () => {
      const before = await settings();
      const wrong = await api('PUT', '/api/tab/telemessage', { body: { username: 'someone.else@contoso.example', password: 'wrong-password-123' }, headers: { 'if-match': await etag() } });
      expect(wrong.status).toBe(422);
      expect(wrong.json.error.code).toBe('SourceAuthFailed');
      expect(wrong.text).not.toContain('wrong-password-123');
      expect(await settings()).toEqual(before);
      expect(await h.secrets.get('telemessage-password')).toBe(TM_PASSWORD);
      expect((await api('PUT', '/api/tab/telemessage', { body: { username: TM_USER }, headers: { 'if-match': await etag() } })).status).toBe(400);

      const ok = await api('PUT', '/api/tab/telemessage', { body: { username: TM_USER, password: TM_PASSWORD }, headers: { 'if-match': await etag() } });
      expect(ok.status).toBe(200);
      expect(ok.json).toEqual({ delivery: 'api', configured: true, username: TM_USER, description: `TeleMessage archive API as ${TM_USER}` });
      expect(ok.text).not.toContain(TM_PASSWORD);
      expect((await api('GET', '/api/tab/telemessage')).json.description).toBe(`TeleMessage archive API as ${TM_USER}`);
      expect(await auditText()).toContain('telemessage.credentials.changed');
      expect(await auditText()).not.toContain(TM_PASSWORD);
    });

    it('POST /api/tab/preflight checks the tenant against the mailbox named', async () => {
      expect((await api('POST', '/api/tab/preflight', { body: { mailbox: 'not a mailbox' } })).status).toBe(400);
      const mailbox = [...h.users][1];
      const res = await api('POST', '/api/tab/preflight', { body: { mailbox } });
      expect(res.status).toBe(200);
      expect(res.json.mailbox).toBe(mailbox);
      expect(res.json.ok).toBe(true);
      expect(res.json.checks.length).toBeGreaterThan(3);
    });

    it('GET /api/tab/audit gives the trail of a window, without secrets', async () => {
      const res = await api('GET', '/api/tab/audit');
      expect(res.status).toBe(200);
      const actions = (res.json.entries as { actor: string; action: string }[]).filter((e) => e.actor === ADMIN).map((e) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['settings.changed', 'run.backfill.requested', 'telemessage.credentials.changed']));
      expect(res.text).not.toContain(TM_PASSWORD);
      expect((await api('GET', '/api/tab/audit?from=2020-01-01T00:00:00Z')).status).toBe(400);
      expect((await api('GET', '/api/tab/audit?to=nonsense')).status).toBe(400);
    });

    it('GET /api/tab/stats/daily gives the items per archive day, kind and outcome the importer recorded; refuses others and bad days unchanged', async () => {
      const DAY = 86_400_000;
      const range = async (days: number) => {
        const today = new Date();
        return JSON.parse(JSON.stringify(await h.stores.dailyCounts.list(CONNECTOR, new Date(today.getTime() - (days - 1) * DAY).toISOString().slice(0, 10), today.toISOString().slice(0, 10))));
      };
      const res = await api('GET', '/api/tab/stats/daily?days=90');
      expect(res.status).toBe(200);
      expect(res.json.days).toHaveLength(90);
      expect(res.json.days).toEqual(await range(90));
      // The backfill above imported 2026-11-23: its items are counted, while that day is in reach.
      if (Date.now() - Date.parse('2026-11-23T00:00:00Z') < 89 * DAY) {
        const day = res.json.days.find((d: { day: string }) => d.day === '2026-11-23');
        const items = Object.values(day.kinds as Record<string, Record<string, number>>).reduce((n, o) => n + o.imported + o.partial + o.failed + o.notImported, 0);
        expect(items).toBeGreaterThan(0);
      }
      const byDefault = await api('GET', '/api/tab/stats/daily');
      expect(byDefault.json.days).toHaveLength(30);
      expect(byDefault.json.days.at(-1).day).toBe(new Date().toISOString().slice(0, 10));

      const before = JSON.stringify(await range(90));
      const runsBefore = await runCount();
      expect((await api('GET', '/api/tab/stats/daily', { token: await forged() })).status).toBe(401);
      const outsider = await api('GET', '/api/tab/stats/daily', { token: await mint({ oid: OTHER_USER }) });
      expect(outsider.status).toBe(403);
      expect(outsider.text).not.toContain('"days"');
      for (const q of ['days=0', 'days=91', 'days=x', 'days=2.5', 'days=30&kind=sms']) {
        const bad = await api('GET', `/api/tab/stats/daily?${q}`);
        expect(`${q} ${bad.status} ${bad.json.error.code}`).toBe(`${q} 400 InvalidRequest`);
      }
      expect((await api('GET', '/api/tab/stats/daily?days=91')).json.error.message).toContain('days');
      expect(JSON.stringify(await range(90))).toBe(before);
      expect(await runCount()).toBe(runsBefore);
    });
  });

  describe('the tab pages', () => {
    it.each(['index.html', 'privacy.html', 'terms.html'])('serves /tab/%s framed only by Teams and Microsoft 365', async (page) => {
      const res = await fetch(`${url}/tab/${page}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      const csp = res.headers.get('content-security-policy') ?? '';
      const ancestors = csp
        .split(';')
        .map((d) => d.trim())
        .find((d) => d.startsWith('frame-ancestors'))!;
      expect(ancestors.split(' ').slice(1)).toEqual(expect.arrayContaining(['https://teams.microsoft.com', 'https://*.cloud.microsoft']));
      expect(ancestors).not.toMatch(/\*(\s|$)|'self'|http:/);
      expect(csp).toContain("script-src 'self'");
    });

    it('sends the bundle compressed, its hashed chunks kept a year, the rest checked again by ETag', async () => {
      const page = await (await fetch(`${url}/tab/index.html`)).text();
      const entry = /src="(\/tab\/assets\/app\.js)"/.exec(page)?.[1];
      expect(entry).toBeDefined();
      const app = await fetch(`${url}${entry}`, { headers: { 'accept-encoding': 'gzip' } });
      const code = await app.text(); // fetch inflates it
      expect(app.headers.get('content-encoding')).toBe('gzip');
      expect(Number(app.headers.get('content-length'))).toBeLessThan(code.length / 2);
      expect(app.headers.get('cache-control')).toBe('no-cache');
      // Unchanged, the entry is not sent again.
      const again = await fetch(`${url}${entry}`, { headers: { 'if-none-match': app.headers.get('etag')! } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');

      const chunk = /from"\.\/(chunk-[A-Z0-9]+\.js)"/.exec(code)?.[1];
      expect(chunk).toBeDefined();
      const shared = await fetch(`${url}/tab/assets/${chunk}`);
      expect(shared.status).toBe(200);
      expect(shared.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      // A client that takes no gzip gets the file as it is.
      const plain = await fetch(`${url}/tab/assets/${chunk}`, { headers: { 'accept-encoding': 'identity' } });
      expect(plain.headers.get('content-encoding')).toBeNull();
      expect(await plain.text()).toBe(await shared.text());
    });

    it('publishes what the page needs to sign in, and nothing secret', async () => {
      const res = await fetch(`${url}/tab/config.json`);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ clientId: APP.clientId, tenantId: TENANT, authorityHost: h.signin.authorityHost, localDevUnauthenticated: false });
      expect(text).not.toContain(APP.clientSecret);
    });
  });

  async function forged(): Promise<string> {
    const { privateKey } = await generateKeyPair('RS256');
    return new SignJWT({ oid: ADMIN, tid: TENANT, scp: 'access_as_user', ver: '2.0' })
      .setProtectedHeader({ alg: 'RS256', kid: 'attacker-key' })
      .setIssuer(h.signin.issuer(TENANT))
      .setAudience(APP.clientId)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  }
});
