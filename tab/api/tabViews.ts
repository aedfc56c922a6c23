// How the tab API answers with the importer's records: each with the words and the number format
// the bot uses too, computed here once, so the page shows them and words nothing its own way.
import { summarizeReplay, summarizeRun, type FailureLine, type FailureListing, type MappingChange, type RunRecord, type UnmappedNumber, type UnmappedReport } from '../../importer';
import { actorName, type Names } from '../shared/auditWords';
import { displayNumber } from '../../phone/phoneDisplay';

/**
 * A run as the tab shows it: the record, with the importer's own sentences for it (the one the
 * card and the CLI print, and for a replay of held items "35 held: 35 already archived, 0 new"),
 * so the page never words the counts its own way.
 */
export function runView(run: RunRecord): RunRecord & { summary: string; replaySummary?: string } {
  return { ...run, summary: summarizeRun(run), replaySummary: run.trigger === 'remap' ? summarizeReplay(run) : undefined };
}

/** A mapping change whose replay run carries its sentences, as the runs do. */
export function mappingChangeView(change: MappingChange) {
  return change.replay.status === 'done' ? { ...change, replay: { ...change.replay, run: runView(change.replay.run) } } : change;
}

/**
 * The numbers without a mailbox, each with `display`: the number as the bot's cards show it
 * (international format). Formatted here, so the dashboard loads no phone-number metadata.
 */
export function unmappedView(report: UnmappedReport<UnmappedNumber>) {
  const shown = (list: UnmappedNumber[]) => list.map((u) => ({ ...u, display: displayNumber(u.number) }));
  return { ...report, archivedLines: shown(report.archivedLines), employees: shown(report.employees) };
}

/** What is failing, with the name of whoever acknowledged each (`namesOf`: Graph's display names, where it answers). */
export async function failureListingView(listing: FailureListing, namesOf: (ids: Set<string>) => Promise<Names>, caller: { oid: string; name?: string }) {
  const names = { ...(await namesOf(new Set(listing.acknowledged.map((f) => f.acknowledgement!.by)))) };
  if (caller.name) names[caller.oid.toLowerCase()] ??= caller.name;
  const named = (f: FailureLine) => (f.acknowledgement ? { ...f, acknowledgement: { ...f.acknowledgement, name: actorName(f.acknowledgement.by, names) } } : f);
  return { ...listing, outstanding: listing.outstanding.map(named), acknowledged: listing.acknowledged.map(named) };
}
