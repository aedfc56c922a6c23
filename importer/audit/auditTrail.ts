import type { ContainerClient } from '@azure/storage-blob';

/** Who did what to the connector, and when: appended, never rewritten. */
export interface AuditEntry {
  at: string;
  /** Entra object id of the person, or "scheduler" / "system". */
  actor: string;
  action: string;
  connectorId: string;
  before?: unknown;
  after?: unknown;
  detail?: Record<string, unknown>;
}

const SECRET_FIELD = /password|secret|token|apikey|accountkey|connectionstring/i;

/**
 * One append blob per connector and UTC day (`<connector>/<yyyy-mm-dd>.jsonl`), one JSON line
 * per entry. Append blobs take no overwrite, and a day keeps each blob far below the 50,000-block
 * limit. On Azure the container also has a time-based retention policy (infra/).
 */
export class AuditTrail {
  constructor(private readonly container: ContainerClient) {}

  async append(entry: Omit<AuditEntry, 'at'> & { at?: Date }, options: { abortSignal?: AbortSignal } = {}): Promise<AuditEntry> {
    const at = entry.at ?? new Date();
    const line: AuditEntry = {
      ...entry,
      at: at.toISOString(),
      before: scrub(entry.before),
      after: scrub(entry.after),
      detail: scrub(entry.detail) as Record<string, unknown> | undefined,
    };
    const blob = this.container.getAppendBlobClient(`${entry.connectorId}/${at.toISOString().slice(0, 10)}.jsonl`);
    await blob.createIfNotExists({ abortSignal: options.abortSignal });
    const text = `${JSON.stringify(line)}\n`;
    await blob.appendBlock(text, Buffer.byteLength(text), { abortSignal: options.abortSignal });
    return line;
  }

  /** Entries of [from, to), oldest first. */
  async list(connectorId: string, from: Date, to: Date, options: { abortSignal?: AbortSignal } = {}): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for await (const item of this.container.listBlobsFlat({ prefix: `${connectorId}/`, abortSignal: options.abortSignal })) {
      const day = item.name.slice(connectorId.length + 1, connectorId.length + 11);
      if (day < from.toISOString().slice(0, 10) || day > to.toISOString().slice(0, 10)) continue;
      const text = (await this.container.getAppendBlobClient(item.name).downloadToBuffer(0, undefined, { abortSignal: options.abortSignal })).toString('utf8');
      for (const line of text.split('\n')) {
        if (!line) continue;
        const entry = JSON.parse(line) as AuditEntry;
        if (entry.at >= from.toISOString() && entry.at < to.toISOString()) entries.push(entry);
      }
    }
    return entries.sort((a, b) => a.at.localeCompare(b.at));
  }
}

/** Secret-bearing fields are recorded as changed or not, never by value. */
function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_FIELD.test(k) ? (v === undefined ? undefined : '[set]') : scrub(v)]));
  }
  return value;
}
