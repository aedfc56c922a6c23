import type { ArchiveSource } from '../source/archiveSource';
import type { MailboxSink } from '../sink/mailboxSink';
import type { RunRecord } from '../state/runsStore';
import type { ImporterStores } from './importerStores';
import type { RunCounts } from '../model';
import { brokenIdentities, countRun, ledgerItems } from './runCounts';

export interface VerifyFinding {
  itemId: string;
  mailbox?: string;
  detail: string;
}

export interface VerifyReport {
  runId: string;
  window: { from: Date; to: Date };
  itemsListed: number;
  deliveriesChecked: number;
  rawCopiesChecked: number;
  /** Listed at the source but never processed, or recorded as imported yet absent from the mailbox. */
  missing: VerifyFinding[];
  /** More than one message with the same archive key in a mailbox. */
  duplicated: VerifyFinding[];
  /** A raw copy whose bytes no longer hash to its name. */
  altered: VerifyFinding[];
  /** Deliveries not final yet (a later run or a rerun completes them). */
  pending: number;
  /** The run's counts as the ledger holds them now, by the one definition (docs/counts.md). */
  counts: RunCounts;
  /** Verified: deliveries found exactly once in their mailbox; all archived ones (imported + partial + already archived) when ok. */
  verified: number;
  /** Identities of docs/counts.md the counts break (none, unless the ledger is damaged). */
  brokenIdentities: string[];
  ok: boolean;
}

const MAX_FINDINGS = 1000;

/** The verification's one line, as a run record keeps it. */
export function verificationText(report: VerifyReport): string {
  return report.ok
    ? `verified: ${report.verified} deliveries and ${report.rawCopiesChecked} raw copies, all present once and unaltered`
    : `verification found ${report.missing.length} missing, ${report.duplicated.length} duplicated, ${report.altered.length} altered${report.brokenIdentities.length ? `; counts break: ${report.brokenIdentities.join('; ')}` : ''}`;
}

/**
 * Checks a run's window end to end: lists the source again, and checks every delivery the ledger
 * calls done against the mailbox (by archive key: exactly one copy) and every raw copy against
 * its SHA-256.
 */
export async function verifyRun(args: { run: RunRecord; stores: ImporterStores; source: ArchiveSource; sink: MailboxSink; abortSignal?: AbortSignal }): Promise<VerifyReport> {
  const { run, stores, source, sink, abortSignal } = args;
  const counts = await countRun(ledgerItems(stores, { connectorId: run.connectorId, window: run.window, itemIds: run.itemIds }), run.runId);
  const report: VerifyReport = {
    runId: run.runId,
    window: run.window,
    itemsListed: 0,
    deliveriesChecked: 0,
    rawCopiesChecked: 0,
    missing: [],
    duplicated: [],
    altered: [],
    pending: 0,
    counts,
    verified: 0,
    brokenIdentities: brokenIdentities(counts),
    ok: false,
  };
  // A replay of held items covers those items only, wherever the source lists them.
  const only = run.itemIds && new Set(run.itemIds);
  const add = (list: VerifyFinding[], f: VerifyFinding) => list.length < MAX_FINDINGS && list.push(f);
  const folders = new Map<string, Promise<{ userId: string; folderId?: string } | undefined>>();
  const folderOf = (mailbox: string) => {
    let f = folders.get(mailbox);
    if (!f) {
      f = (async () => {
        const user = await sink.findUser(mailbox, abortSignal);
        return user && { userId: user.id, folderId: await sink.findFolder(user.id, abortSignal) };
      })();
      folders.set(mailbox, f);
    }
    return f;
  };

  for await (const ref of source.list(run.window, { abortSignal })) {
    if (only && !only.has(ref.id)) continue;
    report.itemsListed++;
    const { item, deliveries } = await stores.ledger.getItem(run.connectorId, ref.id, ref.archivedAt);
    if (!item) {
      add(report.missing, { itemId: ref.id, detail: 'listed by the source but never processed' });
      continue;
    }
    if (item.rawSha256) {
      report.rawCopiesChecked++;
      const actual = await stores.raw.hashOf(item.rawSha256, { abortSignal });
      if (actual === undefined) add(report.missing, { itemId: ref.id, detail: `raw copy ${item.rawSha256} is missing` });
      else if (actual !== item.rawSha256) add(report.altered, { itemId: ref.id, detail: `raw copy ${item.rawSha256} now hashes to ${actual}` });
    }
    await Promise.all(
      deliveries.map(async (d) => {
        if (d.status !== 'imported' && d.status !== 'partial' && d.status !== 'duplicate') {
          if (d.status === 'pending' || (d.status === 'failed' && !d.permanent)) report.pending++;
          return;
        }
        report.deliveriesChecked++;
        const folder = await folderOf(d.mailbox);
        if (!folder?.folderId) {
          add(report.missing, { itemId: d.itemId, mailbox: d.mailbox, detail: folder ? 'the archive folder is gone' : 'the mailbox is no longer a Microsoft 365 user' });
          return;
        }
        const copies = await sink.messagesWithKey(folder.userId, folder.folderId, d.archiveKey, abortSignal);
        if (copies.length === 0) add(report.missing, { itemId: d.itemId, mailbox: d.mailbox, detail: 'recorded as archived, not found in the mailbox' });
        else if (copies.length > 1) add(report.duplicated, { itemId: d.itemId, mailbox: d.mailbox, detail: `${copies.length} copies` });
        else report.verified++;
      }),
    );
  }
  report.ok = report.missing.length === 0 && report.duplicated.length === 0 && report.altered.length === 0 && report.brokenIdentities.length === 0;
  return report;
}
