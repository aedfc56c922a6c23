import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

export interface KeptAliveHttpOptions {
  /** Connections kept open to one host; more requests at once wait for one. */
  maxSockets?: number;
  /** A request with no bytes moving for this long fails (as fetch's own timeouts would). */
  idleTimeoutMs?: number;
  /**
   * Answers up to this size (by Content-Length) are read whole before the Response is handed
   * over; larger or unsized ones are streamed. 0 streams every answer, for a caller that watches
   * a body's flow itself (a download's idle timeout, a transfer cut short).
   */
  wholeAnswerBytes?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * fetch's answer for the requests the importer makes (a URL, a method, headers, a string, bytes
 * or a Blob body, a signal), sent over node:http(s) on kept-alive, bounded connections. fetch
 * costs about twice the CPU a request (its Request, Headers and web streams; on the bench day
 * it opened a TLS connection every four Graph requests too, its idle sockets closing after 3 s).
 * A failure without an answer rejects with the socket's error, as fetch's does; a body cut short
 * errors the Response's stream.
 */
export class KeptAliveHttp {
  private readonly agents: { 'https:': https.Agent; 'http:': http.Agent };
  private readonly idleTimeoutMs: number;
  private readonly wholeAnswerBytes: number;

  constructor(options: KeptAliveHttpOptions = {}) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64, scheduling: 'lifo' as const };
    this.agents = { 'https:': new https.Agent(agentOptions), 'http:': new http.Agent(agentOptions) };
    this.idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
    this.wholeAnswerBytes = options.wholeAnswerBytes ?? 1024 * 1024;
  }

  /** fetch's signature; a Request object (none of our calls makes one) goes to fetch itself. */
  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (input instanceof Request) return fetch(input, init);
    const method = init.method ?? 'GET';
    const headers = headersOf(init.headers);
    let url = String(input);
    // Redirects are followed as fetch follows them, for reads only (none of our writes is redirected).
    for (let hops = 0; ; hops++) {
      const response = await this.send(url, method, headers, init.body ?? undefined, init.signal ?? undefined);
      const location = response.headers.get('location');
      if (!REDIRECTS.has(response.status) || !location || (method !== 'GET' && method !== 'HEAD') || init.redirect === 'manual' || hops >= MAX_REDIRECTS) return response;
      // The redirect's own body is not wanted: read to its end, so its connection is free again.
      await response.body?.cancel();
      const next = new URL(location, url);
      // A token is for the host it was meant for: never sent on to another.
      if (next.origin !== new URL(url).origin) delete headers.authorization;
      url = next.href;
    }
  };

  private send(url: string, method: string, headers: Record<string, string>, body: unknown, signal: AbortSignal | undefined): Promise<Response> {
    const target = new URL(url);
    const agent = target.protocol === 'http:' ? this.agents['http:'] : this.agents['https:'];
    const transport = target.protocol === 'http:' ? http : https;
    const payload = bodyOf(body);
    if (payload) headers['content-length'] = String(payload.length);
    return new Promise<Response>((resolve, reject) => {
      const req = transport.request(target, { method, headers, agent, signal }, (res) => {
        const status = res.statusCode ?? 0;
        const init = { status, statusText: res.statusMessage, headers: responseHeaders(res.rawHeaders) };
        const empty = status === 204 || status === 304 || method === 'HEAD';
        // A large answer (a message's MIME, up to 150 MB) is handed on as it arrives: held whole,
        // four read at once took the collector's resident set over its target. Small answers
        // (JSON) are read whole, which costs less CPU than a web stream.
        const length = Number(res.headers['content-length'] ?? NaN);
        if (!empty && !(length <= this.wholeAnswerBytes)) return resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, init));
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => reject(signal?.aborted ? signal.reason : error));
        res.on('end', () => resolve(new Response(empty ? null : Buffer.concat(chunks), init)));
      });
      req.setTimeout(this.idleTimeoutMs, () => req.destroy(new Error(`No answer from ${target.host} for ${Math.round(this.idleTimeoutMs / 1000)} s`)));
      // As fetch does, an aborted request rejects with the signal's reason.
      req.on('error', (error) => reject(signal?.aborted ? signal.reason : error));
      if (!payload) req.end();
      else if (payload.blob) void writeBlob(req, payload.blob).catch((error: unknown) => req.destroy(error as Error));
      else req.end(payload.bytes);
    });
  }
}

type Payload = { length: number; bytes: Buffer | string; blob?: undefined } | { length: number; blob: Blob; bytes?: undefined };

function bodyOf(body: unknown): Payload | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return { length: Buffer.byteLength(body), bytes: body };
  if (body instanceof Blob) return { length: body.size, blob: body };
  if (body instanceof Uint8Array) return { length: body.byteLength, bytes: Buffer.from(body.buffer, body.byteOffset, body.byteLength) };
  if (body instanceof ArrayBuffer) return { length: body.byteLength, bytes: Buffer.from(body) };
  throw new TypeError('The kept-alive transport sends strings, bytes and Blobs only.');
}

const WHOLE_BLOB_BYTES = 256 * 1024;

/**
 * Writes a Blob body: a small one copied in one piece (cheaper than a web stream), a larger one
 * streamed a part at a time, since the sink's bodies splice one shared base64 encoding into every
 * delivery of an item and reading them whole would copy it per request.
 */
async function writeBlob(req: http.ClientRequest, blob: Blob): Promise<void> {
  if (blob.size <= WHOLE_BLOB_BYTES) return void req.end(Buffer.from(await blob.arrayBuffer()));
  for await (const chunk of blob.stream() as unknown as AsyncIterable<Uint8Array>) {
    if (req.destroyed) return;
    if (!req.write(chunk)) await drained(req);
  }
  req.end();
}

/** Resolves when the request can take more, or is closed. */
function drained(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done).on('close', done);
  });
}

function headersOf(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  if (headers instanceof Headers) headers.forEach((value, name) => (out[name] = value));
  else for (const [name, value] of Array.isArray(headers) ? (headers as [string, string][]) : Object.entries(headers as Record<string, string>)) out[name.toLowerCase()] = String(value);
  return out;
}

function responseHeaders(raw: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
  return pairs;
}
