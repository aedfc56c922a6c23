import type { Identity } from './accessTokens';
import { badRequest, GraphError, RequestIds } from './graphError';
import { GraphPipeline, Outcome } from './graphPipeline';
import { errorResponse, GraphResponse, jsonResponse } from './httpIo';

/**
 * JSON batching ($batch): up to 20 requests, run concurrently unless ordered by dependsOn, each
 * through the same pipeline as a lone request, so inner requests can be throttled (429 inside a
 * 200 batch response) or fail on their own. A request whose dependency failed gets 424. As Graph
 * does, at most four Outlook requests of one mailbox go to the service at a time; the rest wait.
 */
export const MAX_BATCH_REQUESTS = 20;
/** Graph hands a batch's Outlook requests for one mailbox to the service at most four at a time. */
export const MAX_CONCURRENT_PER_MAILBOX = 4;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

interface BatchItemResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

function parseItems(body: unknown): BatchItem[] {
  const requests = (body as { requests?: unknown } | undefined)?.requests;
  if (!Array.isArray(requests)) throw badRequest("The batch body needs a 'requests' array.", 'BadRequest');
  if (requests.length > MAX_BATCH_REQUESTS) {
    throw badRequest(`A batch can hold at most ${MAX_BATCH_REQUESTS} requests; this one has ${requests.length}.`, 'BadRequest');
  }
  const items = requests.map((raw: unknown): BatchItem => {
    const r = (raw ?? {}) as Record<string, unknown>;
    if (typeof r.id !== 'string' || typeof r.method !== 'string' || typeof r.url !== 'string') {
      throw badRequest("Every batch request needs string 'id', 'method' and 'url'.", 'BadRequest');
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries((r.headers ?? {}) as Record<string, unknown>)) headers[name.toLowerCase()] = String(value);
    const dependsOn = r.dependsOn === undefined ? [] : r.dependsOn;
    if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string')) {
      throw badRequest(`'dependsOn' of request '${r.id}' must be an array of request ids.`, 'BadRequest');
    }
    return { id: r.id, method: r.method.toUpperCase(), url: r.url, headers, body: r.body, dependsOn };
  });
  const ids = new Set(items.map((i) => i.id));
  if (ids.size !== items.length) throw badRequest('Request ids in a batch must be unique.', 'BadRequest');
  for (const item of items) {
    const missing = item.dependsOn.find((d) => !ids.has(d));
    if (missing) throw badRequest(`Request '${item.id}' depends on '${missing}', which is not in the batch.`, 'BadRequest');
  }
  rejectCycles(items);
  return items;
}

function rejectCycles(items: BatchItem[]): void {
  const byId = new Map(items.map((i) => [i.id, i]));
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (id: string) => {
    if (done.has(id)) return;
    if (visiting.has(id)) throw badRequest(`The dependsOn chain through '${id}' forms a cycle.`, 'BadRequest');
    visiting.add(id);
    for (const dependency of byId.get(id)?.dependsOn ?? []) visit(dependency);
    visiting.delete(id);
    done.add(id);
  };
  items.forEach((item) => visit(item.id));
}

export interface BatchResult {
  response: GraphResponse;
  /** An inner write had its response lost: the whole batch response goes with it. */
  loseResponse: boolean;
}

export async function runBatch(pipeline: GraphPipeline, body: unknown, identity: Identity, ids: RequestIds): Promise<BatchResult> {
  const items = parseItems(body);
  const responses: BatchItemResponse[] = [];
  const finished = new Map<string, Promise<number>>();
  let loseResponse = false;

  const record = (id: string, result: GraphResponse): number => {
    if (result.stream) return record(id, errorResponse(new GraphError(501, 'NotImplemented', 'The emulator does not return streamed content ($value) inside $batch.'), ids));
    responses.push({ id, status: result.status, headers: result.headers, ...(result.body !== undefined && { body: result.body }) });
    return result.status;
  };
  const refuse = (id: string, error: GraphError) => Promise.resolve(record(id, errorResponse(error, ids)));
  const gates = new Map<string, MailboxGate>();
  const gateFor = (path: string) => {
    const mailbox = pipeline.mailboxOf(path);
    if (mailbox === undefined) return undefined;
    let gate = gates.get(mailbox);
    if (!gate) gates.set(mailbox, (gate = new MailboxGate(MAX_CONCURRENT_PER_MAILBOX)));
    return gate;
  };

  const execute = (item: BatchItem): Promise<number> => {
    if (/^https?:/i.test(item.url) || /^\/?\$batch/i.test(item.url)) {
      return refuse(item.id, badRequest('Batch requests must use relative URLs to Graph resources.', 'BadRequest'));
    }
    if (item.body !== undefined && !item.headers['content-type']) {
      return refuse(item.id, badRequest(`Write request id : ${item.id} does not contain Content-Type header or body.`, 'BadRequest'));
    }
    const url = new URL(item.url.replace(/^\/?/, '/'), 'https://batch.invalid');
    const request = {
      method: item.method,
      path: url.pathname,
      params: url.searchParams,
      body: item.body,
      prefer: item.headers.prefer,
      bodyBytes: item.body === undefined ? 0 : Buffer.byteLength(JSON.stringify(item.body)),
    };
    const gate = gateFor(url.pathname);
    const dispatch = () => pipeline.dispatch(request, identity, ids, false);
    return (gate ? gate.run(dispatch) : dispatch()).then((outcome: Outcome) => {
      // Timeouts are whole-connection faults and never chosen for inner requests.
      if (outcome.kind !== 'response') throw new Error('an inner batch request cannot time out');
      loseResponse ||= outcome.loseResponse;
      return record(item.id, outcome.response);
    });
  };

  const schedule = (item: BatchItem): Promise<number> => {
    const known = finished.get(item.id);
    if (known) return known;
    const dependencies = item.dependsOn.map((id) => schedule(items.find((i) => i.id === id) as BatchItem));
    // Requests without dependencies start at once, together, as Graph runs them.
    const promise =
      dependencies.length === 0
        ? execute(item)
        : Promise.all(dependencies).then((statuses) =>
            statuses.every((s) => s < 400) ? execute(item) : refuse(item.id, new GraphError(424, 'FailedDependency', 'A request this one depends on failed.')),
          );
    finished.set(item.id, promise);
    return promise;
  };

  await Promise.all(items.map(schedule));
  return { response: jsonResponse(200, { responses }), loseResponse };
}

/** Lets `limit` requests through at once; the rest wait their turn in order. */
class MailboxGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
