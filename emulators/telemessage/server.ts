import { createHash, timingSafeEqual } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArchiveCatalog, lastWeekAndToday, type ArchivedDays, type Position } from './archiveCatalog';
import { FaultInjector, parseFaultSettings, type FaultSettings, type InjectedFaults } from './faultInjector';
import { decodeCursor, encodeCursor } from './listingCursor';
import { createPopulation, renderMappingCsv, type Population, type PopulationOptions } from './population';
import { renderRawMessage, type RawMessage } from './rfc822';
import { TokenStore } from './tokenStore';
import { TrafficModel, type ItemSpec, type TrafficOptions } from './traffic';
import type { ContainerClient } from '@azure/storage-blob';
import { dropZips, type DroppedZip, type ZipDropOptions } from './zipDrop';

export interface TeleMessageEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Everything generated follows from it; default 'telemessage'. */
  seed?: string | number;
  /** The company admin account; default archiver@contoso.example / emulator-password. */
  credentials?: { username: string; password: string };
  /** Default 25 employees on contoso.example. */
  population?: Omit<PopulationOptions, 'seed'>;
  traffic?: TrafficOptions;
  /** Days with archived traffic; default the week before today and today so far. */
  days?: ArchivedDays;
  /** Pins the emulator's clock (archive visibility, token expiry); default the real clock. */
  now?: Date;
  /** Default 900 (15 minutes). */
  tokenLifetimeSeconds?: number;
  faults?: Partial<FaultSettings>;
}

/** An item as the emulator will serve it, for tests to compare downloads against. */
export interface ExpectedItem extends ItemSpec {
  /** Exact length of the raw download. */
  sizeBytes: number;
}

export interface TeleMessageStats {
  /** Requests to /api/... (control endpoints are not counted). */
  requests: number;
  tokensIssued: number;
  loginsRejected: number;
  pagesListed: number;
  downloadsStarted: number;
  downloadsCompleted: number;
  /** The most downloads that were being served at the same moment. */
  mostDownloadsAtOnce: number;
  faultsInjected: InjectedFaults;
}

export interface TeleMessageEmulator {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  population: Population;
  close(): Promise<void>;
  /** Every item the listing returns for [from, to) at the emulator's current time, in order. */
  listExpected(from: Date | string, to: Date | string): ExpectedItem[];
  /**
   * The same items one at a time, each with its raw RFC 822 rendered on demand: what the other
   * deliveries (SMTP, SFTP) send, without holding a window's items or bytes.
   */
  archivedItems(from: Date | string, to: Date | string): Generator<{ item: ItemSpec; raw: RawMessage }>;
  /** The same items delivered as SFTP would: ZIPs of EMLs with a manifest, written into `container`. */
  deliverZips(container: ContainerClient, from: Date | string, to: Date | string, options?: ZipDropOptions): Promise<DroppedZip[]>;
  faults(): FaultSettings;
  /** Merges knob changes; throws RangeError on a bad value. */
  setFaults(changes: Partial<FaultSettings>): FaultSettings;
  stats(): TeleMessageStats;
  now(): Date;
  /** Pins the clock; undefined returns to the real clock. */
  setNow(now: Date | undefined): void;
  /** Faults, stats, tokens and clock back to how the emulator started (faults cleared). */
  reset(): void;
}

