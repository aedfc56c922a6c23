import type { TokenCredential } from '@azure/identity';
import { ImporterError } from './errors';
import type { RunCounts, RunTrigger, TimeWindow } from './model';
import type { ImporterOptions, StartRun } from './importerOptions';
import { MailboxDirectory } from './mapping/mailboxDirectory';
import { AdminList, type AdminListing, type DirectoryPerson } from './adminList';
import { MappingService, type ChangeOptions, type MappingChange, type MappingPreview, type MappingVersionListing } from './mapping/mappingService';
import { groupUnmapped, type UnmappedReport } from './mapping/unmappedKind';
import { findHeldItems, HeldItemsSource, windowOf } from './run/heldItems';
import type { ArchiveSource } from './source/archiveSource';
import { RetryPolicy } from './retryPolicy';
import { runImport, type RunLogger, type RunProgress } from './run/importRun';
import { openStores, type ImporterStores } from './run/importerStores';
import { KeyVaultSecretStore, LocalSecretStore, type SecretStore } from './secrets/secretStore';
import { createGraphClient, graphCredential } from './sink/graphClient';
import { MailboxSink } from './sink/mailboxSink';
import { TeleMessageSource } from './source/telemessageSource';
import { TeleMessageSession } from './source/telemessageSession';
import type { AuditEntry } from './audit/auditTrail';
import { checkSettingsChange, type ConnectorSettings } from './state/connectorStore';
import { collectorFor, isDelivered, type LandingTarget } from './source/collectors';
import { InboxSource } from './source/inboxSource';
import { DeliverySetup, type DeliveryApi, type DeliveryChoice, type DeliveryPreflight, type DeliveryStatus } from './source/deliverySetup';
import { runLogCsv, type RunLogRow } from './state/runLogStore';
import type { RunRecord } from './state/runsStore';
import { StorageAccount, type StorageTarget } from './state/storageAccount';
import type { UnmappedNumber } from './state/unmappedStore';
import type { CountedKind, DailyCounts, ItemOutcome, OutcomeCounts } from './state/dailyCountsStore';
import { verificationText, verifyRun, type VerifyReport } from './run/verifyRun';
import type { FailureLine } from './run/runCounts';
import { acknowledgeFailure, listFailures, type FailureListing, type FailureListOptions } from './run/failureBook';
import { dryRun, type DryRunReport } from './run/dryRun';
import { preflightTenant, type PreflightReport } from './preflight/preflightRequest';

export type { CollectReport, DeliveryKind, RejectedBatch } from './source/collector';
export type { DeliveryChoice, DeliveryCheck, DeliveryPreflight, DeliveryStatus, SftpEndpoint } from './source/deliverySetup';
export { deliveryConfigured } from './source/deliverySetup';
export type { PreflightReport, PreflightCheck } from './preflight/tenantPreflight';
export type { DryRunReport, RunRecord, RunLogRow, ConnectorSettings, UnmappedNumber, AuditEntry, VerifyReport, RunProgress, TimeWindow, RunTrigger, RunLogger, StorageTarget, LandingTarget };
export type { ImporterOptions, StartRun };
export type { CountedKind, DailyCounts, ItemOutcome, OutcomeCounts, RunCounts, FailureLine, FailureListing, FailureListOptions, AdminList, AdminListing, DirectoryPerson, UnmappedReport };
export { COUNTED_KINDS, ITEM_OUTCOMES } from './state/dailyCountsStore';
export type { ChangeOptions, MappingChange, MappingPreview, MappingVersionListing, MappingCheck, MappingDiff, ReplayOutcome } from './mapping/mappingService';
export type { UnmappedKind } from './mapping/unmappedKind';
export { ImporterError } from './errors';
export { isAdmin, normalObjectId } from './admins';
export { MappingFileError, MAX_MAPPING_BYTES, type MappingProblem, type MappingProblemCode, type MappingFileReason } from './mapping/csvMapping';
export { mappingReportCsv } from './mapping/mappingService';
export { csvLine } from './mapping/spreadsheetCsv';
// Building blocks for the bot's own tables (conversation references, posted cards).
export { StorageAccount } from './state/storageAccount';
export { TABLES, keySafe } from './state/tableNames';
export { nextRunAt } from './schedule/dailySchedule';
export { summarizeRun, summarizeReplay } from './run/runSummary';
export { brokenIdentities } from './run/runCounts';
export { preflightText } from './preflight/preflightText';

