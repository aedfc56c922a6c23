import crypto from 'node:crypto';
import { GraphError } from './graphError';

/**
 * The opaque state tokens of a message delta query. `$skiptoken` carries a round in progress,
 * `$deltatoken` a finished one; both name the mailbox and folder they were issued for, are
 * signed (so a made-up or altered token is refused), and expire: after their lifetime, or at
 * once when a test expires every token issued so far, as Outlook's token cache drops old ones.
 */
export type ChangeType = 'created' | 'updated' | 'deleted';

export interface DeltaState {
  userId: string;
  folderId: string;
  select?: string[];
  changeType?: ChangeType;
  /** Changes after this mailbox change number are in the round (-1: the initial round, every message). */
  from: number;
  /** The round's last change number (the mailbox's watermark when the round started). */
  to: number;
  /** The last change number already served in this round. */
  after: number;
}

interface TokenBody {
  v: 1;
  k: 'skip' | 'delta';
  u: string;
  f: string;
  s?: string[];
  c?: ChangeType;
  from: number;
  to: number;
  after: number;
  /** Generation: tokens of an earlier generation were dropped by expireAll(). */
  g: number;
  /** Issued at, ms since the epoch. */
  t: number;
}

export type TokenKind = TokenBody['k'];

/** Graph's answer for a token whose sync state is gone: the client must start a new initial round. */
export function syncStateNotFound(restartUrl?: string): GraphError {
  return new GraphError(
    410,
    'SyncStateNotFound',
    'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
    restartUrl ? { Location: restartUrl } : {},
  );
}

const syncStateInvalid = () => new GraphError(410, 'SyncStateInvalid', 'The sync state is invalid: the delta token was not issued for this folder. Synchronize again from the start.');

export class DeltaTokens {
  private readonly key = crypto.randomBytes(32);
  private generation = 0;

  constructor(
    private lifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(lifetimeMs > 0)) throw new Error('the delta token lifetime must be positive');
  }

  /** Every token issued so far expires now (the test hook; reset does it too). */
  expireAll(): void {
    this.generation++;
  }

  issue(kind: TokenKind, state: DeltaState): string {
    const body: TokenBody = {
      v: 1,
      k: kind,
      u: state.userId,
      f: state.folderId,
      ...(state.select && { s: state.select }),
      ...(state.changeType && { c: state.changeType }),
      from: state.from,
      to: state.to,
      after: state.after,
      g: this.generation,
      t: this.now(),
    };
    const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  /**
   * The state a token carries, for this mailbox and folder. An expired token answers 410
   * SyncStateNotFound with a Location to start again (`restartUrl` gets the token's options); a
   * token this emulator did not issue for this folder answers 410 SyncStateInvalid.
   */
  read(token: string, kind: TokenKind, userId: string, folderId: string, restartUrl: (state: DeltaState) => string): DeltaState {
    const [payload, signature, extra] = token.split('.');
    if (extra !== undefined || !payload || !signature || !this.verify(payload, signature)) throw syncStateInvalid();
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenBody;
    if (body.k !== kind || body.u !== userId || body.f !== folderId) throw syncStateInvalid();
    const state: DeltaState = {
      userId: body.u,
      folderId: body.f,
      ...(body.s && { select: body.s }),
      ...(body.c && { changeType: body.c }),
      from: body.from,
      to: body.to,
      after: body.after,
    };
    if (body.g !== this.generation || this.now() - body.t > this.lifetimeMs) throw syncStateNotFound(restartUrl(state));
    return state;
  }

  private sign(payload: string): string {
    return crypto.createHmac('sha256', this.key).update(payload).digest('base64url').slice(0, 22);
  }

  private verify(payload: string, signature: string): boolean {
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }
}
