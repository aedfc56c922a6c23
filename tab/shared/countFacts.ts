// A run's figures as an admin reads them, in the words of docs/counts.md: the bot's card and the
// tab's run detail take their labels and values from here, so the two read the same.

/** The figures these labels read (`RunCounts` of importer/model.ts, as the API sends them). */
export interface CountFigures {
  availableFromSource: number;
  itemsImported: number;
  itemsPartial: number;
  failed: number;
  failuresAcknowledged: number;
  notImported: number;
  afterFanOut: number;
  imported: number;
  partiallyImported: number;
  alreadyArchived: number;
  deliveriesFailed: number;
}

/** What a delivered source's collection took before the import (`CollectReport`). */
export interface CollectionFigures {
  collected: number;
  alreadyCollected: number;
  rejected: readonly unknown[];
}

export const count = (n: number) => n.toLocaleString('en-US');

/** Each figure's label and how its value reads; items first, then deliveries, never mixed in one label. */
export const COUNT_FACTS: readonly { label: string; value: (c: CountFigures) => string }[] = [
  { label: 'Items from source', value: (c) => count(c.availableFromSource) },
  // Imported whole or with an attachment kept outside: either way the item is archived.
  { label: 'Items imported', value: (c) => count(c.itemsImported + c.itemsPartial) },
  { label: 'Items failed', value: (c) => count(c.failed) + (c.failuresAcknowledged ? ` (${count(c.failuresAcknowledged)} acknowledged)` : '') },
  { label: 'Items not imported', value: (c) => count(c.notImported) },
  { label: 'Deliveries after fan-out', value: (c) => count(c.afterFanOut) },
  { label: 'Deliveries imported', value: (c) => count(c.imported) },
  { label: 'Deliveries partially imported', value: (c) => count(c.partiallyImported) },
  { label: 'Deliveries already archived', value: (c) => count(c.alreadyArchived) },
  { label: 'Deliveries failed', value: (c) => count(c.deliveriesFailed) },
];

/** The run's figures as label and value, in the order of COUNT_FACTS. */
export function countFacts(c: CountFigures): { label: string; value: string }[] {
  return COUNT_FACTS.map((f) => ({ label: f.label, value: f.value(c) }));
}

/** The value of the figure labelled `label` (a table column's cell). */
export function countFact(label: string, c: CountFigures): string {
  const fact = COUNT_FACTS.find((f) => f.label === label);
  if (!fact) throw new Error(`No figure is labelled "${label}".`);
  return fact.value(c);
}

/** The "Collected" line of a delivered source's run: "120 new, 3 already collected, 1 set aside". */
export function collectionText(k: CollectionFigures): string {
  return `${count(k.collected)} new, ${count(k.alreadyCollected)} already collected${k.rejected.length ? `, ${count(k.rejected.length)} set aside` : ''}`;
}

/**
 * A running run's items: "1,200 of 5,000 items (24%)" where the source gave a total (a delivered
 * source's inbox, held items), else "1,200 items so far". `npm start` and the tab say it alike.
 */
export function itemsProgress(done: number, total: number | undefined): string {
  if (total === undefined) return `${count(done)} items so far`;
  const percent = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
  return `${count(done)} of ${count(total)} items (${percent}%)`;
}
