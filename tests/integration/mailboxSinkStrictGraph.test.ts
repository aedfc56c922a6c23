import { startSigninEmulator, type SigninEmulator } from '../../emulators/signin/server';
import { startGraphEmulator, type GraphEmulator, type GraphEmulatorOptions } from '../../emulators/graph/server';
import { createGraphClient } from '../../importer/sink/graphClient';
import { MailboxSink, type AttachmentReader, type DeliveryJob } from '../../importer/sink/mailboxSink';
import { archiveKeyOf } from '../../importer/sink/messageProperties';
import { RetryPolicy } from '../../importer/retryPolicy';
import { base64Blob } from '../../importer/sink/base64Blob';
import { ImporterError } from '../../importer/errors';
import type { ArchiveItem, AttachmentInfo } from '../../importer/model';
import { patternBuffer, patternSha256, patternStream } from '../support/patternBytes';

// The sink against the Graph emulator made as strict as Exchange Online: what a lenient
// emulator let pass unnoticed (and a customer's first night would not).
const MB = 1024 * 1024;
const tenantId = '21111111-2222-4333-8444-555555555555';
const app = { tenantId, clientId: 'baaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', clientSecret: 'strict-sink-secret', roles: ['Mail.ReadWrite', 'User.Read.All'] };
const FOLDER = 'Enterprise Number Archiver';
const USERS = [
  { id: 'u-ann', userPrincipalName: 'ann@contoso.example', mail: 'ann@contoso.example', displayName: 'Ann Lee', maxMessageSizeBytes: 150 * MB },
  { id: 'u-hid', userPrincipalName: 'hid@contoso.example', mail: 'hid@contoso.example', displayName: 'Hidden Folder', hiddenFolders: [FOLDER] },
  { id: 'u-small', userPrincipalName: 'small@contoso.example', mail: 'small@contoso.example', displayName: 'Small Box', maxMessageSizeBytes: 10 * MB },
  { id: 'u-nobox', userPrincipalName: 'kiosk@contoso.example', mail: 'kiosk@contoso.example', displayName: 'Kiosk', hasMailbox: false },
];

async function attachment(index: number, name: string, contentType: string, size: number): Promise<AttachmentInfo> {
  return { index, name, contentType, size, sha256: await patternSha256(name, size) };
}

function reader(item: ArchiveItem): AttachmentReader {
  return {
    encoded: async (indexes) => new Map(await Promise.all(indexes.map(async (i) => [i, await base64Blob(await patternBuffer(item.attachments[i].name, item.attachments[i].size))] as const))),
    open: async (index) => patternStream(item.attachments[index].name, item.attachments[index].size),
  };
}

function item(id: string, attachments: AttachmentInfo[] = []): ArchiveItem {
  return {
    id,
    kind: attachments.length ? 'mms' : 'sms',
    at: new Date('2026-11-24T09:13:22Z'),
    archivedAt: new Date('2026-11-24T09:13:25Z'),
    direction: 'outbound',
    participants: [{ role: 'from', number: '+14155550101', email: 'ann@contoso.example', name: 'Ann Lee' }],
    subject: 'MMS',
    text: 'see attached',
    attachments,
    raw: { sha256: 'e'.repeat(64), size: 1234 },
  };
}