const JSON_BODY_LIMIT = 64 * 1024;
const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 500;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const RAW_PATH = /^\/api\/v1\/archive\/items\/([^/]+)\/raw$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startTeleMessageEmulator(options: TeleMessageEmulatorOptions = {}): Promise<TeleMessageEmulator> {
  const seed = String(options.seed ?? 'telemessage');
  const credentials = options.credentials ?? { username: 'archiver@contoso.example', password: 'emulator-password' };
  const tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 900;
  const population = createPopulation({ employees: 25, ...options.population, seed });
  const model = new TrafficModel(seed, population, options.traffic);
  const catalog = new ArchiveCatalog(model, options.days ?? lastWeekAndToday);
  const faults = new FaultInjector(seed, options.faults);
  const tokens = new TokenStore();
  const closing = new AbortController();
  // Every delayed request listens for shutdown; many may wait at once under a latency fault.
  setMaxListeners(0, closing.signal);
  let pinnedNow = options.now;
  let stats = emptyStats();

  const now = () => pinnedNow ?? new Date();
  const expected = ({ day, index }: Position): ExpectedItem => {
    const item = model.item(day, index);
    return { ...item, sizeBytes: renderRawMessage(item, seed).size };
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else if (error instanceof HttpError) {
        if (error.code === 'invalid_token') res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
        sendJson(res, error.status, { error: error.code, message: error.message });
      } else sendJson(res, 500, { error: 'server_error', message: 'The emulator failed to handle the request.' });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (url.pathname.startsWith('/api/')) return api(req, res, url);
    if (url.pathname.startsWith('/_emulator/')) return control(req, res, url);
    throw new HttpError(404, 'not_found', 'No such endpoint.');
  }

  async function api(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    stats.requests += 1;
    const requestNumber = stats.requests;
    const latency = faults.latencyMs();
    if (latency > 0) await sleep(latency, undefined, { signal: closing.signal });
    const failStatus = faults.serverError(requestNumber);
    if (failStatus !== undefined) throw new HttpError(failStatus, 'server_error', 'The archive is temporarily unavailable; try again later.');

    const raw = RAW_PATH.exec(url.pathname);
    if (url.pathname === '/api/v1/auth/token') {
      requireMethod(req, 'POST');
      return signIn(req, res);
    }
    if (url.pathname === '/api/v1/archive/items') {
      requireMethod(req, 'GET');
      authorize(req);
      return list(res, url);
    }
    if (raw) {
      requireMethod(req, 'GET');
      authorize(req);
      return download(res, raw[1]);
    }
    throw new HttpError(404, 'not_found', 'No such endpoint.');
  }

  async function signIn(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = (await readJson(req)) as { username?: unknown; password?: unknown } | null;
    if (typeof body?.username !== 'string' || typeof body.password !== 'string') {
      throw new HttpError(400, 'invalid_request', 'The body must be JSON with string fields "username" and "password".');
    }
    const rejected = faults.rejectLogin();
    if (rejected || !sameSecret(body.username, credentials.username) || !sameSecret(body.password, credentials.password)) {
      stats.loginsRejected += 1;
      throw new HttpError(401, 'invalid_credentials', 'The username or password is incorrect.');
    }
    stats.tokensIssued += 1;
    res.setHeader('Cache-Control', 'no-store');
    sendJson(res, 200, {
      access_token: tokens.issue(now(), tokenLifetimeSeconds),
      token_type: 'Bearer',
      expires_in: tokenLifetimeSeconds,
    });
  }

  function authorize(req: http.IncomingMessage): void {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!bearer) throw unauthorized('A bearer token is required.');
    const check = tokens.use(bearer[1], now(), faults.expireTokensAfterRequests());
    if (check === 'used-up') faults.tokenUsedUp();
    if (check === 'unknown') throw unauthorized('The access token is not valid.');
    if (check !== 'ok') throw unauthorized('The access token has expired.');
  }

  function list(res: http.ServerResponse, url: URL): void {
    const { fromMs, toMs } = windowParams(url);
    const pageSize = pageSizeParam(url.searchParams.get('pageSize'));
    const cursor = url.searchParams.get('cursor');
    let after: Position | undefined;
    if (cursor !== null) {
      const decoded = decodeCursor(cursor, fromMs, toMs);
      if ('error' in decoded) throw new HttpError(400, 'invalid_request', decoded.error);
      after = decoded;
    }
    const page: Position[] = [];
    let more = false;
    for (const position of catalog.positions(fromMs, toMs, now(), after)) {
      if (page.length === pageSize) {
        more = true;
        break;
      }
      page.push(position);
    }
    stats.pagesListed += 1;
    const items = page.map((position) => {
      const { id, archivedAt, type, sizeBytes } = expected(position);
      return { id, archivedAt, type, sizeBytes };
    });
    sendJson(res, 200, more ? { items, nextCursor: encodeCursor(fromMs, toMs, page[page.length - 1]) } : { items });
  }

  let downloadsNow = 0;
  async function download(res: http.ServerResponse, id: string): Promise<void> {
    const position = catalog.find(id, now());
    if (!position) throw new HttpError(404, 'not_found', 'No archived item has this id.');
    const raw = renderRawMessage(model.item(position.day, position.index), seed);
    res.writeHead(200, {
      'Content-Type': 'message/rfc822',
      'Content-Length': raw.size,
      'Content-Disposition': `attachment; filename="${id}.eml"`,
    });
    res.flushHeaders();
    stats.downloadsStarted += 1;
    downloadsNow += 1;
    stats.mostDownloadsAtOnce = Math.max(stats.mostDownloadsAtOnce, downloadsNow);
    res.on('finish', () => (stats.downloadsCompleted += 1));
    res.on('close', () => (downloadsNow -= 1));
    await streamBody(res, raw.stream(), faults.cutDownload());
  }

  async function control(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /_emulator/stats':
        return sendJson(res, 200, emulator.stats());
      case 'GET /_emulator/faults':
        return sendJson(res, 200, faults.current());
      case 'POST /_emulator/faults':
        return sendJson(res, 200, applyFaults(await readJson(req)));
      case 'POST /_emulator/reset':
        emulator.reset();
        return sendJson(res, 200, { reset: true });
      case 'GET /_emulator/clock':
        return sendJson(res, 200, { now: now().toISOString(), pinned: pinnedNow !== undefined });
      case 'POST /_emulator/clock': {
        const body = (await readJson(req)) as { now?: unknown } | null;
        if (body?.now === null) pinnedNow = undefined;
        else if (typeof body?.now === 'string' && ISO_DATE_TIME.test(body.now)) pinnedNow = new Date(body.now);
        else throw new HttpError(400, 'invalid_request', 'The body must be {"now": "<ISO 8601 date-time>"} or {"now": null}.');
        return sendJson(res, 200, { now: now().toISOString(), pinned: pinnedNow !== undefined });
      }
      case 'GET /_emulator/expected': {
        const { fromMs, toMs } = windowParams(url);
        return sendJson(res, 200, [...catalog.positions(fromMs, toMs, now())].map(expected));
      }
      case 'GET /_emulator/population':
        return sendJson(res, 200, population);
      case 'GET /_emulator/mapping.csv': {
        const wanted = url.searchParams.get('employees')?.split(',');
        const employees = wanted ? population.employees.filter((e) => wanted.includes(e.id)) : population.employees;
        res.writeHead(200, { 'Content-Type': 'text/csv; charset=utf-8' });
        res.end(renderMappingCsv(employees));
        return;
      }
      default:
        throw new HttpError(404, 'not_found', 'No such emulator control endpoint.');
    }
  }

  function applyFaults(changes: unknown): FaultSettings {
    try {
      return faults.update(parseFaultSettings(changes));
    } catch (error) {
      throw new HttpError(400, 'invalid_request', (error as Error).message);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const emulator: TeleMessageEmulator = {
    url: `http://127.0.0.1:${port}`,
    population,
    async close() {
      closing.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    listExpected(from, to) {
      const { fromMs, toMs } = windowOf(from, to);
      return [...catalog.positions(fromMs, toMs, now())].map(expected);
    },
    *archivedItems(from, to) {
      const { fromMs, toMs } = windowOf(from, to);
      for (const { day, index } of catalog.positions(fromMs, toMs, now())) {
        const item = model.item(day, index);
        yield { item, raw: renderRawMessage(item, seed) };
      }
    },
    deliverZips(container, from, to, zipOptions) {
      const items = function* (all: Generator<{ item: ItemSpec; raw: RawMessage }>) {
        for (const { item, raw } of all) yield { id: item.id, raw };
      };
      return dropZips(container, items(this.archivedItems(from, to)), zipOptions);
    },
    faults: () => faults.current(),
    setFaults: (changes) => faults.update(changes),
    stats: () => ({ ...stats, faultsInjected: faults.injected() }),
    now,
    setNow(value) {
      pinnedNow = value;
    },
    reset() {
      faults.reset();
      tokens.clear();
      stats = emptyStats();
      pinnedNow = options.now;
    },
  };
  return emulator;
}

function windowOf(from: Date | string, to: Date | string): { fromMs: number; toMs: number } {
  const fromMs = new Date(from).getTime();
  const toMs = new Date(to).getTime();
  if (Number.isNaN(fromMs) || Number.isNaN(toMs)) throw new RangeError('from and to must be dates');
  return { fromMs, toMs };
}

function emptyStats(): Omit<TeleMessageStats, 'faultsInjected'> {
  return { requests: 0, tokensIssued: 0, loginsRejected: 0, pagesListed: 0, downloadsStarted: 0, downloadsCompleted: 0, mostDownloadsAtOnce: 0 };
}

/** Writes the body with backpressure; a cut sends `cutAt` bytes, then drops the connection. */
async function streamBody(res: http.ServerResponse, body: Readable, cutAt: number | undefined): Promise<void> {
  let sent = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (res.destroyed) return;
      if (cutAt !== undefined && sent + chunk.length >= cutAt) {
        const part = chunk.subarray(0, cutAt - sent);
        if (part.length > 0) res.write(part, () => res.destroy());
        else res.destroy();
        return;
      }
      sent += chunk.length;
      if (!res.write(chunk)) await drainedOrClosed(res);
    }
    res.end();
  } finally {
    body.destroy();
  }
}

