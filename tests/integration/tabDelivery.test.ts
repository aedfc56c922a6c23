import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { uploadBadZip } from '../../emulators/telemessage/zipCrafting';
import { zipName } from '../../emulators/telemessage/zipDrop';
import { CAPTURE, deliverWindow } from '../support/captureDelivery';
import { CONNECTOR, TM_USER, runsEnded, startHarness, type Harness } from '../support/importerHarness';
import { startServer, type ServerProcess } from '../support/serverProcess';
import { tabApiCaller } from '../support/tabApiCaller';

// The setup's TeleMessage step over the tab's API, in the server as its own process with
// authentication on: choosing how TeleMessage delivers (stored with If-Match, audited) and the
// read-only preflight of a capture mailbox (Graph emulator) and of the SFTP landing container (Azurite).
const ADMIN = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const LANDING = 'tmdrop';

describe('the tab API: how TeleMessage delivers', () => {
  let h: Harness;
  let server: ServerProcess;
  let url: string;
  let container: ContainerClient;

  const api = tabApiCaller(
    () => h,
    () => url,
    { oid: ADMIN, name: 'Ada Admin' },
  );
  const { etag } = api;

  const settings = async () => (await h.stores.connectors.getOrDefault(CONNECTOR)).value;
  const audit = () => h.stores.audit.list(CONNECTOR, new Date(Date.now() - 86_400_000), new Date(Date.now() + 60_000));
  // What the capture mailbox holds, as its owner would see it: ids, folders, read state.
  const captureView = () => h.graph.mailbox(CAPTURE).messages.map((m) => ({ id: m.id, folder: m.folderPath, isRead: m.isRead }));

  beforeAll(async () => {
    h = await startHarness({ captureMailbox: CAPTURE, telemessage: { traffic: { itemsPerDay: 20, hugeAttachments: [] } } });
    container = BlobServiceClient.fromConnectionString(h.azurite.connectionString).getContainerClient(LANDING);
    await container.createIfNotExists();
    server = startServer({ ...h.env, PORT: '0', HOST: '127.0.0.1', ADMIN_OBJECT_IDS: ADMIN, SFTP_STORAGE_CONNECTION_STRING: h.azurite.connectionString, SFTP_CONTAINER: LANDING });
    url = await server.listening;
    await runsEnded(h, 60_000);
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await h?.close();
  });

  it('refuses both routes without a token, and changes nothing', async () => {
    const before = await settings();
    expect((await api('PUT', '/api/tab/delivery', { token: null, body: { delivery: 'sftp' }, etag: await etag() })).status).toBe(401);
    expect((await api('POST', '/api/tab/delivery/check', { token: null, body: { delivery: 'sftp' } })).status).toBe(401);
    expect(await settings()).toEqual(before);
  });

  it('PUT /api/tab/delivery needs If-Match (428 without, 412 stale), refuses bad input with its reason, and stores nothing then', async () => {
    const before = await settings();
    const stale = await etag();
    await h.stores.connectors.save({ ...before, folderName: before.folderName }, (await h.stores.connectors.getOrDefault(CONNECTOR)).etag);

    const missing = await api('PUT', '/api/tab/delivery', { body: { delivery: 'smtp', captureMailbox: CAPTURE } });
    expect(missing.status).toBe(428);
    expect(missing.json.error.code).toBe('PreconditionRequired');
    const old = await api('PUT', '/api/tab/delivery', { body: { delivery: 'smtp', captureMailbox: CAPTURE }, etag: stale });
    expect(old.status).toBe(412);
    expect(old.json.error.message).toMatch(/changed by someone else/);

    const noMailbox = await api('PUT', '/api/tab/delivery', { body: { delivery: 'smtp' }, etag: await etag() });
    expect(noMailbox.status).toBe(400);
    expect(noMailbox.json.error.message).toMatch(/captureMailbox/);
    const notAddress = await api('PUT', '/api/tab/delivery', { body: { delivery: 'smtp', captureMailbox: 'not an address' }, etag: await etag() });
    expect(notAddress.status).toBe(400);
    const unknown = await api('PUT', '/api/tab/delivery', { body: { delivery: 'ftp' }, etag: await etag() });
    expect(unknown.status).toBe(400);
    expect((await settings()).delivery).toBeUndefined();
  });

  it('chooses SMTP: the connector names the capture mailbox, the change is audited, and the setup counts the step as done without a TeleMessage password', async () => {
    // A connector that never signed in to TeleMessage, its setup not finished yet.
    const { value, etag: stored } = await h.stores.connectors.getOrDefault(CONNECTOR);
    const { telemessageUsername: _u, telemessageSecretName: _s, setupCompletedAt: _f, ...unsigned } = value;
    await h.stores.connectors.save(unsigned, stored);
    expect((await api('GET', '/api/tab/connector')).json.telemessage.configured).toBe(false);

    const res = await api('PUT', '/api/tab/delivery', { body: { delivery: 'smtp', captureMailbox: CAPTURE.toUpperCase() }, etag: await etag() });
    expect(res.status).toBe(200);
    expect(res.json.telemessage).toEqual({ delivery: 'smtp', configured: true, captureMailbox: CAPTURE, description: `SMTP capture mailbox ${CAPTURE}` });
    expect(await settings()).toMatchObject({ delivery: 'smtp', captureMailbox: CAPTURE });
    const change = (await audit()).filter((e) => e.action === 'settings.changed').at(-1)!;
    expect(change).toMatchObject({ actor: ADMIN, after: expect.objectContaining({ delivery: 'smtp', captureMailbox: CAPTURE }) });
    expect((await api('GET', '/api/tab/telemessage')).json.description).toBe(`SMTP capture mailbox ${CAPTURE}`);
    const finished = await api('PATCH', '/api/tab/connector', { body: { setupCompleted: true }, etag: await etag() });
    expect(finished.status).toBe(200);
    expect((await settings()).setupCompletedAt).toEqual(expect.any(String));
  });

  it('POST /api/tab/delivery/check reads the capture mailbox (a delta read, one $value), says how many emails wait, and changes nothing', async () => {
    const empty = await api('POST', '/api/tab/delivery/check', { body: { delivery: 'smtp', captureMailbox: CAPTURE } });
    expect(empty.status).toBe(200);
    expect(empty.json).toMatchObject({
      delivery: 'smtp',
      ok: true,
      waiting: 0,
      checks: [
        { name: 'captureMailboxDelta', status: 'passed' },
        { name: 'captureMailboxMime', status: 'skipped' },
      ],
    });

    const day = h.telemessage.listExpected('2026-11-23T00:00:00Z', '2026-11-25T00:00:00Z');
    const sent = (await deliverWindow(h, day[0].archivedAt, day[4].archivedAt)).length;
    expect(sent).toBeGreaterThan(1);
    const before = captureView();
    const cursorBefore = await h.stores.connectors.getCursor(CONNECTOR, 'smtp');

    const checked = await api('POST', '/api/tab/delivery/check', { body: { delivery: 'smtp', captureMailbox: CAPTURE } });
    expect(checked.json).toMatchObject({ ok: true, waiting: sent });
    expect(checked.json.checks[0].detail).toBe(`${sent} emails waiting to be collected.`);
    expect(checked.json.checks[1]).toMatchObject({ name: 'captureMailboxMime', status: 'passed', detail: expect.stringMatching(/^Read \d+ bytes of MIME\.$/) });
    // Read-only: the mailbox keeps every email, nothing was collected, the cursor did not move.
    expect(captureView()).toEqual(before);
    expect(before).toHaveLength(sent);
    expect(await h.stores.connectors.getCursor(CONNECTOR, 'smtp')).toEqual(cursorBefore);
    const inbox = [];
    for await (const entry of h.stores.inbox.list(CONNECTOR, { from: new Date(Date.now() - 2 * 86_400_000), to: new Date(Date.now() + 86_400_000) })) inbox.push(entry);
    expect(inbox).toHaveLength(0);

    const stranger = await api('POST', '/api/tab/delivery/check', { body: { delivery: 'smtp', captureMailbox: 'nobody@contoso.example' } });
    expect(stranger.json).toMatchObject({ ok: false, checks: [{ name: 'captureMailboxDelta', status: 'failed', detail: expect.stringMatching(/404/) }, { status: 'skipped' }] });
  });

  it('chooses SFTP: shows the host, user and container to give TeleMessage; the check lists the container and reads the newest ZIP manifest, refusing a bad one with its reason', async () => {
    const res = await api('PUT', '/api/tab/delivery', { body: { delivery: 'sftp' }, etag: await etag() });
    expect(res.status).toBe(200);
    expect(res.json.telemessage).toMatchObject({
      delivery: 'sftp',
      configured: true,
      description: `SFTP container ${LANDING}`,
      sftp: { container: LANDING, username: 'devstoreaccount1.telemessage' },
    });

    const empty = await api('POST', '/api/tab/delivery/check', { body: { delivery: 'sftp' } });
    expect(empty.json).toMatchObject({
      delivery: 'sftp',
      ok: true,
      waiting: 0,
      checks: [
        { name: 'landingList', status: 'passed' },
        { name: 'landingManifest', status: 'skipped' },
      ],
    });

    const items = h.telemessage.listExpected('2026-11-23T00:00:00Z', '2026-11-25T00:00:00Z');
    const dropped = await h.telemessage.deliverZips(container, '2026-11-23T00:00:00Z', '2026-11-25T00:00:00Z', { maxItemsPerZip: 5, zippedAt: new Date('2026-12-01T10:00:00Z') });
    expect(dropped.length).toBeGreaterThan(1);
    const good = await api('POST', '/api/tab/delivery/check', { body: { delivery: 'sftp' } });
    expect(good.json).toMatchObject({ ok: true, waiting: dropped.length });
    expect(good.json.checks[1]).toMatchObject({ status: 'passed', title: expect.stringContaining(dropped.at(-1)!.name) });
    expect(good.json.checks[1].detail).toMatch(/^The manifest's Count: \d+ matches the \d+ EML files it lists\.$/);

    const emls = items.slice(0, 2).map((item) => ({ name: `${item.id}.eml`, bytes: Buffer.from(item.id) }));
    const bad = zipName(new Date('2026-12-02T10:00:00Z'), 1);
    await uploadBadZip(container, bad, 'count-too-high', emls);
    const refused = await api('POST', '/api/tab/delivery/check', { body: { delivery: 'sftp' } });
    expect(refused.json).toMatchObject({ ok: false, waiting: dropped.length + 1 });
    expect(refused.json.checks[1]).toMatchObject({ status: 'failed', title: expect.stringContaining(bad), detail: expect.stringMatching(/Count/) });
    // Nothing was set aside or taken: the check only reads.
    const names = [];
    for await (const blob of container.listBlobsFlat()) names.push(blob.name);
    expect(names).toContain(bad);
    expect(names.some((n) => n.startsWith('rejected/'))).toBe(false);
  });

  it('chooses the archive API again: not set up until signed in, then named by its TeleMessage user', async () => {
    const unsigned = await api('PUT', '/api/tab/delivery', { body: { delivery: 'api' }, etag: await etag() });
    expect(unsigned.json.telemessage).toEqual({ delivery: 'api', configured: false, description: 'TeleMessage archive API, not signed in yet' });
    const { value, etag: stored } = await h.stores.connectors.getOrDefault(CONNECTOR);
    await h.stores.connectors.save({ ...value, telemessageUsername: TM_USER, telemessageSecretName: 'telemessage-password' }, stored);
    const res = await api('PUT', '/api/tab/delivery', { body: { delivery: 'api' }, etag: await etag() });
    expect(res.status).toBe(200);
    expect(res.json.telemessage).toEqual({ delivery: 'api', configured: true, username: TM_USER, description: `TeleMessage archive API as ${TM_USER}` });
    const checked = await api('POST', '/api/tab/delivery/check', { body: { delivery: 'api' } });
    expect(checked.status).toBe(400);
  });
});