describe('the mailbox sink against a Graph as strict as Exchange Online', () => {
  let signin: SigninEmulator;
  let graph: GraphEmulator;
  let sink: MailboxSink;

  async function start(options: Partial<GraphEmulatorOptions> = {}): Promise<void> {
    await graph?.close();
    graph = await startGraphEmulator({ auth: { jwksUri: signin.jwksUri(tenantId), issuer: signin.issuer(tenantId) }, users: USERS, ...options });
  }

  beforeAll(async () => {
    signin = await startSigninEmulator({ apps: [app] });
    await start();
  });
  afterAll(async () => {
    await graph.close();
    await signin.close();
  });
  beforeEach(() => {
    graph.reset();
    const client = createGraphClient({ tenantId, clientId: app.clientId, clientSecret: app.clientSecret, authorityHost: signin.authorityHost, graphBaseUrl: graph.url });
    sink = new MailboxSink(client, { folderName: FOLDER, retry: new RetryPolicy({ baseDelayMs: 20, maxDelayMs: 200 }) });
  });

  async function job(it: ArchiveItem, mailbox: string): Promise<DeliveryJob> {
    const user = await sink.findUser(mailbox);
    const folderId = await sink.ensureFolder(user!.id);
    return { item: it, mailbox, userId: user!.id, folderId, archiveKey: archiveKeyOf(it.id, mailbox), mayExist: false, attachments: reader(it) };
  }

  const attachmentsOf = (mailbox: string) => graph.mailbox(mailbox).messages.flatMap((m) => m.attachments.map((a) => [a.name, a.size, a.sha256]));

  it('archives into the archive folder when it exists but is hidden, instead of failing on ErrorFolderExists', async () => {
    const result = await sink.deliver(await job(item('TM-hidden'), 'hid@contoso.example'));
    expect(result.outcome).toBe('imported');
    const box = graph.mailbox('hid@contoso.example');
    expect(box.folders.filter((f) => f.displayName === FOLDER)).toEqual([expect.objectContaining({ isHidden: true, messageCount: 1 })]);
  });

  it('uploads an attachment just under 3 MB by session: no size band is left outside the mailbox', async () => {
    const nearly3 = item('TM-band', [await attachment(0, 'IMG_band.jpg', 'image/jpeg', 3 * MB - 4096)]);
    const result = await sink.deliver(await job(nearly3, 'ann@contoso.example'));
    expect(result).toMatchObject({ outcome: 'imported', keptOutside: [] });
    expect(attachmentsOf('ann@contoso.example')).toEqual([['IMG_band.jpg', 3 * MB - 4096, nearly3.attachments[0].sha256]]);
    expect(graph.stats().served.byOperation.createUploadSession).toBe(1);
  });

  it('starts a new session when its session has expired, rather than retrying the dead one; one attachment results', async () => {
    const rec = item('TM-expired', [await attachment(0, 'call.wav', 'audio/wav', 10 * MB + 7)]);
    graph.addFault({ kind: 'expireUploadSession', count: 1 });
    const result = await sink.deliver(await job(rec, 'ann@contoso.example'));
    expect(result.outcome).toBe('imported');
    expect(attachmentsOf('ann@contoso.example')).toEqual([['call.wav', 10 * MB + 7, rec.attachments[0].sha256]]);
    expect(graph.stats().refused.expiredUploadSession).toBe(1);
    expect(graph.stats().served.byOperation.createUploadSession).toBe(2);
  });

  it('after a lost answer to a range, checks the message and uploads again in a new session, without reading the session back', async () => {
    const rec = item('TM-lost-range', [await attachment(0, 'call.wav', 'audio/wav', 9 * MB)]);
    graph.addFault({ kind: 'lostResponse', count: 1, operations: ['uploadChunk'] });
    const result = await sink.deliver(await job(rec, 'ann@contoso.example'));
    expect(result.outcome).toBe('imported');
    expect(attachmentsOf('ann@contoso.example')).toEqual([['call.wav', 9 * MB, rec.attachments[0].sha256]]);
    expect(graph.stats().lostResponses).toBe(1);
    expect(graph.stats().served.byOperation.getUploadSession).toBeUndefined();
    expect(graph.stats().served.byOperation.createUploadSession).toBe(2);
  });

  it('after a lost answer to the last range, finds the attachment made and does not make a second', async () => {
    const rec = item('TM-lost-last', [await attachment(0, 'call.wav', 'audio/wav', 3 * MB)]);
    // 3 MB is one range: its answer is the one that finishes the attachment.
    graph.addFault({ kind: 'lostResponse', count: 1, operations: ['uploadChunk'] });
    const result = await sink.deliver(await job(rec, 'ann@contoso.example'));
    expect(result.outcome).toBe('imported');
    expect(attachmentsOf('ann@contoso.example')).toEqual([['call.wav', 3 * MB, rec.attachments[0].sha256]]);
    expect(graph.stats().served.byOperation.createUploadSession).toBe(1);
    expect(graph.stats().served.byOperation.getUploadSession).toBeUndefined();
  });

  it('calls an item partially imported when the mailbox refuses its attachment part-way, by the base64 size Exchange counts', async () => {
    // 8 MiB of bytes is under the 10 MiB limit; its base64 (10.7 MiB) is not.
    const rec = item('TM-size', [await attachment(0, 'VID.mp4', 'video/mp4', 8 * MB)]);
    const result = await sink.deliver(await job(rec, 'small@contoso.example'));
    expect(result.outcome).toBe('partial');
    expect(result.reason).toMatch(/VID\.mp4: the mailbox refused it: the message would exceed its maximum size/);
    const [m] = graph.mailbox('small@contoso.example').messages;
    expect(m.isDraft).toBe(false);
    expect(m.attachments.map((a) => a.name)).toEqual(['VID.mp4 (not attached).txt']);
    expect(graph.stats().served.byOperation.uploadChunk).toBe(2);
  });

  it('says which users have no Exchange Online mailbox, with Graph’s own answer, and asks Graph once', async () => {
    const user = await sink.findUser('kiosk@contoso.example');
    expect(user).toMatchObject({ id: 'u-nobox' });
    for (let i = 0; i < 2; i++) {
      const error = await sink.ensureFolder(user!.id).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(ImporterError);
      expect(error).toMatchObject({ code: 'MailboxNotEnabled', message: expect.stringContaining('MailboxNotEnabledForRESTAPI') });
    }
    expect(graph.stats().served.byOperation.listFolders).toBeUndefined();
  });
});

