import { randomBytes } from 'node:crypto';

export type TokenCheck = 'ok' | 'unknown' | 'expired' | 'used-up';

/** Opaque bearer tokens with a lifetime on the emulator's clock and a count of requests served. */
export class TokenStore {
  private readonly tokens = new Map<string, { expiresAtMs: number; uses: number }>();

  issue(now: Date, lifetimeSeconds: number): string {
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, { expiresAtMs: now.getTime() + lifetimeSeconds * 1000, uses: 0 });
    return token;
  }

  /** Counts one request against the token; `maxUses` 0 means no limit. A failed token is gone for good. */
  use(token: string, now: Date, maxUses: number): TokenCheck {
    const entry = this.tokens.get(token);
    if (!entry) return 'unknown';
    if (now.getTime() >= entry.expiresAtMs) {
      this.tokens.delete(token);
      return 'expired';
    }
    entry.uses += 1;
    if (maxUses > 0 && entry.uses > maxUses) {
      this.tokens.delete(token);
      return 'used-up';
    }
    return 'ok';
  }

  clear(): void {
    this.tokens.clear();
  }
}
