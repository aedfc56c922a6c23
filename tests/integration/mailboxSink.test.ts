import { startSigninEmulator, type SigninEmulator } from '../../emulators/signin/server';
import { startGraphEmulator, type GraphEmulator } from '../../emulators/graph/server';
import { createGraphClient } from '../../importer/sink/graphClient';
import { MailboxSink, type AttachmentReader, type DeliveryJob } from '../../importer/sink/mailboxSink';
import { archiveKeyOf, ARCHIVE_KEY_PROPERTY } from '../../importer/sink/messageProperties';
import { RetryPolicy } from '../../importer/retryPolicy';
import { base64Blob } from '../../importer/sink/base64Blob';
import type { ArchiveItem, AttachmentInfo } from '../../importer/model';
import { patternBuffer, patternSha256, patternStream } from '../support/patternBytes';

const MB = 1024 * 1024;
const tenantId = '11111111-2222-4333-8444-555555555555';
const app = { tenantId, clientId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', clientSecret: 'sink-test-secret', roles: ['Mail.ReadWrite', 'User.Read.All'] };
const USERS = [
  { id: 'u-ann', userPrincipalName: 'ann@contoso.example', mail: 'ann@contoso.example', displayName: 'Ann Lee' },
  { id: 'u-bob', userPrincipalName: 'bob@contoso.example', mail: 'bob@contoso.example', displayName: 'Bob Ray', maxMessageSizeBytes: 150 * MB },
  { id: 'u-carol', userPrincipalName: 'ckim@contoso.onmicrosoft.example', mail: 'carol.kim@contoso.example', displayName: 'Carol Kim' },
];

async function attachment(index: number, name: string, contentType: string, size: number): Promise<AttachmentInfo> {
  return { index, name, contentType, size, sha256: await patternSha256(`${name}`, size) };
}

function reader(item: ArchiveItem): AttachmentReader {
  return {
    encoded: async (indexes) => new Map(await Promise.all(indexes.map(async (i) => [i, await base64Blob(await patternBuffer(item.attachments[i].name, item.attachments[i].size))] as const))),
    open: async (index) => patternStream(item.attachments[index].name, item.attachments[index].size),
  };
}

function item(id: string, overrides: Partial<ArchiveItem> = {}): ArchiveItem {
  return {
    id,
    kind: 'sms',
    at: new Date('2026-11-24T09:13:22Z'),
    archivedAt: new Date('2026-11-24T09:13:25Z'),
    direction: 'outbound',
    participants: [
      { role: 'from', number: '+14155550101', email: 'ann@contoso.example', name: 'Ann Lee' },
      { role: 'to', number: '+447700900123', name: 'שרה כהן' },
    ],
    subject: 'SMS',
    text: 'Meeting moved to 3pm 👍 — מחר',
    attachments: [],
    raw: { sha256: 'f'.repeat(64), size: 1234 },
    ...overrides,
  };
}

describe('mailbox sink', () => {
  let signin: SigninEmulator;
  let graph: GraphEmulator;
  let sink: MailboxSink;

  beforeAll(async () => {
    signin = await startSigninEmulator({ apps: [app] });
    graph = await startGraphEmulator({ auth: { jwksUri: signin.jwksUri(tenantId), issuer: signin.issuer(tenantId) }, users: USERS });
  });
  afterAll(async () => {
    await graph.close();
    await signin.close();
  });
  beforeEach(() => {
    graph.reset();
    const client = createGraphClient({ tenantId, clientId: app.clientId, clientSecret: app.clientSecret, authorityHost: signin.authorityHost, graphBaseUrl: graph.url });
    sink = new MailboxSink(client, { folderName: 'Enterprise Number Archiver', retry: new RetryPolicy({ baseDelayMs: 20, maxDelayMs: 200 }) });
  });

  async function job(it: ArchiveItem, mailbox: string, mayExist = false): Promise<DeliveryJob> {
    const user = await sink.findUser(mailbox);
    const folderId = await sink.ensureFolder(user!.id);
    return { item: it, mailbox, userId: user!.id, folderId, archiveKey: archiveKeyOf(it.id, mailbox), mayExist, attachments: reader(it) };
  }

  it('finds users by address, and says when an address is no Microsoft 365 user', async () => {
    expect(await sink.findUser('ANN@contoso.example')).toMatchObject({ id: 'u-ann' });
    expect(await sink.findUser('left@contoso.example')).toBeUndefined();
    // An address that is the user's primary email, not their sign-in name.
    expect(await sink.findUser('Carol.Kim@contoso.example')).toMatchObject({ id: 'u-carol', userPrincipalName: 'ckim@contoso.onmicrosoft.example' });
  });

  it('looks many users up in one $batch, and answers later lookups from what it found', async () => {
    await sink.prefetchUsers(['ann@contoso.example', 'BOB@contoso.example', 'left@contoso.example']);
    const before = graph.stats().served.total;
    expect(await sink.findUser('ann@contoso.example')).toMatchObject({ id: 'u-ann' });
    expect(await sink.findUser('bob@contoso.example')).toMatchObject({ id: 'u-bob' });
    expect(graph.stats().served.total).toBe(before);
    expect(graph.stats().served.byOperation.batch).toBe(1);
    // An address the batch did not resolve is asked again on its own, and still is no user.
    expect(await sink.findUser('left@contoso.example')).toBeUndefined();
  });

  it('files an SMS as a non-draft message with its real time, parties and archive key, in the one archive folder', async () => {
    const sms = item('TM-1');
    const result = await sink.deliver(await job(sms, 'ann@contoso.example'));
    expect(result).toMatchObject({ outcome: 'imported', recovered: false });
    const box = graph.mailbox('ann@contoso.example');
    expect(box.folders.filter((f) => f.displayName === 'Enterprise Number Archiver')).toHaveLength(1);
    expect(box.messages).toHaveLength(1);
    const m = box.messages[0];
    expect(m).toMatchObject({ folderPath: expect.stringContaining('Enterprise Number Archiver'), isDraft: false, isRead: true });
    expect(new Date(m.sentDateTime).toISOString()).toBe('2026-11-24T09:13:22.000Z');
    expect(new Date(m.receivedDateTime).toISOString()).toBe('2026-11-24T09:13:22.000Z');
    expect(m.subject).toContain('Ann Lee');
    expect(m.body.content).toContain('Meeting moved to 3pm 👍 — מחר');
    expect(m.body.content).toContain('+447700900123');
    expect(m.toRecipients[0].emailAddress.address).toBe('447700900123@mobile.invalid');
    const key = m.extendedProperties.find((p) => p.id.toLowerCase() === ARCHIVE_KEY_PROPERTY.toLowerCase());
    expect(key?.value).toBe(archiveKeyOf('TM-1', 'ann@contoso.example'));
  });

  it('never makes a second copy: a replay finds the message by its key', async () => {
    const sms = item('TM-2');
    await sink.deliver(await job(sms, 'ann@contoso.example'));
    const again = await sink.deliver(await job(sms, 'ann@contoso.example', true));
    expect(again).toMatchObject({ outcome: 'imported', recovered: true });
    expect(graph.mailbox('ann@contoso.example').messages).toHaveLength(1);
  });

  it('makes exactly one copy when Graph applies creates but loses the responses', async () => {
    graph.addFault({ kind: 'lostResponse', count: 3, operations: ['createMessage'] });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await sink.deliver(await job(item(`TM-lost-${i}`), 'ann@contoso.example')));
    expect(results.map((r) => r.outcome)).toEqual(['imported', 'imported', 'imported']);
    expect(results.every((r) => r.recovered)).toBe(true);
    const subjects = graph.mailbox('ann@contoso.example').messages.map((m) => m.extendedProperties.find((p) => p.id.toLowerCase() === ARCHIVE_KEY_PROPERTY.toLowerCase())?.value);
    expect(subjects.sort()).toEqual([0, 1, 2].map((i) => archiveKeyOf(`TM-lost-${i}`, 'ann@contoso.example')).sort());
    expect(graph.stats().lostResponses).toBe(3);
  });

  it('attaches small media inline and large recordings by upload session, byte for byte', async () => {
    const mms = item('TM-3', {
      kind: 'mms',
      attachments: [
        await attachment(0, 'IMG_1.jpg', 'image/jpeg', 350 * 1024),
        await attachment(1, 'Screenshot_2.png', 'image/png', 2 * MB),
        await attachment(2, 'call.wav', 'audio/wav', 9 * MB + 123),
      ],
    });
    const result = await sink.deliver(await job(mms, 'bob@contoso.example'));
    expect(result.outcome).toBe('imported');
    const [m] = graph.mailbox('bob@contoso.example').messages;
    expect(m.attachments.map((a) => [a.name, a.size, a.sha256]).sort()).toEqual(mms.attachments.map((a) => [a.name, a.size, a.sha256]).sort());
  });

  it('keeps what the mailbox refuses out of the message, says so in a note, and calls it partial', async () => {
    const big = item('TM-4', { kind: 'mms', attachments: [await attachment(0, 'VID_big.mp4', 'video/mp4', 40 * MB)] });
    const result = await sink.deliver(await job(big, 'ann@contoso.example'));
    expect(result.outcome).toBe('partial');
    expect(result.reason).toMatch(/VID_big\.mp4: the mailbox refused it/);
    const [m] = graph.mailbox('ann@contoso.example').messages;
    expect(m.isDraft).toBe(false);
    expect(m.attachments.map((a) => a.name)).toEqual(['VID_big.mp4 (not attached).txt']);
    expect(m.body.content).toContain(big.attachments[0].sha256);
  });

  it('lists an attachment over 150 MB as kept in archive storage without trying to upload it', async () => {
    const huge = item('TM-5', { kind: 'voiceRecording', attachments: [{ index: 0, name: 'rec.wav', contentType: 'audio/wav', size: 160 * MB, sha256: 'a'.repeat(64) }] });
    const result = await sink.deliver(await job(huge, 'bob@contoso.example'));
    expect(result.outcome).toBe('partial');
    const [m] = graph.mailbox('bob@contoso.example').messages;
    expect(m.body.content).toMatch(/rec\.wav.*kept in the archive/);
    expect(m.attachments.map((a) => a.name)).toEqual(['rec.wav (not attached).txt']);
  });

  it('paces a burst to one mailbox so that Graph never refuses it for concurrency', async () => {
    const jobs = await Promise.all(Array.from({ length: 40 }, (_, i) => job(item(`TM-burst-${i}`), 'ann@contoso.example')));
    const results = await Promise.all(jobs.map((j) => sink.deliver(j)));
    expect(results.every((r) => r.outcome === 'imported')).toBe(true);
    expect(graph.mailbox('ann@contoso.example').messages).toHaveLength(40);
    expect(graph.stats().refused.concurrency ?? 0).toBe(0);
  });

  it('rides out 503s and a throttling storm', async () => {
    graph.addFault({ kind: 'error', status: 503, retryAfterSeconds: 0, count: 4, operations: ['createMessage'] });
    const result = await sink.deliver(await job(item('TM-6'), 'ann@contoso.example'));
    expect(result.outcome).toBe('imported');
    expect(graph.mailbox('ann@contoso.example').messages).toHaveLength(1);
  });
});
