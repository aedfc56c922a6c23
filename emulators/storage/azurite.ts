import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/**
 * Azurite, started from node_modules, as the local Azure Storage (Tables and Blobs). The product
 * only ever sees the connection string; pointing it at a real account is the production change.
 */
export interface AzuriteOptions {
  /** Keep data only in memory (tests). Otherwise data persists under `location`. */
  inMemory?: boolean;
  location?: string;
  /** 0 (default) picks free ports. */
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  /** Extent memory cap in MB for in-memory mode, so big blobs in tests stay bounded. */
  extentMemoryLimitMb?: number;
  /**
   * In a process group of its own, so a terminal's Ctrl-C reaches only the parent, which stops
   * it when nothing needs storage any more (`npm start`).
   */
  ownProcessGroup?: boolean;
}

export interface RunningAzurite {
  connectionString: string;
  blobEndpoint: string;
  tableEndpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

// The well-known development account every Azure Storage emulator accepts; not a secret.
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const AZURITE_MAIN = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
const LISTENING = /Azurite (Blob|Queue|Table) service is successfully listening at (http:\/\/\S+)/;

export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const args = [
    AZURITE_MAIN,
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--silent',
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(options.blobPort ?? 0),
    '--queueHost',
    '127.0.0.1',
    '--queuePort',
    String(options.queuePort ?? 0),
    '--tableHost',
    '127.0.0.1',
    '--tablePort',
    String(options.tablePort ?? 0),
  ];
  if (options.inMemory ?? true) {
    args.push('--inMemoryPersistence');
    if (options.extentMemoryLimitMb) args.push('--extentMemoryLimit', String(options.extentMemoryLimitMb));
  } else {
    args.push('--location', options.location ?? path.resolve('.local', 'azurite'));
  }
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownProcessGroup });
  const endpoints = await new Promise<Record<string, string>>((resolve, reject) => {
    const found: Record<string, string> = {};
    let output = '';
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within 30 s:\n${output}`)), 30_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const onEarlyExit = (code: number | null) => fail(new Error(`Azurite exited with code ${code} before listening:\n${output}`));
    child.once('exit', onEarlyExit);
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      for (const line of output.split('\n')) {
        const m = line.match(LISTENING);
        if (m) found[m[1]] = m[2];
      }
      if (found.Blob && found.Queue && found.Table) {
        clearTimeout(timer);
        child.removeListener('exit', onEarlyExit);
        resolve(found);
      }
    });
  });
  // Drain the pipes so Azurite never blocks on a full buffer.
  child.stdout!.resume();
  child.stderr!.resume();

  const blobEndpoint = `${endpoints.Blob}/${DEV_ACCOUNT}`;
  const tableEndpoint = `${endpoints.Table}/${DEV_ACCOUNT}`;
  const queueEndpoint = `${endpoints.Queue}/${DEV_ACCOUNT}`;
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};TableEndpoint=${tableEndpoint};`,
    blobEndpoint,
    tableEndpoint,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}