/**
 * The importer's public API, for the bot, the tab and the CLI: start, rerun and backfill runs,
 * read runs and their logs, verify a run, and change the connector's settings (audited).
 */
export interface Importer extends DeliveryApi {
  readonly connectorId: string;
  readonly admins: AdminList;
  runImport(request: StartRun): Promise<RunRecord>;
  rerun(runId: string, requestedBy: string, options?: Omit<StartRun, 'requestedBy' | 'trigger'>): Promise<RunRecord>;
  backfill(window: TimeWindow, requestedBy: string, options?: Omit<StartRun, 'requestedBy' | 'trigger'>): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord>;
  /** The newest runs first; `after` (a run id) pages on from that run. */
  listRuns(top?: number, options?: { after?: string }): Promise<RunRecord[]>;
  runLog(runId: string): AsyncIterable<RunLogRow>;
  runLogCsv(runId: string): AsyncIterable<string>;
  verify(runId: string, options?: { abortSignal?: AbortSignal }): Promise<VerifyReport>;
  /** What is failing in every archive window: outstanding until imported or acknowledged; acknowledged ones stay listed. */
  outstandingFailures(options?: FailureListOptions): Promise<FailureListing>;
  /** An admin's audited word that a failed item can never be imported: no longer outstanding, still listed. */
  acknowledgeFailure(itemId: string, reason: string, requestedBy: string, options?: { abortSignal?: AbortSignal }): Promise<FailureLine[]>;
  /** What a run of `window` would do (the window since the checkpoint when absent); changes nothing. */
  dryRun(window?: TimeWindow, options?: { abortSignal?: AbortSignal }): Promise<DryRunReport>;
  settings(): Promise<{ value: ConnectorSettings; etag?: string }>;
  updateSettings(changes: Partial<Omit<ConnectorSettings, 'connectorId' | 'mappingVersion' | 'telemessageSecretName'>>, requestedBy: string, etag: string | undefined): Promise<ConnectorSettings>;
  /** Validates the CSV whole and makes it the active mapping; bad input changes nothing. */
  uploadMapping(csv: Buffer | string, requestedBy: string, etag: string | undefined): Promise<{ entries: number; version: string }>;
  /** Reads and checks a mapping file (mailboxes against Microsoft 365) and compares it with the active mapping; changes nothing. */
  previewMapping(csv: Buffer | string | AsyncIterable<Buffer | string>, options?: { abortSignal?: AbortSignal }): Promise<MappingPreview>;
  /** Applies a mapping file as a new version; throws MappingFileError (code InvalidMappingCsv) or ConfirmationRequired and changes nothing. */
  applyMapping(csv: Buffer | string | AsyncIterable<Buffer | string>, requestedBy: string, options: ChangeOptions): Promise<MappingChange>;
  mapNumber(number: string, mailbox: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange>;
  unmapNumber(number: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange>;
  listMappingVersions(options?: { top?: number; abortSignal?: AbortSignal }): Promise<MappingVersionListing[]>;
  restoreMappingVersion(version: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange>;
  /** The active mapping, or a version, as spreadsheet-safe CSV in TeleMessage's format. */
  exportMapping(version?: string, options?: { abortSignal?: AbortSignal }): AsyncIterable<string>;
  /** Replays, as a `remap` run, the items held for every unmapped number the active mapping now maps. */
  replayHeldItems(requestedBy: string, options?: { abortSignal?: AbortSignal }): Promise<RunRecord | undefined>;
  /** Signs in to TeleMessage with these credentials and stores nothing: SourceAuthFailed when TeleMessage refuses them. */
  checkTeleMessageCredentials(username: string, password: string, options?: { abortSignal?: AbortSignal }): Promise<void>;
  /** Stores the TeleMessage password in the secret store; the connector keeps only its name. */
  setTeleMessageCredentials(username: string, password: string, requestedBy: string, options?: { etag?: string }): Promise<void>;
  unmapped(): Promise<UnmappedNumber[]>;
  /** Unmapped numbers by kind: archived lines and employees to fix, outside parties only counted. */
  unmappedReport(): Promise<UnmappedReport<UnmappedNumber>>;
  /** What the bot alerts on: archived lines and employees without a mailbox, never outside parties. */
  unmappedAlerts(): Promise<UnmappedNumber[]>;
  audit(from: Date, to: Date): Promise<AuditEntry[]>;
  /**
   * Items per UTC archive day, kind and outcome for the `days` days (1-366) that end today, oldest
   * first; each day as the ledger holds it after the last run that touched it.
   */
  dailyCounts(days: number): Promise<DailyCounts[]>;
  /** Where the TeleMessage password is kept, for display; never the password. */
  describeSecret(): Promise<string | undefined>;
  /**
   * Tries, against the one test mailbox named, each Graph behaviour the archiver relies on, and
   * reports each as passed or failed with Graph's answer; removes what it created; audited.
   */
  preflight(mailbox: string, requestedBy: string, options?: { abortSignal?: AbortSignal }): Promise<PreflightReport>;
}

const DEFAULT_SECRET_NAME = 'telemessage-password';

export async function createImporter(options: ImporterOptions): Promise<Importer> {
  const storage = new StorageAccount(options.storage);
  const stores = await openStores(storage, { tmpDir: options.tmpDir });
  const secrets: SecretStore = 'keyVaultUrl' in options.secrets ? new KeyVaultSecretStore(options.secrets.keyVaultUrl, options.secrets.credential) : new LocalSecretStore(options.secrets.localKeyFile);
  return new ConnectorImporter(options, stores, secrets, graphCredential(options.graph), options.connectorId);
}

class ConnectorImporter implements Importer {
  private readonly mapping: MappingService;
  readonly admins: AdminList;
  private readonly delivery: DeliverySetup;

  constructor(
    private readonly options: ImporterOptions,
    private readonly stores: ImporterStores,
    private readonly secrets: SecretStore,
    private readonly credential: TokenCredential,
    readonly connectorId: string,
  ) {
    const directory = () => new MailboxDirectory(createGraphClient(options.graph, credential));
    this.admins = new AdminList(connectorId, stores, directory);
    this.mapping = new MappingService({
      connectorId,
      stores,
      directory,
      replay: (numbers, requestedBy, signal) => this.replayHeld(numbers, requestedBy, signal),
    });
    const graph = () => createGraphClient(options.graph, credential);
    this.delivery = new DeliverySetup({ connectorId, stores, graph, landing: options.landing, settings: () => this.settings(), updateSettings: (c, by, etag) => this.updateSettings(c, by, etag) });
  }

  async runImport(request: StartRun): Promise<RunRecord> {
    const trigger = request.trigger ?? 'manual';
    const run = await this.start({ trigger, requestedBy: request.requestedBy, abortSignal: request.abortSignal }, request);
    // Each scheduled run ends by checking itself against the source, the mailboxes and the raw copies.
    if (trigger === 'schedule' && run.status !== 'failed') {
      try {
        run.verification = verificationText(await this.verify(run.runId, { abortSignal: request.abortSignal }));
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
    return this.start({ trigger: 'rerun', rerunOf: runId, requestedBy, abortSignal: options.abortSignal }, options);
  }

  async backfill(window: TimeWindow, requestedBy: string, options: Omit<StartRun, 'requestedBy' | 'trigger'> = {}): Promise<RunRecord> {
    await this.stores.audit.append({ actor: requestedBy, action: 'run.backfill.requested', connectorId: this.connectorId, detail: { from: window.from.toISOString(), to: window.to.toISOString() } });
    return this.start({ trigger: 'backfill', window, requestedBy, abortSignal: options.abortSignal }, options);
  }

  getRun(runId: string): Promise<RunRecord> {
    return this.stores.runs.get(this.connectorId, runId);
  }

  listRuns(top = 30, options: { after?: string } = {}): Promise<RunRecord[]> {
    return this.stores.runs.list(this.connectorId, top, options.after);
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

  outstandingFailures(options?: FailureListOptions): Promise<FailureListing> {
    return listFailures(this.stores, this.connectorId, options);
  }

  acknowledgeFailure(itemId: string, reason: string, requestedBy: string, options: { abortSignal?: AbortSignal } = {}): Promise<FailureLine[]> {
    return acknowledgeFailure(this.stores, this.connectorId, { itemId, reason, requestedBy, leaseSeconds: this.options.runLeaseSeconds, abortSignal: options.abortSignal });
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
    checkSettingsChange(allowed);
    const next = { ...current.value, ...allowed };
    await this.stores.connectors.save(next, current.etag);
    await this.stores.audit.append({ actor: requestedBy, action: 'settings.changed', connectorId: this.connectorId, before: current.value, after: next });
    return next;
  }

  async uploadMapping(csv: Buffer | string, requestedBy: string, etag: string | undefined): Promise<{ entries: number; version: string }> {
    const change = await this.mapping.applyMapping(csv, requestedBy, { etag });
    const settings = (await this.settings()).value;
    return { entries: change.version?.rows ?? change.diff.activeRows, version: settings.mappingVersion ?? '' };
  }

  previewMapping(csv: Buffer | string | AsyncIterable<Buffer | string>, options?: { abortSignal?: AbortSignal }): Promise<MappingPreview> {
    return this.mapping.previewMapping(csv, options);
  }

  applyMapping(csv: Buffer | string | AsyncIterable<Buffer | string>, requestedBy: string, options: ChangeOptions): Promise<MappingChange> {
    return this.mapping.applyMapping(csv, requestedBy, options);
  }

  mapNumber(number: string, mailbox: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange> {
    return this.mapping.mapNumber(number, mailbox, requestedBy, options);
  }

  unmapNumber(number: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange> {
    return this.mapping.unmapNumber(number, requestedBy, options);
  }

  listMappingVersions(options?: { top?: number; abortSignal?: AbortSignal }): Promise<MappingVersionListing[]> {
    return this.mapping.listMappingVersions(options);
  }

  restoreMappingVersion(version: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange> {
    return this.mapping.restoreMappingVersion(version, requestedBy, options);
  }

  exportMapping(version?: string, options?: { abortSignal?: AbortSignal }): AsyncIterable<string> {
    return this.mapping.exportMapping(version, options);
  }

  async replayHeldItems(requestedBy: string, options: { abortSignal?: AbortSignal } = {}): Promise<RunRecord | undefined> {
    const custom = await this.stores.mappings.load((await this.settings()).value.mappingVersion);
    const numbers = (await this.unmapped()).filter((u) => custom.has(u.number)).map((u) => u.number);
    return numbers.length ? this.replayHeld(numbers, requestedBy, options.abortSignal) : undefined;
  }

  /** The items held for `numbers`, every one from the ledger, imported again as a `remap` run from their raw copies. */
  private async replayHeld(numbers: readonly string[], requestedBy: string, abortSignal?: AbortSignal): Promise<RunRecord | undefined> {
    const items = await findHeldItems(this.stores, this.connectorId, numbers, abortSignal);
    if (!items.length) return undefined;
    return this.start({ trigger: 'remap', window: windowOf(items), itemIds: items.map((i) => i.ref.id), requestedBy, abortSignal }, undefined, new HeldItemsSource(items, this.stores));
  }

  async checkTeleMessageCredentials(username: string, password: string, options: { abortSignal?: AbortSignal } = {}): Promise<void> {
    if (!username.trim() || !password) throw new ImporterError('SourceAuthFailed', 'Both the TeleMessage username and password are needed.');
    const session = new TeleMessageSession({ baseUrl: this.options.telemessageBaseUrl.replace(/\/+$/, ''), username: username.trim(), password: async () => password, fetch, timeoutMs: 30_000 });
    await session.token(options.abortSignal);
  }

  async setTeleMessageCredentials(username: string, password: string, requestedBy: string, options: { etag?: string } = {}): Promise<void> {
    if (!username.trim() || !password) throw new ImporterError('SourceAuthFailed', 'Both the TeleMessage username and password are needed.');
    const name = this.options.telemessageSecretName ?? DEFAULT_SECRET_NAME;
    if (options.etag && (await this.settings()).etag !== options.etag) throw new ImporterError('Conflict', 'The connector was changed by someone else; reload and try again.');
    await this.secrets.set(name, password);
    for (let attempt = 0; ; attempt++) {
      const current = await this.settings();
      try {
        // With the caller's ETag, a change made in between is a Conflict for them, not retried.
        await this.stores.connectors.save({ ...current.value, telemessageUsername: username.trim(), telemessageSecretName: name }, options.etag ?? current.etag);
        await this.stores.audit.append({
          actor: requestedBy,
          action: 'telemessage.credentials.changed',
          connectorId: this.connectorId,
          before: { username: current.value.telemessageUsername },
          // The password itself never reaches the trail, not even to be scrubbed there.
          after: { username: username.trim(), password: '[set]' },
        });
        return;
      } catch (err) {
        if (!(err instanceof ImporterError && err.code === 'Conflict') || options.etag || attempt >= 3) throw err;
      }
    }
  }

  deliveryStatus(): Promise<DeliveryStatus> {
    return this.delivery.deliveryStatus();
  }

  setDelivery(choice: DeliveryChoice, requestedBy: string, options: { etag?: string }): Promise<DeliveryStatus> {
    return this.delivery.setDelivery(choice, requestedBy, options);
  }

  checkDelivery(choice: DeliveryChoice, options?: { abortSignal?: AbortSignal }): Promise<DeliveryPreflight> {
    return this.delivery.checkDelivery(choice, options);
  }

  unmapped(): Promise<UnmappedNumber[]> {
    return this.stores.unmapped.list(this.connectorId);
  }

  async unmappedReport(): Promise<UnmappedReport<UnmappedNumber>> {
    return groupUnmapped(await this.unmapped());
  }

  async unmappedAlerts(): Promise<UnmappedNumber[]> {
    return (await this.unmapped()).filter((u) => u.kind !== 'outsideParty');
  }

  audit(from: Date, to: Date): Promise<AuditEntry[]> {
    return this.stores.audit.list(this.connectorId, from, to);
  }

  dailyCounts(days: number): Promise<DailyCounts[]> {
    if (!Number.isInteger(days) || days < 1 || days > 366) throw new RangeError('days must be a whole number from 1 to 366');
    const today = new Date((this.options.now ?? (() => new Date()))());
    const from = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (days - 1)));
    return this.stores.dailyCounts.list(this.connectorId, from.toISOString().slice(0, 10), today.toISOString().slice(0, 10));
  }

  async describeSecret(): Promise<string | undefined> {
    const name = (await this.settings()).value.telemessageSecretName;
    return name ? this.secrets.describe(name) : undefined;
  }

  async preflight(mailbox: string, requestedBy: string, options: { abortSignal?: AbortSignal } = {}): Promise<PreflightReport> {
    const settings = (await this.settings()).value;
    const client = createGraphClient(this.options.graph, this.credential);
    return preflightTenant(mailbox, requestedBy, {
      connectorId: this.connectorId,
      audit: this.stores.audit,
      client,
      credential: this.credential,
      sink: this.sink(settings.folderName),
      folderName: settings.folderName,
      abortSignal: options.abortSignal,
    });
  }

  private async start(request: Parameters<typeof runImport>[1], watch: Pick<StartRun, 'onProgress' | 'onStarted'> = {}, source?: ArchiveSource): Promise<RunRecord> {
    const settings = (await this.settings()).value;
    return runImport(
      {
        connectorId: this.connectorId,
        stores: this.stores,
        source: source ?? (await this.source(settings)),
        // A replay of held items reads raw copies only: it never collects.
        collector: source
          ? undefined
          : collectorFor(
              {
                connectorId: this.connectorId,
                settings,
                stores: this.stores,
                graph: () => createGraphClient(this.options.graph, this.credential),
                landing: this.options.landing,
                retry: new RetryPolicy(),
                log: this.options.log,
              },
              this.options.collectors,
            ),
        createSink: (folderName) => this.sink(folderName),
        log: this.options.log,
        now: this.options.now,
        itemWorkers: this.options.itemWorkers,
        itemBytesInFlight: this.options.itemBytesInFlight,
        leaseSeconds: this.options.runLeaseSeconds,
        onProgress: watch.onProgress,
        onStarted: watch.onStarted,
      },
      request,
    );
  }

  private async source(settings: ConnectorSettings): Promise<ArchiveSource> {
    // Delivered items are read from the inbox the collector fills: verify and dry runs never collect.
    if (isDelivered(settings.delivery)) return new InboxSource(this.connectorId, this.stores);
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
