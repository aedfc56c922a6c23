import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { inspect } from 'node:util';
import type { ContainerClient } from '@azure/storage-blob';
import { startAzurite, type RunningAzurite } from '../../emulators/storage/azurite';
import { renderRawMessage } from '../../emulators/telemessage/rfc822';
import { startTeleMessageEmulator, type ExpectedItem, type TeleMessageEmulator, type TeleMessageEmulatorOptions } from '../../emulators/telemessage/server';
import { ImporterError } from '../../importer/errors';
import type { SourceItemRef, TimeWindow } from '../../importer/model';
import { RetryPolicy } from '../../importer/retryPolicy';
import { TeleMessageSource, type TeleMessageSourceOptions } from '../../importer/source/telemessageSource';
import { RawStore } from '../../importer/stage/rawStore';
import { StorageAccount } from '../../importer/state/storageAccount';

const SEED = 'source-tests';
const CREDENTIALS = { username: 'compliance-admin@contoso.example', password: 'Pa55;word"with-Specials' };
const BASE: TeleMessageEmulatorOptions = {
  seed: SEED,
  credentials: CREDENTIALS,
  population: { employees: 20 },
  days: ['2025-01-14', '2025-01-15'],
  now: new Date('2025-01-20T00:00:00Z'),
  traffic: { itemsPerDay: 300, hugeAttachments: [] },
};
const TWO_DAYS: TimeWindow = { from: new Date('2025-01-14T00:00:00Z'), to: new Date('2025-01-16T00:00:00Z') };

const fastRetry = (maxAttempts = 8) => new RetryPolicy({ maxAttempts, baseDelayMs: 5, maxDelayMs: 40 });
const refOf = (item: ExpectedItem): SourceItemRef => ({ id: item.id, archivedAt: new Date(item.archivedAt), type: item.type, sizeBytes: item.sizeBytes });

async function listAll(source: TeleMessageSource, window: TimeWindow, abortSignal?: AbortSignal): Promise<SourceItemRef[]> {
  const refs: SourceItemRef[] = [];
  for await (const ref of source.list(window, { abortSignal })) refs.push(ref);
  return refs;
}

