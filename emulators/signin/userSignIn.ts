import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { json, oauthError, readForm } from './oauthHttp';

/**
 * The sign-in emulator's user flow, as Entra ID v2 serves it to a single-page app such as
 * @azure/msal-browser: the authorization code with PKCE, from a page where the tester picks a test
 * user, redeemed cross-origin at the token endpoint; the refresh token grant; sign-out.
 */

/** A user of the emulated directory, offered on the sign-in page. */
export interface TestUser {
  tenantId: string;
  oid: string;
  name: string;
  preferredUsername: string;
  /** Shown beside the user on the sign-in page, e.g. "an admin of the local connector". */
  note?: string;
}

/** What an app registration says about the user flow (Entra's spa.redirectUris, identifierUris, api.oauth2PermissionScopes). */
export interface UserFlowRegistration {
  tenantId: string;
  clientId: string;
  /** Single-page application redirect URIs: the only ones the authorize endpoint sends a code to. */
  spaRedirectUris?: string[];
  /** Application ID URIs of the API this app exposes, e.g. api://<host>/<client id>. */
  identifierUris?: string[];
  /** Delegated scopes the API exposes (default access_as_user when it has an identifier URI). */
  exposedScopes?: string[];
}

export interface UserSignInOptions {
  app(tenantId: string, clientId: string): UserFlowRegistration | undefined;
  apps(): Iterable<UserFlowRegistration>;
  users: TestUser[];
  sign(claims: Record<string, unknown>, tenantId: string, audience: string, seconds: number): Promise<string>;
  accessTokenSeconds: number;
  now(): number;
  counters: { tokensIssued: number; refused: number };
}

export interface UserSignIn {
  /** Answers the authorize, logout and token preflight requests; false when the path is none of them. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** The authorization_code and refresh_token grants of the token endpoint. */
  redeem(req: IncomingMessage, res: ServerResponse, tenantId: string, form: URLSearchParams): Promise<void>;
}

// Entra's lifetimes: codes last minutes; a SPA's refresh token 24 hours from the sign-in, not extended by use.
const CODE_SECONDS = 10 * 60;
const PENDING_SECONDS = 30 * 60;
const SPA_REFRESH_SECONDS = 24 * 3600;
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
const GRAPH = { audience: '00000003-0000-0000-c000-000000000000', scopes: ['User.Read'], prefix: 'https://graph.microsoft.com/' };
const AUTHORIZE_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/authorize$/;
const LOGOUT_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/logout$/;
const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;

/** The API an access token is for: its audience and the scopes granted on it. */
interface Resource {
  audience: string;
  /** As the token's scp claim names them. */
  scopes: string[];
  /** As the token response's scope names them (with the resource's URI). */
  fullScopes: string[];
}

/** An authorize request checked and waiting for the tester's pick. */
interface AuthorizeRequest {
  tenantId: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  resource: Resource;
  state?: string;
  nonce?: string;
  codeChallenge: string;
  responseMode: 'fragment' | 'query';
  clientInfo: boolean;
  expiresAt: number;
}

interface IssuedCode extends AuthorizeRequest {
  user: TestUser;
  redeemed: boolean;
}

interface IssuedRefreshToken {
  tenantId: string;
  clientId: string;
  user: TestUser;
  /** The origin it was issued to: a SPA's refresh token is redeemed from there only. */
  origin: string;
  issuedAt: number;
  expiresAt: number;
}

