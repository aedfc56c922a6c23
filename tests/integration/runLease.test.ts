import { spawn } from 'node:child_process';
import path from 'node:path';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { startAzurite, type RunningAzurite } from '../../emulators/storage/azurite';
import { acquireRunLease } from '../../importer/state/runLease';

describe('run lease', () => {
  let azurite: RunningAzurite;
  let locks: ContainerClient;
  beforeAll(async () => {
    azurite = await startAzurite();
    locks = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('locks');
    await locks.createIfNotExists();
  });
  afterAll(() => azurite.stop());

  it('lets one run at a time hold a connector, and the next one in once it is released', async () => {
    const first = await acquireRunLease(locks, 'c1', { durationSeconds: 15 });
    await expect(acquireRunLease(locks, 'c1', { durationSeconds: 15 })).rejects.toMatchObject({ code: 'RunInProgress' });
    const other = await acquireRunLease(locks, 'c2', { durationSeconds: 15 });
    await first.release();
    const second = await acquireRunLease(locks, 'c1', { durationSeconds: 15 });
    expect(second.signal.aborted).toBe(false);
    await Promise.all([second.release(), other.release()]);
  });

  it('lets only one of many simultaneous starters win', async () => {
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => acquireRunLease(locks, 'c3', { durationSeconds: 15 })));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
  });

  it('is taken over once its holder was killed without releasing it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'support', 'holdRunLease.ts'), azurite.connectionString, 'c4'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('HELD') && resolve()));
    child.kill('SIGKILL');
    await expect(acquireRunLease(locks, 'c4', { durationSeconds: 15 })).rejects.toMatchObject({ code: 'RunInProgress' });
    // The dead holder renews nothing, so its 15 s lease runs out and the next run takes over.
    const deadline = Date.now() + 30_000;
    let lease;
    while (!lease && Date.now() < deadline) {
      lease = await acquireRunLease(locks, 'c4', { durationSeconds: 15 }).catch(() => undefined);
      if (!lease) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(lease).toBeDefined();
    await lease!.release();
  }, 45_000);
});
