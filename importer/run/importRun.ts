import { setMaxListeners } from 'node:events';
import type { RunCounts, RunTrigger, TimeWindow } from '../model';
import type { ArchiveSource } from '../source/archiveSource';
import { type MailboxSink } from '../sink/mailboxSink';
import { daysOf } from '../state/deliveryLedger';
import { type RunRecord } from '../state/runsStore';
import { takeRunCounts } from './runCounts';
import { acquireRunLease } from '../state/runLease';
import type { ImporterStores } from './importerStores';
import type { Collector } from '../source/collector';
import { collectDelivered, collectsFirst } from './collectStep';
import { advanceCheckpoint, markInterrupted, resolveWindow } from './runWindow';
import { describe, RunExecution } from './runExecution';
import type { WorkQueue } from '../scale/workQueue';

/** The log lines a run writes; pino's logger fits. */
export interface RunLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RunProgress {
  runId: string;
  window: TimeWindow;
  counts: RunCounts;
  itemsDone: number;
  /** The latest archive time reached: how far through the window the run is. */
  position?: Date;
}

export interface ImportContext {
  connectorId: string;
  stores: ImporterStores;
  source: ArchiveSource;
  /** For a delivered source (capture mailbox, SFTP): takes what TeleMessage delivered into the inbox before a run of everything since the checkpoint. */
  collector?: Collector;
  /** A fresh sink per run: it caches users and folders for the run only. */
  createSink(folderName: string): MailboxSink;
  /** With a work queue, the run's deliveries go to workers as per-mailbox units (importer/scale/); without, this process writes them. */
  workQueue?: WorkQueue;
  log: RunLogger;
  /** What "now" is for the window a scheduled run covers; the real clock unless a test pins it. */
  now?: () => Date;
  /** Items handled at once; each may wait on several mailboxes. */
  itemWorkers?: number;
  /**
   * Raw bytes of the items handled at once (an item counts up to the size held in memory): the
   * importer's memory stays flat whatever the day's volume and mix.
   */
  itemBytesInFlight?: number;
  leaseSeconds?: number;
  downloadAttempts?: number;
  onProgress?: (progress: RunProgress) => void;
  /** Called once the run is recorded, before any item: callers that answer "started" wait for this. */
  onStarted?: (run: RunRecord) => void;
}

export interface RunRequest {
  trigger: RunTrigger;
  /** Entra object id of the person who asked, or "scheduler". */
  requestedBy: string;
  /** For backfills and manual runs of a chosen window. */
  window?: TimeWindow;
  /** For reruns: the run whose window is replayed. */
  rerunOf?: string;
  /** For a replay of held items: the items replayed, which are all its counts cover. */
  itemIds?: string[];
  abortSignal?: AbortSignal;
}

/**
 * One run of a connector: every item archived in the window is staged, parsed, mapped and
 * written to each mapped participant's mailbox. The ledger records a delivery as pending before
 * the mailbox is written, so after a crash the replay looks the message up instead of writing it
 * twice. The checkpoint moves only when every item of the window is final.
 */
export async function runImport(ctx: ImportContext, request: RunRequest): Promise<RunRecord> {
  const now = ctx.now ?? (() => new Date());
  const { stores } = ctx;
  const lease = await acquireRunLease(stores.locks, ctx.connectorId, { durationSeconds: ctx.leaseSeconds });
  try {
    const signal = request.abortSignal ? AbortSignal.any([lease.signal, request.abortSignal]) : lease.signal;
    // Every concurrent request of the run listens on this one signal: that many listeners is intended.
    setMaxListeners(0, signal);
    const interrupted = await markInterrupted(ctx);
    const settings = (await stores.connectors.getOrDefault(ctx.connectorId)).value;
    // A delivered source's collection can take many minutes (a capture mailbox is read at Graph's
    // 10,000 requests per 10 minutes): the run is recorded before it, so whoever started it, the
    // tab and the bot see it going. Its window is set once the collection says how far it reaches.
    const collecting = collectsFirst(request) && ctx.collector !== undefined;
    const run = await stores.runs.create({
      connectorId: ctx.connectorId,
      trigger: request.trigger,
      window: await resolveWindow(ctx, request, now()),
      requestedBy: request.requestedBy,
      rerunOf: request.rerunOf,
      itemIds: request.itemIds,
    });
    await stores.audit.append({
      actor: request.requestedBy,
      action: `run.started`,
      connectorId: ctx.connectorId,
      detail: { runId: run.runId, trigger: run.trigger, from: run.window.from.toISOString(), to: run.window.to.toISOString(), rerunOf: run.rerunOf },
    });
    ctx.log.info({ runId: run.runId, trigger: run.trigger, window: run.window }, 'run started');
    ctx.onStarted?.({ ...run });

    const execution = new RunExecution(ctx, settings, run, signal);
    let counting: Promise<void> | undefined;
    // A run that died left its days' counts behind its ledger: this run counts them again.
    for (const stale of interrupted) for (const day of daysOf(stale.window.from, stale.window.to)) execution.touchedDays.add(day);
    try {
      if (collecting) {
        const collected = await collectDelivered(ctx, { now, abortSignal: signal, requestedBy: request.requestedBy });
        run.collection = collected.report;
        run.window = await resolveWindow(ctx, request, now(), collected.through);
        await stores.runs.update(run);
        if (collected.error) throw collected.error;
      }
      const window = run.window;
      // For progress only ("done of total"): counted beside the import, never holding it up or failing it.
      counting = ctx.source.count?.(window, { abortSignal: signal }).then(
        (n) => void (run.itemsTotal = n),
        () => undefined,
      );
      const { nonFinal } = await execution.execute();
      // A replay counts the held items it was given, not the whole span of archive time they cover.
      if (run.trigger === 'remap') run.itemIds ??= execution.listedIds;
      await takeRunCounts(ctx.stores, ctx.connectorId, run);
      // Failures are the window's, not the run's: one that an earlier run met and this one skipped still counts.
      // A delivered file set aside by the collection (a ZIP refused) is partial too: something TeleMessage sent is not in.
      const setAside = (run.collection?.rejected.length ?? 0) > 0;
      run.status = nonFinal > 0 ? 'failed' : run.counts.failuresOutstanding > 0 || run.counts.partiallyImported > 0 || setAside ? 'partial' : 'succeeded';
      if (nonFinal > 0) run.error = `${nonFinal} item${nonFinal === 1 ? '' : 's'} could not be completed and will be retried by the next run or a rerun`;
      else await advanceCheckpoint(ctx, window, run);
    } catch (err) {
      if (request.abortSignal?.aborted) {
        // Asked to stop (the service shutting down): nothing went wrong, the work is only unfinished.
        run.status = 'interrupted';
        run.error = 'Stopped before the end, as asked (the service was shutting down); the next run picks up where it left off.';
        ctx.log.warn({ runId: run.runId }, 'run stopped');
      } else {
        run.status = 'failed';
        run.error = describe(err);
        ctx.log.error({ runId: run.runId, err: { message: describe(err), code: (err as { code?: string }).code } }, 'run failed');
      }
    }
    await counting;
    run.endedAt = new Date();
    await stores.runs.update(run);
    await stores.audit.append({
      actor: request.requestedBy,
      action: 'run.ended',
      connectorId: ctx.connectorId,
      detail: { runId: run.runId, status: run.status, counts: run.counts, error: run.error },
    });
    ctx.log.info({ runId: run.runId, status: run.status, counts: run.counts }, 'run ended');
    return run;
  } finally {
    await lease.release();
  }
}
