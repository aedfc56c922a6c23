import { setTimeout as sleep } from 'node:timers/promises';
import type { Identity } from './accessTokens';
import { GraphError, RequestIds } from './graphError';
import { BaseContext, GraphRequest, matchRoute, Permission } from './graphRoutes';
import { asGraphError, errorResponse, GraphResponse } from './httpIo';
import { MailboxStore, StoredUser } from './mailboxStore';
import { parseODataQuery } from './odataQuery';
import { GraphOperation } from './operations';
import { FaultPlan } from './faults';
import { StatsRecorder } from './stats';
import { MailboxThrottle, retryAfterHeader, ThrottleReason } from './throttle';
import { UploadSessions } from './uploadSessions';
import { DeltaTokens } from './deltaTokens';

/**
 * What every Graph operation goes through, whether it arrived alone, inside a $batch or on an
 * upload URL: injected faults, Outlook throttling per (app, mailbox), latency, then the work.
 */
export type Outcome = { kind: 'response'; response: GraphResponse; loseResponse: boolean } | { kind: 'timeout'; holdMs: number };

export interface PipelineDeps {
  store: MailboxStore;
  uploads: UploadSessions;
  deltaTokens: DeltaTokens;
  throttle: MailboxThrottle;
  faults: FaultPlan;
  stats: StatsRecorder;
  apiBase: string;
  latencyMs: number;
  /** Retry-After may carry fractions of a second (only when time is scaled down). */
  fractionalRetryAfter: boolean;
  /** Exchange Online RBAC for Applications: mail roles an app holds for some mailboxes only. */
  mailboxGrants: MailboxGrant[];
}

/**
 * A management role assignment of RBAC for Applications in Exchange Online: the app holds these
 * mail roles (e.g. Mail.Read) for these mailboxes only (ids or user principal names), whatever
 * its token says. Token roles granted in Entra ID still apply to every mailbox.
 */
export interface MailboxGrant {
  appId: string;
  roles: string[];
  mailboxes: string[];
}

