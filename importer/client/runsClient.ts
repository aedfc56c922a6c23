import { ImporterError } from '../errors';
import type { TimeWindow } from '../model';
import type { StartRun } from '../importerOptions';
import { RetryPolicy } from '../retryPolicy';
import { dryRun, type DryRunReport } from '../run/dryRun';
import { acknowledgeFailure, listFailures, type FailureListing, type FailureListOptions } from '../run/failureBook';
import { findHeldItems, HeldItemsSource, windowOf } from '../run/heldItems';
import { runImport, type RunRequest } from '../run/importRun';
import type { FailureLine } from '../run/runCounts';
import { verificationText, verifyRun, type VerifyReport } from '../run/verifyRun';
import type { ArchiveSource } from '../source/archiveSource';
import { collectorFor } from '../source/collectors';
import type { DailyCounts } from '../state/dailyCountsStore';
import { runLogCsv, type RunLogRow } from '../state/runLogStore';
import type { RunRecord } from '../state/runsStore';
import type { ImporterContext } from './importerContext';

/** How a caller follows a run it starts, and stops it. */
export type RunOptions = Omit<StartRun, 'requestedBy' | 'trigger'>;

/**
 * The connector's runs: started (scheduled, manual, rerun, backfill, replay of held items), read,
 * verified and their failures acknowledged. Every run any caller starts (the scheduler, the tab,
 * the bot, the CLI) is started here, so `stop` reaches them all.
 */
export interface RunsClient {
  /** A run of the window since the checkpoint; a scheduled one ends by verifying itself. */
  start(requestedBy: string, options?: RunOptions & Pick<StartRun, 'trigger'>): Promise<RunRecord>;
  rerun(runId: string, requestedBy: string, options?: RunOptions): Promise<RunRecord>;
  backfill(window: TimeWindow, requestedBy: string, options?: RunOptions): Promise<RunRecord>;
  /** Replays, as a `remap` run, the items held for every unmapped number the active mapping now maps. */
  replayHeld(requestedBy: string, options?: { abortSignal?: AbortSignal }): Promise<RunRecord | undefined>;
  get(runId: string): Promise<RunRecord>;
  /** The newest runs first (30 unless `top`); `after` (a run id) pages on from that run. */
  list(options?: { top?: number; after?: string }): Promise<RunRecord[]>;
  log(runId: string): AsyncIterable<RunLogRow>;
  logCsv(runId: string): AsyncIterable<string>;
  verify(runId: string, options?: { abortSignal?: AbortSignal }): Promise<VerifyReport>;
  /** What a run of `window` would do (the window since the checkpoint when absent); changes nothing. */
  dryRun(options?: { window?: TimeWindow; abortSignal?: AbortSignal }): Promise<DryRunReport>;
  /** What is failing in every archive window: outstanding until imported or acknowledged; acknowledged ones stay listed. */
  failures(options?: FailureListOptions): Promise<FailureListing>;
  /** An admin's audited word that a failed item can never be imported: no longer outstanding, still listed. */
  acknowledgeFailure(itemId: string, reason: string, requestedBy: string, options?: { abortSignal?: AbortSignal }): Promise<FailureLine[]>;
  /**
   * Items per UTC archive day, kind and outcome for the `days` days (1-366) that end today, oldest
   * first; each day as the ledger holds it after the last run that touched it.
   */
  dailyCounts(days: number): Promise<DailyCounts[]>;
  /** Asks every run still going to stop (each ends `interrupted`) and waits for them; later starts are refused. The server's stop. */
  stop(): Promise<void>;
}

/** The one run starter: it links each run to the importer's own stop, whoever asked for the run. */
export class ConnectorRuns implements RunsClient {
  private readonly stopping = new AbortController();
  private readonly going = new Set<Promise<unknown>>();

  constructor(private readonly ctx: ImporterContext) {}

  async start(requestedBy: string, options: RunOptions & Pick<StartRun, 'trigger'> = {}): Promise<RunRecord> {
    const trigger = options.trigger ?? 'manual';
    const run = await this.launch({ trigger, requestedBy, abortSignal: options.abortSignal }, options);
    // Each scheduled run ends by checking itself against the source, the mailboxes and the raw copies.
    if (trigger === 'schedule' && run.status !== 'failed') {
      try {
        run.verification = verificationText(await this.verify(run.runId, { abortSignal: options.abortSignal }));
      } catch (err) {
        run.verification = `verification could not finish: ${(err as Error).message}`;
      }
      await this.ctx.stores.runs.update(run);
    }
    return run;
  }

  async rerun(runId: string, requestedBy: string, options: RunOptions = {}): Promise<RunRecord> {
    await this.ctx.stores.runs.get(this.ctx.connectorId, runId);
    await this.ctx.stores.audit.append({ actor: requestedBy, action: 'run.rerun.requested', connectorId: this.ctx.connectorId, detail: { rerunOf: runId } });
    return this.launch({ trigger: 'rerun', rerunOf: runId, requestedBy, abortSignal: options.abortSignal }, options);
  }

  async backfill(window: TimeWindow, requestedBy: string, options: RunOptions = {}): Promise<RunRecord> {
    const detail = { from: window.from.toISOString(), to: window.to.toISOString() };
    await this.ctx.stores.audit.append({ actor: requestedBy, action: 'run.backfill.requested', connectorId: this.ctx.connectorId, detail });
    return this.launch({ trigger: 'backfill', window, requestedBy, abortSignal: options.abortSignal }, options);
  }

