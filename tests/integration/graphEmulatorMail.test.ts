import { Client, GraphError, PageIterator, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { startGraphEmulator, GraphEmulator } from '../../emulators/graph/server';

// Users, folders and messages through the real Graph SDK, configured as production will be.
const ARCHIVE_KEY = 'String {00020329-0000-0000-C000-000000000046} Name ArchiveKey';
const users = [
  { id: '11111111-1111-1111-1111-111111111111', userPrincipalName: 'Susan@Contoso.com', mail: 'susan@contoso.com', displayName: 'Susan', mobilePhone: '+447700900001' },
  { id: '22222222-2222-2222-2222-222222222222', userPrincipalName: 'tiny@contoso.com', mail: 'tiny@contoso.com', displayName: 'Tiny', maxMessageSizeBytes: 1024 * 1024 },
];
const SUSAN = users[0].id;

let emulator: GraphEmulator;
let client: Client;

function graphClient(url: string): Client {
  return Client.initWithMiddleware({
    authProvider: { getAccessToken: async () => 'local-token' },
    baseUrl: url,
    customHosts: new Set(['localhost']),
  });
}

/** Runs a request that must fail, without the SDK retrying it, and returns the GraphError. */
async function failure(request: Promise<unknown>): Promise<GraphError> {
  try {
    await request;
  } catch (error) {
    return error as GraphError;
  }
  throw new Error('the request succeeded');
}

const noRetry = [new RetryHandlerOptions(0, 0)];

function archivedMessage(key: string, overrides: Record<string, unknown> = {}) {
  return {
    subject: `SMS ${key}`,
    body: { contentType: 'text', content: `Hello ${key}` },
    from: { emailAddress: { address: '+447700900002@telemessage.example', name: '+44 7700 900002' } },
    toRecipients: [{ emailAddress: { address: 'susan@contoso.com' } }],
    internetMessageHeaders: [{ name: 'x-telemessage-id', value: key }],
    singleValueExtendedProperties: [
      { id: 'Integer 0x0E07', value: '1' },
      { id: 'SystemTime 0x0039', value: '2024-03-01T09:00:00Z' },
      { id: 'SystemTime 0x0E06', value: '2024-03-01T09:00:05Z' },
      { id: ARCHIVE_KEY, value: key },
    ],
    ...overrides,
  };
}

beforeAll(async () => {
  emulator = await startGraphEmulator({ auth: { mode: 'none' }, users });
  client = graphClient(emulator.url);
});

afterAll(() => emulator.close());

beforeEach(() => emulator.reset());

describe('users', () => {
  it('finds a user by id or by user principal name in any case', async () => {
    const byUpn = await client.api('/users/SUSAN@contoso.COM').get();
    expect(byUpn).toMatchObject({ id: SUSAN, mail: 'susan@contoso.com', mobilePhone: '+447700900001' });
    const byId = await client.api(`/users/${SUSAN}`).select('displayName').get();
    expect(byId).toMatchObject({ id: SUSAN, displayName: 'Susan' });
    expect(byId.mail).toBeUndefined();
  });

  it('answers an unknown user with 404 Request_ResourceNotFound in Graph error shape', async () => {
    const response = await fetch(`${emulator.url}/v1.0/users/nobody@contoso.com`, {
      headers: { Authorization: 'Bearer x', 'client-request-id': 'my-correlation-id' },
    });
    expect(response.status).toBe(404);
    const body = await response.json();
    expect(body.error.code).toBe('Request_ResourceNotFound');
    expect(body.error.innerError).toEqual({ date: expect.any(String), 'request-id': expect.any(String), 'client-request-id': 'my-correlation-id' });
    expect(response.headers.get('client-request-id')).toBe('my-correlation-id');
  });

  it('serves v1.0 only and answers an unknown segment with 400 as Graph does', async () => {
    expect((await fetch(`${emulator.url}/beta/users/${SUSAN}`, { headers: { Authorization: 'Bearer x' } })).status).toBe(404);
    const response = await fetch(`${emulator.url}/v1.0/users/${SUSAN}/calendars`, { headers: { Authorization: 'Bearer x' } });
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toBe("Resource not found for the segment 'calendars'.");
  });

  it('filters users by mail', async () => {
    const page = await client.api('/users').filter("mail eq 'TINY@contoso.com'").get();
    expect(page.value.map((u: { id: string }) => u.id)).toEqual([users[1].id]);
  });
});

describe('mail folders', () => {
  it('lists the default folders and resolves well-known names', async () => {
    const page = await client.api(`/users/${SUSAN}/mailFolders`).top(50).get();
    expect(page.value.map((f: { displayName: string }) => f.displayName)).toEqual(expect.arrayContaining(['Inbox', 'Drafts', 'Deleted Items']));
    const inbox = await client.api(`/users/${SUSAN}/mailFolders/inbox`).get();
    expect(inbox.displayName).toBe('Inbox');
    const root = await client.api(`/users/${SUSAN}/mailFolders/msgfolderroot`).get();
    expect(inbox.parentFolderId).toBe(root.id);
  });

  it('creates a folder once; a second create of the same name (any case) is 409 ErrorFolderExists', async () => {
    const folder = await client.api(`/users/${SUSAN}/mailFolders`).post({ displayName: 'Enterprise Number Archiver' });
    expect(folder).toMatchObject({ displayName: 'Enterprise Number Archiver', totalItemCount: 0 });
    const error = await failure(client.api(`/users/${SUSAN}/mailFolders`).post({ displayName: 'enterprise number archiver' }));
    expect(error.statusCode).toBe(409);
    expect(error.code).toBe('ErrorFolderExists');
    const found = await client.api(`/users/${SUSAN}/mailFolders`).filter("displayName eq 'Enterprise Number Archiver'").get();
    expect(found.value.map((f: { id: string }) => f.id)).toEqual([folder.id]);
  });

  it('creates child folders and pages through them with @odata.nextLink', async () => {
    const parent = await client.api(`/users/${SUSAN}/mailFolders`).post({ displayName: 'Parent' });
    for (let i = 0; i < 12; i++) {
      await client.api(`/users/${SUSAN}/mailFolders/${parent.id}/childFolders`).post({ displayName: `Child ${i}` });
    }
    const first = await client.api(`/users/${SUSAN}/mailFolders/${parent.id}/childFolders`).top(5).get();
    expect(first.value).toHaveLength(5);
    expect(first['@odata.nextLink']).toContain('$skip=5');
    const names: string[] = [];
    await new PageIterator(client, first, (folder: { displayName: string }) => {
      names.push(folder.displayName);
      return true;
    }).iterate();
    expect(names).toHaveLength(12);
    expect(new Set(names).size).toBe(12);
    const dup = await failure(client.api(`/users/${SUSAN}/mailFolders/${parent.id}/childFolders`).post({ displayName: 'Child 3' }));
    expect(dup.code).toBe('ErrorFolderExists');
  });

  it('answers an unknown folder with 404 ErrorItemNotFound', async () => {
    const error = await failure(client.api(`/users/${SUSAN}/mailFolders/AAMkADnope=`).get());
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('ErrorItemNotFound');
  });
});

describe('messages', () => {
  let folderId: string;
  beforeEach(async () => {
    folderId = (await client.api(`/users/${SUSAN}/mailFolders`).post({ displayName: 'Enterprise Number Archiver' })).id;
  });

  it('creates a non-draft message when Integer 0x0E07 clears the unsent bit, with its real times', async () => {
    const created = await client.api(`/users/${SUSAN}/mailFolders/${folderId}/messages`).post(archivedMessage('key-1'));
    expect(created).toMatchObject({
      isDraft: false,
      isRead: true,
      subject: 'SMS key-1',
      sentDateTime: '2024-03-01T09:00:00Z',
      receivedDateTime: '2024-03-01T09:00:05Z',
      parentFolderId: folderId,
      hasAttachments: false,
    });
    const snapshot = emulator.mailbox(SUSAN).messages.find((m) => m.id === created.id);
    expect(snapshot).toMatchObject({ isDraft: false, folderPath: '/Enterprise Number Archiver' });
    expect(snapshot?.extendedProperties).toContainEqual({ id: 'String {00020329-0000-0000-c000-000000000046} Name ArchiveKey', value: 'key-1' });
  });

  it('creates a draft without the flags property, and PATCH can never make it a non-draft', async () => {
    const draft = await client.api(`/users/${SUSAN}/mailFolders/${folderId}/messages`).post({ subject: 'draft' });
    expect(draft.isDraft).toBe(true);
    const patched = await client.api(`/users/${SUSAN}/messages/${draft.id}`).patch({
      isDraft: false,
      singleValueExtendedProperties: [{ id: 'Integer 0x0E07', value: '1' }],
      subject: 'still a draft',
    });
    expect(patched).toMatchObject({ isDraft: true, subject: 'still a draft' });
    expect(emulator.mailbox(SUSAN).messages[0].isDraft).toBe(true);
  });

  it('refuses content changes to a sent item but lets its read state change', async () => {
    const created = await client.api(`/users/${SUSAN}/mailFolders/${folderId}/messages`).post(archivedMessage('key-2'));
    const error = await failure(client.api(`/users/${SUSAN}/messages/${created.id}`).patch({ subject: 'rewritten' }));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('ErrorInvalidPropertyUpdateSentMessage');
    const unread = await client.api(`/users/${SUSAN}/messages/${created.id}`).patch({ isRead: false });
    expect(unread.isRead).toBe(false);
  });

  it('finds a message by its idempotency key, matching type and GUID without regard to case (the Name is matched with it)', async () => {
    const target = await client.api(`/users/${SUSAN}/mailFolders/${folderId}/messages`).post(archivedMessage('key-3'));
    await client.api(`/users/${SUSAN}/mailFolders/${folderId}/messages`).post(archivedMessage('key-4'));
    const nameAt = ARCHIVE_KEY.indexOf(' Name ');
    const lowerId = ARCHIVE_KEY.slice(0, nameAt).toUpperCase() + ARCHIVE_KEY.slice(nameAt);
    const found = await client
      .api(`/users/${SUSAN}/mailFolders/${folderId}/messages`)
      .filter(`singleValueExtendedProperties/Any(ep: ep/id eq '${lowerId}' and ep/value eq 'key-3')`)
      .select('id,subject')
      .get();
    expect(found.value.map((m: { id: string }) => m.id)).toEqual([target.id]);
    const mailboxWide = await client.api(`/users/${SUSAN}/messages`).filter(`singleValueExtendedProperties/any(ep: ep/id eq '${ARCHIVE_KEY}' and ep/value eq 'key-5')`).get();
    expect(mailboxWide.value).toEqual([]);
  });

  it('returns extended properties and x- headers only when asked', async () => {
    const created = await client.api(`/users/${SUSAN}/mailFolders/${folderId}/messages`).post(archivedMessage('key-6'));
    const plain = await client.api(`/users/${SUSAN}/messages/${created.id}`).get();
    expect(plain.singleValueExtendedProperties).toBeUndefined();
    expect(plain.internetMessageHeaders).toBeUndefined();
    const expanded = await client
      .api(`/users/${SUSAN}/messages/${created.id}`)
      .select('subject,internetMessageHeaders')
      .expand(`singleValueExtendedProperties($filter=id eq '${ARCHIVE_KEY}' or id eq 'Integer 0x0E07')`)
      .get();
    expect(expanded.internetMessageHeaders).toEqual([{ name: 'x-telemessage-id', value: 'key-6' }]);
    expect(expanded.singleValueExtendedProperties).toHaveLength(2);
    expect(expanded.singleValueExtendedProperties).toContainEqual({ id: 'Integer 0xe07', value: '1' });
    expect(expanded.body).toBeUndefined();
  });

  it('refuses headers that are not x- headers, and unknown properties, as Graph does', async () => {
    const headerError = await failure(client.api(`/users/${SUSAN}/mailFolders/${folderId}/messages`).post(archivedMessage('k', { internetMessageHeaders: [{ name: 'From', value: 'x' }] })));
    expect(headerError.code).toBe('InvalidInternetMessageHeader');
    const propertyError = await failure(client.api(`/users/${SUSAN}/mailFolders/${folderId}/messages`).post({ subjct: 'typo' }));
    expect(propertyError.statusCode).toBe(400);
    expect(propertyError.code).toBe('RequestBodyRead');
    const selectError = await failure(client.api(`/users/${SUSAN}/messages`).select('nonsense').get());
    expect(selectError.code).toBe('RequestBroker--ParseUri');
    expect(emulator.mailbox(SUSAN).messages).toHaveLength(0);
  });

  it('lists newest received first and pages with $top and @odata.nextLink', async () => {
    for (let i = 1; i <= 5; i++) {
      const time = `2024-03-0${i}T10:00:00Z`;
      await client.api(`/users/${SUSAN}/mailFolders/${folderId}/messages`).post(
        archivedMessage(`p${i}`, {
          singleValueExtendedProperties: [
            { id: 'Integer 0x0E07', value: '1' },
            { id: 'SystemTime 0x0E06', value: time },
          ],
        }),
      );
    }
    const first = await client.api(`/users/${SUSAN}/mailFolders/${folderId}/messages`).top(2).select('subject').get();
    const subjects: string[] = [];
    await new PageIterator(client, first, (m: { subject: string }) => {
      subjects.push(m.subject);
      return true;
    }).iterate();
    expect(subjects).toEqual(['SMS p5', 'SMS p4', 'SMS p3', 'SMS p2', 'SMS p1']);
  });

  it('moves a deleted message to Deleted Items, and removes it for good from there', async () => {
    const created = await client.api(`/users/${SUSAN}/mailFolders/${folderId}/messages`).post(archivedMessage('key-7'));
    await client.api(`/users/${SUSAN}/messages/${created.id}`).delete();
    const deleted = await client.api(`/users/${SUSAN}/messages/${created.id}`).get();
    const deletedItems = await client.api(`/users/${SUSAN}/mailFolders/deleteditems`).get();
    expect(deleted.parentFolderId).toBe(deletedItems.id);
    await client.api(`/users/${SUSAN}/messages/${created.id}`).delete();
    const error = await failure(client.api(`/users/${SUSAN}/messages/${created.id}`).get());
    expect(error.code).toBe('ErrorItemNotFound');
  });

  it('stores inline attachments, keeping small ones readable', async () => {
    const bytes = Buffer.from('a small picture');
    const created = await client.api(`/users/${SUSAN}/mailFolders/${folderId}/messages`).post(
      archivedMessage('key-8', {
        attachments: [{ '@odata.type': '#microsoft.graph.fileAttachment', name: 'pic.jpg', contentType: 'image/jpeg', contentBytes: bytes.toString('base64') }],
      }),
    );
    expect(created.hasAttachments).toBe(true);
    const list = await client.api(`/users/${SUSAN}/messages/${created.id}/attachments`).get();
    expect(list.value).toHaveLength(1);
    expect(Buffer.from(list.value[0].contentBytes, 'base64').equals(bytes)).toBe(true);
    expect(list.value[0]).toMatchObject({ name: 'pic.jpg', size: bytes.length, contentType: 'image/jpeg' });
  });

  it('refuses a request body over 4 MB with 413 and stores nothing', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 512 * 1024, 7).toString('base64');
    const response = await fetch(`${emulator.url}/v1.0/users/${SUSAN}/mailFolders/${folderId}/messages`, {
      method: 'POST',
      headers: { Authorization: 'Bearer x', 'Content-Type': 'application/json' },
      body: JSON.stringify(archivedMessage('big', { attachments: [{ '@odata.type': '#microsoft.graph.fileAttachment', name: 'big.bin', contentBytes: big }] })),
    });
    expect(response.status).toBe(413);
    expect((await response.json()).error.code).toBe('ErrorRequestEntityTooLarge');
    expect(emulator.mailbox(SUSAN).messages).toHaveLength(0);
  });

  it("refuses a message over the mailbox's maximum message size with 413 ErrorMessageSizeExceeded", async () => {
    const tinyFolder = await client.api(`/users/${users[1].id}/mailFolders`).post({ displayName: 'Archive here' });
    const bytes = Buffer.alloc(1024 * 1024 + 1, 1).toString('base64');
    const error = await failure(
      client
        .api(`/users/${users[1].id}/mailFolders/${tinyFolder.id}/messages`)
        .middlewareOptions(noRetry)
        .post(archivedMessage('too-big', { attachments: [{ '@odata.type': '#microsoft.graph.fileAttachment', name: 'a.bin', contentBytes: bytes }] })),
    );
    expect(error.statusCode).toBe(413);
    expect(error.code).toBe('ErrorMessageSizeExceeded');
  });
});
