import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ensureLocalTls } from '../tls/localCa';
import { Authenticator, createAuthenticator, GraphAuthOptions } from './accessTokens';
import { runBatch } from './batch';
import { FaultPlan, FaultRule } from './faults';
import { GraphError, RequestIds } from './graphError';
import { GraphPipeline, MailboxGrant, Outcome } from './graphPipeline';
import { asGraphError, errorResponse, MAX_REQUEST_BYTES, parseJsonBody, readBody, requestIds, send, unreadableJson } from './httpIo';
import { EmulatorControls, handleInspection, mailboxSnapshot, mailboxSummaries } from './inspection';
import { GraphUserSeed, MailboxStore } from './mailboxStore';
import { StatsRecorder } from './stats';
import { MailboxThrottle, OUTLOOK_LIMITS, ThrottleLimits } from './throttle';
import { handleUploadUrl } from './uploadEndpoint';
import { UploadSessions } from './uploadSessions';
import { DeltaTokens } from './deltaTokens';
import { deliverMime } from './mailDelivery';
import { MimeSpool } from './mimeSpool';
import { MailboxPersistence } from './mailboxPersistence';

export type { GraphAuthOptions } from './accessTokens';
export type { FaultRule } from './faults';
export type { MailboxGrant } from './graphPipeline';
export type { GraphUserSeed } from './mailboxStore';
export type { ThrottleLimits } from './throttle';
export type { GraphEmulatorStats } from './stats';
export type { GraphOperation } from './operations';
export type { MailboxSnapshot, MailboxSummary, MessageSnapshot, FolderSnapshot, AttachmentSnapshot } from './inspection';
export type { RawMime } from './mailboxStore';
export { MailDeliveryError, type DeliveredMail, type DeliverOptions, type DeliveryRefusal } from './mailDelivery';

export interface GraphEmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  auth: GraphAuthOptions;
  users?: GraphUserSeed[];
  /** Multiplies every throttling window and Retry-After; 0.01 runs the same shape 100x faster. */
  timeScale?: number;
  /** Outlook's documented limits unless overridden. */
  limits?: Partial<ThrottleLimits>;
  /** Attachments up to this size keep their bytes (readable back); larger ones only size and hash. */
  keepAttachmentBytesUpTo?: number;
  /** Time each request holds its concurrency slot before it is served. */
  latencyMs?: number;
  faults?: FaultRule[];
  faultSeed?: number;
  /** How long an upload session lives unused (each range extends it, as Outlook's do); 2 hours unless set. */
  uploadSessionLifetimeSeconds?: number;
  /** Refuse createUploadSession on non-draft messages, as a tenant might; the preflight must notice. */
  refuseUploadSessionsOnSentItems?: boolean;
  /**
   * How long a message delta token (and a round's skip token) stays usable; 7 days unless set.
   * Outlook's lifetime is not fixed (its token cache drops the oldest), so clients must handle
   * expiry at any time: `expireDeltaTokens()` expires every token at once.
   */
  deltaTokenLifetimeSeconds?: number;
  /**
   * Where the mailboxes are kept across restarts (`npm start` uses .local/graph, as Azurite uses
   * .local/azurite); in memory only when unset, as tests want.
   */
  dataDir?: string;
  /** Exchange Online RBAC for Applications: mail roles an app holds only for the mailboxes named. */
  mailboxGrants?: MailboxGrant[];
}

export interface GraphEmulator extends EmulatorControls {
  /** https://localhost:<port>; Graph paths are under /v1.0. */
  url: string;
  close(): Promise<void>;
}

const DEFAULT_KEEP_BYTES = 256 * 1024;

