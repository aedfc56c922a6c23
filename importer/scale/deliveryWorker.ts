import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerClient } from '@azure/storage-blob';
import { parseRawItem } from '../parse/itemParser';
import { attachmentReader } from '../run/itemAttachments';
import type { RunLogger } from '../run/importRun';
import type { DeliveryResult, MailboxSink } from '../sink/mailboxSink';
import type { PacerStats } from '../sink/mailboxPacer';
import type { RawStore } from '../stage/rawStore';
import type { RunsStore } from '../state/runsStore';
import type { DeliveryQueue, ReceivedUnit } from './deliveryQueue';
import type { DeliveryUnit, UnitDelivery, UnitOutcome } from './deliveryUnit';
import { tryMailboxLease, type MailboxLease } from './mailboxLease';
import type { UnitResults } from './unitResults';

export interface DeliveryWorkerOptions {
  queue: DeliveryQueue;
  results: UnitResults;
  runs: RunsStore;
  raw: RawStore;
  locks: ContainerClient;
  /** A sink for an archive folder name (one per run). */
  createSink(folderName: string): MailboxSink;
  log: RunLogger;
  /** Units handled at once (16 unless set). */
  concurrency?: number;
  /** How long a taken unit stays hidden from the other workers, renewed while it is worked on (60 s unless set). */
  visibilitySeconds?: number;
  /** The mailbox lease (15 to 60 s; 30 unless set): how long a dead worker keeps its mailbox from the others. */
  leaseSeconds?: number;
  /** Deliveries of one unit written at once: the mailbox's pacer allows four requests at a time (6 unless set). */
  deliveriesAtOnce?: number;
}

/** A unit begun this many times and never finished is reported failed (each delivery is taken again by the next run). */
const MAX_BEGUN = 5;
const IDLE_MAX_MS = 1_000;
const SINKS_KEPT = 4;
/** Units of one mailbox a worker works at once: enough to keep its four request slots busy. */
const UNITS_PER_MAILBOX = 2;
/** Units of a held mailbox that wait in a worker for their turn rather than go back to the queue. */
const WAITING_PER_MAILBOX = 4;
/** Units in hand per unit at work, at most. */
const HAND_PER_SLOT = 4;
const HELD_ELSEWHERE_MS = 2_000;
/** How long a worker keeps a mailbox it has no unit of, for the next one. */
const KEEP_IDLE_MS = 3_000;

/**
 * A worker: takes units from the queue, and for each holds its mailbox's lease, reads each item's
 * raw copy, writes it through the same sink as a single-process run, reports the outcomes to the
 * run and deletes the unit. Any number of workers, in any number of processes, share the queue.
 * A worker killed at any point loses nothing: its units come back when their visibility ends,
 * and a unit handed out again looks every message up by its archive key before writing it.
 */
export class DeliveryWorker {
  readonly id = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly sinks = new Map<string, MailboxSink>();
  private readonly active = new Set<Promise<void>>();
  /** Units at work (not waiting for their mailbox's turn), and the loop's wake-up when that or the units in hand drop. */
  private working = 0;
  private wake: (() => void) | undefined;
  /** The mailboxes this worker holds, by connector and user id: the lease, and the units working under it. */
  private readonly held = new Map<string, Hold>();
  /** Mailboxes another worker held when this one asked, until when it will not ask again. */
  private readonly heldElsewhere = new Map<string, number>();
  /** Units finished by this worker: its figures. */
  unitsDone = 0;
  deliveriesDone = 0;
  /** Graph traffic per mailbox of the sinks this worker let go (the kept ones count theirs). */
  private readonly retired = new Map<string, PacerStats>();

  constructor(private readonly options: DeliveryWorkerOptions) {}

