import type { Request, Response } from 'restify';
import type { z } from 'zod';
import type { Importer, RunLogger } from '../../importer';
import type { TabCaller } from './userToken';

/** What the tab API lends the routes mounted from each file: its checks and its way of answering. */
export interface RouteKit {
  importer: Importer;
  log: RunLogger;
  route(handler: (req: Request, res: Response, caller: TabCaller) => Promise<void>): (req: Request, res: Response) => Promise<void>;
  ifMatch(req: Request): string;
  jsonBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.output<S>>;
  parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S>;
  query(req: Request): Record<string, unknown>;
  /** Aborted when the server stops: reads and checks in flight are abandoned. */
  signal: AbortSignal;
}

/** A refusal with its HTTP status and a stable code; the message is what the admin reads. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Streams CSV lines as a download; the first line is read before the headers go, so a missing run or version is still a 404. */
export async function streamCsv(res: Response, filename: string, lines: AsyncIterable<string>): Promise<void> {
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"`, 'cache-control': 'no-store' });
  if (!first.done) res.write(first.value);
  for (let line = await iterator.next(); !line.done; line = await iterator.next()) {
    if (!res.write(line.value)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}
