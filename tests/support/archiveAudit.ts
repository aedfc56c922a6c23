// What the mailboxes should hold for a window, worked out from the TeleMessage emulator's own
// generator and the population, never from the product's ledger, and what they actually hold.
import { createHash } from 'node:crypto';
import { mediaChunks } from '../../emulators/telemessage/mediaBytes';
import type { MessageSnapshot } from '../../emulators/graph/inspection';
import type { ExpectedItem } from '../../emulators/telemessage/server';
import { archiveKeyOf, ARCHIVE_KEY_PROPERTY } from '../../importer/sink/messageProperties';
import { expectedMailboxes, type Harness } from './importerHarness';

const KEY = ARCHIVE_KEY_PROPERTY.toLowerCase();
const FOLDER = 'Enterprise Number Archiver';

export interface KeptOutside {
  itemId: string;
  mailbox: string;
  name: string;
  size: number;
}

export interface ArchiveAudit {
  /** Well-formed items listed in the window. */
  items: number;
  /** Expected (item, mailbox) pairs. */
  deliveries: number;
  /** Attachments checked by name, size and SHA-256. */
  attachments: number;
  /** Attachments the message replaces by a note (name, size, SHA-256 of what stays in Blob). */
  keptOutside: KeptOutside[];
  /** Every way the mailboxes differ from "each expected pair exactly once, complete". */
  problems: string[];
}

/**
 * Checks every mailbox of the harness against the window: each expected (item, mailbox) exactly
 * once, non-draft, in the archive folder, with every attachment (name, size, SHA-256) or a note
 * standing for it; nothing else anywhere.
 */
export function auditArchive(h: Harness, window: { from: string; to: string }, seed: string, options: { except?: readonly string[] } = {}): ArchiveAudit {
  const expected = h.telemessage.listExpected(window.from, window.to).filter((e) => !e.malformation);
  const byKey = new Map<string, MessageSnapshot[]>();
  for (const summary of h.graph.mailboxes()) {
    // A mailbox that is nobody's archive (the capture mailbox TeleMessage sends to) is not audited.
    if (options.except?.includes(summary.userPrincipalName)) continue;
    for (const m of h.graph.mailbox(summary.userPrincipalName).messages) {
      const key = `${summary.userPrincipalName.toLowerCase()} ${m.extendedProperties.find((p) => p.id.toLowerCase() === KEY)?.value ?? `no archive key, message ${m.id}`}`;
      byKey.set(key, [...(byKey.get(key) ?? []), m]);
    }
  }

  const audit: ArchiveAudit = { items: expected.length, deliveries: 0, attachments: 0, keptOutside: [], problems: [] };
  for (const item of expected) {
    for (const mailbox of expectedMailboxes(h, item)) {
      audit.deliveries++;
      const key = `${mailbox} ${archiveKeyOf(item.id, mailbox)}`;
      const copies = byKey.get(key) ?? [];
      byKey.delete(key);
      if (copies.length !== 1) {
        audit.problems.push(`${item.id} in ${mailbox}: ${copies.length} copies`);
        continue;
      }
      const [m] = copies;
      if (m.isDraft) audit.problems.push(`${item.id} in ${mailbox}: a draft`);
      if (!m.folderPath.includes(FOLDER)) audit.problems.push(`${item.id} in ${mailbox}: in ${m.folderPath}`);
      checkAttachments(audit, item, mailbox, m, seed);
    }
  }
  for (const [key, copies] of byKey) audit.problems.push(`unexpected: ${copies.length} message(s) ${key}`);
  return audit;
}

function checkAttachments(audit: ArchiveAudit, item: ExpectedItem, mailbox: string, m: MessageSnapshot, seed: string): void {
  const present = [...m.attachments];
  const take = (name: string) => present.filter((a) => a.name === name).map((a) => present.splice(present.indexOf(a), 1)[0]);
  // Attachment names may repeat within an item, so each name is compared as a group.
  const specs = new Map<string, { size: number; sha256: string }[]>();
  item.attachments.forEach((spec, n) => specs.set(spec.filename, [...(specs.get(spec.filename) ?? []), { size: spec.size, sha256: attachmentSha256(seed, item.id, n, spec) }]));
  for (const [name, wanted] of specs) {
    const copies = take(name);
    const notes = take(`${name} (not attached).txt`);
    if (copies.length === 0 && notes.length === wanted.length) {
      for (const w of wanted) audit.keptOutside.push({ itemId: item.id, mailbox, name, size: w.size });
      continue;
    }
    if (copies.length !== wanted.length || notes.length !== 0) {
      audit.problems.push(`${item.id} in ${mailbox}: "${name}" attached ${copies.length} times (expected ${wanted.length}), with ${notes.length} notes`);
      continue;
    }
    audit.attachments += copies.length;
    const order = (list: { size: number; sha256: string }[]) => list.map((a) => `${a.size}:${a.sha256}`).sort();
    const got = order(copies);
    const want = order(wanted);
    if (got.join() !== want.join()) audit.problems.push(`${item.id} in ${mailbox}: "${name}" holds ${got.join(', ')}, expected ${want.join(', ')}`);
  }
  for (const a of present) audit.problems.push(`${item.id} in ${mailbox}: unexpected attachment "${a.name}"`);
}

const digests = new Map<string, string>();

/** The SHA-256 of the bytes the TeleMessage emulator generated for an attachment. */
function attachmentSha256(seed: string, itemId: string, n: number, spec: ExpectedItem['attachments'][number]): string {
  const key = `${seed}\u0000${itemId}\u0000${n}`;
  let digest = digests.get(key);
  if (!digest) {
    const hash = createHash('sha256');
    for (const chunk of mediaChunks(spec.format, spec.size, [seed, 'attachment', itemId, n])) hash.update(chunk);
    digest = hash.digest('hex');
    digests.set(key, digest);
  }
  return digest;
}
