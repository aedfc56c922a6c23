import type { TableClient } from '@azure/data-tables';
import type { UnmappedRow } from './deliveryLedger';
import { strongerKind, type UnmappedKind } from '../mapping/item/unmappedKind';
import { keySafe } from './tableNames';

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
  /** Who the number is: the archived line, an employee, or an outside party (only counted). */
  kind: UnmappedKind;
}

export const MAX_PENDING_IDS = 50;

interface DayCount {
  n: number;
  first: string;
  last: string;
  /** The day's strongest kind for the number (absent in rows written before kinds). */
  k?: UnmappedKind;
}

interface StoredNumber extends UnmappedNumber {
  /** The row key: numberKey(number). */
  key: string;
  days: Record<string, DayCount>;
  etag?: string;
}

/**
 * A number's row key: the ledger's encoding of it and a "|", so that stored numbers sort as the
 * ledger's `unm|<number>|<item>` rows do (a number that is a prefix of another sorts after it).
 */
export function numberKey(number: string): string {
  return `${keySafe(number)}|`;
}

/** One number's unmapped rows of one day, folded. */
interface FreshNumber {
  key: string;
  number: string;
  days: Map<string, DayCount>;
  recent: UnmappedRow[];
  last: UnmappedRow;
}

/**
 * Unmapped numbers per connector, derived from the ledger: for each archive day a run touched,
 * the day's count per number is recomputed from the unmapped rows kept with the items and set
 * (not added). A replay, a rerun or a run after a crash therefore converges on the same figures,
 * and nothing a killed run saw is lost.
 *
 * A day may hold a hundred thousand outside numbers, so nothing is gathered in memory: the
 * day's rows come grouped by number in key order, the stored numbers come in the same order
 * (their row key is the ledger's encoding of the number followed by "|"), and the two streams are
 * walked side by side, one number at a time.
 */
export class UnmappedStore {
  constructor(private readonly table: TableClient) {}

  /**
   * Sets each number's figures for `days` from that day's unmapped rows (all of them), which
   * must come in the ledger's key order: grouped by number, numbers in `numberKey` order.
   */
  async refreshDays(connectorId: string, days: readonly { day: string; rows: AsyncIterable<UnmappedRow> | Iterable<UnmappedRow> }[]): Promise<void> {
    for (const { day, rows } of days) {
      const refreshed = new Set([day]);
      const fresh = foldByNumber(day, rows)[Symbol.asyncIterator]();
      const stored = this.stored(connectorId)[Symbol.asyncIterator]();
      let f = await fresh.next();
      let s = await stored.next();
      while (!f.done || !s.done) {
        const storedFirst = !s.done && (f.done || s.value.key < f.value.key);
        const freshFirst = !f.done && (s.done || f.value.key < s.value.key);
        const current = freshFirst ? undefined : (s.value as StoredNumber);
        const folded = storedFirst ? undefined : (f.value as FreshNumber);
        // A stored number the day never saw is only touched when it counted that day.
        if (folded || day in current!.days) await this.update(connectorId, folded?.number ?? current!.number, current, folded, refreshed);
        if (!freshFirst) s = await stored.next();
        if (!storedFirst) f = await fresh.next();
      }
    }
  }

