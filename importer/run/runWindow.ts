import { ImporterError } from '../errors';
import type { TimeWindow } from '../model';
import type { RunRecord } from '../state/runsStore';
import type { ImportContext, RunRequest } from './importRun';

// A run's window and checkpoint: which archive (or collection) times a run covers, and how far
// the checkpoint moves once every delivery of the window is final.

const DAY_MS = 86_400_000;

/** Runs left "running" by a process that died: the lease is ours now, so they are over. */
export async function markInterrupted(ctx: ImportContext): Promise<RunRecord[]> {
  const marked: RunRecord[] = [];
  for (const run of await ctx.stores.runs.list(ctx.connectorId, 10)) {
    if (run.status !== 'running') continue;
    run.status = 'interrupted';
    run.error = 'The process running it stopped before the end; the next run picks up where it left off.';
    await ctx.stores.runs.update(run);
    marked.push(run);
  }
  return marked;
}

/** `through`: a collection's items must all fall before the window's end. */
export async function resolveWindow(ctx: ImportContext, request: RunRequest, now: Date, through?: Date): Promise<TimeWindow> {
  if (request.trigger === 'rerun') {
    if (!request.rerunOf) throw new ImporterError('NotFound', 'A rerun names the run it repeats.');
    return (await ctx.stores.runs.get(ctx.connectorId, request.rerunOf)).window;
  }
  if (request.window) {
    if (!(request.window.from < request.window.to)) throw new ImporterError('Conflict', 'The window must end after it starts.');
    return request.window;
  }
  // Everything since the checkpoint: a day the service was down is caught up, not skipped.
  const checkpoint = await ctx.stores.connectors.getCheckpoint(ctx.connectorId);
  const floored = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const to = through && through > floored ? through : floored;
  return { from: checkpoint?.value ?? new Date(floored.getTime() - DAY_MS), to };
}

export async function advanceCheckpoint(ctx: ImportContext, window: TimeWindow, run: RunRecord): Promise<void> {
  const checkpoint = await ctx.stores.connectors.getCheckpoint(ctx.connectorId);
  // A replay of held items covers items already behind the checkpoint: it never moves it.
  if (run.trigger === 'remap') return;
  // Only a window that starts at or before the checkpoint extends it without leaving a gap.
  if (checkpoint && window.from > checkpoint.value) return;
  if (!checkpoint && run.trigger === 'backfill') return;
  await ctx.stores.connectors.advanceCheckpoint(ctx.connectorId, window.to);
}
