import { startAzurite, type RunningAzurite } from '../../emulators/storage/azurite';
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

  it('refuses to start on a broken configuration and says which variable is wrong', async () => {
    const server = startServer({ STORAGE_CONNECTION_STRING: '', STORAGE_ACCOUNT_NAME: '', PORT: 'x' });
    await expect(server.listening).rejects.toThrow(/PORT[\s\S]*STORAGE_CONNECTION_STRING/);
  });
});
