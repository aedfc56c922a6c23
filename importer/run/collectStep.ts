import type { TimeWindow } from '../model';
import { CollectionFailedError, type CollectReport, type Collector } from '../source/collector';
import type { ImporterStores } from './importerStores';
import type { RunLogger } from './importRun';

/** What the collect step left for the rest of the run. */
export interface Collected {
  report?: CollectReport;
  /** The window must end after this: every collectedAt of the collection is before it. */
  through?: Date;
  /** Why the collection failed; the run fails with it (what was recorded stays in the inbox). */
  error?: unknown;
}

interface CollectContext {
  connectorId: string;
  stores: ImporterStores;
  collector?: Collector;
  log: RunLogger;
}

/** Only a run of "everything since the checkpoint" collects: reruns, backfills and replays work on what is already in. */
export function collectsFirst(request: { trigger: string; window?: TimeWindow; rerunOf?: string }): boolean {
  return (request.trigger === 'schedule' || request.trigger === 'manual') && !request.window && !request.rerunOf;
}

/**
 * Runs the connector's collector, under the run's lease, before the window is chosen. Items are
 * recorded as collected no earlier than the checkpoint, so none can fall behind it unseen, and the
 * window is made to end after the last of them.
 */
export async function collectDelivered(ctx: CollectContext, options: { now: () => Date; abortSignal: AbortSignal; requestedBy: string }): Promise<Collected> {
  const { collector } = ctx;
  if (!collector) return {};
  // The first collection fixes where the import starts: a run that dies after collecting, retried
  // days later, must still find what it collected inside its window.
  const checkpoint = (await ctx.stores.connectors.getCheckpoint(ctx.connectorId))?.value ?? (await ctx.stores.connectors.advanceCheckpoint(ctx.connectorId, firstStart(options.now())));
  let latest: Date | undefined;
  const now = () => {
    const t = options.now();
    const at = checkpoint > t ? new Date(checkpoint) : t;
    if (!latest || at > latest) latest = at;
    return at;
  };
  const started = Date.now();
  try {
    const report: CollectReport = { ...(await collector.collect({ now, abortSignal: options.abortSignal })), durationMs: Date.now() - started };
    ctx.log.info({ connectorId: ctx.connectorId, collection: { ...report, rejected: report.rejected.length } }, 'collected');
    await ctx.stores.audit.append({ actor: options.requestedBy, action: 'run.collected', connectorId: ctx.connectorId, detail: { ...report } });
    return { report, through: latest && ceilToSecond(new Date(latest.getTime() + 1)) };
  } catch (err) {
    ctx.log.error({ connectorId: ctx.connectorId, err: { message: (err as Error).message, code: (err as { code?: string }).code } }, 'collection failed');
    const report: CollectReport = {
      ...(err instanceof CollectionFailedError ? err.report : { kind: collector.kind, collected: 0, alreadyCollected: 0, rejected: [] }),
      durationMs: Date.now() - started,
    };
    return { report, through: latest && ceilToSecond(new Date(latest.getTime() + 1)), error: err };
  }
}

/** Where a connector's first run starts: a day back, as resolveWindow has it. */
function firstStart(now: Date): Date {
  return new Date(Math.floor(now.getTime() / 1000) * 1000 - 86_400_000);
}

function ceilToSecond(at: Date): Date {
  return new Date(Math.ceil(at.getTime() / 1000) * 1000);
}
