import type { RunRecord } from '../state/runsStore';

/** The one-line account of a run that the CLI prints and the bot's card shows. */
/** Who the unmapped were: the archived lines and employees to map, and the outside parties, only counted. */
function unmappedKinds(c: RunRecord['counts']): string {
  if (c.unmapped === 0 || c.unmappedArchivedLines + c.unmappedEmployees + c.unmappedOutsideParties === 0) return '';
  const f = (v: number) => v.toLocaleString('en-US');
  return ` (${f(c.unmappedArchivedLines)} archived line${c.unmappedArchivedLines === 1 ? '' : 's'}, ${f(c.unmappedEmployees)} employee${c.unmappedEmployees === 1 ? '' : 's'}, ${f(c.unmappedOutsideParties)} outside part${c.unmappedOutsideParties === 1 ? 'y' : 'ies'})`;
}

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
    `${n(c.unmapped, 'unmapped participant')}${unmappedKinds(c)}${c.notImported ? `; ${n(c.notImported, 'item')} with no mapped participant, not imported` : ''}.`,
  ].join(' ');
}
