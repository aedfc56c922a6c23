import type { DeliveryBody } from './apiSchemas';
import type { Names } from './auditWords';
import type { CountFigures } from './countFacts';

/**
 * What the tab's API answers, route by route: the page reads these, and the server's handlers check
 * every answer with `satisfies` against the same types. `D` is how a moment is carried: `Date` in the
 * importer's objects as the server hands them to JSON, an ISO string (the default) as the page reads
 * them. A field the page reads that the importer renames or drops fails the typecheck.
 */

/** The caller, as the API's GET /api/tab/me and its NotAnAdmin refusal name them. */
export interface Caller {
  oid: string;
  name?: string;
  username?: string;
}

// The shapes the page reads (the API's JSON, dates as strings).
/** A run's figures, as docs/counts.md defines them. */
export interface RunCounts extends CountFigures {
  skippedDuplicates: number;
  failuresOutstanding: number;
  itemsAlreadyArchived: number;
  itemsHeld: number;
  unmapped: number;
  unmappedArchivedLines: number;
  unmappedEmployees: number;
  unmappedOutsideParties: number;
  unmappedNumbers: number;
}
export interface Run<D = string> {
  runId: string;
  trigger: string;
  window: { from: D; to: D };
  status: 'running' | 'succeeded' | 'partial' | 'failed' | 'interrupted';
  counts: RunCounts;
  requestedBy: string;
  startedAt: D;
  endedAt?: D;
  rerunOf?: string;
  error?: string;
  verification?: string;
  /** A delivered source's collection before the import (smtp, sftp runs). */
  collection?: RunCollection;
  /** The importer's account of the run, as the card and the CLI print it (the runs list and a run's detail carry it). */
  summary?: string;
  /** A replay of held items (trigger remap): "35 held: 35 already archived, 0 new". */
  replaySummary?: string;
  /** Items the source held for the window as the run began, where it could say. */
  itemsTotal?: number;
  /** A replay's items: the only ones its counts cover. */
  itemIds?: string[];
}
export interface RunCollection {
  kind: 'smtp' | 'sftp';
  collected: number;
  alreadyCollected: number;
  rejected: { name: string; reason: string; at: string }[];
  /** How long the collection took. */
  durationMs?: number;
}
export interface RunLogRow<D = string> {
  itemId: string;
  sourceUserId: string;
  m365UserId?: string;
  outcome: 'failed' | 'partial' | 'unmapped' | 'malformed' | 'acknowledged';
  reason: string;
  at: D;
}
export interface ConnectorView<D = string> {
  etag?: string;
  settings: {
    scheduleUtc: string;
    scheduleTimeZone?: string;
    folderName: string;
    automaticMapping: boolean;
    defaultCountry?: string;
    admins: string[];
    mappingVersion?: string;
    termsAcceptedAt?: string;
    mappingConfirmedAt?: string;
    consentedAt?: string;
    setupCompletedAt?: string;
  };
  telemessage: TeleMessageStatus;
  status: { lastRun?: Run<D>; running: boolean; nextRunAt: D; failures: { outstandingItems: number; acknowledgedItems: number } };
}

export interface UnmappedNumber<D = string> {
  number: string;
  itemCount: number;
  lastSeen: D;
  lastName?: string;
  lastEmail?: string;
  kind: 'archivedLine' | 'employee' | 'outsideParty';
  reason: string;
  /** The number as people read it, as the bot shows it too (international format). */
  display: string;
}
export interface UnmappedReport<D = string> {
  archivedLines: UnmappedNumber<D>[];
  employees: UnmappedNumber<D>[];
  outsideParties: { numbers: number; items: number };
}
export interface MappingChange<D = string> {
  newlyMapped: string[];
  replay: { status: 'none' } | { status: 'done'; run: Run<D> } | { status: 'deferred'; reason: string };
  version?: MappingVersion<D>;
  diff?: MappingDiff;
}

