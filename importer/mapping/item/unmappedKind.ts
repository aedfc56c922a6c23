import type { ArchiveItem, Participant } from '../../model';

/**
 * Who an unmapped participant is. The archived line (the item's X-TELEMESSAGE-Subscriber) and an
 * employee (TeleMessage has an email for them in the tenant's domains) without a mailbox are an
 * admin's to fix: their items are held until the number is mapped. An outside party is never
 * mapped, by design, and is only counted.
 */
export type UnmappedKind = 'archivedLine' | 'employee' | 'outsideParty';

const RANK: Record<UnmappedKind, number> = { outsideParty: 0, employee: 1, archivedLine: 2 };

export function classifyUnmapped(participant: Participant, item: Pick<ArchiveItem, 'subscriber'>, tenantDomains: ReadonlySet<string>): UnmappedKind {
  if (participant.number && item.subscriber && participant.number === item.subscriber) return 'archivedLine';
  const domain = participant.email?.split('@')[1]?.toLowerCase();
  if (domain && tenantDomains.has(domain)) return 'employee';
  return 'outsideParty';
}

/** A number seen as both keeps the kind that needs the admin most. */
export function strongerKind(a: UnmappedKind | undefined, b: UnmappedKind | undefined): UnmappedKind | undefined {
  if (!a) return b;
  if (!b) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * The tenant's mail domains: the connector's own list when the admin set one, else the domains of
 * the mailboxes the custom mapping names (every one of them checked against Microsoft 365).
 */
export function tenantDomainsOf(configured: readonly string[] | undefined, mailboxes: Iterable<string>): Set<string> {
  if (configured?.length) return new Set(configured.map((d) => d.toLowerCase()));
  const domains = new Set<string>();
  for (const m of mailboxes) {
    const at = m.lastIndexOf('@');
    if (at > 0) domains.add(m.slice(at + 1).toLowerCase());
  }
  return domains;
}

/** The unmapped report by kind: what an admin must fix, and the outside parties only counted. */
export interface UnmappedReport<T> {
  archivedLines: T[];
  employees: T[];
  outsideParties: { numbers: number; items: number };
}

export function groupUnmapped<T extends { kind: UnmappedKind; itemCount: number }>(all: readonly T[]): UnmappedReport<T> {
  const report: UnmappedReport<T> = { archivedLines: [], employees: [], outsideParties: { numbers: 0, items: 0 } };
  for (const u of all) {
    if (u.kind === 'archivedLine') report.archivedLines.push(u);
    else if (u.kind === 'employee') report.employees.push(u);
    else {
      report.outsideParties.numbers++;
      report.outsideParties.items += u.itemCount;
    }
  }
  return report;
}