const ROLES: Record<Permission, string[]> = {
  directory: ['User.Read.All', 'User.ReadWrite.All', 'User.ReadBasic.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  mailRead: ['Mail.Read', 'Mail.ReadWrite', 'Mail.ReadBasic', 'Mail.ReadBasic.All'],
  mailWrite: ['Mail.ReadWrite'],
  // Mail.ReadBasic leaves out bodies and MIME.
  mailContent: ['Mail.Read', 'Mail.ReadWrite'],
};

const THROTTLE_MESSAGES: Record<ThrottleReason, string> = {
  concurrency: 'Application is over its MailboxConcurrency limit.',
  rate: 'Application is over its MailboxRequests limit.',
  upload: 'Application is over its IncomingBytes limit.',
};

const INJECTED: Record<500 | 503 | 504, [string, string]> = {
  500: ['InternalServerError', 'An internal server error occurred.'],
  503: ['ServiceUnavailable', 'The service is temporarily unavailable. Retry after the time in the Retry-After header.'],
  504: ['GatewayTimeout', 'The gateway did not receive a response in time.'],
};

const response = (value: GraphResponse): Outcome => ({ kind: 'response', response: value, loseResponse: false });

export class GraphPipeline {
  constructor(private readonly deps: PipelineDeps) {}

  /** Routes one Graph request (already authenticated) and runs it. */
  dispatch(request: GraphRequest, identity: Identity, ids: RequestIds, wholeHttpRequest: boolean): Promise<Outcome> {
    try {
      const { route, segments } = matchRoute(request.method, request.path);
      const granted = (roles: Iterable<string>) => ROLES[route.permission].some((role) => new Set(roles).has(role));
      const forbidden = () => {
        this.deps.stats.refused('forbidden');
        return route.permission === 'directory'
          ? new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.')
          : new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
      };
      const tokenGrants = granted(identity.roles);
      const mayHoldMailboxGrant = route.permission !== 'directory' && this.deps.mailboxGrants.some((g) => g.appId === identity.appId && granted(g.roles));
      if (!tokenGrants && !mayHoldMailboxGrant) throw forbidden();
      const base: BaseContext = {
        request,
        query: parseODataQuery(request.params, { stateTokens: route.stateTokens }),
        identity,
        store: this.deps.store,
        uploads: this.deps.uploads,
        deltaTokens: this.deps.deltaTokens,
        apiBase: this.deps.apiBase,
      };
      const uploadBytes = request.method === 'GET' || request.method === 'DELETE' ? 0 : request.bodyBytes;
      if (route.scope === 'tenant') {
        return this.run(route.operation, identity.appId, undefined, uploadBytes, wholeHttpRequest, ids, () => route.handle(base));
      }
      const user = this.deps.store.findUser(segments.user);
      if (!user) {
        throw route.permission === 'directory'
          ? new GraphError(404, 'Request_ResourceNotFound', `Resource '${segments.user}' does not exist or one of its queried reference-property objects are not present.`)
          : new GraphError(404, 'ErrorInvalidUser', `The requested user '${segments.user}' is invalid.`);
      }
      if (route.permission !== 'directory' && user.hasMailbox === false) {
        throw new GraphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
      }
      if (!tokenGrants && !this.grantedFor(identity.appId, user, granted)) throw forbidden();
      const context = { ...base, segments, user, mailbox: this.deps.store.mailbox(user.id) };
      // Outlook's limits apply to mailbox resources, not to directory reads.
      const mailboxId = route.permission === 'directory' ? undefined : user.id;
      return this.run(route.operation, identity.appId, mailboxId, uploadBytes, wholeHttpRequest, ids, () => route.handle(context));
    } catch (error) {
      return Promise.resolve(response(errorResponse(asGraphError(error), ids)));
    }
  }

  private grantedFor(appId: string, user: StoredUser, granted: (roles: Iterable<string>) => boolean): boolean {
    const names = new Set([user.id.toLowerCase(), user.userPrincipalName.toLowerCase(), user.mail.toLowerCase()]);
    return this.deps.mailboxGrants.some((g) => g.appId === appId && granted(g.roles) && g.mailboxes.some((m) => names.has(m.toLowerCase())));
  }

  /** The mailbox an Outlook request (a mail resource under /users/{id}) addresses; undefined for directory reads. */
  mailboxOf(path: string): string | undefined {
    const parts = path.split('/').filter(Boolean);
    if (parts.length < 3 || parts[0].toLowerCase() !== 'users') return undefined;
    return this.deps.store.findUser(decodeURIComponent(parts[1]))?.id;
  }

  /**
   * Faults and throttling are decided synchronously, before the first await, so requests that
   * start together (a $batch) compete for the same concurrency slots as they would in Graph.
   */
  async run(
    operation: GraphOperation,
    appId: string,
    mailboxId: string | undefined,
    uploadBytes: number,
    wholeHttpRequest: boolean,
    ids: RequestIds,
    work: () => GraphResponse | Promise<GraphResponse>,
  ): Promise<Outcome> {
    const { faults, stats } = this.deps;
    const fault = faults.beforeWork(operation, wholeHttpRequest);
    if (fault?.kind === 'timeout') {
      stats.refused('timeouts');
      return fault;
    }
    if (fault?.kind === 'storm') {
      stats.refused('storm');
      return response(this.tooManyRequests('TooManyRequests', 'Too many requests. Retry after the time in the Retry-After header.', fault.retryAfterSeconds, ids));
    }
    if (fault?.kind === 'error') {
      stats.refused(`injected${fault.status}`);
      const [code, message] = INJECTED[fault.status];
      const headers: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': retryAfterHeader(fault.retryAfterSeconds, this.deps.fractionalRetryAfter) };
      return response(errorResponse(new GraphError(fault.status, code, message, headers), ids));
    }
    let release: (() => void) | undefined;
    if (mailboxId !== undefined) {
      const admission = this.deps.throttle.admit(appId, mailboxId, uploadBytes);
      if (!admission.admitted) {
        stats.refused(admission.reason);
        return response(this.tooManyRequests('ApplicationThrottled', THROTTLE_MESSAGES[admission.reason], admission.retryAfterSeconds, ids));
      }
      release = admission.release;
    }
    try {
      if (this.deps.latencyMs > 0) await sleep(this.deps.latencyMs);
      stats.served(operation);
      const result = await work();
      const loseResponse = result.status < 300 && faults.loseResponse(operation);
      if (loseResponse) stats.lostResponse();
      if (result.stream && !loseResponse && release && wholeHttpRequest) {
        // A download holds its concurrency slot until its last byte is sent (or the client leaves).
        const done = release;
        release = undefined;
        const open = result.stream;
        const stream = () => open().once('close', done);
        return { kind: 'response', response: { ...result, stream }, loseResponse };
      }
      return { kind: 'response', response: result, loseResponse };
    } catch (error) {
      return response(errorResponse(asGraphError(error), ids));
    } finally {
      release?.();
    }
  }

  private tooManyRequests(code: string, message: string, retryAfterSeconds: number, ids: RequestIds): GraphResponse {
    const retryAfter = retryAfterHeader(retryAfterSeconds, this.deps.fractionalRetryAfter);
    return errorResponse(new GraphError(429, code, message, { 'Retry-After': retryAfter }), ids);
  }
}
