import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';

// The sign-in emulator's HTTP answers, shaped as Entra ID's.

const MAX_FORM_BYTES = 64 * 1024;

export async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** An OAuth error body as Entra writes it: the AADSTS code in the description and in error_codes. */
export function oauthError(res: ServerResponse, status: number, error: string, code: number, description: string, headers: Record<string, string> = {}): void {
  const traceId = randomUUID();
  json(
    res,
    status,
    {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId}`,
      error_codes: [code],
      timestamp: new Date().toISOString(),
      trace_id: traceId,
      correlation_id: randomUUID(),
    },
    headers,
  );
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}
