import { Readable } from 'node:stream';
import { ImporterError } from '../errors';
import type { ArchiveItem, RunCounts, SourceItemRef } from '../model';
import { kindOfType, parseRawItem } from '../parse/itemParser';
import { fanOut, type MappingRules } from '../mapping/item/participantMapper';
import { classifyUnmapped, tenantDomainsOf } from '../mapping/item/unmappedKind';
import { type DeliveryResult, type MailboxSink } from '../sink/mailboxSink';
import { archiveKeyOf } from '../sink/messageProperties';
import type { StageResult } from '../stage/rawStore';
import { daysOf, isFinal, outcomeOfDeliveries, type DeliveryRecord, type ItemRecord, type UnmappedRow } from '../state/deliveryLedger';
import { EMPTY_COUNTS, type RunRecord } from '../state/runsStore';
import type { RunLogRow } from '../state/runLogStore';
import type { ConnectorSettings } from '../state/connectorStore';
import { attachmentReader } from './itemAttachments';
import { withoutMailboxless, type MailboxlessParticipant } from './mailboxlessRecipients';
import type { ImportContext } from './importRun';
import { QueuedDeliveries } from '../scale/queuedDeliveries';
import { INLINE_RAW_BYTES } from '../scale/deliveryUnit';

const PROGRESS_EVERY_MS = 2_000;

/** Enough items at once to keep the busiest mailbox's four request slots full while the others flow. */
const DEFAULT_ITEM_WORKERS = 16;
/** With a work queue an item waits for its unit's round trip, holding only its parsed text: many more at once. */
const DEFAULT_QUEUED_ITEM_WORKERS = 512;
const DEFAULT_ITEM_BYTES_IN_FLIGHT = 12 * 1024 * 1024;

/** An error as the run log and the run record say it. */
export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The work of one run: every item of the window listed, staged, parsed, mapped and delivered,
 * item workers and raw bytes in flight bounded, and its counts and log rows kept as it goes.
 */
export class RunExecution {
  private readonly counts: RunCounts = { ...EMPTY_COUNTS };
  /** Ids being handled right now: bounded by the item workers, whatever the day's volume. */
  private readonly inFlightIds = new Set<string>();
  private lastListed: { at: number; id: string } | undefined;
  private readonly freshDays = new Set<string>();
  /** Archive days whose items this run handled: their daily counts are set again from the ledger at the end. */
  readonly touchedDays = new Set<string>();
  private nonFinal = 0;
  private itemsDone = 0;
  /** A replay's items (held items, few): what its counts cover. */
  readonly listedIds: string[] = [];
  private immutabilityRecorded = false;
  private lastProgress = 0;
  private position: Date | undefined;
  private readonly sink: MailboxSink;
  /** The run's deliveries as units for the workers, when the importer has a work queue. */
  private readonly queued: QueuedDeliveries | undefined;
  private rules!: MappingRules;
  private readonly warnedMailboxless = new Set<string>();
  private tenantDomains: ReadonlySet<string> = new Set();

  constructor(
    private readonly ctx: ImportContext,
    private readonly settings: ConnectorSettings,
    private readonly run: RunRecord,
    private readonly signal: AbortSignal,
  ) {
    this.sink = ctx.createSink(settings.folderName);
    run.counts = this.counts;
    const q = ctx.workQueue;
    this.queued = q && new QueuedDeliveries(q.units, q.results, { connectorId: ctx.connectorId, runId: run.runId, folderName: settings.folderName, lingerMs: q.lingerMs, pollMs: q.pollMs }, signal);
  }