  private async update(connectorId: string, number: string, current: StoredNumber | undefined, fresh: FreshNumber | undefined, refreshed: Set<string>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.write(connectorId, current, merge(number, current, fresh, refreshed));
        return;
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if ((status !== 412 && status !== 409 && status !== 404) || attempt >= 5) throw err;
        current = await this.read(connectorId, number);
      }
    }
  }

  async list(connectorId: string): Promise<UnmappedNumber[]> {
    const all: UnmappedNumber[] = [];
    for await (const { days: _d, etag: _e, key: _k, ...u } of this.stored(connectorId)) all.push(u);
    return all.sort((a, b) => b.lastSeen.getTime() - a.lastSeen.getTime());
  }

  /**
   * The archive days (YYYY-MM-DD) on which `number` has items held: where the ledger keeps them.
   * Days folded into "earlier" are given back as every day from its first to its last.
   */
  async heldDays(connectorId: string, number: string): Promise<string[]> {
    const stored = await this.read(connectorId, number);
    if (!stored) return [];
    const days = new Set(Object.keys(stored.days).filter((d) => d !== EARLIER));
    const earlier = stored.days[EARLIER];
    if (earlier) {
      for (let d = new Date(earlier.first.slice(0, 10)); d.toISOString() <= earlier.last; d.setUTCDate(d.getUTCDate() + 1)) days.add(d.toISOString().slice(0, 10));
    }
    return [...days].sort();
  }

  /** Forgets a number, once it is mapped and its items are replayed. */
  async remove(connectorId: string, number: string): Promise<void> {
    await this.table.deleteEntity(connectorId, numberKey(number)).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }

  /** The connector's numbers in row-key order, read page by page. */
  private async *stored(connectorId: string): AsyncIterable<StoredNumber> {
    for await (const e of this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${connectorId.replace(/'/g, "''")}'` } })) yield fromEntity(e);
  }

  private async read(connectorId: string, number: string): Promise<StoredNumber | undefined> {
    try {
      return fromEntity(await this.table.getEntity(connectorId, numberKey(number)));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  private async write(connectorId: string, current: StoredNumber | undefined, next: StoredNumber | undefined): Promise<void> {
    if (!next) {
      if (current?.etag) await this.table.deleteEntity(connectorId, current.key, { etag: current.etag });
      return;
    }
    if (current && sameFigures(current, next)) return;
    const entity = toEntity(connectorId, next);
    if (current?.etag) await this.table.updateEntity(entity, 'Replace', { etag: current.etag });
    else await this.table.createEntity(entity);
  }
}

function merge(number: string, current: StoredNumber | undefined, fresh: FreshNumber | undefined, refreshed: Set<string>): StoredNumber | undefined {
  const days: Record<string, DayCount> = {};
  for (const [d, c] of Object.entries(current?.days ?? {})) if (!refreshed.has(d)) days[d] = c;
  for (const [d, c] of fresh?.days ?? []) days[d] = c;
  foldOldDays(days);
  const counts = Object.values(days);
  if (counts.length === 0) return undefined;
  const kind = counts.reduce<UnmappedKind | undefined>((k, c) => strongerKind(k, c.k), undefined) ?? current?.kind ?? 'outsideParty';
  const freshIds = fresh ? latest(fresh.recent, MAX_PENDING_IDS).map((r) => r.itemId) : [];
  const keep = (current?.pendingItemIds ?? []).filter((id) => !freshIds.includes(id));
  const last = fresh?.last;
  return {
    key: numberKey(number),
    number,
    days,
    itemCount: counts.reduce((n, c) => n + c.n, 0),
    firstSeen: new Date(counts.reduce((m, c) => (c.first < m ? c.first : m), counts[0].first)),
    lastSeen: new Date(counts.reduce((m, c) => (c.last > m ? c.last : m), counts[0].last)),
    pendingItemIds: [...keep, ...freshIds].slice(-MAX_PENDING_IDS),
    lastName: last?.name ?? current?.lastName,
    lastEmail: last?.email ?? current?.lastEmail,
    reason: last?.reason ?? current?.reason ?? '',
    kind,
  };
}

/** Keeps a row within Table Storage's property size: days past the last MAX_DAYS fold into one. */
const MAX_DAYS = 400;
const EARLIER = 'earlier';
function foldOldDays(days: Record<string, DayCount>): void {
  const dated = Object.keys(days)
    .filter((d) => d !== EARLIER)
    .sort();
  for (const d of dated.slice(0, Math.max(0, dated.length - MAX_DAYS))) {
    const e = days[EARLIER];
    const c = days[d];
    days[EARLIER] = e ? { n: e.n + c.n, first: e.first < c.first ? e.first : c.first, last: e.last > c.last ? e.last : c.last, k: strongerKind(e.k, c.k) } : c;
    delete days[d];
  }
}

function latest(rows: UnmappedRow[], n: number): UnmappedRow[] {
  return [...rows].sort((a, b) => a.at.getTime() - b.at.getTime()).slice(-n);
}

function sameFigures(a: StoredNumber, b: StoredNumber): boolean {
  return JSON.stringify(a.days) === JSON.stringify(b.days) && a.kind === b.kind && a.reason === b.reason && a.lastName === b.lastName && a.lastEmail === b.lastEmail;
}

function toEntity(connectorId: string, u: StoredNumber) {
  return {
    partitionKey: connectorId,
    rowKey: u.key,
    number: u.number,
    itemCount: u.itemCount,
    firstSeen: u.firstSeen.toISOString(),
    lastSeen: u.lastSeen.toISOString(),
    days: JSON.stringify(u.days),
    pendingItemIds: JSON.stringify(u.pendingItemIds),
    lastName: u.lastName,
    lastEmail: u.lastEmail,
    reason: u.reason,
    kind: u.kind,
  };
}

function fromEntity(e: Record<string, unknown>): StoredNumber {
  return {
    key: String(e.rowKey),
    number: String(e.number ?? e.rowKey),
    itemCount: Number(e.itemCount),
    firstSeen: new Date(String(e.firstSeen)),
    lastSeen: new Date(String(e.lastSeen)),
    days: JSON.parse(String(e.days ?? '{}')) as Record<string, DayCount>,
    pendingItemIds: JSON.parse(String(e.pendingItemIds ?? '[]')) as string[],
    lastName: e.lastName as string | undefined,
    lastEmail: e.lastEmail as string | undefined,
    reason: String(e.reason ?? ''),
    kind: (e.kind as UnmappedKind | undefined) ?? 'outsideParty',
    etag: e.etag as string | undefined,
  };
}

/** Folds a day's unmapped rows, which come grouped by number, into one entry per number. */
async function* foldByNumber(day: string, rows: AsyncIterable<UnmappedRow> | Iterable<UnmappedRow>): AsyncIterable<FreshNumber> {
  let agg: FreshNumber | undefined;
  for await (const r of rows) {
    if (agg && agg.number !== r.number) {
      yield agg;
      agg = undefined;
    }
    const at = r.at.toISOString();
    if (!agg) {
      agg = { key: numberKey(r.number), number: r.number, days: new Map([[day, { n: 0, first: at, last: at }]]), recent: [], last: r };
    }
    const d = agg.days.get(day)!;
    d.n++;
    d.k = strongerKind(d.k, r.kind);
    if (at < d.first) d.first = at;
    if (at > d.last) d.last = at;
    if (r.at >= agg.last.at) agg.last = { ...r, name: r.name ?? agg.last.name, email: r.email ?? agg.last.email };
    agg.recent.push(r);
    if (agg.recent.length > MAX_PENDING_IDS * 2) agg.recent = latest(agg.recent, MAX_PENDING_IDS);
  }
  if (agg) yield agg;
}
