import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ClientSecretCredential } from '@azure/identity';
import { Client, GraphError, ResponseType, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { startGraphEmulator, GraphEmulator, MailDeliveryError, type RawMime } from '../../emulators/graph/server';
import { startSigninEmulator } from '../../emulators/signin/server';
import { deliverTrafficByEmail, journalReport, RealTimeSmtpDelivery } from '../../emulators/telemessage/smtpDelivery';
import { startTeleMessageEmulator, TeleMessageEmulator } from '../../emulators/telemessage/server';
import { patternStream } from '../support/patternBytes';

// A capture mailbox in the Graph emulator, read as the capture-mailbox collector will read it:
// delta query on its folder, MIME by $value, through the real Graph SDK over HTTPS.
const MB = 1024 * 1024;
const CAPTURE = {
  id: 'eeeeeeee-0000-0000-0000-000000000001',
  userPrincipalName: 'telemessage-capture@contoso.example',
  mail: 'telemessage-capture@contoso.example',
  displayName: 'TeleMessage capture',
  maxMessageSizeBytes: 150 * MB,
};
const SUSAN = { id: 'eeeeeeee-0000-0000-0000-000000000002', userPrincipalName: 'susan@contoso.example', mail: 'susan@contoso.example', displayName: 'Susan' };
/** Susan's mailbox keeps Exchange's default maximum message size. */
const SUSAN_MAX = 35 * MB;
const DAY = '2025-01-15';
const DELTA = `/users/${CAPTURE.id}/mailFolders/inbox/messages/delta`;

let graph: GraphEmulator;
let client: Client;
let telemessage: TeleMessageEmulator;

function graphClient(url: string, getAccessToken: () => Promise<string> = async () => 'local'): Client {
  return Client.initWithMiddleware({ authProvider: { getAccessToken }, baseUrl: url, customHosts: new Set(['localhost']) });
}

async function failure(request: Promise<unknown>): Promise<GraphError> {
  try {
    await request;
  } catch (error) {
    return error as GraphError;
  }
  throw new Error('the request succeeded');
}

function rawOf(text: string): RawMime {
  const bytes = Buffer.from(text, 'utf8');
  return { size: bytes.length, stream: () => Readable.from([bytes]) };
}

const plainMail = (n: number) =>
  rawOf(
    [
      `Message-ID: <plain-${n}@archive.telemessage.example>`,
      'Date: Wed, 15 Jan 2025 09:13:22 +0000',
      'From: Noa Levi Mobile <noa.levi@contoso.example>',
      'To: "Levi, Dan" <dan@contoso.example>, =?UTF-8?B?15PXoNeZ?= <447700900123@telemessage.invalid>',
      `Subject: =?UTF-8?B?${Buffer.from(`SMS ${n} — שלום`).toString('base64')}?=`,
      'MIME-Version: 1.0',
      'X-TELEMESSAGE-MessageType: SMS',
      'Content-Type: text/plain; charset=UTF-8',
      '',
      `Hello ${n}`,
      '',
    ].join('\r\n'),
  );

interface DeltaRound {
  messages: Array<Record<string, unknown>>;
  pages: number;
  deltaLink: string;
}

/** Follows a round of delta pages to its deltaLink, as a collector does. */
async function followDelta(start: string, pageSize?: number, select?: string[]): Promise<DeltaRound> {
  const messages: Array<Record<string, unknown>> = [];
  let request = client.api(start);
  if (select) request = request.select(select);
  for (let pages = 1; ; pages++) {
    if (pageSize) request = request.header('Prefer', `odata.maxpagesize=${pageSize}`);
    const page = await request.get();
    messages.push(...page.value);
    if (page['@odata.deltaLink']) return { messages, pages, deltaLink: page['@odata.deltaLink'] };
    expect(page['@odata.nextLink']).toEqual(expect.any(String));
    request = client.api(page['@odata.nextLink']);
  }
}

async function sha256Of(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

async function bytesOf(raw: RawMime): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of raw.stream()) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

beforeAll(async () => {
  graph = await startGraphEmulator({ auth: { mode: 'none' }, users: [CAPTURE, SUSAN], timeScale: 0.01 });
  client = graphClient(graph.url);
  telemessage = await startTeleMessageEmulator({
    seed: 'capture-mailbox',
    days: [DAY],
    now: new Date('2025-01-16T00:00:00Z'),
    traffic: { itemsPerDay: 36, hugeAttachments: [], malformedRatio: 0 },
  });
});

afterAll(async () => {
  await graph.close();
  await telemessage.close();
});

beforeEach(() => graph.reset());

it('pages a delta round with Prefer odata.maxpagesize and opaque tokens, and lists the header block fields', async () => {
  for (let n = 0; n < 7; n++) await graph.deliverMime(CAPTURE.userPrincipalName, plainMail(n));

  const first = await client.api(DELTA).select(['subject', 'from', 'toRecipients', 'internetMessageId']).header('Prefer', 'odata.maxpagesize=3').responseType(ResponseType.RAW).get();
  expect(first.headers.get('preference-applied')).toBe('odata.maxpagesize=3');
  const page = await first.json();
  expect(page.value).toHaveLength(3);
  expect(page['@odata.nextLink']).toMatch(/\/messages\/delta\?\$skiptoken=[\w.-]+$/);
  expect(page['@odata.deltaLink']).toBeUndefined();
  expect(page.value[0]).toEqual({
    '@odata.type': '#microsoft.graph.message',
    '@odata.etag': expect.any(String),
    id: expect.any(String),
    subject: 'SMS 0 — שלום',
    from: { emailAddress: { name: 'Noa Levi Mobile', address: 'noa.levi@contoso.example' } },
    toRecipients: [{ emailAddress: { name: 'Levi, Dan', address: 'dan@contoso.example' } }, { emailAddress: { name: 'דני', address: '447700900123@telemessage.invalid' } }],
    internetMessageId: '<plain-0@archive.telemessage.example>',
  });

  const round = await followDelta(DELTA, 3, ['subject', 'internetMessageId', 'internetMessageHeaders', 'receivedDateTime', 'hasAttachments', 'parentFolderId']);
  expect(round.pages).toBe(3);
  expect(round.deltaLink).toMatch(/\/messages\/delta\?\$deltatoken=[\w.-]+$/);
  expect(round.messages.map((m) => m.internetMessageId)).toEqual([0, 1, 2, 3, 4, 5, 6].map((n) => `<plain-${n}@archive.telemessage.example>`));
  const inbox = graph.mailbox(CAPTURE.id).folders.find((f) => f.wellKnownName === 'inbox');
  expect(round.messages[0]).toMatchObject({ hasAttachments: false, parentFolderId: inbox?.id });
  expect(round.messages[0].internetMessageHeaders).toContainEqual({ name: 'X-TELEMESSAGE-MessageType', value: 'SMS' });
  const one = await client.api(`/users/${CAPTURE.userPrincipalName}/mailFolders/inbox/messages/${round.messages[6].id}`).select('subject,isRead,isDraft').get();
  expect(one).toMatchObject({ subject: 'SMS 6 — שלום', isRead: false, isDraft: false });

  // Headers only when selected; without Prefer, Graph's page size of 10.
  const plain = await client.api(DELTA).get();
  expect(plain.value).toHaveLength(7);
  expect(plain.value[0].internetMessageHeaders).toBeUndefined();
  expect(plain['@odata.deltaLink']).toEqual(expect.any(String));
});

it('follows the delta over three rounds of TeleMessage deliveries and sees each message once, a removal as @removed', async () => {
  const hours = ['2025-01-15T00:00:00Z', '2025-01-15T10:00:00Z', '2025-01-15T15:00:00Z', '2025-01-16T00:00:00Z'];
  const seen: string[] = [];
  let link = DELTA;
  for (let round = 0; round < 3; round++) {
    const report = await deliverTrafficByEmail(telemessage, graph, { mailbox: CAPTURE.userPrincipalName, from: hours[round], to: hours[round + 1] });
    expect(report.refused).toEqual([]);
    expect(report.delivered).toBe(telemessage.listExpected(hours[round], hours[round + 1]).length);
    const { messages, deltaLink } = await followDelta(link, 4, ['internetMessageId', 'receivedDateTime']);
    expect(messages.every((m) => !('@removed' in m))).toBe(true);
    seen.push(...messages.map((m) => m.internetMessageId as string));
    link = deltaLink;
  }
  const expected = telemessage.listExpected(hours[0], hours[3]);
  expect(expected.length).toBeGreaterThan(20);
  expect(seen).toEqual(expected.map((item) => `<${item.id}@archive.telemessage.example>`));

  // Nothing new: an empty round. A message moved out of the folder: @removed.
  expect((await followDelta(link)).messages).toEqual([]);
  const victim = graph.mailbox(CAPTURE.id).messages[0];
  await client.api(`/users/${CAPTURE.id}/messages/${victim.id}`).delete();
  const after = await followDelta(link);
  expect(after.messages).toEqual([{ '@odata.type': '#microsoft.graph.message', id: victim.id, '@removed': { reason: 'deleted' } }]);
});

it('returns only the kind of change asked for with changeType, carried in the delta link', async () => {
  for (let n = 0; n < 3; n++) await graph.deliverMime(CAPTURE.id, plainMail(n));
  const created = await followDelta(`${DELTA}?changeType=created`, 2, ['subject']);
  const updated = await followDelta(`${DELTA}?changeType=updated`, 2, ['subject']);
  expect(created.messages).toHaveLength(3);
  const first = created.messages[0].id as string;
  await client.api(`/users/${CAPTURE.id}/messages/${first}`).patch({ isRead: true });
  await graph.deliverMime(CAPTURE.id, plainMail(3));
  expect((await followDelta(created.deltaLink)).messages.map((m) => m.subject)).toEqual(['SMS 3 — שלום']);
  expect((await followDelta(updated.deltaLink)).messages.map((m) => m.id)).toEqual([first]);
  const unknown = await failure(client.api(`${DELTA}?changeType=moved`).get());
  expect(unknown.statusCode).toBe(400);
});

it('answers an expired delta token with 410 SyncStateNotFound and a Location to start again; a fresh round sees everything', async () => {
  for (let n = 0; n < 5; n++) await graph.deliverMime(CAPTURE.id, plainMail(n));
  const { deltaLink } = await followDelta(DELTA, 2, ['subject']);
  await graph.deliverMime(CAPTURE.id, plainMail(5));
  graph.expireDeltaTokens();

  const expired = await fetch(deltaLink, { headers: { Authorization: 'Bearer local' } });
  expect(expired.status).toBe(410);
  expect((await expired.json()).error.code).toBe('SyncStateNotFound');
  expect(expired.headers.get('location')).toBe(
    `${graph.url}/v1.0/users/${CAPTURE.id}/mailFolders/${graph.mailbox(CAPTURE.id).folders.find((f) => f.wellKnownName === 'inbox')?.id}/messages/delta?$select=subject`,
  );
  const error = await failure(
    client
      .api(deltaLink)
      .middlewareOptions([new RetryHandlerOptions(0, 0)])
      .get(),
  );
  expect(error.statusCode).toBe(410);
  expect(error.code).toBe('SyncStateNotFound');

  const again = await followDelta(expired.headers.get('location') as string, 2);
  expect(again.messages.map((m) => m.subject)).toEqual([0, 1, 2, 3, 4, 5].map((n) => `SMS ${n} — שלום`));

  // A token this folder never issued (altered, or another mailbox's) is refused the same way.
  const altered = deltaLink.replace(/\$deltatoken=(.)/, (_, c: string) => `$deltatoken=${c === 'A' ? 'B' : 'A'}`);
  expect((await failure(client.api(altered).get())).code).toBe('SyncStateInvalid');
  const otherMailbox = deltaLink.replace(CAPTURE.id, SUSAN.id).replace(/mailFolders\/[^/]+/, 'mailFolders/inbox');
  expect((await failure(client.api(otherMailbox).get())).code).toBe('SyncStateInvalid');
});

it('expires delta tokens after the configured lifetime', async () => {
  const shortLived = await startGraphEmulator({ auth: { mode: 'none' }, users: [CAPTURE], deltaTokenLifetimeSeconds: 0.2 });
  try {
    await shortLived.deliverMime(CAPTURE.id, plainMail(1));
    const page = await graphClient(shortLived.url).api(DELTA).get();
    let status = 200;
    const giveUp = Date.now() + 20_000;
    while (status === 200 && Date.now() < giveUp) {
      const response = await fetch(page['@odata.deltaLink'], { headers: { Authorization: 'Bearer local' } });
      status = response.status;
      if (status === 410) expect((await response.json()).error.code).toBe('SyncStateNotFound');
      else await response.arrayBuffer();
    }
    expect(status).toBe(410);
  } finally {
    await shortLived.close();
  }
});

it('streams $value byte for byte for a 100 MB message, with Graph content type, and 404 for an unknown id', async () => {
  const head = Buffer.from(
    'Message-ID: <big@archive.telemessage.example>\r\nFrom: Noa <noa.levi@contoso.example>\r\nTo: dan@contoso.example\r\nSubject: big\r\n' +
      'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n',
  );
  const bodySize = 100 * MB;
  const big: RawMime = {
    size: head.length + bodySize,
    stream: () =>
      Readable.from(
        (async function* () {
          yield head;
          yield* patternStream('big-message', bodySize);
        })(),
      ),
  };
  const expected = await sha256Of(big.stream());
  const delivered = await graph.deliverMime(CAPTURE.userPrincipalName, big);

  const listed = await client.api(DELTA).select(['hasAttachments']).get();
  expect(listed.value).toEqual([expect.objectContaining({ id: delivered.id, hasAttachments: true })]);

  for (const path of [`/users/${CAPTURE.id}/messages/${delivered.id}/$value`, `/users/${CAPTURE.userPrincipalName}/mailFolders/inbox/messages/${delivered.id}/$value`]) {
    const response: Response = await client.api(path).responseType(ResponseType.RAW).get();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.get('content-length')).toBeNull();
    expect(await sha256Of(response.body as ReadableStream<Uint8Array>)).toEqual(expected);
  }

  const missing = await failure(client.api(`/users/${CAPTURE.id}/messages/AAMkADnotthere=/$value`).get());
  expect(missing.statusCode).toBe(404);
  expect(missing.code).toBe('ErrorItemNotFound');
});