  async execute(): Promise<{ nonFinal: number }> {
    const { stores, source } = this.ctx;
    const custom = await stores.mappings.load(this.settings.mappingVersion);
    this.rules = { custom, automatic: this.settings.automaticMapping, findUser: (address) => this.sink.findUser(address, this.signal) };
    this.tenantDomains = tenantDomainsOf(this.settings.tenantDomains, custom.values());
    // Every mailbox the custom mapping names, looked up in batches rather than one by one.
    await this.sink.prefetchUsers(custom.values(), this.signal);
    // Under the lease nobody else writes this connector's ledger: a day with no item rows yet
    // cannot hold an earlier attempt of any of its items, so they need no lookup.
    for (const day of daysOf(this.run.window.from, this.run.window.to)) {
      if (!(await stores.ledger.hasItemsOn(this.ctx.connectorId, day))) this.freshDays.add(day);
    }

    const workers = this.ctx.itemWorkers ?? (this.queued ? DEFAULT_QUEUED_ITEM_WORKERS : DEFAULT_ITEM_WORKERS);
    const byteBudget = this.ctx.itemBytesInFlight ?? DEFAULT_ITEM_BYTES_IN_FLIGHT;
    const inFlight = new Set<Promise<void>>();
    let bytesInFlight = 0;
    // Woken when an item ends or lets its bytes go. Not Promise.race over hundreds of items in
    // flight: each race would hang a reaction on every one of them, which costs more than the work.
    let wake: (() => void) | undefined;
    const changed = () => new Promise<void>((resolve) => (wake = resolve));
    const woken = () => {
      wake?.();
      wake = undefined;
    };
    try {
      for await (const ref of source.list(this.run.window, { abortSignal: this.signal })) {
        // An item weighs at most what the raw store holds in memory: a bigger one streams through a file.
        const weight = Math.min(Math.max(ref.sizeBytes, 0), stores.raw.memoryLimit);
        // One item always goes, however big: the budget bounds company, not progress.
        while (inFlight.size >= workers || (inFlight.size > 0 && bytesInFlight + weight > byteBudget)) await changed();
        bytesInFlight += weight;
        let weighed = true;
        // Its bytes count until they are let go: at the end, or once parsed when workers deliver it.
        const letGo = () => {
          if (weighed) bytesInFlight -= weight;
          weighed = false;
          woken();
        };
        const work: Promise<void> = this.processItem(ref, letGo).finally(() => {
          inFlight.delete(work);
          letGo();
        });
        inFlight.add(work);
        // Only a stop rejects an item's work (its own failures are recorded): the run ends on the signal, below.
        work.catch(() => undefined);
      }
    } finally {
      await Promise.allSettled(inFlight);
      this.queued?.close(new Error('the run stopped'));
      await this.flush(true);
    }
    this.ctx.log.info({ runId: this.run.runId, pacing: this.sink.pacingSummary() }, 'mailbox pacing');
    this.signal.throwIfAborted();
    return { nonFinal: this.nonFinal };
  }

  private async processItem(ref: SourceItemRef, letGo: () => void): Promise<void> {
    this.counts.availableFromSource++;
    if (this.run.trigger === 'remap') this.listedIds.push(ref.id);
    if (!this.position || ref.archivedAt > this.position) this.position = ref.archivedAt;
    // The listing comes in (archivedAt, id) order, so an item after the last one listed is new to
    // this run; only one out of order (offered again) needs the ledger to say what became of it.
    const last = this.lastListed;
    const inOrder = !last || ref.archivedAt.getTime() > last.at || (ref.archivedAt.getTime() === last.at && ref.id > last.id);
    if (inOrder) this.lastListed = { at: ref.archivedAt.getTime(), id: ref.id };
    this.touchedDays.add(ref.archivedAt.toISOString().slice(0, 10));
    try {
      if (this.inFlightIds.has(ref.id)) {
        // The source offered the same item again while it is being handled.
        this.counts.skippedDuplicates++;
        return;
      }
      this.inFlightIds.add(ref.id);
      await this.handle(ref, inOrder, letGo).finally(() => this.inFlightIds.delete(ref.id));
    } catch (err) {
      if (this.signal.aborted) throw err;
      this.nonFinal++;
      this.counts.failed++;
      await this.logRows([{ itemId: ref.id, sourceUserId: '', outcome: 'failed', reason: `Not completed, will be retried: ${describe(err)}`.slice(0, 500), at: new Date() }]).catch(() => undefined);
      await this.recordUnfinished(ref).catch(() => undefined);
      this.ctx.log.warn({ runId: this.run.runId, itemId: ref.id, err: { message: describe(err), code: (err as { code?: string }).code } }, 'item not completed');
    } finally {
      this.itemsDone++;
      await this.flush(false);
    }
  }