async function sha256Of(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

async function caught(promise: Promise<unknown>): Promise<ImporterError> {
  try {
    await promise;
  } catch (error) {
    return error as ImporterError;
  }
  throw new Error('expected a failure');
}

describe('TeleMessage source', () => {
  let em: TeleMessageEmulator;
  let expected: ExpectedItem[];
  const smallItem = () => expected.find((i) => i.sizeBytes > 40_000 && i.sizeBytes < 1024 * 1024) as ExpectedItem;
  const sourceFor = (options: Partial<TeleMessageSourceOptions> = {}) =>
    new TeleMessageSource({
      baseUrl: em.url,
      username: CREDENTIALS.username,
      password: async () => CREDENTIALS.password,
      pageSize: 17,
      retry: fastRetry(),
      ...options,
    });

  beforeAll(async () => {
    em = await startTeleMessageEmulator(BASE);
    expected = em.listExpected(TWO_DAYS.from, TWO_DAYS.to);
  });
  afterAll(() => em.close());
  beforeEach(() => em.reset());

  describe('listing', () => {
    test('lists exactly the expected items of a window, page after page, with one sign-in', async () => {
      const refs = await listAll(sourceFor(), TWO_DAYS);
      expect(refs).toHaveLength(600);
      expect(refs).toEqual(expected.map(refOf));
      expect(new Set(refs.map((r) => r.id)).size).toBe(600);
      const stats = em.stats();
      expect(stats.pagesListed).toBe(Math.ceil(600 / 17));
      expect(stats.tokensIssued).toBe(1);
    });

    test('treats the window as half-open and lists nothing for an empty one', async () => {
      const from = new Date(expected[100].archivedAt);
      const to = new Date(expected[250].archivedAt);
      const refs = await listAll(sourceFor({ pageSize: 1000 }), { from, to });
      expect(refs.map((r) => r.id)).toEqual(expected.slice(100, 250).map((i) => i.id));
      expect(await listAll(sourceFor(), { from, to: from })).toEqual([]);
      await expect(listAll(sourceFor(), { from: to, to: from })).rejects.toThrow(RangeError);
    });

    test('a token that dies mid-listing is replaced without the caller noticing; the password is read per sign-in', async () => {
      em.setFaults({ expireTokensAfterRequests: 4 });
      let passwordReads = 0;
      const source = sourceFor({
        password: async () => {
          passwordReads++;
          return CREDENTIALS.password;
        },
      });
      expect(await listAll(source, TWO_DAYS)).toEqual(expected.map(refOf));
      const stats = em.stats();
      expect(stats.faultsInjected.expiredTokens).toBeGreaterThan(5);
      expect(stats.tokensIssued).toBe(stats.faultsInjected.expiredTokens + 1);
      expect(passwordReads).toBe(stats.tokensIssued);
    });

    test('bursts of 5xx are retried; an outage that lasts ends in SourceUnavailable', async () => {
      em.setFaults({ failNextRequests: 3 });
      expect(await listAll(sourceFor(), TWO_DAYS)).toEqual(expected.map(refOf));
      em.setFaults({ failRatio: 0.25, failStatus: 502 });
      expect(await listAll(sourceFor({ retry: fastRetry(12) }), TWO_DAYS)).toEqual(expected.map(refOf));
      expect(em.stats().faultsInjected.serverErrors).toBeGreaterThan(5);

      em.reset();
      em.setFaults({ failNextRequests: 100 });
      const error = await caught(listAll(sourceFor({ retry: fastRetry(3) }), TWO_DAYS));
      expect(error).toBeInstanceOf(ImporterError);
      expect(error.code).toBe('SourceUnavailable');
      expect(error.message).toMatch(/kept failing the listing \(3 attempts\); last answer 503 server_error/);
      expect(em.stats().requests).toBe(3);
    });

    test('a slow answer is abandoned at the deadline and asked again', async () => {
      // The emulator hangs until the source gives up on an answer, then answers at once: the test
      // waits on that, not on a clock, and the deadline is wide enough for a busy machine's answers.
      em.setFaults({ latencyMs: 600_000 });
      const abandoned: unknown[] = [];
      const watching: typeof fetch = (input, init) => {
        init?.signal?.addEventListener('abort', () => {
          abandoned.push(init.signal?.reason);
          em.setFaults({ latencyMs: 0 });
        });
        return fetch(input, init);
      };
      const refs = await listAll(sourceFor({ requestTimeoutMs: 3000, pageSize: 1000, fetch: watching }), TWO_DAYS);
      expect(refs).toEqual(expected.map(refOf));
      expect(abandoned).toEqual([new Error('no response within 3 s')]);
      expect(em.stats().faultsInjected.delayedResponses).toBe(1);

      em.setFaults({ latencyMs: 600_000 });
      const error = await caught(listAll(sourceFor({ requestTimeoutMs: 100, retry: fastRetry(2) }), TWO_DAYS));
      expect(error.code).toBe('SourceUnavailable');
      expect(error.message).toMatch(/2 attempts.*no response within/);
    });

    test('aborting stops the listing, also mid-page and mid-request', async () => {
      const controller = new AbortController();
      const seen: string[] = [];
      const listing = (async () => {
        for await (const ref of sourceFor().list(TWO_DAYS, { abortSignal: controller.signal })) {
          seen.push(ref.id);
          if (seen.length === 20) controller.abort(new Error('run cancelled'));
        }
      })();
      await expect(listing).rejects.toThrow('run cancelled');
      expect(seen).toHaveLength(20);
      expect(em.stats().pagesListed).toBe(2);

      em.setFaults({ latencyMs: 10_000 });
      const hanging = new AbortController();
      const pending = listAll(sourceFor(), TWO_DAYS, hanging.signal);
      setTimeout(() => hanging.abort(new Error('shutting down')), 100);
      await expect(pending).rejects.toThrow('shutting down');
    });
  });

  describe('sign-in', () => {
    test('a wrong password is SourceAuthFailed, tried once, and the password shows nowhere', async () => {
      const wrong = 'Wr0ng-Passw0rd-7d1e';
      const error = await caught(listAll(sourceFor({ password: async () => wrong }), TWO_DAYS));
      expect(error).toBeInstanceOf(ImporterError);
      expect(error.code).toBe('SourceAuthFailed');
      expect(error.message).toMatch(/username or password is wrong/);
      expect(error.message).toContain(CREDENTIALS.username);
      for (const text of [error.message, String(error.stack), inspect(error, { depth: 5 }), JSON.stringify(error)]) {
        expect(text).not.toContain(wrong);
        expect(text).not.toContain(CREDENTIALS.password);
      }
      expect(em.stats().loginsRejected).toBe(1);

      // As after a password change at TeleMessage: the right password no longer works.
      em.setFaults({ rejectLogins: true });
      const changed = await caught(sourceFor().download(refOf(smallItem())));
      expect(changed.code).toBe('SourceAuthFailed');
      expect(inspect(changed)).not.toContain(CREDENTIALS.password);
    });

    test('concurrent downloads share one sign-in', async () => {
      const source = sourceFor();
      const items = expected.filter((i) => i.sizeBytes < 200_000).slice(0, 6);
      const bodies = await Promise.all(items.map((item) => source.download(refOf(item))));
      const sizes = await Promise.all(bodies.map(async (body) => (await sha256Of(body)).size));
      expect(sizes).toEqual(items.map((i) => i.sizeBytes));
      expect(em.stats().tokensIssued).toBe(1);
    });
  });

  describe('download', () => {
    let azurite: RunningAzurite;
    let container: ContainerClient;
    let store: RawStore;
    beforeAll(async () => {
      azurite = await startAzurite();
      container = await new StorageAccount({ connectionString: azurite.connectionString }).container('raw');
      store = new RawStore(container, { memoryLimitBytes: 64 * 1024 });
    });
    afterAll(() => azurite.stop());

    const generated = async (item: ExpectedItem) => sha256Of(renderRawMessage(item, SEED).stream());
    const blobNames = async () => {
      const names: string[] = [];
      for await (const blob of container.listBlobsFlat()) names.push(blob.name);
      return names;
    };

    test('streams the exact bytes of an item, retrying a request that fails before the body', async () => {
      const item = smallItem();
      em.setFaults({ failNextRequests: 2 });
      const body = await sourceFor().download(refOf(item));
      expect(await sha256Of(body)).toEqual(await generated(item));
      expect(em.stats().faultsInjected.serverErrors).toBe(2);
    });

    test('a cut download errors the stream, and staging keeps nothing of it', async () => {
      const item = smallItem();
      const source = sourceFor();
      em.setFaults({ cutNextDownloads: 2, cutAfterBytes: 10_000 });
      const cut = await source.download(refOf(item));
      const error = await caught(sha256Of(cut));
      expect(error.code).toBe('SourceUnavailable');
      expect(error.message).toMatch(new RegExp(`download of ${item.id} broke off after \\d+ of ${item.sizeBytes} bytes`));

      await expect(store.stage(await source.download(refOf(item)), { expectedSize: item.sizeBytes })).rejects.toMatchObject({ code: 'SourceUnavailable' });
      expect(await blobNames()).toEqual([]);

      const staged = await store.stage(await source.download(refOf(item)), { expectedSize: item.sizeBytes });
      expect(staged).toMatchObject({ ...(await generated(item)), alreadyStored: false });
      expect(await blobNames()).toEqual([staged.sha256]);
      expect(em.stats().downloadsCompleted).toBe(1);
    });

    test("aborting a download mid-body errors the stream with the caller's reason", async () => {
      const item = expected.reduce((a, b) => (b.sizeBytes > a.sizeBytes ? b : a));
      const controller = new AbortController();
      const body = await sourceFor().download(refOf(item), { abortSignal: controller.signal });
      const reading = (async () => {
        for await (const _chunk of body) controller.abort(new Error('run cancelled'));
      })();
      await expect(reading).rejects.toThrow('run cancelled');
      expect(em.stats().downloadsCompleted).toBe(0);
    });

    test('an unknown id is NotFound, not retried', async () => {
      const error = await caught(sourceFor().download({ ...refOf(smallItem()), id: 'TM-20250115-0000001-00000000' }));
      expect(error.code).toBe('NotFound');
      expect(em.stats().requests).toBe(2);
    });
  });

  // The emulator cannot stall or end a body early without closing the connection, so these two
  // faults come from a hand-made server and a fetch that shortens the body.
  describe('download faults the emulator cannot make', () => {
    let stalling: http.Server;
    let url: string;
    beforeAll(async () => {
      stalling = http.createServer((req, res) => {
        if (req.url === '/api/v1/auth/token') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ access_token: 'stall-token', token_type: 'Bearer', expires_in: 900 }));
          return;
        }
        res.writeHead(200, { 'content-type': 'message/rfc822', 'content-length': 5000 });
        res.write(Buffer.alloc(700, 0x41));
      });
      await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(stalling.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      stalling.closeAllConnections();
      await new Promise((resolve) => stalling.close(resolve));
    });
    const ref: SourceItemRef = { id: 'TM-20250115-0000002-abcdef01', archivedAt: new Date('2025-01-15T10:00:00Z'), type: 'SMS', sizeBytes: 5000 };

    test('a body that stops flowing fails after the idle timeout', async () => {
      const source = new TeleMessageSource({ baseUrl: url, username: 'u', password: async () => 'p', downloadIdleTimeoutMs: 200 });
      const error = await caught(sha256Of(await source.download(ref)));
      expect(error.code).toBe('SourceUnavailable');
      expect(error.message).toMatch(/stalled: no data for 0\.2 s after 700 bytes/);
    });

    test('a body that ends short of its Content-Length fails even when the transport says it ended', async () => {
      const shortening: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (!String(input).endsWith('/raw')) return response;
        const whole = Buffer.from(await response.arrayBuffer());
        return new Response(whole.subarray(0, 4000), { status: 200, headers: { 'content-length': String(whole.length) } });
      };
      const source = new TeleMessageSource({ baseUrl: em.url, username: CREDENTIALS.username, password: async () => CREDENTIALS.password, fetch: shortening });
      const item = smallItem();
      const error = await caught(sha256Of(await source.download(refOf(item))));
      expect(error.code).toBe('SourceUnavailable');
      expect(error.message).toContain(`ended after 4000 of the ${item.sizeBytes} bytes`);
    });
  });
});
