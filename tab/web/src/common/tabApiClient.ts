import type { ConnectorPatch, DeliveryBody } from '../../../shared/apiSchemas';
import type {
  AdminAdded,
  AdminsView,
  AuditPage,
  ConnectorView,
  DailyStats,
  DeliveryPreflight,
  FailureAcknowledged,
  FailureListing,
  MappingChange,
  MappingPreview,
  MappingVersions,
  MeResponse,
  PreflightReport,
  RunDetail,
  RunsPage,
  RunStarted,
  TeleMessageStatus,
  UnmappedReport,
} from '../../../shared/apiResponses';
import type { SignIn } from '../signIn/signIn';

/** A refusal from the tab's API, with its stable code and the message the admin reads. */
export class TabApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** What else the refusal says, e.g. a 403's admins. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

// The shapes the page reads (the API's JSON, dates as strings), declared once beside the API's request schemas.
export type {
  AdminAdded,
  AdminListing,
  AdminsView,
  AuditEntry,
  AuditPage,
  Caller,
  ConnectorView,
  DailyCounts,
  DailyStats,
  DeliveryPreflight,
  FailureAcknowledged,
  FailureLine,
  FailureListing,
  ItemOutcome,
  MappingChange,
  MappingChangeExample,
  MappingDiff,
  MappingPreview,
  MappingProblem,
  MappingVersion,
  MappingVersionListing,
  MappingVersions,
  MeResponse,
  PreflightCheck,
  PreflightReport,
  Run,
  RunCollection,
  RunCounts,
  RunDetail,
  RunLogRow,
  RunsPage,
  RunStarted,
  SftpEndpoint,
  TeleMessageStatus,
  UnmappedNumber,
  UnmappedReport,
} from '../../../shared/apiResponses';

type Body = { json: unknown } | { csv: Blob };

// A prefetched answer not taken by then is dropped: the page reads afresh.
const EARLY_ANSWER_MS = 10_000;

export class TabApiClient {
  // GETs made ahead of the page that reads them, by path: each answer is taken once, by that page.
  private readonly early = new Map<string, Promise<unknown>>();
  private prefetching = false;

  constructor(private readonly signIn: SignIn) {}

