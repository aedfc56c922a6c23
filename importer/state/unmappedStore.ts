import type { TableClient } from '@azure/data-tables';
import type { UnmappedRow } from './deliveryLedger';

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

export const MAX_PENDING_IDS = 50;

interface DayCount {
  n: number;
  first: string;
  last: string;
}

interface StoredNumber extends UnmappedNumber {
  days: Record<string, DayCount>;
  etag?: string;
}

/**
 * Unmapped numbers per connector, derived from the ledger: for each archive day a run touched,
 * the day's count per number is recomputed from the unmapped rows kept with the items and set
 * (not added). A replay, a rerun or a run after a crash therefore converges on the same figures,
 * and nothing a killed run saw is lost.
 */
export class UnmappedStore {
  constructor(private readonly table: TableClient) {}

  /** Sets each number's figures for `days` from that day's unmapped rows (all of them). */
  async refreshDays(connectorId: string, days: readonly { day: string; rows: AsyncIterable<UnmappedRow> | Iterable<UnmappedRow> }[]): Promise<void> {
    const fresh = new Map<string, { days: Map<string, DayCount>; recent: UnmappedRow[]; last: UnmappedRow }>();
    for (const { day, rows } of days) {
      for await (const r of rows) {
        let agg = fresh.get(r.number);
        if (!agg) fresh.set(r.number, (agg = { days: new Map(), recent: [], last: r }));
        const at = r.at.toISOString();
        const d = agg.days.get(day);
        if (!d) agg.days.set(day, { n: 1, first: at, last: at });
        else {
          d.n++;
          if (at < d.first) d.first = at;
          if (at > d.last) d.last = at;
        }
        if (r.at >= agg.last.at) agg.last = { ...r, name: r.name ?? agg.last.name, email: r.email ?? agg.last.email };
        agg.recent.push(r);
        if (agg.recent.length > MAX_PENDING_IDS * 2) agg.recent = latest(agg.recent, MAX_PENDING_IDS);
      }
    }
    const refreshed = new Set(days.map((d) => d.day));
    const stored = new Map((await this.stored(connectorId)).map((s) => [s.number, s]));
    const numbers = new Set([...fresh.keys(), ...[...stored.values()].filter((s) => Object.keys(s.days).some((d) => refreshed.has(d))).map((s) => s.number)]);
    for (const number of numbers) {
      let current = stored.get(number);
      for (let attempt = 0; ; attempt++) {
        const next = merge(number, current, fresh.get(number), refreshed);
        try {
          await this.write(connectorId, current, next);
          break;
        } catch (err) {
          const status = (err as { statusCode?: number }).statusCode;
          if ((status !== 412 && status !== 409 && status !== 404) || attempt >= 5) throw err;
          current = await this.read(connectorId, number);
        }
      }
    }
  }

  async list(connectorId: string): Promise<UnmappedNumber[]> {
    const all = await this.stored(connectorId);
    return all.map(({ days: _d, etag: _e, ...u }) => u).sort((a, b) => b.lastSeen.getTime() - a.lastSeen.getTime());
  }

  /** Forgets a number, once it is mapped and its items are replayed. */
  async remove(connectorId: string, number: string): Promise<void> {
    await this.table.deleteEntity(connectorId, number).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }

