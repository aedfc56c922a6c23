import type { Request } from 'restify';

/** A request body over its route's cap: refused with 413 before it is read whole. */
export class BodyTooLarge extends Error {
  readonly code = 'PayloadTooLarge';
  constructor(readonly limit: number) {
    super(`The upload is larger than ${formatBytes(limit)}, the most this accepts.`);
  }
}

/** Reads the body as it streams and stops at `limit` bytes; a declared Content-Length over it is refused unread. */
export async function readCappedBody(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new BodyTooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw new BodyTooLarge(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KB`;
}
