// `npm start`'s view of the runs the server makes (scheduled, from the tab, from the bot): a line
// every few seconds while one goes, from the run record the importer keeps current in storage.
import type { Importer, RunRecord } from '../importer';
import { itemsProgress } from '../tab/shared/countFacts';

const LOOK_EVERY_MS = 5_000;

const n = (value: number) => value.toLocaleString('en-US');

function seconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/** "… 1,200 of 5,000 items (24%), 12 not imported; 2,310 deliveries (2,100 imported, …); 48 items/s". */
export function progressLine(run: RunRecord, now: Date): string {
  const c = run.counts;
  const started = new Date(run.startedAt).getTime();
  // An ended run's rate is over its own duration, not up to the moment it is looked at.
  const elapsed = (run.status !== 'running' && run.endedAt ? new Date(run.endedAt).getTime() : now.getTime()) - started;
  const rate = elapsed > 0 ? (c.availableFromSource / elapsed) * 1000 : 0;
  const deliveries = `${n(c.afterFanOut)} deliveries (${n(c.imported)} imported, ${n(c.partiallyImported)} partial, ${n(c.deliveriesFailed)} failed, ${n(c.alreadyArchived)} already archived)`;
  const items = `${run.status === 'running' ? itemsProgress(c.availableFromSource, run.itemsTotal) : `${n(c.availableFromSource)} items`}, ${n(c.notImported)} not imported`;
  const pace = `${rate.toFixed(rate < 10 ? 1 : 0)} items/s`;
  if (run.status === 'running') return `run ${run.runId} (${run.trigger}) going for ${seconds(elapsed)}: ${items}; ${deliveries}; ${pace}`;
  return `run ${run.runId} (${run.trigger}) ${run.status} after ${seconds(elapsed)}: ${items}; ${deliveries}; ${pace}${run.error ? `; ${run.error}` : ''}`;
}

/**
 * Prints the newest run's progress while it goes and one line when it ends; stops when `signal`
 * aborts. A look that fails (storage restarting) is skipped, not fatal.
 */
export function watchRuns(importer: { runs: Pick<Importer['runs'], 'list' | 'get'> }, print: (line: string) => void, signal: AbortSignal): void {
  let watching: string | undefined;
  const look = async () => {
    const [run] = await importer.runs.list({ top: 1 }).catch(() => [] as RunRecord[]);
    if (!run) return;
    // The run watched ended and another began between two looks: its end is still said.
    if (watching && watching !== run.runId) {
      const ended = await importer.runs.get(watching).catch(() => undefined);
      if (ended) print(progressLine(ended, new Date()));
      watching = undefined;
    }
    if (run.status === 'running') {
      watching = run.runId;
      print(progressLine(run, new Date()));
    } else if (watching === run.runId) {
      watching = undefined;
      print(progressLine(run, new Date()));
    }
  };
  const timer = setInterval(() => void look(), LOOK_EVERY_MS);
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
