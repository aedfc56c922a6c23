import crypto from 'node:crypto';
import { Client, FileUpload, GraphError, LargeFileUploadTask, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { startGraphEmulator, GraphEmulator } from '../../emulators/graph/server';

// Small attachments by POST, large ones through upload sessions, with the real SDK's upload task.
const MB = 1024 * 1024;
const SUSAN = { id: 'aaaaaaaa-0000-0000-0000-000000000001', userPrincipalName: 'susan@contoso.com', mail: 'susan@contoso.com', displayName: 'Susan' };
const BIGBOX = { id: 'aaaaaaaa-0000-0000-0000-000000000003', userPrincipalName: 'big@contoso.com', mail: 'big@contoso.com', displayName: 'Big', maxMessageSizeBytes: 150 * MB };
const SMALLBOX = { id: 'aaaaaaaa-0000-0000-0000-000000000002', userPrincipalName: 'small@contoso.com', mail: 'small@contoso.com', displayName: 'Small', maxMessageSizeBytes: 5 * MB };

let emulator: GraphEmulator;
let client: Client;

const noRetry = [new RetryHandlerOptions(0, 0)];
const sha256 = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');
const patterned = (size: number) => {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4096) bytes.writeUInt32BE(i, i);
  return bytes;
};

async function failure(request: Promise<unknown>): Promise<GraphError> {
  try {
    await request;
  } catch (error) {
    return error as GraphError;
  }
  throw new Error('the request succeeded');
}

async function archivedMessage(userId: string): Promise<string> {
  const folder = await client.api(`/users/${userId}/mailFolders`).post({ displayName: 'Enterprise Number Archiver' });
  const message = await client.api(`/users/${userId}/mailFolders/${folder.id}/messages`).post({
    subject: 'Voice call recording',
    body: { contentType: 'text', content: 'Call from +44 7700 900002, 3 minutes' },
    singleValueExtendedProperties: [{ id: 'Integer 0x0E07', value: '1' }],
  });
  return message.id;
}

async function createSession(userId: string, messageId: string, size: number, name = 'call.wav') {
  return client
    .api(`/users/${userId}/messages/${messageId}/attachments/createUploadSession`)
    .middlewareOptions(noRetry)
    .post({ AttachmentItem: { attachmentType: 'file', name, size, contentType: 'audio/wav' } });
}

function put(uploadUrl: string, bytes: Buffer<ArrayBuffer>, start: number, total: number, headers: Record<string, string> = {}) {
  return fetch(uploadUrl, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `bytes ${start}-${start + bytes.length - 1}/${total}`, ...headers },
    body: bytes,
  });
}

beforeAll(async () => {
  emulator = await startGraphEmulator({ auth: { mode: 'none' }, users: [SUSAN, SMALLBOX, BIGBOX] });
  client = Client.initWithMiddleware({
    authProvider: { getAccessToken: async () => 'local-token' },
    baseUrl: emulator.url,
    customHosts: new Set(['localhost']),
  });
});

afterAll(() => emulator.close());

beforeEach(() => emulator.reset());

it('adds a small attachment by POST to a sent item; bytes over the keep threshold are remembered by hash only', async () => {
  const messageId = await archivedMessage(SUSAN.id);
  const small = Buffer.from('tiny image');
  const medium = patterned(300 * 1024);
  for (const [name, bytes] of [
    ['small.png', small],
    ['medium.png', medium],
  ] as const) {
    const attachment = await client.api(`/users/${SUSAN.id}/messages/${messageId}/attachments`).post({
      '@odata.type': '#microsoft.graph.fileAttachment',
      name,
      contentType: 'image/png',
      contentBytes: bytes.toString('base64'),
    });
    expect(attachment).toMatchObject({ name, size: bytes.length });
  }
  const list = await client.api(`/users/${SUSAN.id}/messages/${messageId}/attachments`).get();
  const byName = Object.fromEntries(list.value.map((a: { name: string }) => [a.name, a]));
  expect(Buffer.from(byName['small.png'].contentBytes, 'base64').equals(small)).toBe(true);
  expect(byName['medium.png'].contentBytes).toBeUndefined();
  const message = await client.api(`/users/${SUSAN.id}/messages/${messageId}`).get();
  expect(message.hasAttachments).toBe(true);
  const stored = emulator.mailbox(SUSAN.id).messages[0].attachments.find((a) => a.name === 'medium.png');
  expect(stored?.sha256).toBe(sha256(medium));
});

it('uploads a 10 MB attachment with the SDK LargeFileUploadTask and answers 201 with a Location', async () => {
  const messageId = await archivedMessage(SUSAN.id);
  const bytes = patterned(10 * MB + 123);
  const session = await LargeFileUploadTask.createUploadSession(client, `/users/${SUSAN.id}/messages/${messageId}/attachments/createUploadSession`, {
    AttachmentItem: { attachmentType: 'file', name: 'call.wav', size: bytes.length, contentType: 'audio/wav' },
  });
  const task = new LargeFileUploadTask(client, new FileUpload(bytes, 'call.wav', bytes.length), session, { rangeSize: 4 * MB });
  const result = await task.upload();
  const attachmentId = /Attachments\('([^']+)'\)/.exec(result.location ?? '')?.[1];
  expect(attachmentId).toBeDefined();
  const list = await client.api(`/users/${SUSAN.id}/messages/${messageId}/attachments`).get();
  expect(list.value).toEqual([expect.objectContaining({ id: attachmentId, name: 'call.wav', size: bytes.length, contentType: 'audio/wav' })]);
  expect(list.value[0].contentBytes).toBeUndefined();
  const stored = emulator.mailbox(SUSAN.id).messages[0].attachments[0];
  expect(stored).toMatchObject({ id: attachmentId, size: bytes.length, sha256: sha256(bytes) });
});

