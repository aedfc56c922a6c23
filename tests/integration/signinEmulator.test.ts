import { createHash, randomBytes } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import { createRemoteJWKSet, jwtVerify, decodeJwt } from 'jose';
import { startSigninEmulator, type SigninEmulator, type TestUser } from '../../emulators/signin/server';
import { UserTokenValidator } from '../../tab/api/userToken';

const tenantId = '72f988bf-0000-4000-8000-000000000001';
const app = { tenantId, clientId: 'a1b2c3d4-0000-4000-8000-00000000000a', clientSecret: 's3cr3t-value-for-tests', roles: ['Mail.ReadWrite', 'User.Read.All'] };

describe('sign-in emulator', () => {
  let signin: SigninEmulator;
  beforeAll(async () => {
    signin = await startSigninEmulator({ apps: [app] });
  });
  afterAll(() => signin.close());

  const credential = (secret = app.clientSecret) => new ClientSecretCredential(tenantId, app.clientId, secret, { authorityHost: signin.authorityHost, disableInstanceDiscovery: true });

  it('serves HTTPS that this process trusts through NODE_EXTRA_CA_CERTS', async () => {
    expect(signin.url).toMatch(/^https:\/\/localhost:\d+$/);
    const res = await fetch(`${signin.url}/${tenantId}/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const meta = (await res.json()) as Record<string, string>;
    expect(meta.issuer).toBe(signin.issuer(tenantId));
    expect(meta.token_endpoint).toBe(`${signin.url}/${tenantId}/oauth2/v2.0/token`);
    expect(meta.jwks_uri).toBe(signin.jwksUri(tenantId));
  });

  it('gives @azure/identity an app token for Graph whose signature, issuer, audience and roles verify against the JWKS', async () => {
    const token = await credential().getToken('https://graph.microsoft.com/.default');
    expect(token?.token).toBeTruthy();
    expect(token!.expiresOnTimestamp).toBeGreaterThan(Date.now());
    const jwks = createRemoteJWKSet(new URL(signin.jwksUri(tenantId)));
    const { payload } = await jwtVerify(token!.token, jwks, { issuer: signin.issuer(tenantId), audience: 'https://graph.microsoft.com' });
    expect(payload.tid).toBe(tenantId);
    expect(payload.appid).toBe(app.clientId);
    expect(payload.roles).toEqual(app.roles);
  });

  it('refuses a wrong client secret with an AADSTS error that does not echo the secret', async () => {
    const res = await fetch(`${signin.url}/${tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: 'not-the-secret-xyz', scope: 'https://graph.microsoft.com/.default' }),
    });
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(JSON.parse(text).error).toBe('invalid_client');
    expect(text).toContain('AADSTS7000215');
    expect(text).not.toContain('not-the-secret-xyz');
    await expect(credential('not-the-secret-xyz').getToken('https://graph.microsoft.com/.default')).rejects.toThrow(/AADSTS7000215/);
    expect(signin.stats().refused).toBeGreaterThanOrEqual(2);
  });

  it('refuses an unknown client and a tenant the app is not registered in', async () => {
    const other = new ClientSecretCredential('00000000-0000-4000-8000-0000000000ff', app.clientId, app.clientSecret, { authorityHost: signin.authorityHost, disableInstanceDiscovery: true });
    await expect(other.getToken('https://graph.microsoft.com/.default')).rejects.toThrow(/AADSTS700016/);
  });

  it('mints user tokens for Teams SSO that verify with the same code, and a forged one does not', async () => {
    const audience = 'api://localhost/bot-app-id';
    const token = await signin.mintUserToken({ tenantId, audience, oid: 'user-oid-1', name: 'Ada Admin', scopes: ['access_as_user'] });
    const jwks = createRemoteJWKSet(new URL(signin.jwksUri(tenantId)));
    const { payload } = await jwtVerify(token, jwks, { issuer: signin.issuer(tenantId), audience });
    expect(payload.scp).toBe('access_as_user');
    expect(payload.oid).toBe('user-oid-1');

    const other = await startSigninEmulator({});
    try {
      const forged = await other.mintUserToken({ tenantId, audience, oid: 'user-oid-1', scopes: ['access_as_user'] });
      expect(decodeJwt(forged).oid).toBe('user-oid-1');
      await expect(jwtVerify(forged, jwks, { audience })).rejects.toThrow();
    } finally {
      await other.close();
    }
  });
});

