import { Client, GraphError, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { startGraphEmulator, type GraphEmulator } from '../../emulators/graph/server';

// Where Exchange Online is stricter than a lenient stand-in would be: each test here failed
// against the emulator before it was made as strict as Graph documents (or real tenants show).
const MB = 1024 * 1024;
const ANN = { id: 'aaaaaaaa-0000-0000-0000-00000000000a', userPrincipalName: 'ann@contoso.com', mail: 'ann@contoso.com', displayName: 'Ann', hiddenFolders: ['Enterprise Number Archiver'] };
const BOB = { id: 'aaaaaaaa-0000-0000-0000-00000000000b', userPrincipalName: 'bob@contoso.com', mail: 'bob@contoso.com', displayName: 'Bob', maxMessageSizeBytes: 10 * MB };
const NOBOX = { id: 'aaaaaaaa-0000-0000-0000-00000000000c', userPrincipalName: 'kiosk@contoso.com', mail: 'kiosk@contoso.com', displayName: 'Kiosk', hasMailbox: false };
const KEY = 'String {6f1c4e0b-2a7d-4c35-9e8f-3b5a1d7c9e21} Name ArchiveKey';

let emulator: GraphEmulator;
let client: Client;
const noRetry = [new RetryHandlerOptions(0, 0)];

async function failure(request: Promise<unknown>): Promise<GraphError> {
  try {
    await request;
  } catch (error) {
    return error as GraphError;
  }
  throw new Error('the request succeeded');
}

async function sentMessage(userId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const message = await client.api(`/users/${userId}/messages`).post({
    subject: 'SMS',
    body: { contentType: 'text', content: 'hello' },
    singleValueExtendedProperties: [
      { id: 'Integer 0x0E07', value: '1' },
      { id: KEY, value: 'AbC123' },
    ],
    ...extra,
  });
  return message.id;
}

async function uploadSession(userId: string, messageId: string, size: number) {
  return client
    .api(`/users/${userId}/messages/${messageId}/attachments/createUploadSession`)
    .middlewareOptions(noRetry)
    .post({ AttachmentItem: { attachmentType: 'file', name: 'call.wav', size, contentType: 'audio/wav' } });
}

function put(uploadUrl: string, bytes: Buffer<ArrayBuffer>, start: number, total: number) {
  return fetch(uploadUrl, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `bytes ${start}-${start + bytes.length - 1}/${total}` },
    body: bytes,
  });
}

