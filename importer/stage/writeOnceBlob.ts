import http from 'node:http';
import https from 'node:https';
import { StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import { RetryPolicy, parseRetryAfter, type FailureClass } from '../retryPolicy';
import { tokenCache } from '../tokenCache';
import { STORAGE_SCOPE, StorageAnswerError } from '../storageAnswer';

/** The Blob service version the requests speak (the SDK's own is newer; this one Azurite and Azure both take). */
const SERVICE_VERSION = '2024-11-04';

/**
 * Put Blob with If-None-Match: * for one raw item held in memory, sent on a kept-alive connection
 * and signed here (Shared Key, or the managed identity's bearer token), not through the SDK's
 * pipeline. Every item is written once: through the SDK that request cost about 0.8 ms of CPU,
 * mostly its policies and response mappers; this costs a fifth of it. Transient failures are
 * retried by the one retry policy: a repeat of a write that landed answers 409, which is success.
 */
export class WriteOnceBlob {
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  private constructor(
    private readonly containerUrl: URL,
    private readonly authorize: (headers: Record<string, string>, url: URL, length: number) => Promise<void>,
    private readonly retry: RetryPolicy,
  ) {
    const secure = containerUrl.protocol === 'https:';
    this.transport = secure ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 32, scheduling: 'lifo' });
  }

  /** For a container reached with a shared key or a token credential; undefined otherwise (a SAS URL: the SDK writes). */
  static for(container: ContainerClient, retry = new RetryPolicy({ maxAttempts: 4 })): WriteOnceBlob | undefined {
    const url = new URL(container.url);
    if (url.search) return undefined;
    const credential = container.credential;
    if (credential instanceof StorageSharedKeyCredential) {
      return new WriteOnceBlob(url, async (headers, target, length) => sharedKey(credential, headers, target, length), retry);
    }
    if (typeof (credential as Partial<TokenCredential>).getToken === 'function') {
      const token = tokenCache(credential as TokenCredential, STORAGE_SCOPE);
      return new WriteOnceBlob(url, async (headers) => void (headers.authorization = `Bearer ${await token()}`), retry);
    }
    return undefined;
  }

  /** Writes `data` as blob `name` unless it exists: true when it was already there. */
  async put(name: string, data: Buffer, contentType: string, signal?: AbortSignal): Promise<boolean> {
    const target = new URL(`${this.containerUrl.pathname.replace(/\/$/, '')}/${encodeURIComponent(name)}`, this.containerUrl);
    return this.retry.run(
      async () => {
        const status = await this.send(target, data, contentType, signal);
        return status === 409 || status === 412;
      },
      classify,
      { abortSignal: signal },
    );
  }

  private async send(target: URL, data: Buffer, contentType: string, signal?: AbortSignal): Promise<number> {
    const headers: Record<string, string> = {
      'x-ms-date': new Date().toUTCString(),
      'x-ms-version': SERVICE_VERSION,
      'x-ms-blob-type': 'BlockBlob',
      'x-ms-blob-content-type': contentType,
      'content-length': String(data.length),
      'if-none-match': '*',
    };
    await this.authorize(headers, target, data.length);
    return new Promise<number>((resolve, reject) => {
      const req = this.transport.request(target, { method: 'PUT', headers, agent: this.agent, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status === 201 || status === 409 || status === 412) return resolve(status);
          const code = String(res.headers['x-ms-error-code'] ?? '');
          const retryAfter = parseRetryAfter(res.headers['retry-after'] as string | undefined);
          reject(new StorageAnswerError(status, code, `Blob Storage answered ${status} ${code} to the raw item's write: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`, retryAfter));
        });
      });
      req.setTimeout(120_000, () => req.destroy(new Error("Blob Storage did not answer the raw item's write within 120 s")));
      req.on('error', reject);
      req.end(data);
    });
  }
}

/** Throttling, a server error or no answer: the write is repeated (safe, see above); anything else is final. */
function classify(error: unknown): FailureClass {
  if ((error as { name?: string }).name === 'AbortError') return { kind: 'fatal' };
  if (!(error instanceof StorageAnswerError)) return { kind: 'retry' };
  const s = error.statusCode;
  return s === 408 || s === 429 || s >= 500 ? { kind: 'retry', retryAfterMs: error.retryAfterMs } : { kind: 'fatal' };
}

/** The Shared Key signature of a Put Blob (learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key). */
function sharedKey(credential: StorageSharedKeyCredential, headers: Record<string, string>, target: URL, length: number): void {
  const canonicalHeaders = Object.keys(headers)
    .filter((name) => name.startsWith('x-ms-'))
    .sort()
    .map((name) => `${name}:${headers[name].trim()}\n`)
    .join('');
  const stringToSign = [
    'PUT',
    '', // Content-Encoding
    '', // Content-Language
    length > 0 ? String(length) : '',
    '', // Content-MD5
    headers['content-type'] ?? '',
    '', // Date (x-ms-date is signed instead)
    '', // If-Modified-Since
    '', // If-Match
    headers['if-none-match'] ?? '',
    '', // If-Unmodified-Since
    '', // Range
  ].join('\n');
  const resource = `/${credential.accountName}${target.pathname}`;
  headers.authorization = `SharedKey ${credential.accountName}:${credential.computeHMACSHA256(`${stringToSign}\n${canonicalHeaders}${resource}`)}`;
}
