import type { ContainerClient } from '@azure/storage-blob';
import type { RawStore } from '../../stage/rawStore';
import type { InboxStore } from '../../state/inboxStore';
import type { LandingZipStore } from '../../state/landingZipStore';
import type { RunLogger } from '../../run/importRun';
import { CollectionFailedError, type CollectOptions, type CollectReport, type Collector } from '../collector';
import { BlobReadError } from './blobRangeReader';
import { LandingContainer, type LandingZip } from './landingContainer';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from './zipLimits';
import { takeZip, type StagedEntry } from './zipIntake';
import { ZipRejection } from './zipRejection';

export interface SftpZipCollectorOptions {
  connectorId: string;
  /** The landing container TeleMessage's SFTP user writes into. */
  container: ContainerClient;
  raw: RawStore;
  inbox: InboxStore;
  zips: LandingZipStore;
  log: RunLogger;
  limits?: ZipLimits;
  /** How long a ZIP must stay unchanged before it is read (15 s unless set). */
  settleMs?: number;
  /** Between the two listings, instead of sleeping settleMs (tests). */
  pause?: (abortSignal?: AbortSignal) => Promise<void>;
}

/** Inbox records written at once for one ZIP's items. */
const RECORDS_AT_ONCE = 8;

/**
 * TeleMessage's SFTP delivery: takes the landing container's settled ZIPs in delivery order, each
 * checked whole and its EMLs kept raw before any is recorded in the inbox, so a ZIP that fails a
 * check (even half way through inflating) yields nothing; it is set aside under `rejected/` with
 * its reason and the next ZIP still goes in. A ZIP is marked taken only after all its items are in
 * the inbox: a collection killed part way takes it again, and the inbox records each item once.
 */
export class SftpZipCollector implements Collector {
  readonly kind = 'sftp' as const;
  private readonly landing: LandingContainer;
  private readonly limits: ZipLimits;

  constructor(private readonly options: SftpZipCollectorOptions) {
    this.landing = new LandingContainer(options.container, { settleMs: options.settleMs, pause: options.pause });
    this.limits = options.limits ?? DEFAULT_ZIP_LIMITS;
  }

  async collect({ now, abortSignal }: CollectOptions): Promise<CollectReport> {
    const { connectorId, zips, log } = this.options;
    const report: CollectReport = { kind: 'sftp', collected: 0, alreadyCollected: 0, rejected: [] };
    try {
      const taken = async (zip: LandingZip) => {
        const handled = await zips.get(connectorId, zip.name, { abortSignal });
        return handled?.status === 'taken' && handled.etag === zip.etag;
      };
      const listing = await this.landing.settled({ abortSignal, taken });
      for (const zip of listing.stillWriting) log.info({ connectorId, zip: zip.name }, 'ZIP still being written: left for the next collection');
      // The cursor, for the run record: the last ZIP taken before, then the last ZIP handled now.
      report.cursorBefore = listing.taken.at(-1)?.name;
      report.cursorAfter = report.cursorBefore;
      for (const zip of listing.ready) {
        await this.take(zip, report, { now, abortSignal });
        report.cursorAfter = zip.name;
      }
      if (report.cursorBefore === undefined) delete report.cursorBefore;
      if (report.cursorAfter === undefined) delete report.cursorAfter;
      return report;
    } catch (err) {
      if (err instanceof CollectionFailedError || (err as Error).name === 'AbortError') throw err;
      throw new CollectionFailedError(`Taking ZIPs from the SFTP landing container failed: ${(err as Error).message}`, report);
    }
  }

  private async take(zip: LandingZip, report: CollectReport, { now, abortSignal }: CollectOptions): Promise<void> {
    const { connectorId, container, raw, zips, log } = this.options;
    let staged: StagedEntry[];
    let count: number;
    try {
      ({ staged, count } = await takeZip(container.getBlobClient(zip.name), zip, raw, { limits: this.limits, abortSignal }));
    } catch (err) {
      if (err instanceof ZipRejection) return this.reject(zip, err, report, now(), abortSignal);
      if (err instanceof BlobReadError && err.changed) {
        log.info({ connectorId, zip: zip.name }, 'ZIP changed while it was read: left for the next collection');
        return;
      }
      throw err;
    }
    const before = { collected: report.collected, alreadyCollected: report.alreadyCollected };
    let next = 0;
    const worker = async () => {
      while (next < staged.length) {
        const item = staged[next++];
        const { id, type } = item;
        const origin = `zip:${zip.name}/${item.entryName}`;
        const { created } = await this.options.inbox.record(
          connectorId,
          { id, type, collectedAt: now(), deliveredAt: zip.lastModified, sizeBytes: item.size, sha256: item.sha256, origin },
          { abortSignal },
        );
        if (created) report.collected += 1;
        else report.alreadyCollected += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(RECORDS_AT_ONCE, staged.length) }, worker));
    await zips.record(
      connectorId,
      {
        name: zip.name,
        etag: zip.etag,
        sizeBytes: zip.size,
        status: 'taken',
        count,
        collected: report.collected - before.collected,
        alreadyCollected: report.alreadyCollected - before.alreadyCollected,
        at: now(),
      },
      { abortSignal },
    );
  }

  private async reject(zip: LandingZip, rejection: ZipRejection, report: CollectReport, at: Date, abortSignal?: AbortSignal): Promise<void> {
    const { connectorId, zips, log } = this.options;
    const reason = `${zip.name} was set aside: ${rejection.message}`;
    await this.landing.setAside(zip, reason, at, { abortSignal });
    await zips.record(connectorId, { name: zip.name, etag: zip.etag, sizeBytes: zip.size, status: 'rejected', count: 0, collected: 0, alreadyCollected: 0, reason, at }, { abortSignal });
    log.warn({ connectorId, zip: zip.name, code: rejection.code }, 'ZIP set aside');
    report.rejected.push({ name: zip.name, reason, at: at.toISOString() });
  }
}