  private async request(method: string, path: string, body?: Body, etag?: string): Promise<Response> {
    const token = await this.signIn.token();
    const type = body && ('csv' in body ? 'text/csv' : 'application/json');
    const res = await fetch(path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(type ? { 'content-type': type } : {}), ...(etag ? { 'if-match': etag } : {}) },
      body: body && ('csv' in body ? body.csv : JSON.stringify(body.json)),
    });
    if (!res.ok) {
      const answer = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } & Record<string, unknown> } | undefined;
      const { code, message, ...details } = answer?.error ?? {};
      throw new TabApiError(res.status, code ?? 'HttpError', message ?? `The server answered ${res.status}.`, details);
    }
    return res;
  }

  private json<T>(method: string, path: string, body?: unknown, etag?: string): Promise<T> {
    const early = method === 'GET' && !this.prefetching ? this.early.get(path) : undefined;
    if (early) {
      this.early.delete(path);
      return early as Promise<T>;
    }
    const answer = this.request(method, path, body === undefined ? undefined : { json: body }, etag).then((res) => res.json() as Promise<T>);
    if (this.prefetching && method === 'GET') {
      this.early.set(path, answer);
      answer.catch(() => undefined); // the page that takes it sees the refusal; untaken, it is no error
      setTimeout(() => this.early.delete(path), EARLY_ANSWER_MS);
    }
    return answer;
  }

  /**
   * Makes the reads `calls` makes now, before the page that makes them again is on screen (the boot
   * starts the first page's reads beside the sign-in check): that page then takes these answers.
   */
  prefetch(calls: (api: TabApiClient) => unknown): void {
    this.prefetching = true;
    try {
      calls(this);
    } finally {
      this.prefetching = false;
    }
  }

  me = () => this.json<MeResponse>('GET', '/api/tab/me');
  unmapped = () => this.json<UnmappedReport>('GET', '/api/tab/unmapped');
  /** Maps one number; the connector's ETag guards against someone else's change in between. */
  mapNumber = async (number: string, mailbox: string) => this.json<MappingChange>('POST', '/api/tab/mapping/numbers', { number, mailbox }, (await this.connector()).etag);

  connector = () => this.json<ConnectorView>('GET', '/api/tab/connector');
  /** The connector for a look as the tab opens: the prefetched answer, left for the page that takes it, else a read. */
  peekConnector = () => (this.early.get('/api/tab/connector') as Promise<ConnectorView> | undefined) ?? this.connector();
  /** Changes the connector's settings; `etag` is the one its view was read with. */
  patchConnector = (patch: ConnectorPatch, etag: string | undefined) => this.json<ConnectorView>('PATCH', '/api/tab/connector', patch, etag);
  /** Stores the TeleMessage sign-in, checked with TeleMessage first and guarded by `etag` (the connector's, as the page read it); the answer never holds the password. */
  setTeleMessage = (username: string, password: string, etag: string | undefined) => this.json<TeleMessageStatus>('PUT', '/api/tab/telemessage', { username, password }, etag);
  /** Stores how TeleMessage delivers; `etag` is the one the connector's view was read with. */
  setDelivery = (choice: DeliveryBody, etag: string | undefined) => this.json<ConnectorView>('PUT', '/api/tab/delivery', choice, etag);
  /** Reads the capture mailbox or the landing container as the import will; changes nothing. */
  checkDelivery = (choice: DeliveryBody) => this.json<DeliveryPreflight>('POST', '/api/tab/delivery/check', choice);
  previewMapping = async (file: Blob) => (await (await this.request('POST', '/api/tab/mapping/preview', { csv: file })).json()) as MappingPreview;
  /**
   * Applies a file as the active mapping, guarded by `etag` (the connector's, as the page read it; read
   * now if not given). ConfirmationRequired (409) when it removes more than half, until confirmed.
   */
  applyMapping = async (file: Blob, confirmRemovals = false, etag?: string) =>
    (await (await this.request('PUT', `/api/tab/mapping?confirmRemovals=${confirmRemovals}`, { csv: file }, etag ?? (await this.connector()).etag)).json()) as MappingChange;
  mappingVersions = () => this.json<MappingVersions>('GET', '/api/tab/mapping/versions');
  preflight = (mailbox: string) => this.json<PreflightReport>('POST', '/api/tab/preflight', { mailbox });
  runs = (after?: string, pageSize = 25) => this.json<RunsPage>('GET', `/api/tab/runs?pageSize=${pageSize}${after ? `&after=${encodeURIComponent(after)}` : ''}`);
  run = (runId: string) => this.json<RunDetail>('GET', `/api/tab/runs/${encodeURIComponent(runId)}`);
  /** Starting a run is a write like any other: `etag` is the connector's, as the page read it. */
  startRun = (etag: string | undefined) => this.json<RunStarted>('POST', '/api/tab/runs', {}, etag);
  rerun = (runId: string, etag: string | undefined) => this.json<RunStarted>('POST', `/api/tab/runs/${encodeURIComponent(runId)}/rerun`, {}, etag);

  /** The run log as a file: fetched with the token (a plain link would carry none), then saved. */
  async downloadRunLog(runId: string): Promise<void> {
    saveFile(await (await this.request('GET', `/api/tab/runs/${encodeURIComponent(runId)}/log.csv`)).blob(), `run-${runId}.csv`);
  }

  // The mapping screens, the backfill form, the audit trail and the 30-day chart.
  restoreMapping = async (version: string, confirmRemovals = false) => this.json<MappingChange>('POST', '/api/tab/mapping/restore', { version, confirmRemovals }, (await this.connector()).etag);
  /** The active mapping, or one version, as TeleMessage's CSV. */
  async downloadMapping(version?: string): Promise<void> {
    const name = version ? `mapping-${version}.csv` : 'mapping.csv';
    saveFile(await (await this.request('GET', `/api/tab/mapping.csv${version ? `?version=${encodeURIComponent(version)}` : ''}`)).blob(), name);
  }
  backfill = (window: { from: string; to: string }, etag: string | undefined) => this.json<RunStarted>('POST', '/api/tab/backfill', window, etag);
  audit = (from: string, to: string) => this.json<AuditPage>('GET', `/api/tab/audit?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  /** The audit trail of the window as CSV, in words, spreadsheet-safe. */
  async downloadAudit(from: string, to: string): Promise<void> {
    saveFile(await (await this.request('GET', `/api/tab/audit.csv?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)).blob(), 'audit-trail.csv');
  }
  // The settings page: the admins by display name, each change guarded by the connector's ETag.
  admins = () => this.json<AdminsView>('GET', '/api/tab/admins');
  addAdmin = (user: string, etag: string | undefined) => this.json<AdminAdded>('POST', '/api/tab/admins', { user }, etag);
  removeAdmin = (id: string, etag: string | undefined) => this.json<AdminsView>('DELETE', `/api/tab/admins/${encodeURIComponent(id)}`, undefined, etag);
  dailyStats = (days = 30) => this.json<DailyStats>('GET', `/api/tab/stats/daily?days=${days}`);
  /** What is failing across every window, outstanding and acknowledged. */
  failures = () => this.json<FailureListing>('GET', '/api/tab/failures');
  /** An admin's word that a failed item can never be imported, with why; `etag` is the connector's, as the page read it. */
  acknowledgeFailure = (itemId: string, reason: string, etag: string | undefined) =>
    this.json<FailureAcknowledged>('POST', `/api/tab/failures/${encodeURIComponent(itemId)}/acknowledge`, { reason }, etag);
}

/** Saves what the page holds (a download fetched with the token, a report it was sent) as a file. */
export function saveFile(blob: Blob, filename: string): void {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.click();
  URL.revokeObjectURL(link.href);
}