it('takes a 112 MB attachment (just under 150 MB once base64, as Exchange counts it) into a mailbox raised to 150 MB, keeping only its hash', async () => {
  const messageId = await archivedMessage(BIGBOX.id);
  const bytes = patterned(112 * MB);
  const session = await LargeFileUploadTask.createUploadSession(client, `/users/${BIGBOX.id}/messages/${messageId}/attachments/createUploadSession`, {
    AttachmentItem: { attachmentType: 'file', name: 'long-call.wav', size: bytes.length },
  });
  await new LargeFileUploadTask(client, new FileUpload(bytes, 'long-call.wav', bytes.length), session, { rangeSize: 4 * MB }).upload();
  const [stored] = emulator.mailbox(BIGBOX.id).messages[0].attachments;
  expect(stored).toMatchObject({ name: 'long-call.wav', size: bytes.length, sha256: sha256(bytes) });
  const list = await client.api(`/users/${BIGBOX.id}/messages/${messageId}/attachments`).get();
  expect(list.value[0].contentBytes).toBeUndefined();
});

it('tells the next expected byte, takes ranges in order only, and can be cancelled', async () => {
  const messageId = await archivedMessage(SUSAN.id);
  const total = 6 * MB;
  const { uploadUrl, nextExpectedRanges } = await createSession(SUSAN.id, messageId, total);
  expect(nextExpectedRanges).toEqual(['0-']);
  expect(new URL(uploadUrl).hostname).toBe('127.0.0.1');

  const first = await put(uploadUrl, patterned(2 * MB), 0, total);
  expect(first.status).toBe(200);
  expect((await first.json()).nextExpectedRanges).toEqual([String(2 * MB)]);

  const skipped = await put(uploadUrl, patterned(MB), 3 * MB, total);
  expect(skipped.status).toBe(416);
  const state = await (await fetch(uploadUrl)).json();
  expect(state.nextExpectedRanges).toEqual([String(2 * MB)]);

  expect((await fetch(uploadUrl, { method: 'DELETE' })).status).toBe(204);
  expect((await put(uploadUrl, patterned(MB), 2 * MB, total)).status).toBe(404);
  expect(emulator.mailbox(SUSAN.id).messages[0].attachments).toEqual([]);
});

it('refuses a Graph bearer token on the upload URL, as Outlook does', async () => {
  const messageId = await archivedMessage(SUSAN.id);
  const { uploadUrl } = await createSession(SUSAN.id, messageId, 4 * MB);
  const response = await put(uploadUrl, patterned(MB), 0, 4 * MB, { Authorization: 'Bearer graph-token' });
  expect(response.status).toBe(401);
  expect((await response.json()).error.code).toBe('InvalidAudience');
  const tampered = await put(uploadUrl.replace(/authtoken=[^&]+/, 'authtoken=forged'), patterned(MB), 0, 4 * MB);
  expect(tampered.status).toBe(401);
});

it('refuses a range over 4 MB with 413', async () => {
  const messageId = await archivedMessage(SUSAN.id);
  const { uploadUrl } = await createSession(SUSAN.id, messageId, 8 * MB);
  const response = await put(uploadUrl, patterned(4 * MB + 1), 0, 8 * MB);
  expect(response.status).toBe(413);
  expect((await (await fetch(uploadUrl)).json()).nextExpectedRanges).toEqual(['0']);
});

it('refuses sessions under 2 MiB and over 150 MB at creation', async () => {
  const messageId = await archivedMessage(SUSAN.id);
  const tooSmall = await failure(createSession(SUSAN.id, messageId, 2 * MB - 1));
  expect(tooSmall.statusCode).toBe(400);
  expect(tooSmall.code).toBe('ErrorAttachmentSizeShouldNotBeLessThanMinimumSize');
  const tooBig = await failure(createSession(SUSAN.id, messageId, 150 * MB + 1));
  expect(tooBig.statusCode).toBe(413);
  expect(tooBig.code).toBe('ErrorMessageSizeExceeded');
});

it("fails the range that takes a message past the mailbox's maximum size", async () => {
  const messageId = await archivedMessage(SMALLBOX.id);
  // 4 MB of bytes is 5.3 MB once base64, past the 5 MB limit: the second range of 2 MB fails.
  const total = 8 * MB;
  const { uploadUrl } = await createSession(SMALLBOX.id, messageId, total);
  expect((await put(uploadUrl, patterned(2 * MB), 0, total)).status).toBe(200);
  const over = await put(uploadUrl, patterned(2 * MB), 2 * MB, total);
  expect(over.status).toBe(413);
  expect((await over.json()).error.code).toBe('ErrorMessageSizeExceeded');
  expect(emulator.mailbox(SMALLBOX.id).messages[0].attachments).toEqual([]);
});
