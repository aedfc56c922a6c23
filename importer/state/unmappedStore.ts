import type { TableClient } from '@azure/data-tables';

/** A mobile number that could not be mapped to a mailbox, as the admin sees it. */
export interface UnmappedNumber {
  number: string;
  itemCount: number;
  firstSeen: Date;
  lastSeen: Date;
  /** The most recent item ids (at most MAX_PENDING_IDS), so an admin can find them. */
  pendingItemIds: string[];
  lastName?: string;
  lastEmail?: string;
  reason: string;
}

export interface UnmappedSighting {
  number: string;
  itemId: string;
  at: Date;
  name?: string;
  email?: string;
  reason: string;
}

export const MAX_PENDING_IDS = 50;

/**
 * A run's unmapped sightings, aggregated per number in memory: bounded by the number of distinct
 * numbers, not by the day's volume.
 */
export class UnmappedTally {
  private readonly byNumber = new Map<string, { count: number; first: UnmappedSighting; last: UnmappedSighting; recent: UnmappedSighting[] }>();

  add(s: UnmappedSighting): void {
    const t = this.byNumber.get(s.number);
    if (!t) {
      this.byNumber.set(s.number, { count: 1, first: s, last: s, recent: [s] });
      return;
    }
    t.count++;
    if (s.at < t.first.at) t.first = s;
    if (s.at >= t.last.at) t.last = { ...s, name: s.name ?? t.last.name, email: s.email ?? t.last.email };
    t.recent.push(s);
    if (t.recent.length > MAX_PENDING_IDS) t.recent.shift();
  }

  get size(): number {
    return this.byNumber.size;
  }

  entries(): { number: string; count: number; first: UnmappedSighting; last: UnmappedSighting; recent: UnmappedSighting[] }[] {
    return [...this.byNumber].map(([number, t]) => ({ number, ...t }));
  }
}

/**
 * Unmapped numbers per connector. A run gathers sightings in memory and merges them once per
 * number with an ETag-checked read-modify-write, retried when another writer got there first.
 */
export class UnmappedStore {
  constructor(private readonly table: TableClient) {}

  async record(connectorId: string, sightings: readonly UnmappedSighting[] | UnmappedTally): Promise<void> {
    let tally = sightings;
    if (!(tally instanceof UnmappedTally)) {
      tally = new UnmappedTally();
      for (const s of sightings as readonly UnmappedSighting[]) tally.add(s);
    }
    for (const t of tally.entries()) await this.merge(connectorId, t.number, t);
  }

  async list(connectorId: string): Promise<UnmappedNumber[]> {
    const out: UnmappedNumber[] = [];
    for await (const e of this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${connectorId.replace(/'/g, "''")}'` } })) out.push(fromEntity(e));
    return out.sort((a, b) => b.lastSeen.getTime() - a.lastSeen.getTime());
  }

  /** Forgets a number, once it is mapped and its items are replayed. */
  async remove(connectorId: string, number: string): Promise<void> {
    await this.table.deleteEntity(connectorId, number).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }

  private async merge(connectorId: string, number: string, t: { count: number; first: UnmappedSighting; last: UnmappedSighting; recent: UnmappedSighting[] }): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let current: (UnmappedNumber & { etag?: string }) | undefined;
      try {
        const e = await this.table.getEntity(connectorId, number);
        current = { ...fromEntity(e), etag: e.etag };
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
      const sorted = [...t.recent].sort((a, b) => a.at.getTime() - b.at.getTime());
      const last = t.last;
      // A replayed item is not counted twice (as far as the kept ids reach back).
      const known = new Set(current?.pendingItemIds ?? []);
      const repeated = new Set(sorted.map((s) => s.itemId).filter((id) => known.has(id))).size;
      const distinctRecent = new Set(sorted.map((s) => s.itemId)).size;
      const ids = [...(current?.pendingItemIds ?? []), ...sorted.map((s) => s.itemId)];
      const next: UnmappedNumber = {
        number,
        itemCount: (current?.itemCount ?? 0) + t.count - (sorted.length - distinctRecent) - repeated,
        firstSeen: new Date(Math.min(current?.firstSeen.getTime() ?? Infinity, t.first.at.getTime())),
        lastSeen: new Date(Math.max(current?.lastSeen.getTime() ?? 0, last.at.getTime())),
        pendingItemIds: [...new Set(ids)].slice(-MAX_PENDING_IDS),
        lastName: last.name ?? current?.lastName,
        lastEmail: last.email ?? current?.lastEmail,
        reason: last.reason,
      };
      try {
        if (current?.etag) await this.table.updateEntity(toEntity(connectorId, next), 'Replace', { etag: current.etag });
        else await this.table.createEntity(toEntity(connectorId, next));
        return;
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if ((status === 412 || status === 409) && attempt < 5) continue;
        throw err;
      }
    }
  }
}

function toEntity(connectorId: string, u: UnmappedNumber) {
  return {
    partitionKey: connectorId,
    rowKey: u.number,
    itemCount: u.itemCount,
    firstSeen: u.firstSeen.toISOString(),
    lastSeen: u.lastSeen.toISOString(),
    pendingItemIds: JSON.stringify(u.pendingItemIds),
    lastName: u.lastName,
    lastEmail: u.lastEmail,
    reason: u.reason,
  };
}

function fromEntity(e: Record<string, unknown>): UnmappedNumber {
  return {
    number: String(e.rowKey),
    itemCount: Number(e.itemCount),
    firstSeen: new Date(String(e.firstSeen)),
    lastSeen: new Date(String(e.lastSeen)),
    pendingItemIds: JSON.parse(String(e.pendingItemIds ?? '[]')) as string[],
    lastName: e.lastName as string | undefined,
    lastEmail: e.lastEmail as string | undefined,
    reason: String(e.reason ?? ''),
  };
}
