import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { ensureLocalTls, type LocalTls } from '../tls/localCa';
import { json, oauthError, readForm } from './oauthHttp';
import { createUserSignIn, type TestUser, type UserFlowRegistration } from './userSignIn';

export type { TestUser } from './userSignIn';

/**
 * Stand-in for Microsoft Entra ID: the client-credentials token endpoint (with a client secret, or
 * a federated credential's assertion), the authorization code flow with PKCE that MSAL runs in the
 * tab's page (with a page to pick a test user), OpenID metadata and JWKS, and App Service's managed
 * identity endpoint, so the product gets app tokens through @azure/identity exactly as in Azure,
 * the page signs in with @azure/msal-browser, and the tab API validates user tokens with its
 * production code.
 */
export interface RegisteredApp extends UserFlowRegistration {
  /** Absent: the app has no secret, only federated credentials. */
  clientSecret?: string;
  /** Application permissions granted by admin consent, e.g. Mail.ReadWrite. */
  roles: string[];
  /** Workload identity federation: tokens this app accepts as its credential. */
  federatedCredentials?: FederatedCredential[];
}

export interface FederatedCredential {
  issuer: string;
  subject: string;
  audience: string;
}

/** A user-assigned managed identity, as App Service's identity endpoint hands out its tokens. */
export interface ManagedIdentity {
  tenantId: string;
  clientId: string;
  /** Object (principal) id: the `sub` of its tokens, and a federated credential's subject. */
  principalId: string;
}

/** What a process in App Service finds in its environment to reach its managed identity. */
export interface ManagedIdentityEnvironment {
  IDENTITY_ENDPOINT: string;
  IDENTITY_HEADER: string;
}

export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface UserTokenClaims {
  tenantId: string;
  audience: string;
  oid: string;
  name?: string;
  preferredUsername?: string;
  /** Delegated scopes, space separated in the token (e.g. access_as_user). */
  scopes?: string[];
  roles?: string[];
  lifetimeSeconds?: number;
  /** '1.0': the v1 format Entra issues when the API does not ask for v2 (issuer sts.windows.net). */
  version?: '1.0' | '2.0';
}

/** A token as the Bot Framework channel (Teams) signs it for a bot's endpoint. */
export interface ChannelTokenClaims {
  /** The bot's app id. */
  audience: string;
  serviceUrl: string;
  issuer?: string;
  lifetimeSeconds?: number;
  /** Seconds from now before which the token is not valid (nbf); now unless set. */
  notBeforeSeconds?: number;
}

export interface SigninEmulatorOptions {
  port?: number;
  tls?: LocalTls;
  apps?: RegisteredApp[];
  managedIdentities?: ManagedIdentity[];
  tokenLifetimeSeconds?: number;
  /** The directory's users, offered on the sign-in page of the authorization code flow. */
  users?: TestUser[];
  /** The clock that authorization codes and refresh tokens expire by (ms since the epoch). */
  now?: () => number;
}

export interface SigninEmulator {
  url: string;
  /** Pass as `authorityHost` to @azure/identity credentials. */
  authorityHost: string;
  issuer(tenantId: string): string;
  jwksUri(tenantId: string): string;
  registerApp(app: RegisteredApp): void;
  /** Assigns another user-assigned managed identity to the app (its tokens come from managedIdentityEnvironment). */
  registerManagedIdentity(identity: ManagedIdentity): void;
  /** Adds a user to the sign-in page's choices. */
  registerUser(user: TestUser): void;
  /** IDENTITY_ENDPOINT and IDENTITY_HEADER for a process that should act as the managed identities. */
  managedIdentityEnvironment: ManagedIdentityEnvironment;
  /** Signs a user (delegated) token, as Entra issues for Teams SSO. Test and local use only. */
  mintUserToken(claims: UserTokenClaims): Promise<string>;
  /** The Bot Framework channel's OpenID metadata, as login.botframework.com serves it. */
  botFrameworkMetadataUrl: string;
  /** Signs a Bot Framework channel token with the channel's key. Test use only. */
  mintChannelToken(claims: ChannelTokenClaims): Promise<string>;
  stats(): { tokensIssued: number; refused: number };
  close(): Promise<void>;
}

const BOT_METADATA_PATH = '/botframework/v1/.well-known/openidconfiguration';
const BOT_KEYS_PATH = '/botframework/v1/keys';
const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;
const METADATA_PATH = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/;
const KEYS_PATH = /^\/([^/]+)\/discovery\/v2\.0\/keys$/;
const MANAGED_IDENTITY_PATH = '/msi/token';
// Entra lets any page read its metadata and keys.
const PUBLIC_CORS = { 'access-control-allow-origin': '*' };