export async function startGraphEmulator(options: GraphEmulatorOptions): Promise<GraphEmulator> {
  const tls = ensureLocalTls();
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new Error('timeScale must be positive');
  const keepBytes = options.keepAttachmentBytesUpTo ?? DEFAULT_KEEP_BYTES;
  const seed = options.faultSeed ?? 1;
  const store = new MailboxStore(options.users ?? [], keepBytes);
  const persistence = options.dataDir ? new MailboxPersistence(store, options.dataDir) : undefined;
  persistence?.load();
  persistence?.start();
  const stats = new StatsRecorder();
  const faults = new FaultPlan(seed);
  const applyOptionFaults = () => (options.faults ?? []).forEach((rule) => faults.add(rule));
  applyOptionFaults();
  const throttle = new MailboxThrottle({ ...OUTLOOK_LIMITS, ...options.limits }, timeScale);
  const authenticator = createAuthenticator(options.auth);

  const server = https.createServer({ cert: tls.cert, key: tls.key });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `https://localhost:${port}`;
  // Upload URLs name another host, as Outlook's do, so SDKs treat them as non-Graph URLs.
  const uploads = new UploadSessions(`https://127.0.0.1:${port}`, keepBytes, {
    lifetimeMs: (options.uploadSessionLifetimeSeconds ?? 7200) * 1000,
    refuseOnSentItems: options.refuseUploadSessionsOnSentItems ?? false,
  });
  const deltaTokens = new DeltaTokens((options.deltaTokenLifetimeSeconds ?? 7 * 24 * 3600) * 1000);
  const spool = new MimeSpool();
  const pipeline = new GraphPipeline({
    store,
    uploads,
    deltaTokens,
    throttle,
    faults,
    stats,
    apiBase: `${url}/v1.0`,
    latencyMs: options.latencyMs ?? 0,
    fractionalRetryAfter: timeScale < 1,
    mailboxGrants: options.mailboxGrants ?? [],
  });

  const controls: EmulatorControls = {
    mailboxes: () => mailboxSummaries(store),
    mailbox: (idOrUpn) => mailboxSnapshot(store, idOrUpn),
    stats: () => stats.snapshot(),
    faults: () => faults.describe(),
    addFault: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    startThrottleStorm: (seconds) => faults.startStorm(seconds),
    reseedFaults: (value) => faults.reseed(value),
    deliverMime: (mailbox, raw, deliverOptions) => deliverMime(store, mailbox, raw, deliverOptions),
    expireDeltaTokens: () => deltaTokens.expireAll(),
    reset() {
      store.reset();
      // Change numbers start again with the mailboxes, so no earlier token can be honoured.
      deltaTokens.expireAll();
      spool.clear();
      uploads.clear();
      throttle.reset();
      stats.reset();
      faults.clear();
      faults.reseed(seed);
      applyOptionFaults();
    },
  };

  const heldSockets = new Map<NodeJS.Timeout, IncomingMessage['socket']>();

  const deliver = (req: IncomingMessage, res: ServerResponse, outcome: Outcome, ids: RequestIds) => {
    if (outcome.kind === 'timeout') {
      const timer = setTimeout(() => {
        heldSockets.delete(timer);
        req.socket.destroy();
      }, outcome.holdMs);
      heldSockets.set(timer, req.socket);
      return;
    }
    // The work is done, but the caller never hears about it.
    if (outcome.loseResponse) req.socket.destroy();
    else send(res, outcome.response, ids);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const ids = requestIds(req);
    const requestUrl = new URL(req.url ?? '/', url);
    if (requestUrl.pathname.startsWith('/_emulator/')) {
      void handleInspection(req, res, requestUrl, controls, spool);
      return;
    }
    const work = uploads.isSessionPath(requestUrl.pathname)
      ? handleUploadUrl(req, requestUrl, { uploads, pipeline, stats, faults }, ids)
      : handleGraphRequest(req, requestUrl, ids, { pipeline, authenticator, stats });
    // A client that went away mid-answer just loses its connection.
    work.then((outcome) => deliver(req, res, outcome, ids)).catch(() => req.socket.destroy());
  });

  return {
    url,
    ...controls,
    close: async () => {
      // The last changes are written before the spool (which delivered MIME is copied from) goes.
      await persistence?.close();
      await new Promise<void>((resolve, reject) => {
        for (const [timer, socket] of heldSockets) {
          clearTimeout(timer);
          socket.destroy();
        }
        heldSockets.clear();
        spool.close();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

interface GraphRequestDeps {
  pipeline: GraphPipeline;
  authenticator: Authenticator;
  stats: StatsRecorder;
}

async function handleGraphRequest(req: IncomingMessage, url: URL, ids: RequestIds, deps: GraphRequestDeps): Promise<Outcome> {
  try {
    const versioned = /^\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!versioned || versioned[1] !== 'v1.0') throw new GraphError(404, 'NotFound', 'The Graph emulator serves /v1.0 only.');
    const path = versioned[2] ?? '/';
    let identity;
    try {
      identity = await deps.authenticator.authenticate(req.headers.authorization);
    } catch (error) {
      if (error instanceof GraphError && error.status === 401) deps.stats.refused('unauthenticated');
      throw error;
    }
    const bytes = await readBody(req, MAX_REQUEST_BYTES);
    // Graph reads a body only when it is declared JSON.
    if (bytes.length > 0 && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw unreadableJson();
    const body = parseJsonBody(bytes);
    if (/^\/\$batch$/i.test(path)) {
      if (req.method !== 'POST') throw new GraphError(405, 'BadRequest', '$batch accepts POST only.');
      let batchLost = false;
      const outcome = await deps.pipeline.run('batch', identity.appId, undefined, 0, true, ids, async () => {
        const result = await runBatch(deps.pipeline, body, identity, ids);
        batchLost = result.loseResponse;
        return result.response;
      });
      return outcome.kind === 'response' ? { ...outcome, loseResponse: outcome.loseResponse || batchLost } : outcome;
    }
    const prefer = req.headers.prefer;
    const request = { method: req.method ?? 'GET', path, params: url.searchParams, body, bodyBytes: bytes.length, prefer: Array.isArray(prefer) ? prefer.join(',') : prefer };
    return await deps.pipeline.dispatch(request, identity, ids, true);
  } catch (error) {
    return { kind: 'response', response: errorResponse(asGraphError(error), ids), loseResponse: false };
  }
}
