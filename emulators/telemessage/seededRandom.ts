import { createHash } from 'node:crypto';

/** The parts a deterministic value is derived from, e.g. (seed, 'item', day, index). */
export type SeedParts = readonly (string | number)[];

/** Hex SHA-256 of the parts; NUL-joined so ('a', 'bc') and ('ab', 'c') differ. */
export function stableHash(parts: SeedParts): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

/**
 * A small deterministic PRNG (sfc32) keyed by SHA-256 of its seed parts, so every generated
 * value is a pure function of where it sits (seed, day, index, purpose) rather than of how
 * much was generated before it.
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(parts: SeedParts) {
    const digest = createHash('sha256').update(parts.join('\u0000')).digest();
    this.a = digest.readUInt32LE(0);
    this.b = digest.readUInt32LE(4);
    this.c = digest.readUInt32LE(8);
    this.d = digest.readUInt32LE(12);
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [min, maxExclusive). */
  int(min: number, maxExclusive: number): number {
    return min + Math.floor(this.next() * (maxExclusive - min));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(0, list.length)];
  }

  /** Picks a key with probability proportional to its weight (weights need not sum to 1). */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let point = this.next() * total;
    for (const [value, weight] of entries) {
      point -= weight;
      if (point < 0) return value;
    }
    return entries[entries.length - 1][0];
  }

  /** Log-normal around a median; real attachment and call sizes have this long right tail. */
  logNormal(median: number, sigma: number): number {
    const u1 = this.next() || Number.MIN_VALUE;
    const u2 = this.next();
    const gaussian = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return median * Math.exp(sigma * gaussian);
  }
}
