import type { TokenCredential } from '@azure/identity';
import { ImporterError } from './errors';
import type { RunTrigger, TimeWindow } from './model';
import { parseMappingCsv } from './mapping/csvMapping';
import type { CountryCode } from 'libphonenumber-js/max';
import { RetryPolicy } from './retryPolicy';
import { runImport, type RunLogger, type RunProgress } from './run/importRun';
import { openStores, type ImporterStores } from './run/importerStores';
import { KeyVaultSecretStore, LocalSecretStore, type SecretStore } from './secrets/secretStore';
import { createGraphClient, graphCredential, type GraphConnection } from './sink/graphClient';
import { MailboxSink } from './sink/mailboxSink';
import type { MailboxLimits } from './sink/mailboxPacer';
import { TeleMessageSource } from './source/telemessageSource';
import type { AuditEntry } from './audit/auditTrail';
import type { ConnectorSettings } from './state/connectorStore';
import type { RunLogRow } from './state/runLogStore';
import { runLogCsv } from './state/runLogStore';
import type { RunRecord } from './state/runsStore';
import { StorageAccount, type StorageTarget } from './state/storageAccount';
import type { UnmappedNumber } from './state/unmappedStore';
import { verifyRun, type VerifyReport } from './run/verifyRun';
import { dryRun, type DryRunReport } from './run/dryRun';

export type { DryRunReport, RunRecord, RunLogRow, ConnectorSettings, UnmappedNumber, AuditEntry, VerifyReport, RunProgress, TimeWindow, RunTrigger, RunLogger, StorageTarget };
export { ImporterError } from './errors';
// Building blocks for the bot's own tables (conversation references, posted cards).
export { StorageAccount } from './state/storageAccount';
export { TABLES, keySafe } from './state/tableNames';
export { nextRunAt } from './schedule/dailySchedule';
export { summarizeRun } from './run/runSummary';

export interface ImporterOptions {
  connectorId: string;
  storage: StorageTarget;
  graph: GraphConnection;
  telemessageBaseUrl: string;
  /** Key Vault in Azure; a local key file for local runs. */
  secrets: { keyVaultUrl: string; credential: TokenCredential } | { localKeyFile: string };
  /** Default name of the TeleMessage password in the secret store. */
  telemessageSecretName?: string;
  log: RunLogger;
  mailboxLimits?: MailboxLimits;
  /** Items handled at once (16 unless set). */
  itemWorkers?: number;
  /** Raw item bytes handled at once (12 MiB unless set): bounds the importer's memory. */
  itemBytesInFlight?: number;
  tmpDir?: string;
  /** What "now" is for scheduled windows; tests and local demos may pin it. */
  now?: () => Date;
  /** The run lease's duration (15-60 s): how long a crashed run blocks the next one. */
  runLeaseSeconds?: number;
}

export interface StartRun {
  requestedBy: string;
  trigger?: Extract<RunTrigger, 'schedule' | 'manual'>;
  abortSignal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
}

/**
 * The importer's public API, for the bot, the tab and the CLI: start, rerun and backfill runs,
 * read runs and their logs, verify a run, and change the connector's settings (audited).
 */
export interface Importer {
  readonly connectorId: string;
  runImport(request: StartRun): Promise<RunRecord>;
  rerun(runId: string, requestedBy: string, options?: Omit<StartRun, 'requestedBy' | 'trigger'>): Promise<RunRecord>;
  backfill(window: TimeWindow, requestedBy: string, options?: Omit<StartRun, 'requestedBy' | 'trigger'>): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord>;
  listRuns(top?: number): Promise<RunRecord[]>;
  runLog(runId: string): AsyncIterable<RunLogRow>;
  runLogCsv(runId: string): AsyncIterable<string>;
  verify(runId: string, options?: { abortSignal?: AbortSignal }): Promise<VerifyReport>;
  /** What a run of `window` would do (the window since the checkpoint when absent); changes nothing. */
  dryRun(window?: TimeWindow, options?: { abortSignal?: AbortSignal }): Promise<DryRunReport>;
  settings(): Promise<{ value: ConnectorSettings; etag?: string }>;
  updateSettings(changes: Partial<Omit<ConnectorSettings, 'connectorId' | 'mappingVersion' | 'telemessageSecretName'>>, requestedBy: string, etag: string | undefined): Promise<ConnectorSettings>;
  /** Validates the CSV whole and makes it the active mapping; bad input changes nothing. */
  uploadMapping(csv: Buffer | string, requestedBy: string, etag: string | undefined): Promise<{ entries: number; version: string }>;
  /** Stores the TeleMessage password in the secret store; the connector keeps only its name. */
  setTeleMessageCredentials(username: string, password: string, requestedBy: string): Promise<void>;
  unmapped(): Promise<UnmappedNumber[]>;
  audit(from: Date, to: Date): Promise<AuditEntry[]>;
  /** Where the TeleMessage password is kept, for display; never the password. */
  describeSecret(): Promise<string | undefined>;
}

