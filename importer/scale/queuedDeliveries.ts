import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliveryResult } from '../sink/deliveryJob';
import type { DeliveryQueue } from './deliveryQueue';
import { MAX_UNIT_DELIVERIES, MAX_UNIT_JSON_BYTES, type DeliveryUnit, type UnitDelivery, type UnitOutcome } from './deliveryUnit';
import type { UnitResult, UnitResults } from './unitResults';

/** A unit's JSON without its deliveries, with room for long names. */
const UNIT_OVERHEAD_BYTES = 2048;

export interface QueuedDeliveriesOptions {
  connectorId: string;
  runId: string;
  folderName: string;
  /** How long a mailbox's first delivery waits for company before its unit goes (3 s unless set): fuller units, fewer queue and lease operations. */
  lingerMs?: number;
  /** How often the run looks for its units' results (250 ms unless set). */
  pollMs?: number;
}

interface Waiting {
  resolve(result: DeliveryResult): void;
  reject(reason: unknown): void;
}

interface Gathering {
  mailbox: string;
  userId: string;
  /** The unit's JSON size so far, about. */
  bytes: number;
  deliveries: UnitDelivery[];
  waiting: Waiting[];
  timer: NodeJS.Timeout;
}

/**
 * The run's side of the queue: deliveries gathered into units by mailbox (a unit goes when it is
 * full or its first delivery has waited `lingerMs`), put on the queue, and each delivery's promise
 * settled when a worker reports its unit. The run itself is unchanged: it records intent in the
 * ledger before a delivery is asked for, and records the outcome when the promise settles.
 */
export class QueuedDeliveries {
  private readonly gathering = new Map<string, Gathering>();
  /** Units on the queue, by id, with their deliveries' promises in the unit's order. */
  private readonly sent = new Map<string, { keys: string[]; waiting: Waiting[] }>();
  private polling: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly queue: DeliveryQueue,
    private readonly results: UnitResults,
    private readonly options: QueuedDeliveriesOptions,
    private readonly signal: AbortSignal,
  ) {
    // A run stopped (asked to, or its lease lost) waits for no worker: its deliveries stay pending in the ledger for the next run.
    signal.addEventListener('abort', () => this.close(signal.reason), { once: true });
  }

  deliver(mailbox: string, userId: string, delivery: UnitDelivery): Promise<DeliveryResult> {
    if (this.closed) return Promise.reject(new Error('the run has stopped taking deliveries'));
    return new Promise((resolve, reject) => {
      const size = Buffer.byteLength(JSON.stringify(delivery));
      // A delivery that would take the unit past a queue message's size starts the next one.
      const current = this.gathering.get(userId);
      if (current && current.bytes + size > MAX_UNIT_JSON_BYTES) void this.send(userId);
      let g = this.gathering.get(userId);
      if (!g) {
        g = { mailbox, userId, bytes: UNIT_OVERHEAD_BYTES, deliveries: [], waiting: [], timer: setTimeout(() => void this.send(userId), this.options.lingerMs ?? 3000) };
        this.gathering.set(userId, g);
      }
      g.bytes += size + 1;
      g.deliveries.push(delivery);
      g.waiting.push({ resolve, reject });
      if (g.deliveries.length >= MAX_UNIT_DELIVERIES) void this.send(userId);
    });
  }

  /** Stops: whatever was not reported fails (not final: the next run or a rerun takes it again). */
  close(reason: unknown): void {
    this.closed = true;
    for (const g of this.gathering.values()) {
      clearTimeout(g.timer);
      for (const w of g.waiting) w.reject(reason);
    }
    this.gathering.clear();
    for (const s of this.sent.values()) for (const w of s.waiting) w.reject(reason);
    this.sent.clear();
  }

  private async send(userId: string): Promise<void> {
    const g = this.gathering.get(userId);
    if (!g) return;
    this.gathering.delete(userId);
    clearTimeout(g.timer);
    const unit: DeliveryUnit = {
      v: 1,
      unitId: randomUUID(),
      connectorId: this.options.connectorId,
      runId: this.options.runId,
      folderName: this.options.folderName,
      mailbox: g.mailbox,
      userId,
      deliveries: g.deliveries,
    };
    this.sent.set(unit.unitId, { keys: g.deliveries.map((d) => d.archiveKey), waiting: g.waiting });
    try {
      await this.queue.send(unit, this.signal);
    } catch (err) {
      this.sent.delete(unit.unitId);
      for (const w of g.waiting) w.reject(err);
      return;
    }
    this.polling ??= this.poll().finally(() => (this.polling = undefined));
  }

  /** Takes reported units while any is outstanding. */
  private async poll(): Promise<void> {
    while (this.sent.size > 0 && !this.closed) {
      let reported: UnitResult[];
      try {
        reported = await this.results.take(this.options.runId, this.signal);
      } catch {
        if (this.signal.aborted) return;
        // A storage hiccup: the rows stay until the next look.
        reported = [];
      }
      for (const r of reported) {
        const s = this.sent.get(r.unitId);
        // A unit done twice (its first worker died after reporting) is taken once.
        if (!s) continue;
        this.sent.delete(r.unitId);
        const byKey = new Map(r.outcomes.map((o) => [o.archiveKey, o]));
        s.keys.forEach((key, i) => s.waiting[i].resolve(resultOf(byKey.get(key))));
      }
      if (reported.length === 0) await sleep(this.options.pollMs ?? 250, undefined, { signal: this.signal }).catch(() => undefined);
    }
  }
}

function resultOf(o: UnitOutcome | undefined): DeliveryResult {
  if (!o) return { outcome: 'failed', permanent: false, recovered: false, keptOutside: [], reason: 'The worker reported its unit without this delivery.' };
  return { outcome: o.outcome, permanent: o.permanent, messageId: o.messageId, recovered: o.recovered, reason: o.reason, keptOutside: [] };
}
