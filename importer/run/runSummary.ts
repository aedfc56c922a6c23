import type { RunRecord } from '../state/runsStore';

/** The one-line account of a run that the CLI prints and the bot's card shows. */
export function summarizeRun(run: RunRecord): string {
  const c = run.counts;
  if (c.availableFromSource === 0) {
    // As Microsoft's connector log words an empty day.
    const day = new Date(run.window.to.getTime() - 1).toISOString().slice(0, 10);
    return `No items ingested on ${day}`;
  }
  const n = (value: number, one: string, many = `${one}s`) => `${value.toLocaleString('en-US')} ${value === 1 ? one : many}`;
  return [
    `${n(c.availableFromSource, 'item')} from source, ${n(c.afterFanOut, 'delivery', 'deliveries')} after fan-out:`,
    `${c.imported.toLocaleString('en-US')} imported,`,
    `${c.partiallyImported.toLocaleString('en-US')} partially imported,`,
    `${c.skippedDuplicates.toLocaleString('en-US')} skipped as duplicates,`,
    `${c.failed.toLocaleString('en-US')} failed,`,
    `${n(c.unmapped, 'unmapped participant')}${c.notImported ? ` (${n(c.notImported, 'item')} with no mapped participant, not imported)` : ''}.`,
  ].join(' ');
}
