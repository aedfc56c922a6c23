import { BatchResponseContent, Client } from '@microsoft/microsoft-graph-client';
import { startGraphEmulator, GraphEmulator } from '../../emulators/graph/server';

// JSON batching: ordering with dependsOn, 424 for failed dependencies, throttling per inner request.
const SUSAN = { id: 'ffffffff-0000-0000-0000-000000000001', userPrincipalName: 'susan@contoso.com', mail: 'susan@contoso.com', displayName: 'Susan' };
const JSON_HEADERS = { 'Content-Type': 'application/json' };

let emulator: GraphEmulator;
let client: Client;

interface BatchResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: { error?: { code: string }; value?: unknown[]; id?: string };
}

async function batch(requests: unknown[]): Promise<{ status: number; responses: BatchResponse[] }> {
  const response = await fetch(`${emulator.url}/v1.0/$batch`, {
    method: 'POST',
    headers: { Authorization: 'Bearer local', 'Content-Type': 'application/json' },
    body: JSON.stringify({ requests }),
  });
  const body = await response.json();
  return { status: response.status, responses: body.responses ?? body };
}

const byId = (responses: BatchResponse[], id: string) => responses.find((r) => r.id === id) as BatchResponse;

const smsCreate = (id: string, key: string, dependsOn?: string[]) => ({
  id,
  method: 'POST',
  url: `/users/${SUSAN.id}/mailFolders/inbox/messages`,
  headers: JSON_HEADERS,
  body: { subject: key, singleValueExtendedProperties: [{ id: 'Integer 0x0E07', value: '1' }] },
  ...(dependsOn && { dependsOn }),
});

beforeAll(async () => {
  emulator = await startGraphEmulator({ auth: { mode: 'none' }, users: [SUSAN] });
  client = Client.initWithMiddleware({ authProvider: { getAccessToken: async () => 'local' }, baseUrl: emulator.url, customHosts: new Set(['localhost']) });
});

afterAll(() => emulator.close());

beforeEach(() => emulator.reset());

it('runs dependent requests in order and answers each by id, through the SDK', async () => {
  const raw = await client.api('/$batch').post({
    requests: [smsCreate('1', 'first'), smsCreate('2', 'second', ['1']), { id: '3', method: 'GET', url: `/users/${SUSAN.id}/mailFolders/inbox/messages?$select=subject`, dependsOn: ['2'] }],
  });
  const responses = new BatchResponseContent(raw);
  expect(responses.getResponseById('1').status).toBe(201);
  expect(responses.getResponseById('2').status).toBe(201);
  const listing = await responses.getResponseById('3').json();
  expect(listing.value.map((m: { subject: string }) => m.subject).sort()).toEqual(['first', 'second']);
  expect(emulator.stats().served.byOperation).toMatchObject({ batch: 1, createMessage: 2, listMessages: 1 });
});

it('refuses more than 20 requests', async () => {
  const { status, responses } = await batch(Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: `/users/${SUSAN.id}` })));
  expect(status).toBe(400);
  expect(responses).toMatchObject({ error: { code: 'BadRequest' } });
});

it('fails a request with 424 when the request it depends on failed', async () => {
  const { status, responses } = await batch([{ id: 'a', method: 'GET', url: `/users/${SUSAN.id}/mailFolders/AAMkADmissing=` }, smsCreate('b', 'never', ['a'])]);
  expect(status).toBe(200);
  expect(byId(responses, 'a')).toMatchObject({ status: 404, body: { error: { code: 'ErrorItemNotFound' } } });
  expect(byId(responses, 'b').status).toBe(424);
  expect(emulator.mailbox(SUSAN.id).messages).toHaveLength(0);
});

it('sends inner requests to one mailbox four at a time, as Graph does: six creates in one batch all succeed', async () => {
  const { status, responses } = await batch(Array.from({ length: 6 }, (_, i) => smsCreate(String(i), `parallel ${i}`)));
  expect(status).toBe(200);
  expect(responses.map((r) => r.status)).toEqual(Array(6).fill(201));
  expect(emulator.mailbox(SUSAN.id).messages).toHaveLength(6);
  expect(emulator.stats().refused.concurrency).toBe(0);
});

it('still throttles inner requests inside a 200 when other requests hold the mailbox’s four slots', async () => {
  const slow = await startGraphEmulator({ auth: { mode: 'none' }, users: [SUSAN], latencyMs: 300 });
  try {
    const post = (requests: unknown[]) =>
      fetch(`${slow.url}/v1.0/$batch`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ requests }) }).then(async (res) => ({
        status: res.status,
        body: (await res.json()) as { responses: BatchResponse[] },
      }));
    const [first, second] = await Promise.all([post([0, 1, 2, 3].map((i) => smsCreate(String(i), `first ${i}`))), post([0, 1, 2, 3].map((i) => smsCreate(String(i), `second ${i}`)))]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const throttled = [...first.body.responses, ...second.body.responses].filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    for (const response of throttled) expect(response.body?.error).toMatchObject({ code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' });
    expect(slow.mailbox(SUSAN.id).messages).toHaveLength(8 - throttled.length);
    expect(slow.stats().refused.concurrency).toBe(throttled.length);
  } finally {
    await slow.close();
  }
});

it('runs a dependsOn chain one at a time, so a long chain is not throttled', async () => {
  const chain = Array.from({ length: 8 }, (_, i) => smsCreate(String(i), `chained ${i}`, i === 0 ? undefined : [String(i - 1)]));
  const { responses } = await batch(chain);
  expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
});

it('needs a Content-Type on inner requests that carry a body', async () => {
  const { responses } = await batch([{ id: 'x', method: 'POST', url: `/users/${SUSAN.id}/mailFolders`, body: { displayName: 'No header' } }]);
  expect(byId(responses, 'x')).toMatchObject({ status: 400, body: { error: { code: 'BadRequest' } } });
});
