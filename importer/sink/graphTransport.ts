import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';

export interface GraphTransportOptions {
  /** Connections kept open to one host; more requests at once wait for one. */
  maxSockets?: number;
  /** A request with no bytes moving for this long fails (as fetch's own timeouts would). */
  idleTimeoutMs?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Answers up to this size (by Content-Length) are read whole; larger or unsized ones are streamed. */
const WHOLE_ANSWER_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 5;

/**
 * The Graph client's last middleware: sends each request over node:https on kept-alive, bounded
 * connections instead of fetch. On the bench day fetch cost about 1.2–1.7 ms of CPU a request and
 * opened a TLS connection every four requests (its idle sockets close after 3 s under Graph's
 * 5 s keep-alive); this costs about 0.2–0.3 ms and reuses the busiest connections first.
 * A failure without an answer rejects with the socket's error, which the sink treats as an unknown
 * outcome, as it did fetch's.
 */
export class GraphTransport implements Middleware {
  private readonly agents: { 'https:': https.Agent; 'http:': http.Agent };
  private readonly idleTimeoutMs: number;

  constructor(options: GraphTransportOptions = {}) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64, scheduling: 'lifo' as const };
    this.agents = { 'https:': new https.Agent(agentOptions), 'http:': new http.Agent(agentOptions) };
    this.idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  }

  async execute(context: Context): Promise<void> {
    if (typeof context.request !== 'string') {
      // The SDK passes URLs; a Request object (none of our calls makes one) goes the standard way.
      context.response = await fetch(context.request, context.options as RequestInit);
      return;
    }
    const options = context.options ?? {};
    const method = options.method ?? 'GET';
    const headers = headersOf(options.headers);
    let url = context.request;
    // Redirects are followed as fetch follows them, for reads only (none of our writes is redirected).
    for (let hops = 0; ; hops++) {
      const response = await this.send(url, method, headers, options.body ?? undefined, options.signal ?? undefined);
      const location = response.headers.get('location');
      if (!REDIRECTS.has(response.status) || !location || (method !== 'GET' && method !== 'HEAD') || options.redirect === 'manual' || hops >= MAX_REDIRECTS) {
        context.response = response;
        return;
      }
      // The redirect's own body is not wanted: read to its end, so its connection is free again.
      await response.body?.cancel();
      const next = new URL(location, url);
      // The token is for Graph: never sent on to another host.
      if (next.origin !== new URL(url).origin) delete headers.authorization;
      url = next.href;
    }
  }

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
        // A message's MIME (`$value`, up to 150 MB) is handed on as it arrives: held whole, four
        // read at once took the collector's resident set over its target. Small answers (JSON) are
        // read whole, which costs less CPU than a web stream.
        const length = Number(res.headers['content-length'] ?? NaN);
        if (!empty && !(length <= WHOLE_ANSWER_BYTES)) return resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, init));
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve(new Response(empty ? null : Buffer.concat(chunks), init)));
      });
      req.setTimeout(this.idleTimeoutMs, () => req.destroy(new Error(`No answer from ${target.host} for ${Math.round(this.idleTimeoutMs / 1000)} s`)));
      req.on('error', reject);
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
  throw new TypeError('The Graph transport sends strings, bytes and Blobs only.');
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
