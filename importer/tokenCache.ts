import type { AccessToken, TokenCredential } from '@azure/identity';

/** A token is renewed this long before it expires, so none expires in flight. */
const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * The credential's token, asked for again only when it nears its end (or its refreshAfter).
 * Asking per request went through MSAL's cache lookups every time: some 5 % of the importer's CPU
 * when it asked for every Graph request.
 */
export function tokenCache(credential: TokenCredential, scope: string, now: () => number = Date.now): () => Promise<string> {
  let current: AccessToken | undefined;
  let renewing: Promise<AccessToken> | undefined;
  const fresh = (t: AccessToken | undefined): t is AccessToken => !!t && now() < Math.min(t.expiresOnTimestamp - RENEW_BEFORE_MS, t.refreshAfterTimestamp ?? Infinity);
  return async () => {
    if (fresh(current)) return current.token;
    renewing ??= credential
      .getToken(scope)
      .then((token) => {
        if (!token) throw new Error(`no token for ${scope}`);
        current = token;
        return token;
      })
      .finally(() => (renewing = undefined));
    return (await renewing).token;
  };
}