it('refuses a delivery over the mailbox maximum message size, as transport does, and files nothing', async () => {
  const tooBig: RawMime = { size: SUSAN_MAX + 1, stream: () => patternStream('too-big', SUSAN_MAX + 1) };
  await expect(graph.deliverMime(SUSAN.id, tooBig)).rejects.toMatchObject({ name: 'MailDeliveryError', code: 'MessageTooLarge' });
  await expect(graph.deliverMime('nobody@contoso.example', plainMail(1))).rejects.toBeInstanceOf(MailDeliveryError);
  expect(graph.mailbox(SUSAN.id).messages).toEqual([]);
});
it('delivers through the /_emulator/ route, spooled to disk, and serves the same bytes back', async () => {
  const bytes = await bytesOf(plainMail(42));
  const posted = await fetch(`${graph.url}/_emulator/mailboxes/${encodeURIComponent(CAPTURE.userPrincipalName)}/deliveries?folder=inbox&receivedDateTime=2025-01-15T09:13:25Z`, {
    method: 'POST',
    headers: { 'Content-Type': 'message/rfc822' },
    body: new Uint8Array(bytes),
  });
  expect(posted.status).toBe(201);
  const delivered = await posted.json();
  expect(delivered).toMatchObject({ internetMessageId: '<plain-42@archive.telemessage.example>', receivedDateTime: '2025-01-15T09:13:25Z', size: bytes.length });
  const back: Response = await client.api(`/users/${CAPTURE.id}/messages/${delivered.id}/$value`).responseType(ResponseType.RAW).get();
  expect(Buffer.from(await back.arrayBuffer()).equals(bytes)).toBe(true);

  const unknown = await fetch(`${graph.url}/_emulator/mailboxes/nobody@contoso.example/deliveries`, { method: 'POST', body: new Uint8Array(bytes) });
  expect(unknown.status).toBe(404);
  expect((await unknown.json()).error.code).toBe('UnknownMailbox');
});

