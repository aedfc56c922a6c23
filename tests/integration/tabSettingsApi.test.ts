import { CONNECTOR, harnessUserId, runsEnded, startHarness, type Harness } from '../support/importerHarness';
import { startServer, type ServerProcess } from '../support/serverProcess';
import { tabApiCaller } from '../support/tabApiCaller';

// The settings the tab's API keeps beside the setup: the admins by display name (Graph's, from the
// emulator's directory), added and removed with If-Match, never the last; the audit trail in
// words and as CSV. Authentication is on: every token comes from the sign-in emulator.
const ADMIN = harnessUserId(0);
const OUTSIDER = '9b2e7f10-6c4d-4a8e-b1f3-2d5c6e7f8a90';

describe("the tab API's settings and audit trail", () => {
  let h: Harness;
  let server: ServerProcess;
  let url: string;
  let adminName: string;
  let colleague: { mailbox: string; name: string };

  const api = tabApiCaller(
    () => h,
    () => url,
    { oid: ADMIN, name: 'Signed-in user', preferredUsername: 'someone@contoso.example' },
  );
  const { mint, etag } = api;
  const admins = async () => (await h.stores.connectors.getOrDefault(CONNECTOR)).value.admins;
  const trail = () => h.stores.audit.list(CONNECTOR, new Date(Date.now() - 86_400_000), new Date(Date.now() + 60_000));

  beforeAll(async () => {
    h = await startHarness({ automaticMapping: false, telemessage: { traffic: { itemsPerDay: 6, hugeAttachments: [] } } });
    const staff = h.telemessage.population.employees;
    adminName = `${staff[0].firstName} ${staff[0].lastName}`;
    colleague = { mailbox: staff[1].mailbox, name: `${staff[1].firstName} ${staff[1].lastName}` };
    server = startServer({ ...h.env, PORT: '0', HOST: '127.0.0.1', ADMIN_OBJECT_IDS: ADMIN });
    url = await server.listening;
    await runsEnded(h, 60_000);
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await h?.close();
  });

  it('refuses every settings and audit route without a token, changing nothing', async () => {
    const before = await admins();
    for (const [method, path] of [
      ['GET', '/api/tab/admins'],
      ['POST', '/api/tab/admins'],
      ['DELETE', `/api/tab/admins/${ADMIN}`],
      ['GET', '/api/tab/audit'],
      ['GET', '/api/tab/audit.csv'],
    ]) {
      const res = await fetch(`${url}${path}`, { method, headers: { 'if-match': '*' } });
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 401`);
    }
    expect(await admins()).toEqual(before);
  });

  it('lists the admins by their display name from Microsoft 365', async () => {
    const res = await api('GET', '/api/tab/admins');
    expect(res.status).toBe(200);
    expect(res.json.admins).toEqual([{ id: ADMIN, displayName: adminName, userPrincipalName: h.telemessage.population.employees[0].mailbox }]);
  });

  it('adds an admin by email only with the current ETag (428 without, 412 stale), shown by name and audited', async () => {
    const before = await admins();
    const missing = await api('POST', '/api/tab/admins', { body: { user: colleague.mailbox } });
    expect(missing.status).toBe(428);
    const stale = await api('POST', '/api/tab/admins', { body: { user: colleague.mailbox }, etag: 'W/"datetime\'2020-01-01T00%3A00%3A00.0000000Z\'"' });
    expect(stale.status).toBe(412);
    const unknown = await api('POST', '/api/tab/admins', { body: { user: 'nobody@contoso.example' }, etag: await etag() });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.message).toBe('Microsoft 365 has no user nobody@contoso.example: check the address or the object id.');
    expect(await admins()).toEqual(before);

    const added = await api('POST', '/api/tab/admins', { body: { user: colleague.mailbox.toUpperCase() }, etag: await etag() });
    expect(added.status).toBe(200);
    expect(added.json.added).toMatchObject({ id: harnessUserId(1), displayName: colleague.name });
    expect(added.json.admins.map((a: { displayName: string }) => a.displayName)).toEqual([adminName, colleague.name]);
    expect(await admins()).toEqual([ADMIN, harnessUserId(1)]);
    const entry = (await trail()).find((e) => e.action === 'admins.added');
    expect(entry).toMatchObject({ actor: ADMIN, detail: { admin: harnessUserId(1), displayName: colleague.name } });
  });

  it('removes an admin, and refuses to remove the last one with a reason, changing nothing', async () => {
    const removed = await api('DELETE', `/api/tab/admins/${harnessUserId(1)}`, { etag: await etag() });
    expect(removed.status).toBe(200);
    expect(removed.json.admins.map((a: { id: string }) => a.id)).toEqual([ADMIN]);
    expect((await trail()).some((e) => e.action === 'admins.removed' && e.detail?.admin === harnessUserId(1))).toBe(true);

    const last = await api('DELETE', `/api/tab/admins/${ADMIN}`, { etag: await etag() });
    expect(last.status).toBe(409);
    expect(last.json.error).toMatchObject({ code: 'LastAdmin', message: "This is the connector's only admin: add another admin first, then remove this one." });
    expect(await admins()).toEqual([ADMIN]);
    expect((await api('DELETE', `/api/tab/admins/${ADMIN}`)).status).toBe(428);
  });

  it('names the admins to someone who is not one', async () => {
    const refused = await api('GET', '/api/tab/connector', { oid: OUTSIDER });
    expect(refused.status).toBe(403);
    expect(refused.json.error.adminNames).toEqual({ [ADMIN]: adminName });
  });

  it('reads the audit trail in words, with names, and exports it as spreadsheet-safe CSV', async () => {
    const patched = await api('PATCH', '/api/tab/connector', { body: { defaultCountry: 'GB', scheduleUtc: '03:00' }, etag: await etag() });
    expect(patched.status).toBe(200);
    expect(patched.json.settings.defaultCountry).toBe('GB');
    // An actor recorded as a formula (whatever wrote it) must not run in a spreadsheet.
    await h.stores.audit.append({ actor: '=HYPERLINK("http://example.invalid")', action: 'run.rerun.requested', connectorId: CONNECTOR, detail: { rerunOf: 'r1' } });

    const audit = await api('GET', '/api/tab/audit');
    expect(audit.status).toBe(200);
    const texts = audit.json.entries.map((e: { text: string }) => e.text);
    expect(texts).toContain(`${adminName} changed the schedule from 02:00 to 03:00 UTC and changed the default country from none to GB`);
    expect(texts).toContain(`${adminName} added ${colleague.name} as an admin`);
    expect(texts).toContain(`${adminName} removed ${colleague.name} from the admins`);
    expect(audit.json.entries.find((e: { text: string }) => e.text.includes('default country')).who).toBe(adminName);

    const res = await fetch(`${url}/api/tab/audit.csv`, { headers: { authorization: `Bearer ${await mint()}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('When (UTC),Who,Who (object id),Action,What happened');
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^[^,]+,${adminName},${ADMIN},settings\\.changed,${adminName} changed the schedule from 02:00 to 03:00 UTC and changed the default country from none to GB$`)),
    );
    const formula = lines.find((l) => l.includes('HYPERLINK'))!;
    expect(formula).toContain(`"'=HYPERLINK(""http://example.invalid"")"`);
    expect(formula).not.toMatch(/,=/);
  });
});
