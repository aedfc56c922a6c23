import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

export type ChannelTokenRefusalCode = 'MissingToken' | 'InvalidToken' | 'ExpiredToken' | 'WrongIssuer' | 'WrongAudience' | 'WrongServiceUrl' | 'NotEndorsed' | 'KeysUnavailable';

/** Why a request to /api/messages was refused: always a 401, and nothing of the token in it. */
export class ChannelTokenRefusal extends Error {
  constructor(
    readonly code: ChannelTokenRefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChannelTokenRefusal';
  }
}

export interface ChannelTokenOptions {
  /** The bot's app id: the tokens' audience. */
  appId: string;
  /** The Bot Framework channel's OpenID metadata (login.botframework.com in the public cloud). */
  openIdMetadataUrl: string;
  /** https://api.botframework.com in the public cloud. */
  issuer: string;
}

// The Bot Framework's documented clock skew for channel tokens.
const CLOCK_TOLERANCE_SECONDS = 300;
// As the tab's keys: used for 12 hours, an unknown key id fetches the set again (at most every 30 s).
const KEYS_MAX_AGE_MS = 12 * 3_600_000;

/**
 * Validates the channel's bearer token on /api/messages as the Bot Framework's connector
 * authentication prescribes: RS256 only, signed by a key of the channel's OpenID metadata that is
 * endorsed for the activity's channel, issued by the channel, for this bot, within its validity,
 * and for the service URL the activity names. The Agents SDK's own middleware fetches the public
 * cloud's keys from a fixed address, which neither the BOT_OPENID_METADATA_URL setting nor an
 * offline test can change; it runs the turn once this has passed.
 */
export class ChannelTokenValidator {
  private keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  constructor(private readonly options: ChannelTokenOptions) {}

  /** Fetches the metadata and keys now, so the first request does not wait; a failure is retried by that request. */
  async warm(): Promise<void> {
    await this.jwks()
      .then((jwks) => jwks.reload())
      .catch(() => undefined);
  }

  async validate(authorization: string | undefined, activity: { serviceUrl?: unknown; channelId?: unknown }): Promise<JWTPayload> {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization ?? '');
    if (!match) throw new ChannelTokenRefusal('MissingToken', 'no "Authorization: Bearer <token>" header');
    const jwks = await this.jwks();
    let payload: JWTPayload;
    let kid: string | undefined;
    try {
      ({
        payload,
        protectedHeader: { kid },
      } = await jwtVerify(match[1], jwks, { algorithms: ['RS256'], clockTolerance: CLOCK_TOLERANCE_SECONDS }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new ChannelTokenRefusal('ExpiredToken', 'the token has expired');
      // The key set itself could not be read (timeout, network, not a key set): nobody's token can be checked.
      if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError)) {
        throw new ChannelTokenRefusal('KeysUnavailable', "the channel's signing keys could not be fetched");
      }
      throw new ChannelTokenRefusal('InvalidToken', `the token is not valid: ${err.code}`);
    }
    if (payload.iss !== this.options.issuer) throw new ChannelTokenRefusal('WrongIssuer', 'the token was not issued by the Bot Framework channel');
    if (!([] as string[]).concat(payload.aud ?? []).includes(this.options.appId)) throw new ChannelTokenRefusal('WrongAudience', 'the token is for another bot');
    const claimed = typeof payload.serviceurl === 'string' ? payload.serviceurl : '';
    if (typeof activity.serviceUrl !== 'string' || !sameUrl(claimed, activity.serviceUrl)) throw new ChannelTokenRefusal('WrongServiceUrl', "the token's service URL is not the activity's");
    // A key may be endorsed for some channels only; one without endorsements serves all.
    const endorsements = (jwks.jwks()?.keys.find((k) => k.kid === kid) as { endorsements?: unknown } | undefined)?.endorsements;
    if (Array.isArray(endorsements) && typeof activity.channelId === 'string' && !endorsements.includes(activity.channelId)) {
      throw new ChannelTokenRefusal('NotEndorsed', `the signing key is not endorsed for the channel "${activity.channelId}"`);
    }
    return payload;
  }

  private jwks(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    this.keys ??= (async () => {
      const res = await fetch(this.options.openIdMetadataUrl, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`the channel's OpenID metadata answered ${res.status}`);
      const { jwks_uri: uri } = (await res.json()) as { jwks_uri?: unknown };
      if (typeof uri !== 'string') throw new Error("the channel's OpenID metadata names no jwks_uri");
      return createRemoteJWKSet(new URL(uri), { cooldownDuration: 30_000, timeoutDuration: 10_000, cacheMaxAge: KEYS_MAX_AGE_MS });
    })();
    // A failed fetch is not kept: the next request tries again.
    return this.keys.catch((err: Error) => {
      this.keys = undefined;
      throw new ChannelTokenRefusal('KeysUnavailable', err.message);
    });
  }
}

function sameUrl(a: string, b: string): boolean {
  const norm = (u: string) => u.trim().replace(/\/+$/, '').toLowerCase();
  return a !== '' && norm(a) === norm(b);
}
