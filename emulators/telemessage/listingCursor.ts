import type { Position } from './archiveCatalog';
import { isDay } from './traffic';

/**
 * The opaque `cursor` of the listing: the last position served, bound to the window it was
 * served for so it cannot be replayed against another window.
 */
export function encodeCursor(fromMs: number, toMs: number, last: Position): string {
  return Buffer.from(JSON.stringify({ v: 1, f: fromMs, t: toMs, d: last.day, i: last.index })).toString('base64url');
}

/** The position to continue after, or a message saying why the cursor cannot be used. */
export function decodeCursor(cursor: string, fromMs: number, toMs: number): Position | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return { error: 'cursor is not one this API issued' };
  }
  const c = parsed as { v?: unknown; f?: unknown; t?: unknown; d?: unknown; i?: unknown } | null;
  if (!c || c.v !== 1 || typeof c.d !== 'string' || !isDay(c.d) || !Number.isInteger(c.i) || (c.i as number) < 0) {
    return { error: 'cursor is not one this API issued' };
  }
  if (c.f !== fromMs || c.t !== toMs) return { error: 'cursor belongs to a different from/to window' };
  return { day: c.d, index: c.i as number };
}
