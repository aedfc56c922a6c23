import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@microsoft/microsoft-graph-client';
import { startGraphEmulator, GraphEmulator, GraphEmulatorOptions } from '../../emulators/graph/server';

// Outlook's per-(app, mailbox) limits: concurrency, request rate and upload volume.
const SUSAN = { id: 'eeeeeeee-0000-0000-0000-000000000001', userPrincipalName: 'susan@contoso.com', mail: 'susan@contoso.com', displayName: 'Susan' };
const BOB = { id: 'eeeeeeee-0000-0000-0000-000000000002', userPrincipalName: 'bob@contoso.com', mail: 'bob@contoso.com', displayName: 'Bob' };

const running: GraphEmulator[] = [];

async function emulatorWith(options: Partial<GraphEmulatorOptions>): Promise<GraphEmulator> {
  const emulator = await startGraphEmulator({ auth: { mode: 'none' }, users: [SUSAN, BOB], ...options });
  running.push(emulator);
  return emulator;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

const get = (emulator: GraphEmulator, path: string) => fetch(`${emulator.url}/v1.0${path}`, { headers: { Authorization: 'Bearer local' } });

const postAttachment = (emulator: GraphEmulator, messageId: string, bytes: number) =>
  fetch(`${emulator.url}/v1.0/users/${SUSAN.id}/messages/${messageId}/attachments`, {
    method: 'POST',
    headers: { Authorization: 'Bearer local', 'Content-Type': 'application/json' },
    body: JSON.stringify({ '@odata.type': '#microsoft.graph.fileAttachment', name: 'a.bin', contentBytes: Buffer.alloc(bytes, 1).toString('base64') }),
  });

it('refuses a fifth concurrent request to one mailbox with 429 MailboxConcurrency and a whole-second Retry-After', async () => {
  // Each request holds its slot long enough for all six to overlap.
  const emulator = await emulatorWith({ latencyMs: 1500 });
  const responses = await Promise.all(Array.from({ length: 6 }, () => get(emulator, `/users/${SUSAN.id}/mailFolders`)));
  const statuses = responses.map((r) => r.status).sort();
  expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  const refused = responses.filter((r) => r.status === 429);
  for (const response of refused) {
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ error: { code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' } });
  }
  expect(emulator.stats().refused.concurrency).toBe(2);
});

it('limits requests per window, says when the window frees, and lets the request through then', async () => {
  // 600 s scaled by 0.002 is a 1.2 s window.
  const emulator = await emulatorWith({ timeScale: 0.002, limits: { requestsPerWindow: 5 } });
  for (let i = 0; i < 5; i++) expect((await get(emulator, `/users/${SUSAN.id}/mailFolders`)).status).toBe(200);
  const refused = await get(emulator, `/users/${SUSAN.id}/mailFolders`);
  expect(refused.status).toBe(429);
  expect((await refused.json()).error.message).toBe('Application is over its MailboxRequests limit.');
  const retryAfter = Number(refused.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(1.2);
  expect((await get(emulator, `/users/${BOB.id}/mailFolders`)).status).toBe(200);
  await sleep(retryAfter * 1000);
  expect((await get(emulator, `/users/${SUSAN.id}/mailFolders`)).status).toBe(200);
});

it('is honoured by the Graph SDK retry handler, which reads fractional Retry-After', async () => {
  const emulator = await emulatorWith({ timeScale: 0.001, limits: { requestsPerWindow: 3 } });
  const client = Client.initWithMiddleware({ authProvider: { getAccessToken: async () => 'local' }, baseUrl: emulator.url, customHosts: new Set(['localhost']) });
  for (let i = 0; i < 6; i++) {
    const folders = await client.api(`/users/${SUSAN.id}/mailFolders`).get();
    expect(folders.value.length).toBeGreaterThan(0);
  }
  expect(emulator.stats().refused.rate).toBeGreaterThan(0);
});

it('limits uploaded bytes per window with 429 IncomingBytes', async () => {
  const emulator = await emulatorWith({ timeScale: 0.002, limits: { uploadBytesPerWindow: 1024 * 1024 } });
  const created = await fetch(`${emulator.url}/v1.0/users/${SUSAN.id}/mailFolders/inbox/messages`, {
    method: 'POST',
    headers: { Authorization: 'Bearer local', 'Content-Type': 'application/json' },
    body: JSON.stringify({ subject: 'with media', singleValueExtendedProperties: [{ id: 'Integer 0x0E07', value: '1' }] }),
  });
  const { id } = await created.json();
  expect((await postAttachment(emulator, id, 500 * 1024)).status).toBe(201);
  const refused = await postAttachment(emulator, id, 500 * 1024);
  expect(refused.status).toBe(429);
  expect((await refused.json()).error.message).toBe('Application is over its IncomingBytes limit.');
  expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(0.6);
  expect(emulator.stats().refused.upload).toBe(1);
  await sleep(Number(refused.headers.get('retry-after')) * 1000);
  expect((await postAttachment(emulator, id, 500 * 1024)).status).toBe(201);
  expect(emulator.mailbox(SUSAN.id).messages[0].attachments).toHaveLength(2);
});

it('does not count inspection requests toward the limits', async () => {
  const emulator = await emulatorWith({ limits: { requestsPerWindow: 2 } });
  for (let i = 0; i < 5; i++) expect((await fetch(`${emulator.url}/_emulator/mailboxes/${SUSAN.id}`)).status).toBe(200);
  expect((await get(emulator, `/users/${SUSAN.id}/mailFolders`)).status).toBe(200);
  expect((await get(emulator, `/users/${SUSAN.id}/mailFolders`)).status).toBe(200);
  expect((await get(emulator, `/users/${SUSAN.id}/mailFolders`)).status).toBe(429);
});