  private async handle(ref: SourceItemRef, newToRun: boolean, letGo: () => void): Promise<void> {
    const { stores, connectorId } = { stores: this.ctx.stores, connectorId: this.ctx.connectorId };
    const fresh = newToRun && this.freshDays.has(ref.archivedAt.toISOString().slice(0, 10));
    const prior = fresh ? { deliveries: [] } : await stores.ledger.getItem(connectorId, ref.id, ref.archivedAt);
    const remap = prior.item?.hadUnmapped === true && prior.item.mappingVersion !== this.settings.mappingVersion;
    if (prior.item?.status === 'final' && !remap) {
      this.counts.skippedDuplicates += prior.deliveries.length;
      return;
    }

    const staged = await this.stage(ref);
    // The bytes of a small item are held only until it is parsed (its attachments kept decoded).
    let bytes = staged.bytes;
    staged.bytes = undefined;
    let item: ArchiveItem;
    // An item held in memory keeps its attachments as they are parsed: never parsed out again.
    // (Not when workers deliver it: they read the raw copy themselves.)
    const decoded = bytes && !this.queued ? new Map<number, Buffer>() : undefined;
    try {
      const raw = bytes ? Readable.from([bytes]) : await stores.raw.open(staged.sha256, { abortSignal: this.signal });
      item = await parseRawItem(raw, { sha256: staged.sha256, size: staged.size, ref, keepAttachments: decoded });
    } catch (err) {
      if (!(err instanceof ImporterError && err.code === 'MalformedItem')) throw err;
      // Kept as raw, recorded, never retried: the bytes will not change.
      this.counts.failed++;
      await this.logRows([{ itemId: ref.id, sourceUserId: '', outcome: 'malformed', reason: err.message, at: new Date() }]);
      await stores.ledger.save(connectorId, this.itemRecord(ref, staged, 'final', { kind: kindOfType(ref.type), reason: `Malformed: ${err.message}`, outcome: 'failed' }), []);
      return;
    }

    // A small item travels inside its units, so a worker need not read it back from Blob Storage.
    const inline = this.queued && bytes && bytes.length <= INLINE_RAW_BYTES ? bytes.toString('base64') : undefined;
    bytes = undefined;
    // Workers read the raw copy themselves: this process holds only the parsed item now.
    if (this.queued) letGo();
    const { recipients, unmapped, mailboxless } = await withoutMailboxless(await fanOut(item, this.rules), this.sink, this.signal);
    await this.logMailboxless(item, mailboxless);
    this.counts.unmapped += unmapped.length;
    // Kept with the item in the same transaction, so the unmapped report survives any crash.
    const unmappedRows: UnmappedRow[] = unmapped.map((u) => {
      const kind = classifyUnmapped(u.participant, item, this.tenantDomains);
      if (kind === 'archivedLine') this.counts.unmappedArchivedLines++;
      else if (kind === 'employee') this.counts.unmappedEmployees++;
      else this.counts.unmappedOutsideParties++;
      return { number: u.participant.number ?? u.participant.email ?? 'unknown', itemId: item.id, at: item.at, name: u.participant.name, email: u.participant.email, reason: u.reason, kind };
    });
    const nowMapped = new Set(unmappedRows.map((u) => u.number));
    const stale = (prior.item?.unmappedNumbers ?? []).filter((n) => !nowMapped.has(n));
    const hadUnmapped = unmapped.length > 0;
    if (recipients.length === 0) {
      this.counts.notImported++;
      await this.logRows([
        {
          itemId: item.id,
          sourceUserId: sourceUserOf(item),
          outcome: 'unmapped',
          reason: `Not imported: no participant maps to a Microsoft 365 mailbox (${unmapped[0]?.reason ?? 'no participants'})`,
          at: new Date(),
        },
      ]);
      // Copies made under an earlier mapping stay in their mailboxes: such an item is still archived.
      const outcome = outcomeOfDeliveries(prior.deliveries);
      await stores.ledger.save(
        connectorId,
        this.itemRecord(ref, staged, 'final', { kind: item.kind, hadUnmapped, reason: 'No participant maps to a Microsoft 365 mailbox', outcome }),
        [],
        unmappedRows,
        stale,
      );
      return;
    }

    this.counts.afterFanOut += recipients.length;
    const priorByKey = new Map(prior.deliveries.map((d) => [d.archiveKey, d]));
    const todo = recipients
      .map((r) => ({ recipient: r, key: archiveKeyOf(item.id, r.mailbox) }))
      .filter(({ key }) => {
        const done = priorByKey.get(key);
        return !(done && isFinal(done));
      });
    this.counts.skippedDuplicates += recipients.length - todo.length;

    // Intent first: should the process die after a create, the replay knows to look before writing.
    const pending: DeliveryRecord[] = todo.map(({ recipient, key }) => ({
      archiveKey: key,
      itemId: item.id,
      mailbox: recipient.mailbox,
      status: 'pending',
      attempts: (priorByKey.get(key)?.attempts ?? 0) + 1,
      runId: this.run.runId,
    }));
    // An admin's acknowledgement stays with the item while it keeps failing.
    const acknowledgement = prior.item?.acknowledgement;
    await stores.ledger.save(connectorId, this.itemRecord(ref, staged, 'pending', { kind: item.kind, hadUnmapped, outcome: 'failed', acknowledgement }), pending, unmappedRows, stale);

    const reader = this.queued ? undefined : attachmentReader(stores.raw, staged.sha256, decoded);
    const mayExist = prior.item !== undefined;
    const results = await Promise.all(
      todo.map(async ({ recipient, key }): Promise<DeliveryResult> => {
        try {
          if (this.queued) {
            const delivery = { archiveKey: key, itemId: item.id, archivedAt: ref.archivedAt.toISOString(), type: ref.type, rawSha256: staged.sha256, rawSize: staged.size, mayExist, inline };
            return await this.queued.deliver(recipient.mailbox, recipient.userId, delivery);
          }
          const folderId = await this.sink.ensureFolder(recipient.userId, this.signal);
          return await this.sink.deliver({ item, mailbox: recipient.mailbox, userId: recipient.userId, folderId, archiveKey: key, mayExist, attachments: reader! }, this.signal);
        } catch (err) {
          if (this.signal.aborted) throw err;
          return { outcome: 'failed', permanent: false, recovered: false, keptOutside: [], reason: describe(err) };
        }
      }),
    );

    const rows: RunLogRow[] = [];
    const finished = pending.map((d, i): DeliveryRecord => {
      const r = results[i];
      const record: DeliveryRecord = { ...d, status: r.outcome, permanent: r.outcome === 'failed' ? r.permanent : undefined, messageId: r.messageId, reason: r.reason };
      const source = sourceUserOf(item);
      if (r.outcome === 'imported') this.counts.imported++;
      else if (r.outcome === 'partial') {
        this.counts.partiallyImported++;
        rows.push({ itemId: item.id, sourceUserId: source, m365UserId: d.mailbox, outcome: 'partial', reason: r.reason ?? 'an attachment could not be archived', at: new Date() });
      } else {
        this.counts.failed++;
        rows.push({ itemId: item.id, sourceUserId: source, m365UserId: d.mailbox, outcome: 'failed', reason: r.reason ?? 'failed', at: new Date() });
      }
      return record;
    });
    const deliveries = [...finished, ...prior.deliveries.filter((d) => !finished.some((f) => f.archiveKey === d.archiveKey))];
    const allFinal = deliveries.every(isFinal);
    if (!allFinal) this.nonFinal++;
    // The log lines first: once the item is final, no replay would write them again.
    await this.logRows(rows);
    // The stale unmapped rows went with the pending write; deleting them again would fail the transaction.
    await stores.ledger.save(
      connectorId,
      this.itemRecord(ref, staged, allFinal ? 'final' : 'pending', { kind: item.kind, hadUnmapped, outcome: outcomeOfDeliveries(deliveries), acknowledgement }),
      finished,
      unmappedRows,
    );
  }

