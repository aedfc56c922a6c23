import { decodeJwt } from 'jose';
import { startSigninEmulator, TOKEN_EXCHANGE_AUDIENCE, type SigninEmulator } from '../../emulators/signin/server';
import { startGraphEmulator, type GraphEmulator } from '../../emulators/graph/server';
import { createGraphClient, graphCredential } from '../../importer/sink/graphClient';
import { loadConfig } from '../../server/config';
import { configuredGraph } from '../../server/importerFactory';

// Azure's shape: the app registration has no secret, only a federated credential that trusts the
// user-assigned managed identity the App Service runs as (infra/main.bicep, graphFederation).
const TENANT = '4d1f5a2e-7c3b-4e8a-9f60-1a2b3c4d5e6f';
const APP_ID = '9e8d7c6b-5a49-4382-a716-0f1e2d3c4b5a';
const IDENTITY = { tenantId: TENANT, clientId: '2c3d4e5f-6a7b-4c8d-9e0f-112233445566', principalId: '7f6e5d4c-3b2a-4190-8877-665544332211' };
// Another managed identity in the same tenant, which the app does not trust.
const STRANGER = { tenantId: TENANT, clientId: '3d4e5f6a-7b8c-4d9e-8f01-223344556677', principalId: '0badc0de-0000-4000-8000-000000000001' };
const SECRET_APP = { tenantId: TENANT, clientId: '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3', clientSecret: 'local-only-secret-value', roles: ['Mail.ReadWrite', 'User.Read.All'] };
const USERS = [{ id: 'u-ann', userPrincipalName: 'ann@contoso.example', mail: 'ann@contoso.example', displayName: 'Ann Lee' }];

describe('Microsoft Graph sign-in', () => {
  let signin: SigninEmulator;
  let graph: GraphEmulator;
  const saved = { IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT, IDENTITY_HEADER: process.env.IDENTITY_HEADER };

  beforeAll(async () => {
    signin = await startSigninEmulator({ apps: [SECRET_APP], managedIdentities: [IDENTITY, STRANGER] });
    signin.registerApp({
      tenantId: TENANT,
      clientId: APP_ID,
      roles: ['Mail.ReadWrite', 'User.Read.All'],
      federatedCredentials: [{ issuer: signin.issuer(TENANT), subject: IDENTITY.principalId, audience: TOKEN_EXCHANGE_AUDIENCE }],
    });
    graph = await startGraphEmulator({ auth: { jwksUri: signin.jwksUri(TENANT), issuer: signin.issuer(TENANT) }, users: USERS });
    // What App Service puts in the environment of a web app with a managed identity.
    Object.assign(process.env, signin.managedIdentityEnvironment);
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await graph.close();
    await signin.close();
  });

  /** The server's configuration as infra/main.bicep sets it, with this test's endpoints. */
  function azureConfig(overrides: Record<string, string> = {}) {
    return loadConfig({
      STORAGE_ACCOUNT_NAME: 'archiverstore',
      TENANT_ID: TENANT,
      CLIENT_ID: APP_ID,
      GRAPH_CREDENTIAL: 'ManagedIdentityFederation',
      MANAGED_IDENTITY_CLIENT_ID: IDENTITY.clientId,
      AUTHORITY_HOST: signin.authorityHost,
      GRAPH_BASE_URL: graph.url,
      ...overrides,
    });
  }

  it("in Azure, signs in as the app with the managed identity's token and no secret, and Graph answers", async () => {
    const connection = configuredGraph(azureConfig());
    expect(connection).not.toHaveProperty('clientSecret');
    const before = signin.stats().tokensIssued;
    const user = (await createGraphClient(connection).api('/users/ann@contoso.example').get()) as { id: string };
    expect(user.id).toBe('u-ann');
    // Two tokens: the managed identity's (for the exchange), then the app's (for Graph).
    expect(signin.stats().tokensIssued - before).toBe(2);
    const token = await graphCredential(connection).getToken('https://graph.microsoft.com/.default');
    const claims = decodeJwt(token!.token);
    expect(claims).toMatchObject({ appid: APP_ID, tid: TENANT, aud: 'https://graph.microsoft.com', roles: ['Mail.ReadWrite', 'User.Read.All'] });
  });

  it("is refused when the managed identity is not the one the app's federated credential trusts", async () => {
    const before = signin.stats().refused;
    const connection = configuredGraph(azureConfig({ MANAGED_IDENTITY_CLIENT_ID: STRANGER.clientId }));
    await expect(graphCredential(connection).getToken('https://graph.microsoft.com/.default')).rejects.toThrow(/AADSTS700213/);
    expect(signin.stats().refused - before).toBe(1);
  });

  it('locally, signs in with the client secret and never asks a managed identity', async () => {
    const config = loadConfig({
      STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
      TENANT_ID: TENANT,
      CLIENT_ID: SECRET_APP.clientId,
      CLIENT_SECRET: SECRET_APP.clientSecret,
      AUTHORITY_HOST: signin.authorityHost,
      GRAPH_BASE_URL: graph.url,
    });
    expect(config.graphCredential).toBe('ClientSecret');
    const connection = configuredGraph(config);
    expect(connection).not.toHaveProperty('managedIdentityClientId');
    const before = signin.stats().tokensIssued;
    const user = (await createGraphClient(connection).api('/users/ann@contoso.example').get()) as { id: string };
    expect(user.id).toBe('u-ann');
    expect(signin.stats().tokensIssued - before).toBe(1);
  });
});