export interface MappingProblem {
  line: number;
  code: string;
  value: string;
  message: string;
}
export interface MappingChangeExample {
  number: string;
  from?: string;
  to?: string;
}
export interface MappingDiff {
  activeVersion?: string;
  activeRows: number;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  examples: { added: MappingChangeExample[]; changed: MappingChangeExample[]; removed: MappingChangeExample[] };
  confirmationRequired: boolean;
}
export interface MappingPreview {
  check: { ok: boolean; rows: number; entries: number; repeated: number; problems: MappingProblem[]; mailboxes: { checked: number; unknown: number } };
  diff: MappingDiff;
  /** The row report as CSV, when the file has problems. */
  reportCsv?: string;
}
export interface MappingVersion<D = string> {
  version: string;
  createdAt: D;
  createdBy: string;
  origin: 'upload' | 'mapNumber' | 'unmapNumber' | 'restore';
  rows: number;
  restoredFrom?: string;
  note?: string;
  active?: boolean;
}
export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  before?: unknown;
  after?: unknown;
  detail?: Record<string, unknown>;
  /** The actor's display name where Graph knows them, and the entry in words. */
  who: string;
  text: string;
}
/** An admin: the object id the connector keeps, and who Graph says that is. */
export interface AdminListing {
  id: string;
  displayName?: string;
  userPrincipalName?: string;
}
export interface AdminsView {
  admins: AdminListing[];
  etag?: string;
}
export type ItemOutcome = 'imported' | 'partial' | 'failed' | 'notImported';
/** One UTC archive day: items by kind (sms, mms, chat, voiceRecording, voiceCallLog, unknown) and outcome. */
export interface DailyCounts {
  day: string;
  kinds: Record<string, Record<ItemOutcome, number>>;
}
/** A version as the versions list shows it: whether it is the active one. */
export type MappingVersionListing<D = string> = MappingVersion<D> & { active: boolean };
/** How TeleMessage delivers, as the connector stands: named by `description`. */
export interface TeleMessageStatus {
  delivery: DeliveryBody['delivery'];
  configured: boolean;
  username?: string;
  captureMailbox?: string;
  sftp?: SftpEndpoint;
  description: string;
}
/** What to give TeleMessage for an SFTP delivery. */
export interface SftpEndpoint {
  host: string;
  username: string;
  container: string;
}
/** A delivered source's read-only preflight. */
export interface DeliveryPreflight {
  delivery: 'smtp' | 'sftp';
  ok: boolean;
  checks: { name: string; title: string; status: 'passed' | 'failed' | 'skipped'; detail: string }[];
  waiting?: number;
  sftp?: SftpEndpoint;
}
export interface PreflightCheck {
  name: string;
  title: string;
  status: 'passed' | 'failed' | 'skipped';
  detail: string;
  error?: { status: number; code: string; message: string };
  warning?: string;
}
export interface PreflightReport {
  mailbox: string;
  ok: boolean;
  checks: PreflightCheck[];
}

// The answers of the routes that wrap the shapes above.
export type MeResponse = Caller & { admin: boolean };
export interface RunsPage<D = string> {
  runs: Run<D>[];
  /** The last run id of this page, when there are more. */
  next?: string;
}
/** A run started (manual, rerun, backfill): answered once it is recorded. */
export interface RunStarted<D = string> {
  run: Run<D>;
}
export interface RunDetail<D = string> {
  run: Run<D>;
  log: RunLogRow<D>[];
  /** More rows than the page shows: the CSV download has them all. */
  logTruncated: boolean;
}
export interface MappingVersions<D = string> {
  versions: MappingVersionListing<D>[];
}
export interface AuditPage {
  entries: AuditEntry[];
  /** Display names of the object ids the entries name, where Graph knows them. */
  names: Names;
}
export type AdminAdded = AdminsView & { added: AdminListing };
/** An item failing in its archive window: outstanding until imported or acknowledged. */
export interface FailureLine<D = string> {
  itemId: string;
  archivedAt: D;
  /** The mailbox whose delivery failed; absent when the item itself failed. */
  mailbox?: string;
  reason: string;
  runId: string;
  /** `name`: who acknowledged it, as Graph names them (the failures list carries it). */
  acknowledgement?: { by: string; name?: string; at: D; reason: string };
}
export interface FailureListing<D = string> {
  outstanding: FailureLine<D>[];
  acknowledged: FailureLine<D>[];
  truncated: boolean;
}
export interface FailureAcknowledged<D = string> {
  acknowledged: FailureLine<D>[];
}
export interface DailyStats {
  days: DailyCounts[];
}