const DEFAULT_SECRET_NAME = 'telemessage-password';

export async function createImporter(options: ImporterOptions): Promise<Importer> {
  const storage = new StorageAccount(options.storage);
  const stores = await openStores(storage, { tmpDir: options.tmpDir });
  const secrets: SecretStore = 'keyVaultUrl' in options.secrets ? new KeyVaultSecretStore(options.secrets.keyVaultUrl, options.secrets.credential) : new LocalSecretStore(options.secrets.localKeyFile);
  const credential = graphCredential(options.graph);
  const { connectorId } = options;
  return new ConnectorImporter(options, stores, secrets, credential, connectorId);
}

class ConnectorImporter implements Importer {
  constructor(
    private readonly options: ImporterOptions,
    private readonly stores: ImporterStores,
    private readonly secrets: SecretStore,
    private readonly credential: TokenCredential,
    readonly connectorId: string,
  ) {}

  async runImport(request: StartRun): Promise<RunRecord> {
    const trigger = request.trigger ?? 'manual';
    const run = await this.start({ trigger, requestedBy: request.requestedBy, abortSignal: request.abortSignal }, request.onProgress);
    // Each scheduled run ends by checking itself against the source, the mailboxes and the raw copies.
    if (trigger === 'schedule' && run.status !== 'failed') {
      try {
        const report = await this.verify(run.runId, { abortSignal: request.abortSignal });
        run.verification = report.ok
          ? `verified: ${report.deliveriesChecked} deliveries and ${report.rawCopiesChecked} raw copies, all present once and unaltered`
          : `verification found ${report.missing.length} missing, ${report.duplicated.length} duplicated, ${report.altered.length} altered`;
      } catch (err) {
        run.verification = `verification could not finish: ${(err as Error).message}`;
      }
      await this.stores.runs.update(run);
    }
    return run;
  }

  async rerun(runId: string, requestedBy: string, options: Omit<StartRun, 'requestedBy' | 'trigger'> = {}): Promise<RunRecord> {
    await this.stores.runs.get(this.connectorId, runId);
    await this.stores.audit.append({ actor: requestedBy, action: 'run.rerun.requested', connectorId: this.connectorId, detail: { rerunOf: runId } });
    return this.start({ trigger: 'rerun', rerunOf: runId, requestedBy, abortSignal: options.abortSignal }, options.onProgress);
  }

  async backfill(window: TimeWindow, requestedBy: string, options: Omit<StartRun, 'requestedBy' | 'trigger'> = {}): Promise<RunRecord> {
    await this.stores.audit.append({ actor: requestedBy, action: 'run.backfill.requested', connectorId: this.connectorId, detail: { from: window.from.toISOString(), to: window.to.toISOString() } });
    return this.start({ trigger: 'backfill', window, requestedBy, abortSignal: options.abortSignal }, options.onProgress);
  }

  getRun(runId: string): Promise<RunRecord> {
    return this.stores.runs.get(this.connectorId, runId);
  }

  listRuns(top = 30): Promise<RunRecord[]> {
    return this.stores.runs.list(this.connectorId, top);
  }

  runLog(runId: string): AsyncIterable<RunLogRow> {
    return this.stores.runLog.rows(runId);
  }

  runLogCsv(runId: string): AsyncIterable<string> {
    return runLogCsv(this.stores.runLog.rows(runId));
  }

  async verify(runId: string, options: { abortSignal?: AbortSignal } = {}): Promise<VerifyReport> {
    const run = await this.getRun(runId);
    const settings = (await this.settings()).value;
    return verifyRun({ run, stores: this.stores, source: await this.source(settings), sink: this.sink(settings.folderName), abortSignal: options.abortSignal });
  }

  async dryRun(window?: TimeWindow, options: { abortSignal?: AbortSignal } = {}): Promise<DryRunReport> {
    const settings = (await this.settings()).value;
    const sink = this.sink(settings.folderName);
    const checkpoint = await this.stores.connectors.getCheckpoint(this.connectorId);
    const now = (this.options.now ?? (() => new Date()))();
    const span = window ?? { from: checkpoint?.value ?? new Date(now.getTime() - 86_400_000), to: now };
    return dryRun({
      window: span,
      source: await this.source(settings),
      rules: { custom: await this.stores.mappings.load(settings.mappingVersion), automatic: settings.automaticMapping, findUser: (a) => sink.findUser(a, options.abortSignal) },
      abortSignal: options.abortSignal,
    });
  }

