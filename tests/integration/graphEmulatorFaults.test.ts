import { setTimeout as sleep } from 'node:timers/promises';
import { Client, FileUpload, LargeFileUploadTask } from '@microsoft/microsoft-graph-client';
import { startGraphEmulator, GraphEmulator } from '../../emulators/graph/server';

// Injected failures: 5xx, 429 storms, timeouts and responses lost after the work was done.
const MB = 1024 * 1024;
const ARCHIVE_KEY = 'String {00020329-0000-0000-C000-000000000046} Name ArchiveKey';
const SUSAN = { id: '99999999-0000-0000-0000-000000000001', userPrincipalName: 'susan@contoso.com', mail: 'susan@contoso.com', displayName: 'Susan' };

let emulator: GraphEmulator;
let client: Client;

const request = (method: string, path: string, body?: unknown) =>
  fetch(`${emulator.url}${path}`, {
    method,
    headers: { Authorization: 'Bearer local', ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

const archived = (key: string) => ({
  subject: key,
  singleValueExtendedProperties: [
    { id: 'Integer 0x0E07', value: '1' },
    { id: ARCHIVE_KEY, value: key },
  ],
});

async function lookup(key: string): Promise<string[]> {
  const page = await client.api(`/users/${SUSAN.id}/messages`).filter(`singleValueExtendedProperties/any(ep: ep/id eq '${ARCHIVE_KEY}' and ep/value eq '${key}')`).get();
  return page.value.map((m: { id: string }) => m.id);
}

beforeAll(async () => {
  // A small time scale keeps Retry-After short, so the SDK's retries stay quick.
  emulator = await startGraphEmulator({ auth: { mode: 'none' }, users: [SUSAN], timeScale: 0.01 });
  client = Client.initWithMiddleware({ authProvider: { getAccessToken: async () => 'local' }, baseUrl: emulator.url, customHosts: new Set(['localhost']) });
});

afterAll(() => emulator.close());

beforeEach(() => emulator.reset());

it('answers the next N requests with 503 and Retry-After, then serves again; the SDK retries through', async () => {
  emulator.addFault({ kind: 'error', status: 503, count: 2, retryAfterSeconds: 0.05 });
  const first = await request('GET', `/v1.0/users/${SUSAN.id}`);
  expect(first.status).toBe(503);
  expect(first.headers.get('retry-after')).toBe('0.05');
  expect((await first.json()).error.code).toBe('ServiceUnavailable');
  const folder = await client.api(`/users/${SUSAN.id}/mailFolders`).post({ displayName: 'After the outage' });
  expect(folder.displayName).toBe('After the outage');
  expect(emulator.stats().refused.injected503).toBe(2);
});

it('fails a seeded fraction of requests the same way on every run', async () => {
  const run = async () => {
    emulator.reset();
    emulator.reseedFaults(42);
    emulator.addFault({ kind: 'error', status: 500, fraction: 0.3, operations: ['getUser'] });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await request('GET', `/v1.0/users/${SUSAN.id}`)).status);
    return statuses;
  };
  const first = await run();
  expect(first).toContain(500);
  expect(first).toContain(200);
  expect(await run()).toEqual(first);
});

it('takes fault rules over HTTP under /_emulator/faults, e.g. 504 for one operation', async () => {
  const set = await fetch(`${emulator.url}/_emulator/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ rules: [{ kind: 'error', status: 504, count: 1, operations: ['listFolders'] }] }),
  });
  expect(set.status).toBe(200);
  expect((await request('GET', `/v1.0/users/${SUSAN.id}`)).status).toBe(200);
  expect((await request('GET', `/v1.0/users/${SUSAN.id}/mailFolders`)).status).toBe(504);
  expect((await request('GET', `/v1.0/users/${SUSAN.id}/mailFolders`)).status).toBe(200);
  const bad = await fetch(`${emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ rules: [{ kind: 'meteor' }] }) });
  expect(bad.status).toBe(400);
});

