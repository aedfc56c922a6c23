import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GraphError, graphErrorBody, RequestIds } from './graphError';

/** Reading requests and writing responses the way Graph frames them. */
export const JSON_CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** Graph refuses request bodies over 4 MB. */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  /** A body streamed as it is read (a message's MIME), sent chunked; instead of `body`. */
  stream?: () => Readable;
}

export function requestIds(req: IncomingMessage): RequestIds {
  const requestId = crypto.randomUUID();
  const clientRequestId = req.headers['client-request-id'];
  return { requestId, clientRequestId: typeof clientRequestId === 'string' ? clientRequestId : requestId };
}

export const tooLarge = () => new GraphError(413, 'ErrorRequestEntityTooLarge', 'The request is larger than the 4 MB Graph allows; use an upload session for large attachments.');

/** Reads the whole body; past `limit` the rest is drained and the request refused with 413. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length <= limit) chunks.push(chunk);
  }
  if (length > limit) throw tooLarge();
  return Buffer.concat(chunks);
}

export const unreadableJson = () => new GraphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');

export function parseJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw unreadableJson();
  }
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): GraphResponse {
  return { status, headers: { 'Content-Type': JSON_CONTENT_TYPE, ...headers }, body };
}

export function errorResponse(error: GraphError, ids: RequestIds): GraphResponse {
  return jsonResponse(error.status, graphErrorBody(error.code, error.message, ids), error.headers);
}

/** Unexpected failures become a 500 in Graph's shape rather than a dropped connection. */
export function asGraphError(error: unknown): GraphError {
  return error instanceof GraphError ? error : new GraphError(500, 'InternalServerError', (error as Error).message ?? 'Internal error');
}

export function send(res: ServerResponse, response: GraphResponse, ids: RequestIds): void {
  const headers: Record<string, string> = {
    'request-id': ids.requestId,
    'client-request-id': ids.clientRequestId,
    ...response.headers,
  };
  if (response.stream) {
    // No Content-Length: Graph sends $value chunked. A client that goes away ends the stream.
    res.writeHead(response.status, headers);
    pipeline(response.stream(), res).catch(() => res.destroy());
    return;
  }
  if (response.body === undefined) {
    // 204 carries no Content-Length at all; other empty answers (the upload's 201) say 0.
    res.writeHead(response.status, response.status === 204 ? headers : { ...headers, 'Content-Length': '0' });
    res.end();
    return;
  }
  const payload = Buffer.from(JSON.stringify(response.body));
  res.writeHead(response.status, { ...headers, 'Content-Length': String(payload.length) });
  res.end(payload);
}
