import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzurite, type RunningAzurite } from '../../emulators/storage/azurite';
import { StorageAccount } from '../../importer/state/storageAccount';
import { RawStore, sha256Of } from '../../importer/stage/rawStore';

describe('raw store', () => {
  let azurite: RunningAzurite;
  let store: RawStore;
  let tmpDir: string;
  beforeAll(async () => {
    azurite = await startAzurite();
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ena-raw-'));
    const container = await new StorageAccount({ connectionString: azurite.connectionString }).container('raw');
    store = new RawStore(container, { memoryLimitBytes: 1024, tmpDir });
  });
  afterAll(async () => {
    await azurite.stop();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  });

  it('keeps an item under its SHA-256, once, and gives the same bytes back', async () => {
    const small = Buffer.from('From: a\r\nSubject: hi\r\n\r\nhello\r\n');
    const first = await store.stage(Readable.from([small]), { expectedSize: small.length });
    expect(first).toEqual({ sha256: sha256Of(small), size: small.length, alreadyStored: false });
    const again = await store.stage(Readable.from([small]), { expectedSize: small.length });
    expect(again.alreadyStored).toBe(true);
    expect(await store.hashOf(first.sha256)).toBe(first.sha256);
  });

  it('streams large items through a temporary file, and leaves no temporary file behind', async () => {
    const big = randomBytes(5 * 1024 * 1024 + 17);
    const chunks = Array.from({ length: Math.ceil(big.length / 65536) }, (_, i) => big.subarray(i * 65536, (i + 1) * 65536));
    const staged = await store.stage(Readable.from(chunks), { expectedSize: big.length });
    expect(staged.sha256).toBe(sha256Of(big));
    expect(await store.hashOf(staged.sha256)).toBe(sha256Of(big));
    expect(fs.readdirSync(tmpDir)).toEqual([]);
  });

  it('refuses a download cut short, keeping nothing', async () => {
    const part = randomBytes(3000);
    await expect(store.stage(Readable.from([part]), { expectedSize: 4000 })).rejects.toMatchObject({ code: 'SourceUnavailable' });
    expect(await store.hashOf(sha256Of(part))).toBeUndefined();
    const broken = new Readable({
      read() {
        this.destroy(new Error('socket hang up'));
      },
    });
    await expect(store.stage(broken, { expectedSize: 50_000 })).rejects.toThrow(/socket hang up/);
    expect(fs.readdirSync(tmpDir)).toEqual([]);
  });

  it('says that this storage does not support immutability, rather than pretending', async () => {
    const staged = await store.stage(Readable.from([Buffer.from('x')]), { expectedSize: 1 });
    expect(await store.describeImmutability(staged.sha256)).toMatch(/not supported by this storage \(it answered 501/);
  });
});
