import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Deterministic pseudo-random bytes for a (seed, size): as a stream, without holding them. */
export function patternStream(seed: string, size: number): Readable {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zero = Buffer.alloc(64 * 1024);
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(left, zero.length);
      left -= n;
      this.push(cipher.update(zero.subarray(0, n)));
    },
  });
}

export async function patternBuffer(seed: string, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of patternStream(seed, size)) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

export async function patternSha256(seed: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const p of patternStream(seed, size)) hash.update(p as Buffer);
  return hash.digest('hex');
}