  async replayHeld(requestedBy: string, options: { abortSignal?: AbortSignal } = {}): Promise<RunRecord | undefined> {
    const { stores, connectorId } = this.ctx;
    const custom = await stores.mappings.load((await this.ctx.settings()).value.mappingVersion);
    const numbers = (await stores.unmapped.list(connectorId)).filter((u) => custom.has(u.number)).map((u) => u.number);
    return numbers.length ? this.replayHeldFor(numbers, requestedBy, options.abortSignal) : undefined;
  }

  /** The items held for `numbers`, every one from the ledger, imported again as a `remap` run from their raw copies. */
  async replayHeldFor(numbers: readonly string[], requestedBy: string, abortSignal?: AbortSignal): Promise<RunRecord | undefined> {
    const items = await findHeldItems(this.ctx.stores, this.ctx.connectorId, numbers, abortSignal);
    if (!items.length) return undefined;
    const request = { trigger: 'remap' as const, window: windowOf(items), itemIds: items.map((i) => i.ref.id), requestedBy, abortSignal };
    return this.launch(request, {}, new HeldItemsSource(items, this.ctx.stores));
  }

  get(runId: string): Promise<RunRecord> {
    return this.ctx.stores.runs.get(this.ctx.connectorId, runId);
  }

  list(options: { top?: number; after?: string } = {}): Promise<RunRecord[]> {
    return this.ctx.stores.runs.list(this.ctx.connectorId, options.top ?? 30, options.after);
  }

  log(runId: string): AsyncIterable<RunLogRow> {
    return this.ctx.stores.runLog.rows(runId);
  }

  logCsv(runId: string): AsyncIterable<string> {
    return runLogCsv(this.ctx.stores.runLog.rows(runId));
  }

  async verify(runId: string, options: { abortSignal?: AbortSignal } = {}): Promise<VerifyReport> {
    const run = await this.get(runId);
    const settings = (await this.ctx.settings()).value;
    return verifyRun({ run, stores: this.ctx.stores, source: await this.ctx.source(settings), sink: this.ctx.sink(settings.folderName), abortSignal: options.abortSignal });
  }

  async dryRun(options: { window?: TimeWindow; abortSignal?: AbortSignal } = {}): Promise<DryRunReport> {
    const settings = (await this.ctx.settings()).value;
    const sink = this.ctx.sink(settings.folderName);
    const checkpoint = await this.ctx.stores.connectors.getCheckpoint(this.ctx.connectorId);
    const now = this.ctx.now();
    const window = options.window ?? { from: checkpoint?.value ?? new Date(now.getTime() - 86_400_000), to: now };
    return dryRun({
      window,
      source: await this.ctx.source(settings),
      rules: { custom: await this.ctx.stores.mappings.load(settings.mappingVersion), automatic: settings.automaticMapping, findUser: (a) => sink.findUser(a, options.abortSignal) },
      abortSignal: options.abortSignal,
    });
  }

  failures(options?: FailureListOptions): Promise<FailureListing> {
    return listFailures(this.ctx.stores, this.ctx.connectorId, options);
  }

  acknowledgeFailure(itemId: string, reason: string, requestedBy: string, options: { abortSignal?: AbortSignal } = {}): Promise<FailureLine[]> {
    const request = { itemId, reason, requestedBy, leaseSeconds: this.ctx.options.runLeaseSeconds, abortSignal: options.abortSignal };
    return acknowledgeFailure(this.ctx.stores, this.ctx.connectorId, request);
  }

  dailyCounts(days: number): Promise<DailyCounts[]> {
    if (!Number.isInteger(days) || days < 1 || days > 366) throw new RangeError('days must be a whole number from 1 to 366');
    const today = this.ctx.now();
    const from = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (days - 1)));
    return this.ctx.stores.dailyCounts.list(this.ctx.connectorId, from.toISOString().slice(0, 10), today.toISOString().slice(0, 10));
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('the importer is stopping'));
    await Promise.allSettled([...this.going]);
  }

  /** Every run goes through here: its signal is the caller's and the importer's stop, and `stop` waits for it. */
  private launch(request: RunRequest, watch: Pick<StartRun, 'onProgress' | 'onStarted'>, source?: ArchiveSource): Promise<RunRecord> {
    if (this.stopping.signal.aborted) return Promise.reject(new ImporterError('ShuttingDown', 'The archiver is shutting down: no run starts now; ask again once it is back.'));
    const abortSignal = request.abortSignal ? AbortSignal.any([request.abortSignal, this.stopping.signal]) : this.stopping.signal;
    const running = this.run({ ...request, abortSignal }, watch, source);
    this.going.add(running);
    void running.catch(() => undefined).finally(() => this.going.delete(running));
    return running;
  }

  private async run(request: RunRequest, watch: Pick<StartRun, 'onProgress' | 'onStarted'>, source?: ArchiveSource): Promise<RunRecord> {
    const { options, stores, connectorId } = this.ctx;
    const settings = (await this.ctx.settings()).value;
    return runImport(
      {
        connectorId,
        stores,
        source: source ?? (await this.ctx.source(settings)),
        // A replay of held items reads raw copies only: it never collects.
        collector: source
          ? undefined
          : collectorFor({ connectorId, settings, stores, graph: () => this.ctx.graph(), landing: options.landing, retry: new RetryPolicy(), log: options.log }, options.collectors),
        createSink: (folderName) => this.ctx.sink(folderName),
        workQueue: this.ctx.workQueue,
        log: options.log,
        now: options.now,
        itemWorkers: options.itemWorkers,
        itemBytesInFlight: options.itemBytesInFlight,
        leaseSeconds: options.runLeaseSeconds,
        onProgress: watch.onProgress,
        onStarted: watch.onStarted,
      },
      request,
    );
  }
}
