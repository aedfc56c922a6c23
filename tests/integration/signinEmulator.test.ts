import { ClientSecretCredential } from '@azure/identity';
import { createRemoteJWKSet, jwtVerify, decodeJwt } from 'jose';
import { startSigninEmulator, type SigninEmulator } from '../../emulators/signin/server';

const tenantId = '72f988bf-0000-4000-8000-000000000001';
const app = { tenantId, clientId: 'a1b2c3d4-0000-4000-8000-00000000000a', clientSecret: 's3cr3t-value-for-tests', roles: ['Mail.ReadWrite', 'User.Read.All'] };

describe('sign-in emulator', () => {
  let signin: SigninEmulator;
  beforeAll(async () => {
    signin = await startSigninEmulator({ apps: [app] });
  });
  afterAll(() => signin.close());

  const credential = (secret = app.clientSecret) =>
    new ClientSecretCredential(tenantId, app.clientId, secret, { authorityHost: signin.authorityHost, disableInstanceDiscovery: true });

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
