import type { Client } from '@microsoft/microsoft-graph-client';
import { ImporterError } from '../errors';
import type { RetryPolicy } from '../retryPolicy';
import type { RunLogger } from '../run/importRun';
import type { ImporterStores } from '../run/importerStores';
import type { ConnectorSettings } from '../state/connectorStore';
import type { StorageTarget } from '../state/storageAccount';
import { CaptureMailboxCollector } from './captureMailboxCollector';
import type { Collector, DeliveryKind } from './collector';
import { createSftpCollector } from './sftp/sftpCollectorFactory';

/** The SFTP landing container: a storage account of its own (SFTP enabled), from configuration. */
export interface LandingTarget {
  storage: StorageTarget;
  container: string;
  /** How long a ZIP must stay unchanged before it is read (15 s unless set; tests shorten it). */
  settleMs?: number;
}

/** What a collector may be built from; each takes what it needs. */
export interface CollectorContext {
  connectorId: string;
  settings: ConnectorSettings;
  stores: ImporterStores;
  /** Microsoft Graph as the importer signs in to it (the capture mailbox is read through it). */
  graph: () => Client;
  /** The SFTP landing container, when this deployment has one. */
  landing?: LandingTarget;
  retry: RetryPolicy;
  log: RunLogger;
}

export type CollectorFactory = (ctx: CollectorContext) => Collector;

export type DeliveredKind = Exclude<DeliveryKind, 'api'>;

/** The collector of each delivered kind; ImporterOptions.collectors can stand in for one (tests). */
export const COLLECTOR_FACTORIES: Record<DeliveredKind, CollectorFactory> = {
  smtp: (ctx) => {
    const mailbox = ctx.settings.captureMailbox;
    if (!mailbox) throw new ImporterError('CollectionFailed', 'The connector delivers by SMTP but names no capture mailbox yet: finish the setup first.');
    return new CaptureMailboxCollector({ connectorId: ctx.connectorId, mailbox, client: ctx.graph(), stores: ctx.stores, retry: ctx.retry, log: ctx.log });
  },
  sftp: (ctx) => createSftpCollector(ctx),
};

/** Whether the connector's items come through the inbox (delivered to us) rather than the archive API. */
export function isDelivered(kind: DeliveryKind | undefined): kind is DeliveredKind {
  return kind === 'smtp' || kind === 'sftp';
}

/** The collector for the connector's delivery, or none for the archive API. */
export function collectorFor(ctx: CollectorContext, overrides: Partial<Record<DeliveredKind, CollectorFactory>> = {}): Collector | undefined {
  const kind = ctx.settings.delivery;
  if (!isDelivered(kind)) return undefined;
  return (overrides[kind] ?? COLLECTOR_FACTORIES[kind])(ctx);
}