export async function startSigninEmulator(options: SigninEmulatorOptions = {}): Promise<SigninEmulator> {
  const tls = options.tls ?? ensureLocalTls();
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const apps = new Map<string, RegisteredApp>();
  for (const app of options.apps ?? []) apps.set(appKey(app.tenantId, app.clientId), app);
  const identities = new Map((options.managedIdentities ?? []).map((mi) => [mi.clientId.toLowerCase(), mi]));
  const identityHeader = randomUUID();
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  // The channel signs with keys of its own, published apart from the directory's.
  const channelKeys = await generateKeyPair('RS256', { extractable: true });
  const channelKid = randomUUID();
  const channelJwk: JWK = { ...(await exportJWK(channelKeys.publicKey)), kid: channelKid, use: 'sig', alg: 'RS256', endorsements: ['msteams', 'emulator', 'webchat'] } as JWK;
  const counters = { tokensIssued: 0, refused: 0 };
  let url = '';

  const issuer = (tenantId: string) => `${url}/${tenantId}/v2.0`;
  const sign = (claims: Record<string, unknown>, tenantId: string, audience: string, seconds: number, version: '1.0' | '2.0' = '2.0') =>
    new SignJWT({ ...claims, tid: tenantId, ver: version })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(version === '1.0' ? `https://sts.windows.net/${tenantId}/` : issuer(tenantId))
      .setAudience(audience)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${seconds}s`)
      .setJti(randomUUID())
      .sign(privateKey);

  const users = [...(options.users ?? [])];
  const userSignIn = createUserSignIn({
    app: (tenantId, clientId) => apps.get(appKey(tenantId, clientId)),
    apps: () => apps.values(),
    users,
    sign: (claims, tenantId, audience, seconds) => sign(claims, tenantId, audience, seconds),
    accessTokenSeconds: lifetime,
    now: options.now ?? Date.now,
    counters,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://localhost').pathname;
    let m: RegExpMatchArray | null;
    if (req.method === 'GET' && (m = path.match(METADATA_PATH))) {
      return json(res, 200, metadata(url, m[1]), PUBLIC_CORS);
    }
    if (await userSignIn.handle(req, res, path)) return;
    if (req.method === 'GET' && path === BOT_METADATA_PATH) {
      return json(res, 200, {
        issuer: 'https://api.botframework.com',
        authorization_endpoint: 'https://invalid.botframework.com',
        jwks_uri: `${url}${BOT_KEYS_PATH}`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
    }
    if (req.method === 'GET' && path === BOT_KEYS_PATH) {
      return json(res, 200, { keys: [channelJwk] });
    }
    if (req.method === 'GET' && (m = path.match(KEYS_PATH))) {
      return json(res, 200, { keys: [jwk] }, PUBLIC_CORS);
    }
    if (req.method === 'GET' && path === MANAGED_IDENTITY_PATH) {
      return issueManagedIdentityToken(req, res);
    }
    if (req.method === 'POST' && (m = path.match(TOKEN_PATH))) {
      const form = await readForm(req);
      const grant = form?.get('grant_type');
      if (form && (grant === 'authorization_code' || grant === 'refresh_token')) return userSignIn.redeem(req, res, m[1], form);
      if (!form) return oauthError(res, 400, 'invalid_request', 900144, 'The request body must be a form of at most 64 KB.');
      return issueToken(res, m[1], form);
    }
    json(res, 404, { error: 'not_found', error_description: `No such endpoint: ${req.method} ${path}` });
  }

  async function issueToken(res: ServerResponse, tenantId: string, form: URLSearchParams): Promise<void> {
    if (form.get('grant_type') !== 'client_credentials') {
      counters.refused++;
      return oauthError(res, 400, 'unsupported_grant_type', 70003, 'The grant type is not supported: use authorization_code, refresh_token or client_credentials.');
    }
    const clientId = form.get('client_id') ?? '';
    const app = apps.get(appKey(tenantId, clientId));
    if (!app) {
      counters.refused++;
      return oauthError(res, 400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantId}'.`);
    }
    if (form.has('client_assertion')) {
      const refusal = await federationRefusal(app, form);
      if (refusal) {
        counters.refused++;
        return oauthError(res, 401, 'invalid_client', refusal.code, refusal.description);
      }
    } else if (!app.clientSecret || !secretMatches(app.clientSecret, form.get('client_secret') ?? '')) {
      counters.refused++;
      return oauthError(res, 401, 'invalid_client', 7000215, 'Invalid client secret provided.');
    }
    const scope = form.get('scope') ?? '';
    if (!scope.endsWith('/.default')) {
      counters.refused++;
      return oauthError(res, 400, 'invalid_scope', 1002012, 'The client credentials flow takes a single <resource>/.default scope.');
    }
    const audience = scope.slice(0, -'/.default'.length);
    const token = await sign({ appid: clientId, azp: clientId, oid: servicePrincipalId(app), sub: servicePrincipalId(app), idtyp: 'app', roles: app.roles }, tenantId, audience, lifetime);
    counters.tokensIssued++;
    json(res, 200, { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token });
  }

  // Entra ID accepts the assertion when a federated credential of the app names its issuer,
  // subject and audience, and the token is valid (here: signed by this emulator).
  async function federationRefusal(app: RegisteredApp, form: URLSearchParams): Promise<{ code: number; description: string } | undefined> {
    if (form.get('client_assertion_type') !== JWT_BEARER) return { code: 7000219, description: "'client_assertion_type' must be jwt-bearer." };
    let claims: { iss?: string; sub?: string; aud?: string | string[] };
    try {
      claims = (await jwtVerify(form.get('client_assertion') ?? '', publicKey)).payload;
    } catch {
      return { code: 700024, description: 'Client assertion is not within its valid time range or its signature is invalid.' };
    }
    const audiences = ([] as string[]).concat(claims.aud ?? []);
    const trusted = (app.federatedCredentials ?? []).some((f) => f.issuer === claims.iss && f.subject === claims.sub && audiences.includes(f.audience));
    if (!trusted) return { code: 700213, description: `No matching federated identity record found for presented assertion subject '${claims.sub}'.` };
    return undefined;
  }

  // App Service's local identity endpoint (api-version 2019-08-01), reached with IDENTITY_HEADER.
  async function issueManagedIdentityToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const query = new URL(req.url ?? '/', 'https://localhost').searchParams;
    if (req.headers['x-identity-header'] !== identityHeader) {
      counters.refused++;
      return json(res, 401, { statusCode: 401, message: 'X-IDENTITY-HEADER is missing or wrong.' });
    }
    const identity = identities.get((query.get('client_id') ?? '').toLowerCase());
    const resource = query.get('resource') ?? '';
    if (!identity || !resource) {
      counters.refused++;
      return json(res, 400, { statusCode: 400, message: 'No managed identity with that client_id is assigned to this app, or no resource was asked for.' });
    }
    const token = await sign({ appid: identity.clientId, azp: identity.clientId, oid: identity.principalId, sub: identity.principalId, idtyp: 'app' }, identity.tenantId, resource, lifetime);
    counters.tokensIssued++;
    json(res, 200, { access_token: token, expires_on: String(Math.floor(Date.now() / 1000) + lifetime), resource, token_type: 'Bearer', client_id: identity.clientId });
  }

  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    handle(req, res).catch(() => json(res, 500, { error: 'server_error', error_description: 'Unexpected error.' }));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  url = `https://localhost:${(server.address() as AddressInfo).port}`;

  return {
    url,
    authorityHost: url,
    issuer,
    jwksUri: (tenantId) => `${url}/${tenantId}/discovery/v2.0/keys`,
    registerApp: (app) => void apps.set(appKey(app.tenantId, app.clientId), app),
    registerManagedIdentity: (mi) => void identities.set(mi.clientId.toLowerCase(), mi),
    registerUser: (user) => void users.push(user),
    managedIdentityEnvironment: { IDENTITY_ENDPOINT: `${url}${MANAGED_IDENTITY_PATH}`, IDENTITY_HEADER: identityHeader },
    mintUserToken: (c) =>
      sign(
        {
          oid: c.oid,
          sub: c.oid,
          name: c.name,
          preferred_username: c.preferredUsername,
          scp: c.scopes?.join(' '),
          roles: c.roles,
          azp: '5e3ce6c0-2b1f-4285-8d4b-75ee78787346', // Teams web client, which asks for SSO tokens
          idtyp: 'user',
        },
        c.tenantId,
        c.audience,
        c.lifetimeSeconds ?? lifetime,
        c.version,
      ),
    botFrameworkMetadataUrl: `${url}${BOT_METADATA_PATH}`,
    mintChannelToken: (c) =>
      new SignJWT({ serviceurl: c.serviceUrl, ver: '1.0' })
        .setProtectedHeader({ alg: 'RS256', kid: channelKid, typ: 'JWT' })
        .setIssuer(c.issuer ?? 'https://api.botframework.com')
        .setAudience(c.audience)
        .setIssuedAt()
        .setNotBefore(`${c.notBeforeSeconds ?? 0}s`)
        .setExpirationTime(Math.floor(Date.now() / 1000) + (c.lifetimeSeconds ?? lifetime))
        .sign(channelKeys.privateKey),
    stats: () => ({ ...counters }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function metadata(url: string, tenantId: string): Record<string, unknown> {
  return {
    issuer: `${url}/${tenantId}/v2.0`,
    authorization_endpoint: `${url}/${tenantId}/oauth2/v2.0/authorize`,
    token_endpoint: `${url}/${tenantId}/oauth2/v2.0/token`,
    end_session_endpoint: `${url}/${tenantId}/oauth2/v2.0/logout`,
    jwks_uri: `${url}/${tenantId}/discovery/v2.0/keys`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'fragment'],
    code_challenge_methods_supported: ['S256'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    tenant_region_scope: 'EU',
    cloud_instance_name: 'localhost',
    msgraph_host: 'graph.microsoft.com',
  };
}

function appKey(tenantId: string, clientId: string): string {
  return `${tenantId.toLowerCase()}/${clientId.toLowerCase()}`;
}

function servicePrincipalId(app: RegisteredApp): string {
  // Stable per app, like a service principal's object id.
  return `sp-${app.clientId}`;
}

function secretMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
