/** Table and container names: one place, so a deployment can see every store the importer uses. */
export const TABLES = {
  connector: 'connector',
  mappings: 'mappings',
  runs: 'runs',
  deliveries: 'deliveries',
  runLog: 'runlog',
  unmapped: 'unmapped',
  /** Items per archive day, kind and outcome, for the tab's 30-day chart. */
  dailyCounts: 'dailycounts',
  /** Items TeleMessage delivered (capture mailbox, SFTP ZIPs), recorded once each with when we collected them. */
  inbox: 'inbox',
  /** ZIPs from the SFTP landing container, taken or set aside, with their counts and reasons. */
  landingZips: 'landingzips',
  /** What the workers report of a run's delivery units, until the run takes it (importer/scale/). */
  unitResults: 'unitresults',
  conversations: 'conversations',
  notifications: 'notifications',
} as const;

export const CONTAINERS = {
  raw: 'raw',
  audit: 'audit',
  locks: 'locks',
  /** Custom mapping versions, one write-once blob each. */
  mappings: 'mappings',
} as const;

/** RowKey and PartitionKey may not hold / \ # ? or control characters. */
export function keySafe(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
