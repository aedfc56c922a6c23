// A capture email may be an Exchange journal report: the collector stages the original it carries.
// The unwrap itself is the parser's (importer/parse/journalReport.ts); this names what the
// collector relies on, so a stand-in can be given in its options.
export { unwrapJournalReport } from '../parse/journalReport';
export type { UnwrappedMessage as UnwrappedCapture } from '../parse/journalReport';
