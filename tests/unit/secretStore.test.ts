import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalSecretStore } from '../../importer/secrets/secretStore';

describe('local secret store', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ena-secrets-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives back what was stored, and keeps nothing in clear on disk', async () => {
    const store = new LocalSecretStore(path.join(dir, 'key'));
    await store.set('telemessage-password', 'Pa$$w0rd-ünïcode');
    expect(await new LocalSecretStore(path.join(dir, 'key')).get('telemessage-password')).toBe('Pa$$w0rd-ünïcode');
    for (const file of fs.readdirSync(dir)) {
      expect(fs.readFileSync(path.join(dir, file), 'utf8')).not.toContain('Pa$$w0rd');
      expect(fs.statSync(path.join(dir, file)).mode & 0o077).toBe(0);
    }
    expect(store.describe('telemessage-password')).not.toContain('Pa$$w0rd');
  });

  it('refuses a value moved to another name or tampered with, and another key', async () => {
    const store = new LocalSecretStore(path.join(dir, 'key'));
    await store.set('a', 'secret-a');
    const file = path.join(dir, 'secrets.json');
    const stored = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...stored, b: stored.a }));
    await expect(store.get('b')).rejects.toMatchObject({ code: 'SecretStoreCorrupt' });
    const flipped = stored.a.slice(0, -4) + (stored.a.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    fs.writeFileSync(file, JSON.stringify({ a: flipped }));
    await expect(store.get('a')).rejects.toMatchObject({ code: 'SecretStoreCorrupt' });
    fs.writeFileSync(file, JSON.stringify(stored));
    const otherKey = new LocalSecretStore(path.join(dir, 'other-key'), { read: async () => stored.a, write: async () => undefined });
    await expect(otherKey.get('a')).rejects.toMatchObject({ code: 'SecretStoreCorrupt' });
  });

  it('says plainly when no secret is stored', async () => {
    const store = new LocalSecretStore(path.join(dir, 'key'));
    await expect(store.get('missing')).rejects.toMatchObject({ code: 'SecretUnavailable', message: expect.stringContaining('missing') });
  });
});
