import type { Client } from '@microsoft/microsoft-graph-client';
import { RetryPolicy, parseRetryAfter, sleep, type FailureClass } from '../retryPolicy';

/** A Microsoft 365 user a mapping may name. */
export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  mail?: string;
}

/** A person as the tab names them: who an object id is. */
export interface DirectoryPerson {
  id: string;
  displayName?: string;
  userPrincipalName: string;
  mail?: string;
}

export interface DirectoryCheck {
  /** Lower-cased address -> the user it names (by user principal name, else by mail). */
  known: Map<string, DirectoryUser>;
  unknown: Set<string>;
  /** HTTP requests sent to Graph, and the directory queries they carried. */
  requests: number;
  queries: number;
}

/** Graph takes 15 values in one `in` (its default limit on a filter's expressions) and 20 requests in one `$batch`. */
const IN_VALUES = 15;
const BATCH_REQUESTS = 20;
/** Batches in flight at once. */
const CONCURRENT_BATCHES = 4;

interface BatchResponse {
  responses: { id: string; status: number; headers?: Record<string, string>; body?: { value?: DirectoryUser[] } }[];
}

/**
 * Checks that mailboxes are Microsoft 365 users with as few requests as the directory allows:
 * 15 addresses to a `$filter=userPrincipalName in (…)` query, 20 queries to a `$batch`, so 300
 * addresses per request; the addresses that are no user principal name are asked again by
 * `mail`. An inner 429 is asked again after its Retry-After; every request goes through the one
 * retry policy.
 */
export class MailboxDirectory {
  private readonly retry: RetryPolicy;

  constructor(
    private readonly client: Client,
    options: { retry?: RetryPolicy } = {},
  ) {
    this.retry = options.retry ?? new RetryPolicy();
  }

  async check(addresses: Iterable<string>, options: { abortSignal?: AbortSignal } = {}): Promise<DirectoryCheck> {
    const wanted = [...new Set([...addresses].map((a) => a.toLowerCase()))];
    const result: DirectoryCheck = { known: new Map(), unknown: new Set(), requests: 0, queries: 0 };
    const byUpn = await this.lookUp('userPrincipalName', wanted, result, options.abortSignal);
    const rest = wanted.filter((a) => !byUpn.has(a));
    const byMail = await this.lookUp('mail', rest, result, options.abortSignal);
    for (const address of wanted) {
      const user = byUpn.get(address) ?? byMail.get(address);
      if (user) result.known.set(address, user);
      else result.unknown.add(address);
    }
    return result;
  }

  /**
   * People by object id or user principal name, one `GET /users/{id|upn}` each (an admins list is
   * short); one Graph does not know is left out of the answer, not an error.
   */
  async people(refs: Iterable<string>, options: { abortSignal?: AbortSignal } = {}): Promise<Map<string, DirectoryPerson>> {
    const wanted = [...new Set([...refs].map((r) => r.trim().toLowerCase()).filter(Boolean))];
    const found = new Map<string, DirectoryPerson>();
    for (let i = 0; i < wanted.length; i += CONCURRENT_BATCHES) {
      await Promise.all(
        wanted.slice(i, i + CONCURRENT_BATCHES).map(async (ref) => {
          const person = await this.retry
            .run(
              () =>
                this.client
                  .api(`/users/${encodeURIComponent(ref)}`)
                  .select('id,displayName,userPrincipalName,mail')
                  .get() as Promise<DirectoryPerson>,
              classify,
              options,
            )
            .catch((err: { statusCode?: number }) => {
              if (err.statusCode === 404 || err.statusCode === 400) return undefined;
              throw err;
            });
          if (person) found.set(ref, person);
        }),
      );
    }
    return found;
  }

  private async lookUp(property: 'userPrincipalName' | 'mail', addresses: string[], tally: DirectoryCheck, signal?: AbortSignal): Promise<Map<string, DirectoryUser>> {
    const found = new Map<string, DirectoryUser>();
    let queries: string[][] = [];
    for (let i = 0; i < addresses.length; i += IN_VALUES) queries.push(addresses.slice(i, i + IN_VALUES));
    while (queries.length) {
      const batches: string[][][] = [];
      for (let i = 0; i < queries.length; i += BATCH_REQUESTS) batches.push(queries.slice(i, i + BATCH_REQUESTS));
      const again: string[][] = [];
      let waitMs = 0;
      for (let i = 0; i < batches.length; i += CONCURRENT_BATCHES) {
        await Promise.all(
          batches.slice(i, i + CONCURRENT_BATCHES).map(async (batch) => {
            const res = await this.send(property, batch, tally, signal);
            for (const r of res.responses) {
              const query = batch[Number(r.id)];
              if (r.status === 200) {
                for (const user of r.body?.value ?? []) {
                  const key = (property === 'mail' ? user.mail : user.userPrincipalName)?.toLowerCase();
                  if (key) found.set(key, user);
                }
              } else if (r.status === 429 || r.status >= 500) {
                // Throttled or failed inside a 200 batch: asked again on its own, after the wait it names.
                again.push(query);
                waitMs = Math.max(waitMs, parseRetryAfter(r.headers?.['Retry-After'] ?? r.headers?.['retry-after']) ?? 1000);
              } else {
                throw Object.assign(new Error(`Microsoft Graph refused a directory query (${r.status})`), { statusCode: r.status });
              }
            }
          }),
        );
      }
      if (again.length) await sleep(waitMs, signal);
      queries = again;
    }
    return found;
  }

  private send(property: string, batch: string[][], tally: DirectoryCheck, signal?: AbortSignal): Promise<BatchResponse> {
    const requests = batch.map((query, n) => ({
      id: String(n),
      method: 'GET',
      url: `/users?$filter=${encodeURIComponent(`${property} in (${query.map((a) => `'${a.replace(/'/g, "''")}'`).join(',')})`)}&$select=id,userPrincipalName,mail&$top=${IN_VALUES}`,
    }));
    return this.retry.run(
      () => {
        tally.requests++;
        tally.queries += requests.length;
        return this.client.api('/$batch').post({ requests }) as Promise<BatchResponse>;
      },
      classify,
      { abortSignal: signal },
    );
  }
}

/** A whole batch refused: 429, 5xx and lost answers are safe to repeat (reads); anything else is not. */
function classify(err: unknown): FailureClass {
  const e = err as { statusCode?: number; name?: string; headers?: Headers };
  if (e.name === 'AbortError') return { kind: 'fatal' };
  const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
  const retryAfterMs = parseRetryAfter(typeof e.headers?.get === 'function' ? e.headers.get('retry-after') : undefined);
  if (status === 429 || status === 0 || status >= 500 || status === 401) return { kind: 'retry', retryAfterMs };
  return { kind: 'fatal' };
}