it('answers every request with 429 during a storm, and serves again after it', async () => {
  const started = await fetch(`${emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ stormSeconds: 0.5 }) });
  expect(started.status).toBe(200);
  const statuses = await Promise.all([1, 2, 3].map(() => request('GET', `/v1.0/users/${SUSAN.id}`).then((r) => r.status)));
  expect(statuses).toEqual([429, 429, 429]);
  const during = await request('GET', `/v1.0/users/${SUSAN.id}/mailFolders`);
  const wait = Number(during.headers.get('retry-after'));
  expect(wait).toBeGreaterThan(0);
  expect(wait).toBeLessThanOrEqual(0.5);
  await sleep(wait * 1000);
  expect((await request('GET', `/v1.0/users/${SUSAN.id}`)).status).toBe(200);
  expect(emulator.stats().refused.storm).toBe(4);
});

it('holds a request and resets the connection on a timeout, without doing the work', async () => {
  emulator.addFault({ kind: 'timeout', holdMs: 200, count: 1, operations: ['createFolder'] });
  await expect(request('POST', `/v1.0/users/${SUSAN.id}/mailFolders`, { displayName: 'Timed out' })).rejects.toThrow();
  expect(emulator.mailbox(SUSAN.id).folders.map((f) => f.displayName)).not.toContain('Timed out');
  expect((await request('POST', `/v1.0/users/${SUSAN.id}/mailFolders`, { displayName: 'Timed out' })).status).toBe(201);
  expect(emulator.stats().refused.timeouts).toBe(1);
});

it('creates the message but loses the response; the idempotency lookup then finds the one copy', async () => {
  emulator.addFault({ kind: 'lostResponse', count: 1 });
  await expect(client.api(`/users/${SUSAN.id}/mailFolders/inbox/messages`).post(archived('lost-1'))).rejects.toThrow();
  const found = await lookup('lost-1');
  expect(found).toHaveLength(1);
  expect(emulator.mailbox(SUSAN.id).messages).toHaveLength(1);
  expect(emulator.stats().lostResponses).toBe(1);
});

it('loses a whole batch response when an inner create loses its response', async () => {
  emulator.addFault({ kind: 'lostResponse', count: 1, operations: ['createMessage'] });
  const requests = ['b-1', 'b-2'].map((key) => ({
    id: key,
    method: 'POST',
    url: `/users/${SUSAN.id}/mailFolders/inbox/messages`,
    headers: { 'Content-Type': 'application/json' },
    body: archived(key),
  }));
  await expect(request('POST', '/v1.0/$batch', { requests })).rejects.toThrow();
  expect(await lookup('b-1')).toHaveLength(1);
  expect(await lookup('b-2')).toHaveLength(1);
});

it('keeps uploaded ranges whose responses were lost, and attaches the file after the last one', async () => {
  const message = await client.api(`/users/${SUSAN.id}/mailFolders/inbox/messages`).post(archived('upload'));
  const bytes = Buffer.alloc(5 * MB, 3);
  const session = await LargeFileUploadTask.createUploadSession(client, `/users/${SUSAN.id}/messages/${message.id}/attachments/createUploadSession`, {
    AttachmentItem: { attachmentType: 'file', name: 'call.wav', size: bytes.length },
  });
  emulator.addFault({ kind: 'lostResponse', count: 1, operations: ['uploadChunk'] });
  // The first range succeeds, except its response is lost; the SDK gives up, the bytes are in.
  await expect(new LargeFileUploadTask(client, new FileUpload(bytes, 'call.wav', bytes.length), session, { rangeSize: 4 * MB }).upload()).rejects.toThrow();
  const state = await (await fetch(session.url)).json();
  expect(state.nextExpectedRanges).toEqual([String(4 * MB)]);
  emulator.addFault({ kind: 'lostResponse', count: 1, operations: ['uploadChunk'] });
  const last = fetch(session.url, {
    method: 'PUT',
    headers: { 'Content-Range': `bytes ${4 * MB}-${5 * MB - 1}/${5 * MB}` },
    body: bytes.subarray(4 * MB),
  });
  await expect(last).rejects.toThrow('fetch failed');
  expect(emulator.mailbox(SUSAN.id).messages[0].attachments).toEqual([expect.objectContaining({ name: 'call.wav', size: 5 * MB })]);
  expect((await fetch(session.url)).status).toBe(404);
});

it('resets mailboxes, counters and faults over HTTP', async () => {
  await client.api(`/users/${SUSAN.id}/mailFolders`).post({ displayName: 'Gone after reset' });
  emulator.addFault({ kind: 'error', status: 500 });
  expect((await fetch(`${emulator.url}/_emulator/reset`, { method: 'POST' })).status).toBe(204);
  const snapshot = await (await fetch(`${emulator.url}/_emulator/mailboxes/${SUSAN.userPrincipalName}`)).json();
  expect(snapshot.folders.map((f: { displayName: string }) => f.displayName)).not.toContain('Gone after reset');
  expect((await request('GET', `/v1.0/users/${SUSAN.id}`)).status).toBe(200);
  const stats = await (await fetch(`${emulator.url}/_emulator/stats`)).json();
  expect(stats.served.total).toBe(1);
});
