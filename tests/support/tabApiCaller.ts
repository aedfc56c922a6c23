// The tab's API over HTTP as the page calls it, with a token the sign-in emulator mints for a
// signed-in user: the helpers every tab API test shares.
import { APP, TENANT, type Harness } from './importerHarness';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export type TokenClaims = Partial<Parameters<Harness['signin']['mintUserToken']>[0]>;

export interface ApiCall {
  /** A token of its own (a forged one, say); null sends none. Unless given, a fresh one for the caller. */
  token?: string | null;
  /** Whose token: the caller's `oid` unless given. */
  oid?: string;
  body?: unknown;
  csv?: string | Buffer;
  etag?: string;
  headers?: Record<string, string>;
}

export interface TabApiCaller {
  (method: string, path: string, call?: ApiCall): Promise<ApiAnswer>;
  /** A user token of this tenant for the tab's app with the access_as_user scope; `claims` change any of it. */
  mint(claims?: TokenClaims): Promise<string>;
  /** The connector's ETag as GET /api/tab/connector answers it, for If-Match. */
  etag(): Promise<string>;
}

/**
 * Calls the API at `url()` as `user` (the harness and the URL are read at each call: tests set
 * them in beforeAll). Answers are read whole; `json` is undefined when the body is not JSON.
 */
export function tabApiCaller(h: () => Harness, url: () => string, user: { oid: string; name?: string; preferredUsername?: string }): TabApiCaller {
  const mint = (claims: TokenClaims = {}) =>
    h().signin.mintUserToken({ tenantId: TENANT, audience: APP.clientId, oid: user.oid, name: user.name, preferredUsername: user.preferredUsername, scopes: ['access_as_user'], ...claims });
  const api = async (method: string, path: string, call: ApiCall = {}): Promise<ApiAnswer> => {
    const token = call.token === null ? undefined : (call.token ?? (await mint(call.oid ? { oid: call.oid } : {})));
    const headers: Record<string, string> = { ...(token && { authorization: `Bearer ${token}` }), ...(call.etag !== undefined && { 'if-match': call.etag }), ...call.headers };
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    if (call.csv !== undefined) {
      headers['content-type'] = 'text/csv';
      body = typeof call.csv === 'string' ? call.csv : new Uint8Array(call.csv);
    } else if (call.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(call.body);
    }
    const res = await fetch(`${url()}${path}`, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  return Object.assign(api, { mint, etag: async () => (await api('GET', '/api/tab/connector')).json.etag as string });
}