it('delivers journal-wrapped items: an Exchange journal report carrying the original byte for byte', async () => {
  const window = { from: '2025-01-15T00:00:00Z', to: '2025-01-15T12:00:00Z' };
  const report = await deliverTrafficByEmail(telemessage, graph, { mailbox: CAPTURE.userPrincipalName, ...window, journal: true });
  const items = [...telemessage.archivedItems(window.from, window.to)];
  expect(report.delivered).toBe(items.length);

  const { messages } = await followDelta(DELTA, 50, ['subject', 'from', 'internetMessageHeaders', 'receivedDateTime', 'hasAttachments']);
  expect(messages.map((m) => m.receivedDateTime)).toEqual(items.map(({ item }) => item.archivedAt.replace(/\.\d{3}Z$/, 'Z')));
  expect(messages.every((m) => m.hasAttachments === true)).toBe(true);
  expect(messages[0].internetMessageHeaders).toContainEqual({ name: 'X-MS-Journal-Report', value: '' });
  expect(messages[0].from).toMatchObject({ emailAddress: { address: expect.stringMatching(/^MicrosoftExchange[0-9a-f]+@contoso\.example$/) } });

  const { item, raw } = items[0];
  const original = await bytesOf(raw);
  const response: Response = await client
    .api(`/users/${CAPTURE.id}/messages/${report.messageIds.get(item.id)}/$value`)
    .responseType(ResponseType.RAW)
    .get();
  const journal = Buffer.from(await response.arrayBuffer());
  const text = journal.toString('utf8');
  expect(text).toMatch(/^X-MS-Journal-Report:\r?$/m);
  expect(text).toContain(`Message-Id: <${item.id}@archive.telemessage.example>`);
  expect(text).toMatch(/^Sender: \S+@\S+\r?$/m);
  expect(text).toMatch(/^Recipient: \S+@\S+\r?$/m);
  expect(text).toMatch(/Content-Type: message\/rfc822\r\n(?:.+\r\n)*\r\n/);
  const at = journal.indexOf(original);
  expect(at).toBeGreaterThan(0);
  expect(journal.length).toBe((await journalReport(raw, { journalRecipient: CAPTURE.userPrincipalName, at: item.archivedAt, key: item.id })).size);
});