beforeAll(async () => {
  emulator = await startGraphEmulator({ auth: { mode: 'none' }, users: [ANN, BOB, NOBOX], latencyMs: 20 });
  client = Client.initWithMiddleware({ authProvider: { getAccessToken: async () => 'local-token' }, baseUrl: emulator.url, customHosts: new Set(['localhost']) });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

it('matches the Name of a named extended property with its case, and the value without', async () => {
  const id = await sentMessage(BOB.id);
  const lookup = (propertyId: string, value: string) =>
    client.api(`/users/${BOB.id}/messages`).filter(`singleValueExtendedProperties/Any(ep: ep/id eq '${propertyId}' and ep/value eq '${value}')`).get();
  expect((await lookup(KEY, 'abc123')).value.map((m: { id: string }) => m.id)).toEqual([id]);
  expect((await lookup(KEY.replace('{6f1c4e0b', '{6F1C4E0B').replace('String', 'string'), 'ABC123')).value).toHaveLength(1);
  expect((await lookup(KEY.replace('ArchiveKey', 'archivekey'), 'AbC123')).value).toEqual([]);
  const expanded = await client
    .api(`/users/${BOB.id}/messages/${id}`)
    .expand(`singleValueExtendedProperties($filter=id eq '${KEY.replace('ArchiveKey', 'ARCHIVEKEY')}')`)
    .get();
  expect(expanded.singleValueExtendedProperties).toEqual([]);
});

it('expires an upload session at its expirationDateTime: a range after it is refused with 401 and the session is gone', async () => {
  const short = await startGraphEmulator({ auth: { mode: 'none' }, users: [BOB], uploadSessionLifetimeSeconds: 0.2 });
  try {
    const shortClient = Client.initWithMiddleware({ authProvider: { getAccessToken: async () => 't' }, baseUrl: short.url, customHosts: new Set(['localhost']) });
    const message = await shortClient.api(`/users/${BOB.id}/messages`).post({ subject: 'x', singleValueExtendedProperties: [{ id: 'Integer 0x0E07', value: '1' }] });
    const session = await shortClient.api(`/users/${BOB.id}/messages/${message.id}/attachments/createUploadSession`).post({ AttachmentItem: { attachmentType: 'file', name: 'a.bin', size: 3 * MB } });
    expect(Date.parse(session.expirationDateTime)).toBeLessThan(Date.now() + 60_000);
    const first = await put(session.uploadUrl, Buffer.alloc(MB), 0, 3 * MB);
    expect(first.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const late = await put(session.uploadUrl, Buffer.alloc(MB), MB, 3 * MB);
    expect(late.status).toBe(401);
    expect((await late.json()).error.code).toBe('InvalidAuthenticationToken');
    // Gone for good: not even the state of the session can be read any more.
    expect((await fetch(session.uploadUrl)).status).toBe(404);
    expect(short.mailbox(BOB.id).messages[0].attachments).toEqual([]);
  } finally {
    await short.close();
  }
});

it('expires a session on demand through the expireUploadSession fault', async () => {
  const id = await sentMessage(BOB.id);
  const session = await uploadSession(BOB.id, id, 3 * MB);
  emulator.addFault({ kind: 'expireUploadSession', count: 1 });
  expect((await put(session.uploadUrl, Buffer.alloc(MB), 0, 3 * MB)).status).toBe(401);
  expect(emulator.stats().refused.expiredUploadSession).toBe(1);
  const fresh = await uploadSession(BOB.id, id, 3 * MB);
  expect((await put(fresh.uploadUrl, Buffer.alloc(MB), 0, 3 * MB)).status).toBe(200);
});

it('takes upload sessions from 2 MiB, and refuses smaller ones', async () => {
  const id = await sentMessage(BOB.id);
  await expect(uploadSession(BOB.id, id, 2 * MB)).resolves.toHaveProperty('uploadUrl');
  const refused = await failure(uploadSession(BOB.id, id, 2 * MB - 1));
  expect(refused.code).toBe('ErrorAttachmentSizeShouldNotBeLessThanMinimumSize');
});

it('hides a hidden folder from listings unless includeHiddenFolders=true, and answers ErrorFolderExists on its name', async () => {
  const filter = `displayName eq 'Enterprise Number Archiver'`;
  expect((await client.api(`/users/${ANN.id}/mailFolders`).filter(filter).get()).value).toEqual([]);
  const created = await failure(client.api(`/users/${ANN.id}/mailFolders`).post({ displayName: 'enterprise number archiver' }));
  expect(created.statusCode).toBe(409);
  expect(created.code).toBe('ErrorFolderExists');
  const hidden = await client.api(`/users/${ANN.id}/mailFolders`).query({ includeHiddenFolders: 'true' }).filter(filter).get();
  expect(hidden.value).toEqual([expect.objectContaining({ displayName: 'Enterprise Number Archiver', isHidden: true })]);
});

it('answers MailboxNotEnabledForRESTAPI on mail routes for a directory user without a mailbox; the directory still knows them', async () => {
  await expect(client.api(`/users/${NOBOX.userPrincipalName}`).get()).resolves.toMatchObject({ id: NOBOX.id });
  for (const request of [client.api(`/users/${NOBOX.id}/mailFolders`).get(), client.api(`/users/${NOBOX.id}/mailFolders`).post({ displayName: 'x' })]) {
    const error = await failure(request);
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('MailboxNotEnabledForRESTAPI');
    expect(error.message).toBe('The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
  }
});

it('sends a $batch of 20 to one mailbox to the service four at a time, without 429s', async () => {
  await sentMessage(BOB.id);
  const requests = Array.from({ length: 20 }, (_, i) => ({ id: String(i), method: 'GET', url: `/users/${BOB.id}/messages?$select=id` }));
  const res = await client.api('/$batch').post({ requests });
  expect(res.responses.map((r: { status: number }) => r.status)).toEqual(Array(20).fill(200));
  expect(emulator.stats().refused.concurrency).toBe(0);
});

it('requires a JSON Content-Type on request bodies', async () => {
  const url = `${emulator.url}/v1.0/users/${BOB.id}/mailFolders`;
  const body = JSON.stringify({ displayName: 'Plain' });
  for (const headers of [{}, { 'Content-Type': 'text/plain' }] as Record<string, string>[]) {
    const res = await fetch(url, { method: 'POST', headers, body });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(/Content-Type header is set/);
  }
  expect(emulator.mailbox(BOB.id).folders.map((f) => f.displayName)).not.toContain('Plain');
  expect((await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json; charset=utf-8' }, body })).status).toBe(201);
});

it('counts attachments against the maximum message size as Exchange does, base64-encoded: an upload fails part-way', async () => {
  // 8 MiB of bytes is under Bob's 10 MiB limit, but its 10.7 MiB of base64 is not.
  const id = await sentMessage(BOB.id);
  const size = 8 * MB;
  const session = await uploadSession(BOB.id, id, size);
  const first = await put(session.uploadUrl, Buffer.alloc(4 * MB), 0, size);
  expect(first.status).toBe(200);
  const second = await put(session.uploadUrl, Buffer.alloc(4 * MB), 4 * MB, size);
  expect(second.status).toBe(413);
  expect((await second.json()).error.code).toBe('ErrorMessageSizeExceeded');
  expect(emulator.mailbox(BOB.id).messages[0].attachments).toEqual([]);
});