// The authorization code flow with PKCE as @azure/msal-browser runs it from the tab's page, over
// HTTP: the sign-in page, the redirect with the code, its cross-origin redemption, the refresh.
describe('sign-in emulator: the authorization code flow of a single-page app', () => {
  const SPA_ORIGIN = 'http://localhost:3978';
  const REDIRECT_URI = `${SPA_ORIGIN}/tab/index.html`;
  const spa = {
    tenantId,
    clientId: '3f1e9d2c-7b6a-4e5d-8c9b-0a1b2c3d4e5f',
    roles: [],
    spaRedirectUris: [REDIRECT_URI],
    identifierUris: [`api://localhost:3978/3f1e9d2c-7b6a-4e5d-8c9b-0a1b2c3d4e5f`],
  };
  const otherApp = { tenantId, clientId: '0b0b0b0b-0000-4000-8000-00000000000b', roles: [], spaRedirectUris: ['http://localhost:4000/app.html'] };
  const SCOPE = `${spa.identifierUris[0]}/access_as_user`;
  const admin: TestUser = { tenantId, oid: '5d9c3b2a-1f0e-4d8c-9b7a-6e5f4d3c2b1a', name: 'Alex Wilber', preferredUsername: 'alexw@contoso.example', note: 'an admin of the local connector' };
  const member: TestUser = { tenantId, oid: '7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b', name: 'Megan Bowen', preferredUsername: 'meganb@contoso.example', note: 'not an admin' };
  let clock = Date.now();
  let signin: SigninEmulator;
  beforeAll(async () => {
    signin = await startSigninEmulator({ apps: [spa, otherApp], users: [admin, member], now: () => clock });
  });
  afterAll(() => signin.close());

  const pkce = () => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };
  const authorizeUrl = (params: Record<string, string>) =>
    `${signin.url}/${tenantId}/oauth2/v2.0/authorize?${new URLSearchParams({
      client_id: spa.clientId,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      response_mode: 'fragment',
      scope: `${SCOPE} openid profile offline_access`,
      state: 'state-1',
      nonce: 'nonce-1',
      client_info: '1',
      code_challenge_method: 'S256',
      ...params,
    })}`;

  /** Opens the sign-in page, picks the user, and follows nothing: the redirect's parameters. */
  async function signIn(user: TestUser | null, params: Record<string, string> = {}): Promise<{ location: URL; params: URLSearchParams; verifier: string }> {
    const { verifier, challenge } = pkce();
    const page = await fetch(authorizeUrl({ code_challenge: challenge, ...params }));
    expect(page.status).toBe(200);
    const html = await page.text();
    const request = /name="request" value="([^"]+)"/.exec(html)![1];
    const res = await fetch(`${signin.url}/${tenantId}/oauth2/v2.0/authorize`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ request, user: user?.oid ?? '' }) });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    return { location, params: new URLSearchParams(location.hash ? location.hash.slice(1) : location.search), verifier };
  }

  const token = (form: Record<string, string>, origin: string | null = SPA_ORIGIN) =>
    fetch(`${signin.url}/${tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) },
      body: new URLSearchParams(form),
    });
  const redeem = (code: string, verifier: string, overrides: Record<string, string> = {}, origin?: string | null) =>
    token(
      {
        grant_type: 'authorization_code',
        client_id: spa.clientId,
        redirect_uri: REDIRECT_URI,
        code,
        code_verifier: verifier,
        scope: `${SCOPE} openid profile offline_access`,
        client_info: '1',
        ...overrides,
      },
      origin,
    );
  const errorOf = async (res: Response) => ({ status: res.status, ...((await res.json()) as { error: string; error_description: string }) });

  it('publishes the endpoints MSAL reads in its OpenID metadata, readable from any page', async () => {
    const res = await fetch(`${signin.url}/${tenantId}/v2.0/.well-known/openid-configuration`, { headers: { origin: SPA_ORIGIN } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const meta = (await res.json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      issuer: signin.issuer(tenantId),
      authorization_endpoint: `${signin.url}/${tenantId}/oauth2/v2.0/authorize`,
      token_endpoint: `${signin.url}/${tenantId}/oauth2/v2.0/token`,
      end_session_endpoint: `${signin.url}/${tenantId}/oauth2/v2.0/logout`,
      code_challenge_methods_supported: ['S256'],
    });
  });

  it("offers the directory's test users on a page without script, under its own strict policy", async () => {
    const res = await fetch(authorizeUrl({ code_challenge: pkce().challenge }));
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    expect(csp).toContain(`form-action 'self' ${SPA_ORIGIN}`);
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).not.toContain('<script');
    for (const user of [admin, member]) {
      expect(html).toContain(`Sign in as ${user.name}`);
      expect(html).toContain(user.preferredUsername);
      expect(html).toContain(user.note);
    }
  });

  it('refuses an unknown app or an unregistered redirect URI on its own page, and sends nothing to that URI', async () => {
    const unknown = await fetch(authorizeUrl({ code_challenge: pkce().challenge, client_id: 'ffffffff-0000-4000-8000-00000000ffff' }), { redirect: 'manual' });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('AADSTS700016');
    const stranger = await fetch(authorizeUrl({ code_challenge: pkce().challenge, redirect_uri: 'https://evil.example/steal' }), { redirect: 'manual' });
    expect(stranger.status).toBe(400);
    expect(stranger.headers.get('location')).toBeNull();
    expect(await stranger.text()).toContain('AADSTS50011');
  });

  it('answers a request without PKCE, for an unknown API or a silent one at the redirect URI with the OAuth error', async () => {
    const cases: [Record<string, string>, string, string][] = [
      [{ code_challenge: '' }, 'invalid_request', 'AADSTS9002325'],
      [{ code_challenge: pkce().challenge, scope: 'api://nowhere/other/access_as_user openid' }, 'invalid_resource', 'AADSTS500011'],
      [{ code_challenge: pkce().challenge, scope: `${spa.identifierUris[0]}/write_everything` }, 'invalid_scope', 'AADSTS65005'],
      [{ code_challenge: pkce().challenge, prompt: 'none' }, 'login_required', 'AADSTS50058'],
    ];
    for (const [params, error, code] of cases) {
      const res = await fetch(authorizeUrl(params), { redirect: 'manual' });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(REDIRECT_URI);
      const answer = new URLSearchParams(location.hash.slice(1));
      expect([answer.get('error'), answer.get('state')]).toEqual([error, 'state-1']);
      expect(answer.get('error_description')).toContain(code);
      expect(answer.get('code')).toBeNull();
    }
  });

  it("redirects the picked user with a code that redeems, from the page's origin, for v2 tokens the tab API accepts", async () => {
    const { location, params, verifier } = await signIn(admin);
    expect(location.origin + location.pathname).toBe(REDIRECT_URI);
    expect(params.get('state')).toBe('state-1');
    expect(JSON.parse(Buffer.from(params.get('client_info')!, 'base64url').toString())).toEqual({ uid: admin.oid, utid: tenantId });

    const res = await redeem(params.get('code')!, verifier);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(SPA_ORIGIN);
    const body = (await res.json()) as Record<string, string | number>;
    expect(body).toMatchObject({ token_type: 'Bearer', scope: SCOPE, expires_in: 3600 });
    expect(JSON.parse(Buffer.from(String(body.client_info), 'base64url').toString())).toEqual({ uid: admin.oid, utid: tenantId });
    expect(body.refresh_token).toEqual(expect.any(String));

    const jwks = createRemoteJWKSet(new URL(signin.jwksUri(tenantId)));
    const id = (await jwtVerify(String(body.id_token), jwks, { issuer: signin.issuer(tenantId), audience: spa.clientId })).payload;
    expect(id).toMatchObject({ nonce: 'nonce-1', oid: admin.oid, tid: tenantId, name: admin.name, preferred_username: admin.preferredUsername, ver: '2.0' });
    const access = (await jwtVerify(String(body.access_token), jwks, { issuer: signin.issuer(tenantId), audience: spa.clientId })).payload;
    expect(access).toMatchObject({ scp: 'access_as_user', oid: admin.oid, tid: tenantId, ver: '2.0' });

    // The production validation of the tab's API takes it as it is.
    const validator = new UserTokenValidator({ authorityHost: signin.authorityHost, tenantId, clientId: spa.clientId });
    await expect(validator.validate(`Bearer ${body.access_token}`)).resolves.toEqual({ oid: admin.oid, name: admin.name, username: admin.preferredUsername });
  });

  it('answers the code in the query when MSAL asks for response_mode=query, and access_denied on Cancel', async () => {
    const query = await signIn(member, { response_mode: 'query' });
    expect(query.location.hash).toBe('');
    expect(query.params.get('code')).toEqual(expect.any(String));
    const cancelled = await signIn(null);
    expect([cancelled.params.get('error'), cancelled.params.get('code')]).toEqual(['access_denied', null]);
  });

  it('takes a code once: a second redemption is invalid_grant (AADSTS54005)', async () => {
    const { params, verifier } = await signIn(admin);
    expect((await redeem(params.get('code')!, verifier)).status).toBe(200);
    const again = await errorOf(await redeem(params.get('code')!, verifier));
    expect([again.status, again.error]).toEqual([400, 'invalid_grant']);
    expect(again.error_description).toContain('AADSTS54005');
  });

  it('refuses a wrong code verifier, another app, another redirect URI, an unknown code, with the OAuth error and no token', async () => {
    const cases: [(code: string, verifier: string) => Promise<Response>, number, string, string][] = [
      [(code) => redeem(code, pkce().verifier), 400, 'invalid_grant', 'AADSTS501481'],
      [(code, verifier) => redeem(code, verifier, { code_verifier: '' }), 400, 'invalid_grant', 'AADSTS501481'],
      [(code, verifier) => redeem(code, verifier, { client_id: otherApp.clientId }, 'http://localhost:4000'), 400, 'invalid_grant', 'AADSTS70000'],
      [(code, verifier) => redeem(code, verifier, { redirect_uri: `${SPA_ORIGIN}/tab/other.html` }), 400, 'invalid_grant', 'AADSTS70000'],
      [(code, verifier) => redeem(code, verifier, { client_id: 'ffffffff-0000-4000-8000-00000000ffff' }), 400, 'unauthorized_client', 'AADSTS700016'],
      [(_code, verifier) => redeem('not-a-code-anyone-issued', verifier), 400, 'invalid_grant', 'AADSTS9002313'],
    ];
    for (const [attempt, status, error, code] of cases) {
      const { params, verifier } = await signIn(admin);
      const res = await attempt(params.get('code')!, verifier);
      const text = await res.text();
      expect([res.status, JSON.parse(text).error]).toEqual([status, error]);
      expect(text).toContain(code);
      expect(text).not.toContain('access_token');
    }
  });

  it("redeems only cross-origin from the app's own page, with CORS for that origin alone", async () => {
    const fromServer = await signIn(admin);
    const noOrigin = await errorOf(await redeem(fromServer.params.get('code')!, fromServer.verifier, {}, null));
    expect(noOrigin.error_description).toContain('AADSTS9002327');
    const foreign = await signIn(admin);
    const res = await redeem(foreign.params.get('code')!, foreign.verifier, {}, 'https://evil.example');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect((await errorOf(res)).error_description).toContain('AADSTS9002326');

    const preflight = (origin: string) =>
      fetch(`${signin.url}/${tenantId}/oauth2/v2.0/token`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-anchormailbox' },
      });
    const allowed = await preflight(SPA_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(SPA_ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')).toContain('x-anchormailbox');
    const refused = await preflight('https://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets a code expire after ten minutes (AADSTS70008)', async () => {
    const { params, verifier } = await signIn(admin);
    clock += 10 * 60_000 + 1;
    try {
      const late = await errorOf(await redeem(params.get('code')!, verifier));
      expect([late.error, late.error_description.slice(0, 13)]).toEqual(['invalid_grant', 'AADSTS70008: ']);
    } finally {
      clock = Date.now();
    }
  });

  it("refreshes with the refresh token for the app that got it, until the SPA sign-in's 24 hours are over", async () => {
    const start = Date.now();
    clock = start;
    const { params, verifier } = await signIn(member);
    const first = (await (await redeem(params.get('code')!, verifier)).json()) as { refresh_token: string };
    const refresh = (refreshToken: string, overrides: Record<string, string> = {}, origin?: string) =>
      token({ grant_type: 'refresh_token', client_id: spa.clientId, refresh_token: refreshToken, scope: `${SCOPE} openid profile offline_access`, client_info: '1', ...overrides }, origin);

    clock = start + 23 * 3600_000;
    const res = await refresh(first.refresh_token);
    expect(res.status).toBe(200);
    const next = (await res.json()) as { access_token: string; refresh_token: string; refresh_token_expires_in: number };
    expect(next.refresh_token).not.toBe(first.refresh_token);
    expect(next.refresh_token_expires_in).toBe(3600);
    const validator = new UserTokenValidator({ authorityHost: signin.authorityHost, tenantId, clientId: spa.clientId });
    expect((await validator.validate(`Bearer ${next.access_token}`)).oid).toBe(member.oid);

    const stolen = await errorOf(await refresh(next.refresh_token, { client_id: otherApp.clientId }, 'http://localhost:4000'));
    expect([stolen.error, stolen.error_description.slice(0, 15)]).toEqual(['invalid_grant', 'AADSTS9002313: ']);

    clock = start + 24 * 3600_000 + 1;
    try {
      const expired = await errorOf(await refresh(next.refresh_token));
      expect(expired.error).toBe('invalid_grant');
      expect(expired.error_description).toContain('AADSTS700084');
    } finally {
      clock = Date.now();
    }
  });

  it('signs out to a registered page, and nowhere else', async () => {
    const back = await fetch(`${signin.url}/${tenantId}/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent(REDIRECT_URI)}`, { redirect: 'manual' });
    expect([back.status, back.headers.get('location')]).toEqual([302, REDIRECT_URI]);
    const elsewhere = await fetch(`${signin.url}/${tenantId}/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`, { redirect: 'manual' });
    expect([elsewhere.status, elsewhere.headers.get('location')]).toEqual([200, null]);
    expect(await elsewhere.text()).toContain('Signed out');
  });
});