  /** Takes and works units until `signal` aborts; a unit in hand then goes back to the queue at once. */
  async run(signal: AbortSignal): Promise<void> {
    const concurrency = this.options.concurrency ?? 16;
    // Units waiting for their mailbox's turn hold no work: more may be in hand than at work.
    const inHand = concurrency * HAND_PER_SLOT;
    let idleMs = 50;
    while (!signal.aborted) {
      const room = Math.min(inHand - this.active.size, concurrency - this.working);
      if (room <= 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      let received: ReceivedUnit[];
      try {
        received = await this.options.queue.receive(room, this.visibility, signal);
      } catch (err) {
        if (signal.aborted) break;
        this.options.log.warn({ worker: this.id, err: { message: (err as Error).message } }, 'worker could not read the queue');
        received = [];
      }
      if (received.length === 0) {
        await sleep(idleMs, undefined, { signal }).catch(() => undefined);
        idleMs = Math.min(IDLE_MAX_MS, idleMs * 2);
        continue;
      }
      idleMs = 50;
      for (const r of received) {
        const work: Promise<void> = this.work(r, signal)
          .catch((err: unknown) => this.options.log.warn({ worker: this.id, err: { message: (err as Error).message } }, 'unit not finished; it returns to the queue'))
          .finally(() => {
            this.active.delete(work);
            this.woken();
          });
        this.active.add(work);
      }
    }
    await Promise.allSettled(this.active);
    // Every mailbox kept for a next unit goes back now.
    await Promise.allSettled(
      [...this.held.values()].map(async (h) => {
        clearTimeout(h.idle);
        if (h.units === 0) await (await h.lease.catch(() => undefined))?.release();
      }),
    );
    this.held.clear();
  }

  /** Requests, upload bytes and 429s per mailbox over this worker's life, for the bench's figures. */
  mailboxStats(): Map<string, PacerStats> {
    const all = new Map<string, PacerStats>();
    addStats(all, this.retired);
    for (const sink of this.sinks.values()) addStats(all, sink.stats());
    return all;
  }

  private woken(): void {
    this.wake?.();
    this.wake = undefined;
  }

  private get visibility(): number {
    return this.options.visibilitySeconds ?? 60;
  }

  private async work(received: ReceivedUnit, signal: AbortSignal): Promise<void> {
    const { queue, log } = this.options;
    const unit = received.unit;
    if (!unit) {
      log.warn({ worker: this.id, messageId: received.messageId }, 'a queue message that is not a delivery unit was dropped');
      await queue.delete(received);
      return;
    }
    // Units of one mailbox and run share this worker's lease on it (its pacer keeps the mailbox's
    // four requests at a time): two at work, four more waiting their turn, the rest put back.
    const key = `${unit.connectorId}\u0000${unit.userId}`;
    let hold = this.held.get(key);
    // Held by another worker a moment ago: no lease call to be told so again.
    const elsewhere = this.heldElsewhere.get(key);
    if (elsewhere !== undefined && elsewhere > Date.now() && !hold) {
      await queue.hide(received, 1 + Math.floor(Math.random() * 2));
      return;
    }
    if (elsewhere !== undefined) this.heldElsewhere.delete(key);
    if (hold && (hold.runId !== unit.runId || hold.units >= UNITS_PER_MAILBOX + WAITING_PER_MAILBOX)) {
      await queue.hide(received, 1 + Math.floor(Math.random() * 2));
      return;
    }
    if (!hold) {
      hold = { runId: unit.runId, units: 0, working: 0, turns: [], lease: tryMailboxLease(this.options.locks, unit.connectorId, unit.userId, this.options.leaseSeconds ?? 30), checked: false };
      this.held.set(key, hold);
    }
    hold.units++;
    clearTimeout(hold.idle);
    const sink = this.sinkFor(unit);
    let lease: MailboxLease | undefined;
    let left = false;
    let turned = false;
    // Hidden from the others while it is here.
    const keeper = setInterval(() => void queue.hide(received, this.visibility).catch(() => undefined), (this.visibility * 1000) / 3);
    try {
      lease = await hold.lease;
      if (lease?.signal.aborted) {
        // The lease was lost (its renewal failed): whoever asks next asks for it afresh.
        if (this.held.get(key) === hold) this.held.delete(key);
        lease = undefined;
      }
      if (!lease) {
        // Another worker is writing this mailbox: the unit waits a moment and goes to whoever is free then.
        this.heldElsewhere.set(key, Date.now() + HELD_ELSEWHERE_MS);
        await queue.hide(received, 1 + Math.floor(Math.random() * 2));
        return;
      }
      // Past the two at work, a unit of a mailbox this worker holds waits here for its turn: put back, it would
      // go to a worker that cannot have the mailbox, again and again.
      if (hold.working >= UNITS_PER_MAILBOX) await new Promise<void>((resolve) => hold!.turns.push(resolve));
      hold.working++;
      this.working++;
      turned = true;
      // Read under the lease, once per holding: once a run has ended (a later run took its window over, looking
      // every message up), none of its units may write, and no later run's unit can reach this mailbox while it is held.
      if (!hold.checked) {
        const run = await this.options.runs.get(unit.connectorId, unit.runId).catch(() => undefined);
        if (run?.status !== 'running') {
          log.info({ worker: this.id, runId: unit.runId, unitId: unit.unitId }, 'unit of an ended run dropped');
          await queue.delete(received);
          return;
        }
        hold.checked = true;
        // Where the mailbox's earlier holders left Graph's windows.
        if (lease.usage) sink.assumeUsage(unit.userId, lease.usage);
      }
      // Begun by a worker before: it may have written messages before it died, so each is looked up first.
      const begunBefore = unit.begun ?? 0;
      await queue.markBegun(received as ReceivedUnit & { unit: DeliveryUnit }, this.visibility);
      const unitSignal = AbortSignal.any([signal, lease.signal]);
      const outcomes =
        begunBefore >= MAX_BEGUN
          ? unit.deliveries.map((d) => failed(d, `Begun ${begunBefore} times by workers that never finished it; the next run takes it again.`))
          : await this.deliverAll(sink, unit, begunBefore > 0, unitSignal);
      await this.options.results.put(unit, outcomes, this.id);
      await queue.delete(received);
      this.unitsDone++;
      this.deliveriesDone += outcomes.length;
    } catch (err) {
      if (signal.aborted) {
        // Stopping: the unit goes back to the others now rather than when its visibility ends.
        left = true;
        await queue.hide(received, 0).catch(() => undefined);
        return;
      }
      throw err;
    } finally {
      clearInterval(keeper);
      const h = hold;
      if (turned) {
        h.working--;
        this.working--;
        h.turns.shift()?.();
        this.woken();
      }
      const letGo = async () => {
        if (this.held.get(key) === h) this.held.delete(key);
        await lease?.release(left ? undefined : sink.usageOf(unit.userId));
      };
      // Kept a moment for the mailbox's next unit, which the run sends a few seconds later: a lease taken once, not per unit.
      if (--h.units === 0) {
        if (!lease || left || signal.aborted) await letGo();
        else h.idle = setTimeout(() => void (h.units === 0 && letGo()), KEEP_IDLE_MS);
      }
    }
  }

  private async deliverAll(sink: MailboxSink, unit: DeliveryUnit, handedOutBefore: boolean, signal: AbortSignal): Promise<UnitOutcome[]> {
    const outcomes: UnitOutcome[] = new Array(unit.deliveries.length);
    let next = 0;
    const lane = async () => {
      while (next < unit.deliveries.length) {
        const i = next++;
        const d = unit.deliveries[i];
        const r = await this.deliverOne(sink, unit, d, handedOutBefore, signal);
        outcomes[i] = { archiveKey: d.archiveKey, outcome: r.outcome, permanent: r.permanent, messageId: r.messageId, recovered: r.recovered, reason: r.reason?.slice(0, 500) };
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.deliveriesAtOnce ?? 6, unit.deliveries.length) }, lane));
    signal.throwIfAborted();
    return outcomes;
  }

  private async deliverOne(sink: MailboxSink, unit: DeliveryUnit, d: UnitDelivery, handedOutBefore: boolean, signal: AbortSignal): Promise<DeliveryResult> {
    const { raw } = this.options;
    try {
      const ref = { id: d.itemId, archivedAt: new Date(d.archivedAt), type: d.type, sizeBytes: d.rawSize };
      // A small item is read whole and its attachments kept as parsed, as a single-process run does.
      const small = d.rawSize <= raw.memoryLimit;
      const decoded = small ? new Map<number, Buffer>() : undefined;
      const bytes = inlineBytes(d) ?? (small ? await buffer(await raw.open(d.rawSha256, { abortSignal: signal })) : undefined);
      const body = bytes ? Readable.from([bytes]) : await raw.open(d.rawSha256, { abortSignal: signal });
      const item = await parseRawItem(body, { sha256: d.rawSha256, size: d.rawSize, ref, keepAttachments: decoded });
      const folderId = await sink.ensureFolder(unit.userId, signal);
      return await sink.deliver(
        // Handed out before: an earlier worker may have written the message before it died.
        { item, mailbox: unit.mailbox, userId: unit.userId, folderId, archiveKey: d.archiveKey, mayExist: d.mayExist || handedOutBefore, attachments: attachmentReader(raw, d.rawSha256, decoded) },
        signal,
      );
    } catch (err) {
      if (signal.aborted) throw err;
      return { outcome: 'failed', permanent: false, recovered: false, keptOutside: [], reason: (err as Error).message };
    }
  }

  /**
   * A sink per run, as a single-process run has: its cache of folders is the run's, so a folder
   * an owner deleted between runs is found again. The few latest are kept.
   */
  private sinkFor(unit: DeliveryUnit): MailboxSink {
    const key = `${unit.connectorId}\u0000${unit.runId}\u0000${unit.folderName}`;
    let sink = this.sinks.get(key);
    if (!sink) {
      sink = this.options.createSink(unit.folderName);
      this.sinks.set(key, sink);
      if (this.sinks.size > SINKS_KEPT) {
        const [oldKey, old] = this.sinks.entries().next().value!;
        addStats(this.retired, old.stats());
        this.sinks.delete(oldKey);
      }
    }
    return sink;
  }
}

