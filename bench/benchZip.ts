// `npm run bench:zip`: the importer's memory while one ZIP of about 2 GB (as TeleMessage's SFTP
// delivery writes them) is checked and streamed into the raw store and the inbox.
//   npm run bench:zip -- [--gigabytes 2]
// The ZIP is generated from the emulator's traffic (a day of items with ten attachments of
// 150 MiB), deflated, into an Azurite on disk. The collector then runs in a process of its own with
// the flags and environment production gives the server; it reports its peak resident set
// (VmHWM) and its resident set once loaded, before the ZIP is touched.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startAzurite } from '../emulators/storage/azurite';
import { createPopulation } from '../emulators/telemessage/population';
import { renderRawMessage } from '../emulators/telemessage/rfc822';
import { TrafficModel } from '../emulators/telemessage/traffic';
import { dropZips } from '../emulators/telemessage/zipDrop';
import { openStores } from '../importer/run/importerStores';
import { SftpZipCollector } from '../importer/source/sftp/sftpZipCollector';
import { StorageAccount } from '../importer/state/storageAccount';
import { NODE_RUNTIME_ENV, NODE_RUNTIME_FLAGS } from '../server/runtimeEnv';

const MIB = 1024 * 1024;
const RESULT = 'BENCH_ZIP_RESULT ';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function peakRssMib(): { rss: number; hwm: number } {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kib = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

/** The collector's side: one collection of the landing container. */
async function collect(connectionString: string, tmpDir: string): Promise<void> {
  const storage = new StorageAccount({ connectionString });
  const stores = await openStores(storage, { tmpDir });
  const container = await storage.container('telemessage');
  const loaded = peakRssMib();
  const started = Date.now();
  const collector = new SftpZipCollector({ connectorId: 'bench', container, raw: stores.raw, inbox: stores.inbox, zips: stores.landingZips, log: quiet, pause: async () => undefined });
  const report = await collector.collect({ now: () => new Date() });
  const after = peakRssMib();
  process.stdout.write(
    `${RESULT}${JSON.stringify({ collected: report.collected, rejected: report.rejected, seconds: (Date.now() - started) / 1000, loadedRssMib: loaded.rss, peakRssMib: after.hwm })}\n`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { gigabytes: { type: 'string' }, collect: { type: 'string' }, tmp: { type: 'string' } } });
  if (values.collect) return collect(values.collect, values.tmp!);
  const gigabytes = Number(values.gigabytes ?? 2);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ena-benchzip-'));
  const azurite = await startAzurite({ inMemory: false, location: path.join(work, 'azurite') });
  try {
    const container = await new StorageAccount({ connectionString: azurite.connectionString }).container('telemessage');
    const seed = 'benchzip';
    // A 150 MiB attachment is about 205 MiB of EML in base64; the rest of the day is about 450 MiB.
    const hugeCount = Math.max(1, Math.round((gigabytes * 1024 - 450) / 205));
    const model = new TrafficModel(seed, createPopulation({ seed, employees: 50 }), { itemsPerDay: 1500, hugeAttachments: Array.from({ length: hugeCount }, () => 150 * MIB) });
    const day = '2026-11-24';
    const items = Array.from({ length: model.itemsPerDay }, (_, i) => {
      const item = model.item(day, i);
      return { id: item.id, raw: renderRawMessage(item, seed) };
    });
    const emlBytes = items.reduce((n, i) => n + i.raw.size, 0);
    process.stdout.write(`bench:zip: writing one ZIP of ${items.length} EMLs, ${(emlBytes / MIB).toFixed(0)} MiB of EML...\n`);
    const [zip] = await dropZips(container, items, { maxItemsPerZip: items.length, maxBytesPerZip: Number.MAX_SAFE_INTEGER });
    const props = await container.getBlobClient(zip.name).getProperties();
    process.stdout.write(`bench:zip: ${zip.name}, ${((props.contentLength ?? 0) / MIB).toFixed(0)} MiB; collecting it...\n`);

    const child = spawn(process.execPath, [...NODE_RUNTIME_FLAGS, '--import', 'tsx', __filename, '--collect', azurite.connectionString, '--tmp', work], {
      env: { ...process.env, ...NODE_RUNTIME_ENV },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const line = out.split('\n').find((l) => l.startsWith(RESULT));
    if (code !== 0 || !line) throw new Error(`the collector failed (exit ${code}):\n${out}`);
    const result = JSON.parse(line.slice(RESULT.length));
    process.stdout.write(
      `bench:zip: ${result.collected} items collected in ${result.seconds.toFixed(0)} s; peak RSS ${result.peakRssMib.toFixed(0)} MiB (${result.loadedRssMib.toFixed(0)} MiB once loaded, before the ZIP)\n`,
    );
  } finally {
    await azurite.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
