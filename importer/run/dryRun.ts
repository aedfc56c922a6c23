import { ImporterError } from '../errors';
import type { ItemKind, TimeWindow } from '../model';
import { fanOut, type MappingRules } from '../mapping/item/participantMapper';
import { parseRawItem } from '../parse/itemParser';
import type { ArchiveSource } from '../source/archiveSource';

export interface DryRunReport {
  window: TimeWindow;
  items: number;
  byKind: Partial<Record<ItemKind, number>>;
  malformed: number;
  deliveries: number;
  mailboxes: number;
  unmappedParticipants: number;
  notImported: number;
}

/**
 * What a run of the window would do, changing nothing: lists and reads the items and maps their
 * participants (reading the directory), but stages nothing and writes to no mailbox or table.
 */
export async function dryRun(args: { window: TimeWindow; source: ArchiveSource; rules: MappingRules; abortSignal?: AbortSignal }): Promise<DryRunReport> {
  const report: DryRunReport = { window: args.window, items: 0, byKind: {}, malformed: 0, deliveries: 0, mailboxes: 0, unmappedParticipants: 0, notImported: 0 };
  const mailboxes = new Set<string>();
  for await (const ref of args.source.list(args.window, { abortSignal: args.abortSignal })) {
    report.items++;
    const body = await args.source.download(ref, { abortSignal: args.abortSignal });
    try {
      const item = await parseRawItem(body, { sha256: '', size: ref.sizeBytes, ref });
      report.byKind[item.kind] = (report.byKind[item.kind] ?? 0) + 1;
      const { recipients, unmapped } = await fanOut(item, args.rules);
      report.deliveries += recipients.length;
      report.unmappedParticipants += unmapped.length;
      if (recipients.length === 0) report.notImported++;
      for (const r of recipients) mailboxes.add(r.mailbox);
    } catch (err) {
      if (!(err instanceof ImporterError && err.code === 'MalformedItem')) throw err;
      report.malformed++;
    } finally {
      body.destroy();
    }
  }
  report.mailboxes = mailboxes.size;
  return report;
}
