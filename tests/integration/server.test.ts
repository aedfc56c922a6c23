import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { ensureLocalTls } from '../../emulators/tls/localCa';
import { startAzurite, type RunningAzurite } from '../../emulators/storage/azurite';
import { startSigninEmulator } from '../../emulators/signin/server';
import { startServer } from '../support/serverProcess';

describe('server process', () => {
  let azurite: RunningAzurite;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(() => azurite.stop());

  it('starts on the storage connection string, answers its health check, and warns loudly in local unauthenticated mode', async () => {
    const server = startServer({ STORAGE_CONNECTION_STRING: azurite.connectionString, PORT: '0', LOCAL_DEV_UNAUTHENTICATED: 'true', HOST: '0.0.0.0' });
    try {
      const url = await server.listening;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
      expect(server.output()).toContain('NOT authenticated');
      expect(server.output()).not.toContain(azurite.connectionString.split('AccountKey=')[1].split(';')[0]);
    } finally {
      server.child.kill('SIGTERM');
    }
  });

  it('reports unreachable storage as degraded without revealing its address', async () => {
    const down = azurite.connectionString.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:9');
    const server = startServer({ STORAGE_CONNECTION_STRING: down, PORT: '0', LOCAL_DEV_UNAUTHENTICATED: 'true' });
    try {
      const url = await server.listening;
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(503);
      const body = await res.text();
      expect(JSON.parse(body)).toEqual({ status: 'degraded', storage: 'unreachable' });
      expect(body).not.toContain('127.0.0.1:9');
    } finally {
      server.child.kill('SIGTERM');
    }
  });

  it("in Azure's configuration (storage by account name, managed identity), reports storage that refuses as degraded", async () => {
    const identity = { tenantId: '6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d', clientId: '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9', principalId: '5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716' };
    const signin = await startSigninEmulator({ managedIdentities: [identity] });
    const refusing = 'https://127.0.0.1:9';
    const server = startServer({
      STORAGE_CONNECTION_STRING: '',
      STORAGE_ACCOUNT_NAME: 'archiverstore',
      STORAGE_TABLE_ENDPOINT: refusing,
      STORAGE_BLOB_ENDPOINT: refusing,
      MANAGED_IDENTITY_CLIENT_ID: identity.clientId,
      // What App Service gives a web app with a managed identity.
      ...signin.managedIdentityEnvironment,
      PORT: '0',
      LOCAL_DEV_UNAUTHENTICATED: 'true',
    });
    try {
      const url = await server.listening;
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(503);
      const body = await res.text();
      expect(JSON.parse(body)).toEqual({ status: 'degraded', storage: 'unreachable' });
      expect(body).not.toContain('127.0.0.1:9');
      // The managed identity answered with a token: it was storage itself that could not be reached.
      expect(signin.stats()).toMatchObject({ tokensIssued: 1, refused: 0 });
    } finally {
      server.child.kill('SIGTERM');
      await signin.close();
    }
  });

  it("in Azure's configuration, answers ok once storage accepts the managed identity's token", async () => {
    const identity = { tenantId: '6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d', clientId: '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9', principalId: '5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716' };
    const signin = await startSigninEmulator({ managedIdentities: [identity] });
    // Azurite cannot check Entra tokens: a Table service stand-in that answers List Tables and
    // records who asked, so the test sees which token the health check presented.
    const seen: string[] = [];
    const tls = ensureLocalTls();
    const tableService = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      seen.push(`${req.method} ${req.url?.split('?')[0]} ${req.headers.authorization ?? ''}`);
      res.writeHead(200, { 'content-type': 'application/json;odata=nometadata' });
      res.end(JSON.stringify({ value: [] }));
    });
    await new Promise<void>((resolve) => tableService.listen(0, '127.0.0.1', resolve));
    const server = startServer({
      STORAGE_CONNECTION_STRING: '',
      STORAGE_ACCOUNT_NAME: 'archiverstore',
      // By address: the Tables SDK takes a bare "localhost" for the Cosmos DB emulator and asks for a Cosmos token.
      STORAGE_TABLE_ENDPOINT: `https://127.0.0.1:${(tableService.address() as AddressInfo).port}`,
      MANAGED_IDENTITY_CLIENT_ID: identity.clientId,
      ...signin.managedIdentityEnvironment,
      PORT: '0',
      LOCAL_DEV_UNAUTHENTICATED: 'true',
    });
    try {
      const url = await server.listening;
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
      expect(seen).toHaveLength(1);
      const [method, pathname, scheme, token] = seen[0].split(' ');
      expect([method, pathname, scheme]).toEqual(['GET', '/Tables', 'Bearer']);
      expect(decodeJwt(token)).toMatchObject({ aud: 'https://storage.azure.com', sub: identity.principalId, tid: identity.tenantId });
    } finally {
      server.child.kill('SIGTERM');
      await new Promise<void>((resolve) => tableService.close(() => resolve()));
      await signin.close();
    }
  });

  it('refuses to start on a broken configuration and says which variable is wrong', async () => {
    const server = startServer({ STORAGE_CONNECTION_STRING: '', STORAGE_ACCOUNT_NAME: '', PORT: 'x' });
    await expect(server.listening).rejects.toThrow(/PORT[\s\S]*STORAGE_CONNECTION_STRING/);
  });
});