export function createUserSignIn(options: UserSignInOptions): UserSignIn {
  const pending = new Map<string, AuthorizeRequest>();
  const codes = new Map<string, IssuedCode>();
  const refreshTokens = new Map<string, IssuedRefreshToken>();
  const { counters } = options;

  // Kept an hour past their end, so that using one late says "expired" rather than "unknown".
  const forget = () => {
    const before = options.now() - 3600_000;
    for (const map of [pending, codes, refreshTokens] as Map<string, { expiresAt: number }>[]) for (const [key, value] of map) if (value.expiresAt <= before) map.delete(key);
  };

  function spaOrigins(app: UserFlowRegistration): Set<string> {
    return new Set((app.spaRedirectUris ?? []).map((uri) => new URL(uri).origin));
  }

  /** The one API the scopes ask a token for (Microsoft Graph's sign-in scopes when none). */
  function resolveResource(tenantId: string, scopes: string[]): Resource | { error: string; code: number; description: string } {
    const asked = scopes.filter((s) => !OIDC_SCOPES.has(s));
    if (!asked.length) return { audience: GRAPH.audience, scopes: GRAPH.scopes, fullScopes: GRAPH.scopes.map((s) => GRAPH.prefix + s) };
    const split = asked.map((s) => {
      const slash = s.lastIndexOf('/');
      return { uri: slash > 0 ? s.slice(0, slash) : '', scope: s.slice(slash + 1), full: s };
    });
    if (new Set(split.map((s) => s.uri)).size > 1)
      return { error: 'invalid_scope', code: 70011, description: `The provided value for the input parameter 'scope' is not valid. The scopes ${asked.join(' ')} are for more than one resource.` };
    const uri = split[0].uri;
    const api = [...options.apps()].find((a) => a.tenantId.toLowerCase() === tenantId.toLowerCase() && (a.identifierUris ?? []).includes(uri));
    if (!api) return { error: 'invalid_resource', code: 500011, description: `The resource principal named ${uri || asked[0]} was not found in the tenant named ${tenantId}.` };
    const exposed = api.exposedScopes ?? ['access_as_user'];
    const unknown = split.find((s) => !exposed.includes(s.scope));
    if (unknown) return { error: 'invalid_scope', code: 65005, description: `The application asked for scope '${unknown.scope}' that doesn't exist on the resource '${api.clientId}'.` };
    return { audience: api.clientId, scopes: split.map((s) => s.scope), fullScopes: split.map((s) => s.full) };
  }

  async function authorizePage(res: ServerResponse, tenantId: string, query: URLSearchParams): Promise<void> {
    const clientId = query.get('client_id') ?? '';
    const app = options.app(tenantId, clientId);
    if (!app) return errorPage(res, 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantId}'.`);
    const redirectUri = query.get('redirect_uri') ?? '';
    if (!(app.spaRedirectUris ?? []).includes(redirectUri)) {
      return errorPage(res, 50011, `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`);
    }
    // From here on, Entra answers errors at the redirect URI.
    const responseMode = query.get('response_mode') ?? 'fragment';
    const back = (error: string, code: number, description: string) =>
      redirect(res, redirectUri, responseMode === 'query' ? 'query' : 'fragment', { error, error_description: `AADSTS${code}: ${description}`, state: query.get('state') ?? undefined });
    if (responseMode !== 'fragment' && responseMode !== 'query') return back('invalid_request', 900144, `response_mode '${responseMode}' is not supported here: use fragment or query.`);
    if (query.get('response_type') !== 'code') return back('unsupported_response_type', 700054, "response_type must be 'code' for a single-page application.");
    const codeChallenge = query.get('code_challenge') ?? '';
    if (!codeChallenge || query.get('code_challenge_method') !== 'S256') {
      return back('invalid_request', 9002325, 'Proof Key for Code Exchange (code_challenge with code_challenge_method S256) is required for cross-origin authorization code redemption.');
    }
    const scopes = (query.get('scope') ?? '').split(' ').filter(Boolean);
    const resource = resolveResource(tenantId, scopes);
    if ('error' in resource) return back(resource.error, resource.code, resource.description);
    // Nobody is signed in to the emulator between requests: a silent request needs the page.
    if (query.get('prompt') === 'none') return back('login_required', 50058, 'A silent sign-in request was sent but no user is signed in.');
    const users = options.users.filter((u) => u.tenantId.toLowerCase() === tenantId.toLowerCase());
    forget();
    const requestId = randomBytes(16).toString('base64url');
    pending.set(requestId, {
      tenantId,
      clientId,
      redirectUri,
      scopes,
      resource,
      state: query.get('state') ?? undefined,
      nonce: query.get('nonce') ?? undefined,
      codeChallenge,
      responseMode,
      clientInfo: query.get('client_info') === '1',
      expiresAt: options.now() + PENDING_SECONDS * 1000,
    });
    sendPage(res, 200, signInPage(tenantId, clientId, requestId, users), new URL(redirectUri).origin);
  }

  async function pickUser(req: IncomingMessage, res: ServerResponse, tenantId: string): Promise<void> {
    const form = await readForm(req);
    const request = form && pending.get(form.get('request') ?? '');
    if (!form || !request || request.tenantId !== tenantId || request.expiresAt <= options.now()) {
      return errorPage(res, 50058, 'This sign-in request has expired or was already used: go back to the app and sign in again.');
    }
    pending.delete(form.get('request')!);
    const user = options.users.find((u) => u.oid === form.get('user') && u.tenantId.toLowerCase() === tenantId.toLowerCase());
    if (!user) {
      return redirect(res, request.redirectUri, request.responseMode, { error: 'access_denied', error_description: 'AADSTS65004: User declined to sign in to the app.', state: request.state });
    }
    const code = randomBytes(32).toString('base64url');
    codes.set(code, { ...request, user, redeemed: false, expiresAt: options.now() + CODE_SECONDS * 1000 });
    redirect(res, request.redirectUri, request.responseMode, { code, state: request.state, client_info: request.clientInfo ? clientInfo(user) : undefined });
  }

  function logout(res: ServerResponse, query: URLSearchParams): void {
    const target = query.get('post_logout_redirect_uri') ?? '';
    const registered = [...options.apps()].some((a) => (a.spaRedirectUris ?? []).some((uri) => new URL(uri).origin === safeOrigin(target)));
    if (registered) {
      res.writeHead(302, { location: target, 'cache-control': 'no-store' });
      return void res.end();
    }
    sendPage(res, 200, page('Signed out', '<h1>Signed out</h1><p>You are signed out of the sign-in emulator. You can close this window.</p>'));
  }

  /** The CORS answer Entra gives a single-page app: its origin, when one of the app's SPA redirect URIs has it. */
  function corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (!origin) return {};
    const allowed = [...options.apps()].some((a) => spaOrigins(a).has(origin));
    return allowed ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const query = new URL(req.url ?? '/', 'https://localhost').searchParams;
    let m: RegExpMatchArray | null;
    if ((m = path.match(AUTHORIZE_PATH))) {
      if (req.method === 'GET') await authorizePage(res, m[1], query);
      else if (req.method === 'POST') await pickUser(req, res, m[1]);
      else return false;
      return true;
    }
    if (req.method === 'GET' && path.match(LOGOUT_PATH)) {
      logout(res, query);
      return true;
    }
    if (req.method === 'OPTIONS' && path.match(TOKEN_PATH)) {
      const cors = corsHeaders(req);
      res.writeHead(cors['access-control-allow-origin'] ? 204 : 403, {
        ...cors,
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? 'content-type'),
        'access-control-max-age': '86400',
      });
      res.end();
      return true;
    }
    return false;
  }

  async function redeem(req: IncomingMessage, res: ServerResponse, tenantId: string, form: URLSearchParams): Promise<void> {
    const cors = corsHeaders(req);
    const refuse = (status: number, error: string, code: number, description: string) => {
      counters.refused++;
      oauthError(res, status, error, code, description, cors);
    };
    const clientId = form.get('client_id') ?? '';
    const app = options.app(tenantId, clientId);
    if (!app) return refuse(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantId}'.`);
    const origin = req.headers.origin;
    // A SPA's codes and refresh tokens are redeemed from its page only, and only a SPA's from a page.
    if (!origin) return refuse(400, 'invalid_request', 9002327, "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.");
    if (!spaOrigins(app).has(origin))
      return refuse(400, 'invalid_request', 9002326, `Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '${origin}'.`);
    forget();

    if (form.get('grant_type') === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      if (!code || code.tenantId !== tenantId) return refuse(400, 'invalid_grant', 9002313, "Invalid request. Request is malformed or invalid: the 'code' is not one this tenant issued.");
      if (code.redeemed) return refuse(400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
      // One attempt per code, right or wrong, as OAuth 2.1 asks: a leaked code is not guessed at.
      code.redeemed = true;
      if (code.expiresAt <= options.now()) return refuse(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity.');
      if (code.clientId !== clientId) return refuse(400, 'invalid_grant', 70000, 'The provided authorization code was issued to another application.');
      if (code.redirectUri !== form.get('redirect_uri')) return refuse(400, 'invalid_grant', 70000, "The 'redirect_uri' of the request does not match the one the authorization code was issued for.");
      if (!pkceMatches(form.get('code_verifier') ?? '', code.codeChallenge))
        return refuse(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
      const refreshToken = code.scopes.includes('offline_access')
        ? newRefreshToken({ tenantId, clientId, user: code.user, origin, issuedAt: options.now(), expiresAt: options.now() + SPA_REFRESH_SECONDS * 1000 })
        : undefined;
      return answer(res, cors, {
        tenantId,
        clientId,
        user: code.user,
        resource: code.resource,
        idToken: code.scopes.includes('openid'),
        nonce: code.nonce,
        refreshToken,
        clientInfo: form.get('client_info') === '1',
      });
    }

    if (form.get('grant_type') === 'refresh_token') {
      const grant = refreshTokens.get(form.get('refresh_token') ?? '');
      if (!grant || grant.tenantId !== tenantId || grant.clientId !== clientId || grant.origin !== origin) {
        return refuse(400, 'invalid_grant', 9002313, "Invalid request. Request is malformed or invalid: the 'refresh_token' is not one issued to this application.");
      }
      if (grant.expiresAt <= options.now()) {
        return refuse(
          400,
          'invalid_grant',
          700084,
          `The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on ${new Date(grant.issuedAt).toISOString()}.`,
        );
      }
      const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      const resource = resolveResource(tenantId, scopes);
      if ('error' in resource) return refuse(400, resource.error, resource.code, resource.description);
      // A new refresh token each time, with the same end: a SPA's sign-in lasts 24 hours.
      const refreshToken = newRefreshToken({ ...grant });
      return answer(res, cors, { tenantId, clientId, user: grant.user, resource, idToken: scopes.includes('openid'), refreshToken, clientInfo: form.get('client_info') === '1' });
    }
    return refuse(400, 'unsupported_grant_type', 70003, 'The grant type is not supported: use authorization_code, refresh_token or client_credentials.');
  }

  function newRefreshToken(grant: IssuedRefreshToken): string {
    const token = randomBytes(48).toString('base64url');
    refreshTokens.set(token, grant);
    return token;
  }

  async function answer(
    res: ServerResponse,
    cors: Record<string, string>,
    a: { tenantId: string; clientId: string; user: TestUser; resource: Resource; idToken: boolean; nonce?: string; refreshToken?: string; clientInfo: boolean },
  ): Promise<void> {
    const seconds = options.accessTokenSeconds;
    const person = { oid: a.user.oid, name: a.user.name, preferred_username: a.user.preferredUsername };
    const accessToken = await options.sign(
      { ...person, sub: pairwiseSubject(a.user.oid, a.resource.audience), scp: a.resource.scopes.join(' '), azp: a.clientId, azpacr: '0', idtyp: 'user' },
      a.tenantId,
      a.resource.audience,
      seconds,
    );
    const idToken = a.idToken ? await options.sign({ ...person, sub: pairwiseSubject(a.user.oid, a.clientId), ...(a.nonce && { nonce: a.nonce }) }, a.tenantId, a.clientId, seconds) : undefined;
    counters.tokensIssued++;
    json(
      res,
      200,
      {
        token_type: 'Bearer',
        scope: a.resource.fullScopes.join(' '),
        expires_in: seconds,
        ext_expires_in: seconds,
        access_token: accessToken,
        ...(a.refreshToken && { refresh_token: a.refreshToken, refresh_token_expires_in: Math.floor((refreshTokens.get(a.refreshToken)!.expiresAt - options.now()) / 1000) }),
        ...(idToken && { id_token: idToken }),
        ...(a.clientInfo && { client_info: clientInfo(a.user) }),
      },
      cors,
    );
  }

  return { handle, redeem };
}

/** MSAL's home account: base64url of the user's object id and home tenant. */
function clientInfo(user: TestUser): string {
  return Buffer.from(JSON.stringify({ uid: user.oid, utid: user.tenantId })).toString('base64url');
}

function pkceMatches(verifier: string, challenge: string): boolean {
  // RFC 7636: 43-128 characters, and BASE64URL(SHA256(verifier)) is the challenge.
  return /^[A-Za-z0-9._~-]{43,128}$/.test(verifier) && createHash('sha256').update(verifier).digest('base64url') === challenge;
}

/** Entra's v2 `sub` differs per app for the same user. */
function pairwiseSubject(oid: string, audience: string): string {
  return createHash('sha256').update(`${oid}/${audience}`).digest('base64url').slice(0, 43);
}

function safeOrigin(uri: string): string | undefined {
  try {
    return new URL(uri).origin;
  } catch {
    return undefined;
  }
}

function redirect(res: ServerResponse, redirectUri: string, mode: 'fragment' | 'query', params: Record<string, string | undefined>): void {
  const target = new URL(redirectUri);
  const values = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  if (mode === 'query') for (const [k, v] of values) target.searchParams.set(k, v);
  else target.hash = values.toString();
  res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  res.end();
}

const STYLE = `body{font-family:"Segoe UI",system-ui,sans-serif;margin:0;background:#f3f2f1;color:#242424}
main{max-width:28rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:.5rem;box-shadow:0 2px 8px rgba(0,0,0,.15)}
h1{font-size:1.5rem;margin:0 0 1rem}p{line-height:1.4}ul{list-style:none;padding:0}li{margin:.75rem 0}
button{width:100%;padding:.75rem 1rem;font:inherit;text-align:left;border:1px solid #8a8886;border-radius:.25rem;background:#fff;color:#242424;cursor:pointer}
button:hover,button:focus-visible{background:#edebe9;outline:2px solid #0f6cbd;outline-offset:2px}
.who{display:block;font-weight:600}.detail{display:block;color:#424242;font-size:.875rem}.cancel{text-align:center;border-color:transparent;color:#0f6cbd}`;
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><link rel="icon" href="data:,"><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function signInPage(tenantId: string, clientId: string, requestId: string, users: TestUser[]): string {
  const action = `/${encodeURIComponent(tenantId)}/oauth2/v2.0/authorize`;
  const buttons = users
    .map(
      (u) =>
        `<li><button type="submit" name="user" value="${escapeHtml(u.oid)}"><span class="who">Sign in as ${escapeHtml(u.name)}</span><span class="detail">${escapeHtml(u.preferredUsername)}</span>${u.note ? `<span class="detail">${escapeHtml(u.note)}</span>` : ''}<span class="detail">Object id ${escapeHtml(u.oid)}</span></button></li>`,
    )
    .join('');
  return page(
    'Sign in to your account (sign-in emulator)',
    `<h1>Pick an account</h1><p>The local sign-in emulator stands in for Microsoft Entra ID. Application <code>${escapeHtml(clientId)}</code> asks you to sign in to directory <code>${escapeHtml(tenantId)}</code>.</p>` +
      `<form method="post" action="${action}"><input type="hidden" name="request" value="${requestId}">` +
      (users.length ? `<ul>${buttons}</ul>` : "<p>This directory has no test users: add them in the emulator's options (users).</p>") +
      `<button type="submit" name="user" value="" class="cancel">Cancel</button></form>`,
  );
}

function errorPage(res: ServerResponse, code: number, description: string): void {
  sendPage(res, 400, page('Sign-in error (sign-in emulator)', `<h1>Sorry, but we're having trouble signing you in.</h1><p>AADSTS${code}: ${escapeHtml(description)}</p>`));
}

/** The page's own strict policy: no script at all, its one style by hash, its form posted here and redirected to the app. */
function sendPage(res: ServerResponse, status: number, html: string, redirectOrigin?: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; img-src data:; form-action 'self'${redirectOrigin ? ` ${redirectOrigin}` : ''}; frame-ancestors 'none'; base-uri 'none'`,
  });
  res.end(html);
}