  private async stored(connectorId: string): Promise<StoredNumber[]> {
    const out: StoredNumber[] = [];
    for await (const e of this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${connectorId.replace(/'/g, "''")}'` } })) out.push(fromEntity(e));
    return out;
  }

  private async read(connectorId: string, number: string): Promise<StoredNumber | undefined> {
    try {
      return fromEntity(await this.table.getEntity(connectorId, number));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  private async write(connectorId: string, current: StoredNumber | undefined, next: StoredNumber | undefined): Promise<void> {
    if (!next) {
      if (current?.etag) await this.table.deleteEntity(connectorId, current.number, { etag: current.etag });
      return;
    }
    if (current && sameFigures(current, next)) return;
    const entity = toEntity(connectorId, next);
    if (current?.etag) await this.table.updateEntity(entity, 'Replace', { etag: current.etag });
    else await this.table.createEntity(entity);
  }
}

function merge(number: string, current: StoredNumber | undefined, fresh: { days: Map<string, DayCount>; recent: UnmappedRow[]; last: UnmappedRow } | undefined, refreshed: Set<string>): StoredNumber | undefined {
  const days: Record<string, DayCount> = {};
  for (const [d, c] of Object.entries(current?.days ?? {})) if (!refreshed.has(d)) days[d] = c;
  for (const [d, c] of fresh?.days ?? []) days[d] = c;
  foldOldDays(days);
  const counts = Object.values(days);
  if (counts.length === 0) return undefined;
  const freshIds = fresh ? latest(fresh.recent, MAX_PENDING_IDS).map((r) => r.itemId) : [];
  const keep = (current?.pendingItemIds ?? []).filter((id) => !freshIds.includes(id));
  const last = fresh?.last;
  return {
    number,
    days,
    itemCount: counts.reduce((n, c) => n + c.n, 0),
    firstSeen: new Date(counts.reduce((m, c) => (c.first < m ? c.first : m), counts[0].first)),
    lastSeen: new Date(counts.reduce((m, c) => (c.last > m ? c.last : m), counts[0].last)),
    pendingItemIds: [...keep, ...freshIds].slice(-MAX_PENDING_IDS),
    lastName: last?.name ?? current?.lastName,
    lastEmail: last?.email ?? current?.lastEmail,
    reason: last?.reason ?? current?.reason ?? '',
  };
}

/** Keeps a row within Table Storage's property size: days past the last MAX_DAYS fold into one. */
const MAX_DAYS = 400;
const EARLIER = 'earlier';
function foldOldDays(days: Record<string, DayCount>): void {
  const dated = Object.keys(days).filter((d) => d !== EARLIER).sort();
  for (const d of dated.slice(0, Math.max(0, dated.length - MAX_DAYS))) {
    const e = days[EARLIER];
    const c = days[d];
    days[EARLIER] = e ? { n: e.n + c.n, first: e.first < c.first ? e.first : c.first, last: e.last > c.last ? e.last : c.last } : c;
    delete days[d];
  }
}

function latest(rows: UnmappedRow[], n: number): UnmappedRow[] {
  return [...rows].sort((a, b) => a.at.getTime() - b.at.getTime()).slice(-n);
}

function sameFigures(a: StoredNumber, b: StoredNumber): boolean {
  return JSON.stringify(a.days) === JSON.stringify(b.days) && a.reason === b.reason && a.lastName === b.lastName && a.lastEmail === b.lastEmail;
}

function toEntity(connectorId: string, u: StoredNumber) {
  return {
    partitionKey: connectorId,
    rowKey: u.number,
    itemCount: u.itemCount,
    firstSeen: u.firstSeen.toISOString(),
    lastSeen: u.lastSeen.toISOString(),
    days: JSON.stringify(u.days),
    pendingItemIds: JSON.stringify(u.pendingItemIds),
    lastName: u.lastName,
    lastEmail: u.lastEmail,
    reason: u.reason,
  };
}

function fromEntity(e: Record<string, unknown>): StoredNumber {
  return {
    number: String(e.rowKey),
    itemCount: Number(e.itemCount),
    firstSeen: new Date(String(e.firstSeen)),
    lastSeen: new Date(String(e.lastSeen)),
    days: JSON.parse(String(e.days ?? '{}')) as Record<string, DayCount>,
    pendingItemIds: JSON.parse(String(e.pendingItemIds ?? '[]')) as string[],
    lastName: e.lastName as string | undefined,
    lastEmail: e.lastEmail as string | undefined,
    reason: String(e.reason ?? ''),
    etag: e.etag as string | undefined,
  };
}