it('delivers in real time: each catch-up sends what was archived since the last, nothing twice', async () => {
  const live = new RealTimeSmtpDelivery(telemessage, graph, { mailbox: CAPTURE.userPrincipalName, since: '2025-01-15T00:00:00Z' });
  try {
    for (const now of ['2025-01-15T09:30:00Z', '2025-01-15T09:30:00Z', '2025-01-15T17:45:10Z', '2025-01-16T00:00:00Z']) {
      telemessage.setNow(new Date(now));
      const report = await live.catchUp();
      expect(report.refused).toEqual([]);
    }
  } finally {
    telemessage.setNow(new Date('2025-01-16T00:00:00Z'));
    await live.stop();
  }
  const expected = telemessage.listExpected('2025-01-15T00:00:00Z', '2025-01-16T00:00:00Z');
  expect(live.report().delivered).toBe(expected.length);
  const { messages } = await followDelta(DELTA, 100, ['internetMessageId']);
  expect(messages.map((m) => m.internetMessageId)).toEqual(expected.map((item) => `<${item.id}@archive.telemessage.example>`));
});

it('applies injected faults and Outlook throttling to delta and $value like any other request', async () => {
  await graph.deliverMime(CAPTURE.id, plainMail(1));
  const id = graph.mailbox(CAPTURE.id).messages[0].id;
  graph.addFault({ kind: 'error', status: 503, count: 1, retryAfterSeconds: 0.05, operations: ['deltaMessages'] });
  const refused = await fetch(`${graph.url}/v1.0${DELTA}`, { headers: { Authorization: 'Bearer local' } });
  expect(refused.status).toBe(503);
  graph.addFault({ kind: 'error', status: 503, count: 1, retryAfterSeconds: 0.05, operations: ['getMessageContent'] });
  const content: Response = await client.api(`/users/${CAPTURE.id}/messages/${id}/$value`).responseType(ResponseType.RAW).get();
  expect(content.status).toBe(200);
  await content.arrayBuffer();
  expect(graph.stats().refused.injected503).toBe(2);
  expect(graph.stats().served.byOperation).toMatchObject({ getMessageContent: 1 });

  const narrow = await startGraphEmulator({ auth: { mode: 'none' }, users: [CAPTURE], limits: { concurrentRequests: 1 }, latencyMs: 200 });
  try {
    await narrow.deliverMime(CAPTURE.id, plainMail(1));
    const answers = await Promise.all([1, 2, 3].map(() => fetch(`${narrow.url}/v1.0${DELTA}`, { headers: { Authorization: 'Bearer local' } })));
    const throttled = answers.filter((a) => a.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect((await throttled[0].json()).error.code).toBe('ApplicationThrottled');
    expect(throttled[0].headers.get('retry-after')).toEqual(expect.any(String));
    expect(narrow.stats().refused.concurrency).toBe(throttled.length);

    // A $value download holds its slot until its last byte: meanwhile the mailbox is at its limit.
    const big = await narrow.deliverMime(CAPTURE.id, { size: 64 * MB, stream: () => patternStream('slot', 64 * MB) });
    const download = await fetch(`${narrow.url}/v1.0/users/${CAPTURE.id}/messages/${big.id}/$value`, { headers: { Authorization: 'Bearer local' } });
    const reader = (download.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const during = await fetch(`${narrow.url}/v1.0${DELTA}`, { headers: { Authorization: 'Bearer local' } });
    expect(during.status).toBe(429);
    await during.arrayBuffer();
    await reader.cancel();
    let status = 429;
    for (let tries = 0; status === 429 && tries < 200; tries++) {
      const again = await fetch(`${narrow.url}/v1.0${DELTA}`, { headers: { Authorization: 'Bearer local' } });
      status = again.status;
      await again.arrayBuffer();
    }
    expect(status).toBe(200);
  } finally {
    await narrow.close();
  }
});

it('lets an app read only the capture mailbox it holds Mail.Read for (RBAC for Applications); Mail.ReadBasic gets no MIME', async () => {
  const TENANT = 'ffffffff-0000-0000-0000-000000000001';
  const reader = { tenantId: TENANT, clientId: 'capture-reader', clientSecret: 'reader-secret', roles: ['User.Read.All'] };
  const basic = { tenantId: TENANT, clientId: 'basic-reader', clientSecret: 'basic-secret', roles: ['Mail.ReadBasic.All'] };
  const signin = await startSigninEmulator({ apps: [reader, basic] });
  const scoped = await startGraphEmulator({
    auth: { jwksUri: signin.jwksUri(TENANT), issuer: signin.issuer(TENANT) },
    users: [CAPTURE, SUSAN],
    mailboxGrants: [{ appId: reader.clientId, roles: ['Mail.Read'], mailboxes: [CAPTURE.userPrincipalName] }],
  });
  const clientOf = (app: typeof reader) => {
    const credential = new ClientSecretCredential(TENANT, app.clientId, app.clientSecret, { authorityHost: signin.authorityHost, disableInstanceDiscovery: true });
    return graphClient(scoped.url, async () => (await credential.getToken('https://graph.microsoft.com/.default')).token);
  };
  try {
    const delivered = await scoped.deliverMime(CAPTURE.id, plainMail(1));
    await scoped.deliverMime(SUSAN.id, plainMail(2));
    const readerClient = clientOf(reader);
    expect((await readerClient.api(DELTA).get()).value).toHaveLength(1);
    const content: Response = await readerClient.api(`/users/${CAPTURE.id}/messages/${delivered.id}/$value`).responseType(ResponseType.RAW).get();
    expect(await content.text()).toContain('Hello 1');
    const elsewhere = await failure(readerClient.api(`/users/${SUSAN.id}/mailFolders/inbox/messages/delta`).get());
    expect(elsewhere.statusCode).toBe(403);
    expect(elsewhere.code).toBe('ErrorAccessDenied');
    const write = await failure(readerClient.api(`/users/${CAPTURE.id}/messages/${delivered.id}`).delete());
    expect(write.statusCode).toBe(403);

    const basicClient = clientOf(basic);
    expect((await basicClient.api(DELTA).get()).value).toHaveLength(1);
    const noMime = await failure(basicClient.api(`/users/${CAPTURE.id}/messages/${delivered.id}/$value`).get());
    expect(noMime.statusCode).toBe(403);
    expect(scoped.mailbox(CAPTURE.id).messages).toHaveLength(1);
  } finally {
    await scoped.close();
    await signin.close();
  }
});
