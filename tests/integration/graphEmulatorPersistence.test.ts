import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Client } from '@microsoft/microsoft-graph-client';
import { startGraphEmulator, type GraphEmulator } from '../../emulators/graph/server';

// The Graph emulator with a data directory (as `npm start` runs it, under .local/graph): what was
// filed, delivered and created is there again after a restart, found by the same idempotency key.
const ARCHIVE_KEY = 'String {00020329-0000-0000-C000-000000000046} Name ArchiveKey';
const users = [
  { id: '11111111-1111-4111-8111-111111111111', userPrincipalName: 'susan@contoso.com', mail: 'susan@contoso.com', displayName: 'Susan Ruiz' },
  { id: '22222222-2222-4222-8222-222222222222', userPrincipalName: 'capture@contoso.com', mail: 'capture@contoso.com', displayName: 'TeleMessage capture' },
];

const clientOf = (emulator: GraphEmulator) => Client.initWithMiddleware({ authProvider: { getAccessToken: async () => 'local-token' }, baseUrl: emulator.url, customHosts: new Set(['localhost']) });

const MIME = [
  'Message-ID: <kept-1@archive.telemessage.example>',
  'Date: Wed, 15 Jan 2025 09:13:22 +0000',
  'From: Noa Levi <noa@contoso.com>',
  'To: <capture@contoso.com>',
  'Subject: SMS kept',
  'Content-Type: text/plain; charset=UTF-8',
  '',
  'Hello from before the restart',
  '',
].join('\r\n');

describe('the Graph emulator with a data directory', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-emulator-data-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps folders, archived messages with their keys and attachments, and delivered MIME across a restart', async () => {
    const first = await startGraphEmulator({ auth: { mode: 'none' }, users, dataDir: dir });
    const graph = clientOf(first);
    const folder = await graph.api(`/users/${users[0].id}/mailFolders`).post({ displayName: 'Enterprise Number Archiver' });
    const message = await graph.api(`/users/${users[0].id}/mailFolders/${folder.id}/messages`).post({
      subject: 'SMS from +447700900002',
      body: { contentType: 'text', content: 'Kept across restarts' },
      singleValueExtendedProperties: [
        { id: 'Integer 0x0E07', value: '1' },
        { id: ARCHIVE_KEY, value: 'item-42' },
      ],
    });
    await graph
      .api(`/users/${users[0].id}/messages/${message.id}/attachments`)
      .post({ '@odata.type': '#microsoft.graph.fileAttachment', name: 'photo.jpg', contentType: 'image/jpeg', contentBytes: Buffer.from('jpeg bytes').toString('base64') });
    const bytes = Buffer.from(MIME, 'utf8');
    await first.deliverMime(users[1].userPrincipalName, { size: bytes.length, stream: () => Readable.from([bytes]) });
    await first.close();

    const second = await startGraphEmulator({ auth: { mode: 'none' }, users, dataDir: dir });
    try {
      const again = clientOf(second);
      const folders = await again.api(`/users/${users[0].id}/mailFolders`).filter("displayName eq 'Enterprise Number Archiver'").get();
      expect(folders.value.map((f: { id: string }) => f.id)).toEqual([folder.id]);
      // The importer's idempotency lookup: the same key finds the same message, once.
      const found = await again
        .api(`/users/${users[0].id}/mailFolders/${folder.id}/messages`)
        .filter(`singleValueExtendedProperties/any(ep: ep/id eq '${ARCHIVE_KEY}' and ep/value eq 'item-42')`)
        .get();
      expect(found.value.map((m: { id: string; subject: string }) => [m.id, m.subject])).toEqual([[message.id, 'SMS from +447700900002']]);
      const attachments = await again.api(`/users/${users[0].id}/messages/${message.id}/attachments`).get();
      expect(attachments.value.map((a: { name: string; contentBytes: string }) => [a.name, Buffer.from(a.contentBytes, 'base64').toString()])).toEqual([['photo.jpg', 'jpeg bytes']]);
      const inbox = await again.api(`/users/${users[1].id}/mailFolders/inbox/messages`).get();
      expect(inbox.value.map((m: { subject: string }) => m.subject)).toEqual(['SMS kept']);
      const raw = await (await fetch(`${second.url}/v1.0/users/${users[1].id}/messages/${inbox.value[0].id}/$value`, { headers: { authorization: 'Bearer local-token' } })).text();
      expect(raw).toBe(MIME);
      expect(second.mailboxes().find((m) => m.userPrincipalName === users[0].userPrincipalName)?.messageCount).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('keeps a reset too: after it and a restart the mailboxes are empty', async () => {
    const first = await startGraphEmulator({ auth: { mode: 'none' }, users, dataDir: dir });
    expect(first.mailboxes().find((m) => m.userPrincipalName === users[0].userPrincipalName)?.messageCount).toBe(1);
    first.reset();
    await first.close();
    const second = await startGraphEmulator({ auth: { mode: 'none' }, users, dataDir: dir });
    try {
      expect(second.mailboxes().map((m) => m.messageCount)).toEqual([0, 0]);
      const folders = await clientOf(second).api(`/users/${users[0].id}/mailFolders`).filter("displayName eq 'Enterprise Number Archiver'").get();
      expect(folders.value).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it('keeps nothing without one: a restart starts with empty mailboxes', async () => {
    const first = await startGraphEmulator({ auth: { mode: 'none' }, users });
    await clientOf(first).api(`/users/${users[0].id}/mailFolders`).post({ displayName: 'Only in memory' });
    await first.close();
    const second = await startGraphEmulator({ auth: { mode: 'none' }, users });
    try {
      const folders = await clientOf(second).api(`/users/${users[0].id}/mailFolders`).filter("displayName eq 'Only in memory'").get();
      expect(folders.value).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
