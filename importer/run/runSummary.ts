import type { RunCounts } from '../model';
import type { RunRecord } from '../state/runsStore';

const f = (v: number) => v.toLocaleString('en-US');
const n = (value: number, one: string, many = `${one}s`) => `${f(value)} ${value === 1 ? one : many}`;

/** Who the unmapped participants were: the archived lines and employees to map, and the outside parties, only counted. */
function unmappedKinds(c: RunCounts): string {
  if (c.unmapped === 0) return '';
  return ` (${f(c.unmappedArchivedLines)} of archived lines, ${f(c.unmappedEmployees)} of employees, ${f(c.unmappedOutsideParties)} of outside parties) from ${n(c.unmappedNumbers, 'number')}`;
}

/**
 * The account of a run that the CLI prints, the card shows and the tab reads, in the words of
 * docs/counts.md: items first, then deliveries, then participants, each named.
 */
export function summarizeRun(run: Pick<RunRecord, 'counts' | 'window'>): string {
  const c = run.counts;
  if (c.availableFromSource === 0) {
    // As Microsoft's connector log words an empty day.
    const day = new Date(run.window.to.getTime() - 1).toISOString().slice(0, 10);
    return `No items ingested on ${day}`;
  }
  const acknowledged = c.failuresAcknowledged ? ` (${f(c.failuresOutstanding)} outstanding, ${f(c.failuresAcknowledged)} acknowledged)` : '';
  return [
    `${n(c.availableFromSource, 'item')} from source: ${f(c.itemsImported)} imported, ${f(c.itemsPartial)} partially imported, ${f(c.failed)} failed${acknowledged}, ${f(c.notImported)} not imported (no participant maps to a mailbox);`,
    `${n(c.afterFanOut, 'delivery', 'deliveries')} after fan-out: ${f(c.imported)} imported by this run, ${f(c.partiallyImported)} partially imported by this run, ${f(c.alreadyArchived)} already archived, ${f(c.deliveriesFailed)} failed;`,
    `${n(c.unmapped, 'unmapped participant')}${unmappedKinds(c)}${c.itemsHeld ? `; ${n(c.itemsHeld, 'item')} held for an unmapped number` : ''}.`,
  ].join(' ');
}

/** What a replay of held items did, in one line: "35 held: 35 already archived, 0 new". */
export function summarizeReplay(run: Pick<RunRecord, 'counts'>): string {
  const c = run.counts;
  const archivedNow = c.itemsImported + c.itemsPartial - c.itemsAlreadyArchived;
  const rest = [c.failed && `${f(c.failed)} failed`, c.notImported && `${f(c.notImported)} still not imported`].filter(Boolean);
  return `${f(c.availableFromSource)} held: ${f(c.itemsAlreadyArchived)} already archived, ${f(archivedNow)} new${rest.length ? `, ${rest.join(', ')}` : ''}`;
}