  settings(): Promise<{ value: ConnectorSettings; etag?: string }> {
    return this.stores.connectors.getOrDefault(this.connectorId);
  }

  async updateSettings(changes: Partial<ConnectorSettings>, requestedBy: string, etag: string | undefined): Promise<ConnectorSettings> {
    const current = await this.settings();
    if (current.etag !== etag) throw new ImporterError('Conflict', 'The connector was changed by someone else; reload and try again.');
    const { connectorId: _id, mappingVersion: _v, telemessageSecretName: _s, ...allowed } = changes;
    const next = { ...current.value, ...allowed };
    await this.stores.connectors.save(next, current.etag);
    await this.stores.audit.append({ actor: requestedBy, action: 'settings.changed', connectorId: this.connectorId, before: current.value, after: next });
    return next;
  }

  async uploadMapping(csv: Buffer | string, requestedBy: string, etag: string | undefined): Promise<{ entries: number; version: string }> {
    const current = await this.settings();
    const entries = parseMappingCsv(csv, { defaultCountry: current.value.defaultCountry as CountryCode | undefined });
    const version = await this.stores.mappings.replace(this.connectorId, entries, etag);
    await this.stores.audit.append({
      actor: requestedBy,
      action: 'mapping.uploaded',
      connectorId: this.connectorId,
      before: { mappingVersion: current.value.mappingVersion },
      after: { mappingVersion: version, entries: entries.length },
    });
    return { entries: entries.length, version };
  }

  async setTeleMessageCredentials(username: string, password: string, requestedBy: string): Promise<void> {
    if (!username.trim() || !password) throw new ImporterError('SourceAuthFailed', 'Both the TeleMessage username and password are needed.');
    const name = this.options.telemessageSecretName ?? DEFAULT_SECRET_NAME;
    await this.secrets.set(name, password);
    for (let attempt = 0; ; attempt++) {
      const current = await this.settings();
      try {
        await this.stores.connectors.save({ ...current.value, telemessageUsername: username.trim(), telemessageSecretName: name }, current.etag);
        await this.stores.audit.append({
          actor: requestedBy,
          action: 'telemessage.credentials.changed',
          connectorId: this.connectorId,
          before: { username: current.value.telemessageUsername },
          after: { username: username.trim(), password },
        });
        return;
      } catch (err) {
        if (!(err instanceof ImporterError && err.code === 'Conflict') || attempt >= 3) throw err;
      }
    }
  }

  unmapped(): Promise<UnmappedNumber[]> {
    return this.stores.unmapped.list(this.connectorId);
  }

  audit(from: Date, to: Date): Promise<AuditEntry[]> {
    return this.stores.audit.list(this.connectorId, from, to);
  }

  async describeSecret(): Promise<string | undefined> {
    const name = (await this.settings()).value.telemessageSecretName;
    return name ? this.secrets.describe(name) : undefined;
  }

  private async start(request: Parameters<typeof runImport>[1], onProgress?: (p: RunProgress) => void): Promise<RunRecord> {
    const settings = (await this.settings()).value;
    return runImport(
      {
        connectorId: this.connectorId,
        stores: this.stores,
        source: await this.source(settings),
        createSink: (folderName) => this.sink(folderName),
        log: this.options.log,
        now: this.options.now,
        itemWorkers: this.options.itemWorkers,
        itemBytesInFlight: this.options.itemBytesInFlight,
        leaseSeconds: this.options.runLeaseSeconds,
        onProgress,
      },
      request,
    );
  }

  private async source(settings: ConnectorSettings): Promise<TeleMessageSource> {
    if (!settings.telemessageUsername || !settings.telemessageSecretName) {
      throw new ImporterError('SourceAuthFailed', 'The connector has no TeleMessage sign-in yet: finish the setup first.');
    }
    const secretName = settings.telemessageSecretName;
    return new TeleMessageSource({ baseUrl: this.options.telemessageBaseUrl, username: settings.telemessageUsername, password: () => this.secrets.get(secretName) });
  }

  private sink(folderName: string): MailboxSink {
    return new MailboxSink(createGraphClient(this.options.graph, this.credential), { folderName, limits: this.options.mailboxLimits, retry: new RetryPolicy() });
  }
}
