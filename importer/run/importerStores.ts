import type { ContainerClient } from '@azure/storage-blob';
import { AuditTrail } from '../audit/auditTrail';
import { RawStore } from '../stage/rawStore';
import { ConnectorStore } from '../state/connectorStore';
import { DailyCountsStore } from '../state/dailyCountsStore';
import { DeliveryLedger } from '../state/deliveryLedger';
import { InboxStore } from '../state/inboxStore';
import { LandingZipStore } from '../state/landingZipStore';
import { MappingStore } from '../state/mappingStore';
import { RunLogStore } from '../state/runLogStore';
import { RunsStore } from '../state/runsStore';
import type { StorageAccount } from '../state/storageAccount';
import { CONTAINERS, TABLES } from '../state/tableNames';
import { UnmappedStore } from '../state/unmappedStore';

/** Every store the importer keeps its state in, opened once. */
export interface ImporterStores {
  connectors: ConnectorStore;
  mappings: MappingStore;
  runs: RunsStore;
  ledger: DeliveryLedger;
  runLog: RunLogStore;
  unmapped: UnmappedStore;
  dailyCounts: DailyCountsStore;
  /** What TeleMessage delivered (capture mailbox, SFTP), once per item, for the import to list. */
  inbox: InboxStore;
  /** The SFTP collector's cursor: the ZIPs taken and set aside. */
  landingZips: LandingZipStore;
  raw: RawStore;
  audit: AuditTrail;
  locks: ContainerClient;
}

export async function openStores(storage: StorageAccount, options: { tmpDir?: string } = {}): Promise<ImporterStores> {
  const [connectorTable, mappingTable, runTable, deliveryTable, runLogTable, unmappedTable, dailyCountsTable, inboxTable, landingZipTable, raw, audit, locks, mappingBlobs] = await Promise.all([
    storage.table(TABLES.connector),
    storage.table(TABLES.mappings),
    storage.table(TABLES.runs),
    storage.table(TABLES.deliveries),
    storage.table(TABLES.runLog),
    storage.table(TABLES.unmapped),
    storage.table(TABLES.dailyCounts),
    storage.table(TABLES.inbox),
    storage.table(TABLES.landingZips),
    storage.container(CONTAINERS.raw),
    storage.container(CONTAINERS.audit),
    storage.container(CONTAINERS.locks),
    storage.container(CONTAINERS.mappings),
  ]);
  const connectors = new ConnectorStore(connectorTable);
  return {
    connectors,
    mappings: new MappingStore(mappingTable, mappingBlobs, connectors),
    runs: new RunsStore(runTable),
    ledger: new DeliveryLedger(deliveryTable),
    runLog: new RunLogStore(runLogTable),
    unmapped: new UnmappedStore(unmappedTable),
    dailyCounts: new DailyCountsStore(dailyCountsTable),
    inbox: new InboxStore(inboxTable),
    landingZips: new LandingZipStore(landingZipTable),
    raw: new RawStore(raw, { tmpDir: options.tmpDir }),
    audit: new AuditTrail(audit),
    locks,
  };
}