describe('the pacer’s account of 429s, by the messages Exchange Online sends', () => {
  let signin: SigninEmulator;
  let graph: GraphEmulator;
  beforeAll(async () => {
    signin = await startSigninEmulator({ apps: [app] });
    // Graph allows far less upload than the sink expects: every 429 it draws is an IncomingBytes one.
    graph = await startGraphEmulator({ auth: { jwksUri: signin.jwksUri(tenantId), issuer: signin.issuer(tenantId) }, users: USERS, limits: { uploadBytesPerWindow: 5 * MB, uploadWindowSeconds: 1 } });
  });
  afterAll(async () => {
    await graph.close();
    await signin.close();
  });

  it('counts IncomingBytes 429s as upload throttling, not as request throttling', async () => {
    const client = createGraphClient({ tenantId, clientId: app.clientId, clientSecret: app.clientSecret, authorityHost: signin.authorityHost, graphBaseUrl: graph.url });
    const sink = new MailboxSink(client, { folderName: FOLDER, retry: new RetryPolicy({ baseDelayMs: 20, maxDelayMs: 200 }) });
    const rec = item('TM-bytes', [await attachment(0, 'call.wav', 'audio/wav', 12 * MB)]);
    const user = await sink.findUser('ann@contoso.example');
    const folderId = await sink.ensureFolder(user!.id);
    const result = await sink.deliver({
      item: rec,
      mailbox: 'ann@contoso.example',
      userId: user!.id,
      folderId,
      archiveKey: archiveKeyOf(rec.id, 'ann@contoso.example'),
      mayExist: false,
      attachments: reader(rec),
    });
    expect(result.outcome).toBe('imported');
    const refused = graph.stats().refused.upload;
    expect(refused).toBeGreaterThan(0);
    expect(sink.stats().get(user!.id)?.throttled).toEqual({ concurrency: 0, rate: 0, upload: refused, other: 0 });
  });
});
