import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

/** Who called the tab's API, from a validated token (or the local development stand-in). */
export interface TabCaller {
  oid: string;
  name?: string;
  username?: string;
}

export type TokenRefusalCode = 'MissingToken' | 'InvalidToken' | 'ExpiredToken' | 'WrongAudience' | 'WrongTenant' | 'WrongTokenVersion' | 'MissingScope';

/** Why a bearer token was refused: always a 401, with a reason the admin can act on and nothing of the token. */
export class TokenRefusal extends Error {
  constructor(
    readonly code: TokenRefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'TokenRefusal';
  }
}

export interface UserTokenOptions {
  /** Entra's sign-in host (AUTHORITY_HOST): https://login.microsoftonline.com, or the sign-in emulator. */
  authorityHost: string;
  tenantId: string;
  /** The app registration's client id: the audience of the tab's SSO tokens. */
  clientId: string;
}

const SCOPE = 'access_as_user';
// Entra's clock and ours may differ a little; more would keep expired tokens alive.
const CLOCK_TOLERANCE_SECONDS = 60;
// How long the signing keys are used before they are fetched again, as Microsoft's own token
// libraries do (Microsoft.IdentityModel refreshes every 12 hours); a token signed by a key not in
// the set fetches it at once (at most every 30 s), so a rollover never waits for this.
const KEYS_MAX_AGE_MS = 12 * 3_600_000;

/**
 * Validates the tab's bearer tokens as Entra issues them for Teams SSO and MSAL: a v2 access token
 * signed by a key of the tenant's JWKS, for this app, of this tenant, with the access_as_user scope.
 */
export class UserTokenValidator {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly issuer: string;

  constructor(private readonly options: UserTokenOptions) {
    const host = options.authorityHost.replace(/\/+$/, '');
    this.issuer = `${host}/${options.tenantId}/v2.0`;
    this.jwks = createRemoteJWKSet(new URL(`${host}/${options.tenantId}/discovery/v2.0/keys`), { cooldownDuration: 30_000, timeoutDuration: 10_000, cacheMaxAge: KEYS_MAX_AGE_MS });
  }

  /** Fetches the signing keys now, so that the first call does not wait for them; if the authority is unreachable, that call fetches them. */
  async warm(): Promise<void> {
    await this.jwks.reload().catch(() => undefined);
  }

  async validate(authorization: string | undefined): Promise<TabCaller> {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization ?? '');
    if (!match) throw new TokenRefusal('MissingToken', 'Sign in first: this API needs an "Authorization: Bearer <token>" header with your Microsoft Entra token.');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], this.jwks, { algorithms: ['RS256'], clockTolerance: CLOCK_TOLERANCE_SECONDS }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new TokenRefusal('ExpiredToken', 'Your sign-in has expired; sign in again.');
      throw new TokenRefusal('InvalidToken', 'The token is not one Microsoft Entra ID signed for this tenant.');
    }
    // A v1 token (Entra's default when the app registration does not ask for v2) has another
    // issuer and audience; docs/deploy.md sets accessTokenAcceptedVersion to 2.
    if (payload.ver !== '2.0')
      throw new TokenRefusal('WrongTokenVersion', 'The token is a version 1 token; the app registration must issue version 2 tokens (accessTokenAcceptedVersion: 2, docs/deploy.md).');
    if (payload.tid !== this.options.tenantId || payload.iss !== this.issuer) throw new TokenRefusal('WrongTenant', "The token was issued for another tenant than this connector's.");
    const audiences = ([] as string[]).concat(payload.aud ?? []);
    if (!audiences.includes(this.options.clientId)) throw new TokenRefusal('WrongAudience', 'The token was issued for another application than this one.');
    const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ') : [];
    if (!scopes.includes(SCOPE)) throw new TokenRefusal('MissingScope', `The token does not carry the ${SCOPE} scope; sign in through the tab.`);
    if (typeof payload.oid !== 'string' || !payload.oid) throw new TokenRefusal('InvalidToken', 'The token names no user (no oid claim).');
    return {
      oid: payload.oid,
      name: typeof payload.name === 'string' ? payload.name : undefined,
      username: typeof payload.preferred_username === 'string' ? payload.preferred_username : undefined,
    };
  }
}