function drainedOrClosed(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function windowParams(url: URL): { fromMs: number; toMs: number } {
  const from = url.searchParams.get('from');
  const to = url.searchParams.get('to');
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (value === null || !ISO_DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
      throw new HttpError(400, 'invalid_request', `${name} must be an ISO 8601 date-time with a time zone, e.g. 2025-01-15T00:00:00Z.`);
    }
  }
  const fromMs = Date.parse(from as string);
  const toMs = Date.parse(to as string);
  if (fromMs >= toMs) throw new HttpError(400, 'invalid_request', 'from must be earlier than to.');
  return { fromMs, toMs };
}

function pageSizeParam(value: string | null): number {
  if (value === null) return DEFAULT_PAGE_SIZE;
  const size = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(size >= 1 && size <= MAX_PAGE_SIZE)) {
    throw new HttpError(400, 'invalid_request', `pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}.`);
  }
  return size;
}

function requireMethod(req: http.IncomingMessage, method: string): void {
  if (req.method !== method) throw new HttpError(405, 'method_not_allowed', `Use ${method} for this endpoint.`);
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'invalid_token', message);
}

/** Compares through fixed-length digests so neither length nor content leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > JSON_BODY_LIMIT) throw new HttpError(413, 'invalid_request', 'The request body is too large.');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_request', 'The request body is not valid JSON.');
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