  /**
   * An item that failed before the ledger knew it (its download broke off, say) gets a pending
   * row, so the daily counts show it failed and the next run or a rerun looks it up again.
   */
  private async recordUnfinished(ref: SourceItemRef): Promise<void> {
    const { stores, connectorId } = this.ctx;
    if ((await stores.ledger.getItem(connectorId, ref.id, ref.archivedAt)).item) return;
    await stores.ledger.save(connectorId, { itemId: ref.id, archivedAt: ref.archivedAt, status: 'pending', kind: kindOfType(ref.type), outcome: 'failed', runId: this.run.runId }, []);
  }

  /** Downloads and keeps the raw item, again if the transfer breaks off. */
  private async stage(ref: SourceItemRef): Promise<StageResult> {
    const attempts = this.ctx.downloadAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      let body: Readable | undefined;
      try {
        body = await this.ctx.source.download(ref, { abortSignal: this.signal });
        // A small item stays in memory until its deliveries are done: parsed and attached without a second download.
        const staged = await this.ctx.stores.raw.stage(body, { expectedSize: ref.sizeBytes, abortSignal: this.signal, keepBytes: true });
        await this.recordImmutability(staged.sha256);
        return staged;
      } catch (err) {
        body?.destroy();
        if (attempt >= attempts || this.signal.aborted || (err instanceof ImporterError && err.code === 'SourceAuthFailed')) throw err;
      }
    }
  }

  private async recordImmutability(sha256: string): Promise<void> {
    if (this.immutabilityRecorded) return;
    this.immutabilityRecorded = true;
    this.run.immutability = await this.ctx.stores.raw.describeImmutability(sha256);
  }

  private itemRecord(ref: SourceItemRef, staged: StageResult, status: ItemRecord['status'], extra: Partial<ItemRecord>): ItemRecord {
    return { itemId: ref.id, archivedAt: ref.archivedAt, status, rawSha256: staged.sha256, rawSize: staged.size, mappingVersion: this.settings.mappingVersion, runId: this.run.runId, ...extra };
  }

  /** A participant whose Microsoft 365 user has no mailbox: an unmapped line in the run log, and a warning once per mailbox. */
  private async logMailboxless(item: ArchiveItem, mailboxless: readonly MailboxlessParticipant[]): Promise<void> {
    for (const m of mailboxless) {
      if (this.warnedMailboxless.has(m.mailbox)) continue;
      this.warnedMailboxless.add(m.mailbox);
      this.ctx.log.warn({ runId: this.run.runId, mailbox: m.mailbox, reason: m.reason }, 'participant unmapped: no Exchange Online mailbox');
    }
    const at = new Date();
    await this.logRows(
      mailboxless.map((m) => ({
        itemId: item.id,
        sourceUserId: m.participant.number ?? m.participant.email ?? '',
        m365UserId: m.mailbox,
        outcome: 'unmapped' as const,
        reason: `Unmapped: ${m.reason}`.slice(0, 500),
        at,
      })),
    );
  }

  /** Failed, partial, malformed and not-imported lines: rare, so written as they happen. */
  private async logRows(rows: RunLogRow[]): Promise<void> {
    if (rows.length) await this.ctx.stores.runLog.append(this.run.runId, rows);
  }

  private async flush(force: boolean): Promise<void> {
    if (force) {
      // Recomputed from the ledger for every day of the window: complete even after a crash.
      const days = daysOf(this.run.window.from, this.run.window.to).map((day) => ({ day, rows: this.ctx.stores.ledger.unmappedOn(this.ctx.connectorId, day) }));
      await this.ctx.stores.unmapped.refreshDays(this.ctx.connectorId, days);
      // Set, not added, from the ledger: a rerun or a replay counts each item once, in its outcome now.
      for (const day of [...this.touchedDays].sort())
        await this.ctx.stores.dailyCounts.refreshDay(this.ctx.connectorId, day, this.ctx.stores.ledger.outcomesOn(this.ctx.connectorId, day), this.run.runId);
    }
    const t = Date.now();
    if (force || t - this.lastProgress >= PROGRESS_EVERY_MS) {
      this.lastProgress = t;
      if (!force) await this.ctx.stores.runs.update(this.run);
      this.ctx.onProgress?.({ runId: this.run.runId, window: this.run.window, counts: { ...this.counts }, itemsDone: this.itemsDone, position: this.position });
    }
  }
}

/** The source user of an item for the run log: its sender's number or email. */
function sourceUserOf(item: ArchiveItem): string {
  const from = item.participants.find((p) => p.role === 'from') ?? item.participants[0];
  return from?.number ?? from?.email ?? '';
}