/** A mailbox this worker holds: its lease, the units here for it, the two at work and the rest waiting their turn. */
interface Hold {
  runId: string;
  units: number;
  working: number;
  turns: (() => void)[];
  lease: Promise<MailboxLease | undefined>;
  /** The run was read under this holding (once is enough: no later run's unit can reach the mailbox meanwhile). */
  checked: boolean;
  idle?: NodeJS.Timeout;
}

function addStats(into: Map<string, PacerStats>, from: ReadonlyMap<string, PacerStats>): void {
  for (const [mailbox, s] of from) {
    const t = into.get(mailbox) ?? { requests: 0, uploadBytes: 0, throttled: { concurrency: 0, rate: 0, upload: 0, other: 0 }, waitedMs: 0 };
    t.requests += s.requests;
    t.uploadBytes += s.uploadBytes;
    t.waitedMs += s.waitedMs;
    for (const k of Object.keys(t.throttled) as (keyof PacerStats['throttled'])[]) t.throttled[k] += s.throttled[k];
    into.set(mailbox, t);
  }
}

function failed(d: UnitDelivery, reason: string): UnitOutcome {
  return { archiveKey: d.archiveKey, outcome: 'failed', permanent: false, recovered: false, reason };
}

/** A small item's bytes carried in its unit, when they are exactly the raw copy's; otherwise it is read from Blob Storage. */
function inlineBytes(d: UnitDelivery): Buffer | undefined {
  if (!d.inline) return undefined;
  const bytes = Buffer.from(d.inline, 'base64');
  return bytes.length === d.rawSize && createHash('sha256').update(bytes).digest('hex') === d.rawSha256 ? bytes : undefined;
}
