import { toE164, type CountryCode } from '../../../phone/phoneNumber';
import { ImporterError } from '../../errors';
import type { ImporterStores } from '../../run/importerStores';
import type { RunRecord } from '../../state/runsStore';
import type { MappingOrigin, MappingVersion } from '../../state/mappingStore';
import { checkEntry, MappingFileError, readMappingCsv, type MappingEntry, type MappingProblem, type ParsedMappingFile } from './csvMapping';
import type { DirectoryCheck, MailboxDirectory } from '../mailboxDirectory';
import { csvLine } from '../../spreadsheetCsv';

/** What reading and checking a mapping file found, row by row. */
export interface MappingCheck {
  /** True when the file may be applied: no row has a problem. */
  ok: boolean;
  rows: number;
  /** Numbers the file maps (a row repeated exactly counts once). */
  entries: number;
  repeated: number;
  /** Every problem, by line; `mappingReportCsv` turns them into the downloadable report. */
  problems: MappingProblem[];
  header?: { number: string; mailbox: string };
  delimiter: string;
  /** The mailboxes checked against Microsoft 365, those it does not know, and the Graph requests it took. */
  mailboxes: { checked: number; unknown: number; graphRequests: number };
}

export interface MappingChangeExample {
  number: string;
  from?: string;
  to?: string;
}

/** A mapping compared with the active one. */
export interface MappingDiff {
  activeVersion?: string;
  activeRows: number;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  /** The first few of each, for the preview to show. */
  examples: { added: MappingChangeExample[]; changed: MappingChangeExample[]; removed: MappingChangeExample[] };
  /** More than half of the active mapping would go: applying needs `confirmRemovals`. */
  confirmationRequired: boolean;
}

export interface MappingPreview {
  check: MappingCheck;
  diff: MappingDiff;
}

/** What happened to the items held for newly mapped numbers. */
export type ReplayOutcome =
  | { status: 'none' }
  | { status: 'done'; run: RunRecord }
  /** Another run holds the connector; `replayHeldItems` (or the next change) replays them later. */
  | { status: 'deferred'; reason: string };

export interface MappingChange {
  /** The new active version; undefined when nothing changed (the same mapping again). */
  version?: MappingVersion;
  diff: MappingDiff;
  /** Numbers that map now and did not, or map elsewhere: their held items are replayed. */
  newlyMapped: string[];
  replay: ReplayOutcome;
}

export interface MappingVersionListing extends MappingVersion {
  active: boolean;
}

export interface ChangeOptions {
  /** The connector's ETag as read with `settings()`: someone else's change in between is a `Conflict`. */
  etag: string | undefined;
  /** Needed when the change removes more than half of the active mapping. */
  confirmRemovals?: boolean;
  abortSignal?: AbortSignal;
}

export interface MappingServiceDeps {
  connectorId: string;
  stores: ImporterStores;
  directory(): MailboxDirectory;
  /** Replays the items held for `numbers` as a `remap` run; undefined when none are held. */
  replay(numbers: readonly string[], requestedBy: string, signal?: AbortSignal): Promise<RunRecord | undefined>;
}

const EXAMPLES = 20;
const MAPPING_HEADER = ['External User ID', 'Microsoft 365 User Mailbox'];

/**
 * The custom mapping as an admin changes it: a file previewed and applied, one number mapped or
 * removed, an earlier version restored. Every change is validated whole first (bad input changes
 * nothing), stored as a new version written whole, activated by one ETag-checked pointer update,
 * audited with its before and after counts, and followed by the replay of the items held for the
 * numbers it maps.
 */
export class MappingService {
  constructor(private readonly deps: MappingServiceDeps) {}

  /** Reads, checks (mailboxes included) and compares a file with the active mapping; changes nothing. */
  async previewMapping(csv: Buffer | string | AsyncIterable<Buffer | string>, options: { abortSignal?: AbortSignal } = {}): Promise<MappingPreview> {
    const settings = (await this.deps.stores.connectors.getOrDefault(this.deps.connectorId)).value;
    const { file, check } = await this.checkFile(csv, settings.defaultCountry as CountryCode | undefined, options.abortSignal);
    const diff = diffMapping(await this.deps.stores.mappings.load(settings.mappingVersion, options), file.entries, settings.mappingVersion, file.lines);
    return { check, diff };
  }

  /** Applies a file as the new active mapping, after the same checks as the preview. */
  async applyMapping(csv: Buffer | string | AsyncIterable<Buffer | string>, requestedBy: string, options: ChangeOptions): Promise<MappingChange> {
    const settings = (await this.deps.stores.connectors.getOrDefault(this.deps.connectorId)).value;
    const { file, check } = await this.checkFile(csv, settings.defaultCountry as CountryCode | undefined, options.abortSignal);
    if (!check.ok) {
      throw new MappingFileError(
        'rowProblems',
        `The mapping file has ${check.problems.length.toLocaleString('en-US')} problem${check.problems.length === 1 ? '' : 's'}; nothing was changed. Download the report to see what to fix on each line.`,
        check.problems,
      );
    }
    return this.change(file.entries, requestedBy, options, {
      origin: 'upload',
      action: 'mapping.applied',
      detail: { fileRows: check.rows, repeated: check.repeated, graphRequests: check.mailboxes.graphRequests },
    });
  }

  /** Maps one number to one mailbox (a new version); the same checks as a file row. */
  async mapNumber(number: string, mailbox: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange> {
    const settings = (await this.deps.stores.connectors.getOrDefault(this.deps.connectorId)).value;
    const { entry, problems } = checkEntry(number, mailbox, settings.defaultCountry as CountryCode | undefined);
    if (!entry) {
      const p = problems[0];
      throw new ImporterError(
        p.code === 'NotANumber' || p.code === 'MissingNumber' ? 'InvalidPhoneNumber' : 'InvalidMailbox',
        capitalise(p.message),
        problems.map((q) => q.message),
      );
    }
    const found = await this.deps.directory().check([entry.mailbox], options);
    if (found.unknown.size) throw new ImporterError('UnknownMailbox', `${entry.mailbox} is not a Microsoft 365 user; nothing was changed.`);
    const active = await this.deps.stores.mappings.load(settings.mappingVersion, options);
    if (active.get(entry.number) === entry.mailbox) return { diff: diffMapping(active, [...entries(active)], settings.mappingVersion), newlyMapped: [], replay: { status: 'none' } };
    const next = new Map(active);
    next.set(entry.number, entry.mailbox);
    return this.change(entries(next), requestedBy, options, {
      origin: 'mapNumber',
      action: 'mapping.numberMapped',
      note: `${entry.number} → ${entry.mailbox}`,
      detail: { number: entry.number, mailbox: entry.mailbox, previously: active.get(entry.number) },
    });
  }

  /** Removes one number from the mapping (a new version). */
  async unmapNumber(number: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange> {
    const settings = (await this.deps.stores.connectors.getOrDefault(this.deps.connectorId)).value;
    const e164 = toE164(number, settings.defaultCountry as CountryCode | undefined);
    if (!e164) throw new ImporterError('InvalidPhoneNumber', `"${number}" is not a phone number.`);
    const active = await this.deps.stores.mappings.load(settings.mappingVersion, options);
    if (!active.has(e164)) throw new ImporterError('NotFound', `${e164} is not in the custom mapping.`);
    const previously = active.get(e164);
    active.delete(e164);
    return this.change(
      entries(active),
      requestedBy,
      { ...options, confirmRemovals: true },
      { origin: 'unmapNumber', action: 'mapping.numberUnmapped', note: `${e164} removed`, detail: { number: e164, previously } },
    );
  }

  /** Makes an earlier version active again, as a new version that copies it. */
  async restoreMappingVersion(version: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange> {
    const stored = await this.deps.stores.mappings.getVersion(this.deps.connectorId, version);
    const copy: MappingEntry[] = [];
    for await (const e of this.deps.stores.mappings.entries(stored.version, options)) copy.push(e);
    return this.change(copy, requestedBy, options, {
      origin: 'restore',
      action: 'mapping.restored',
      restoredFrom: stored.version,
      note: `copy of the version of ${stored.createdAt.toISOString()}`,
      detail: { restoredFrom: stored.version },
    });
  }

  /** Every version, newest first, with the active one marked. */
  async listMappingVersions(options: { top?: number; abortSignal?: AbortSignal } = {}): Promise<MappingVersionListing[]> {
    const active = (await this.deps.stores.connectors.getOrDefault(this.deps.connectorId)).value.mappingVersion;
    const list: MappingVersionListing[] = [];
    for await (const v of this.deps.stores.mappings.versions(this.deps.connectorId, options)) {
      list.push({ ...v, active: v.version === active });
      if (options.top && list.length >= options.top) break;
    }
    return list;
  }

  /**
   * The active mapping (or `version`) as CSV in TeleMessage's own format, numbers without the '+'
   * as TeleMessage writes them, so the file can be uploaded again; every cell spreadsheet-safe.
   */
  async *exportMapping(version?: string, options: { abortSignal?: AbortSignal } = {}): AsyncIterable<string> {
    const chosen = version ?? (await this.deps.stores.connectors.getOrDefault(this.deps.connectorId)).value.mappingVersion;
    if (version) await this.deps.stores.mappings.getVersion(this.deps.connectorId, version);
    yield csvLine(MAPPING_HEADER);
    for await (const e of this.deps.stores.mappings.entries(chosen, options)) yield csvLine([e.number.replace(/^\+/, ''), e.mailbox]);
  }

  private async checkFile(
    csv: Buffer | string | AsyncIterable<Buffer | string>,
    defaultCountry: CountryCode | undefined,
    signal?: AbortSignal,
  ): Promise<{ file: ParsedMappingFile; check: MappingCheck }> {
    const file = await readMappingCsv(csv, { defaultCountry, abortSignal: signal });
    const directory = await this.deps.directory().check(
      file.entries.map((e) => e.mailbox),
      { abortSignal: signal },
    );
    const problems = [...file.problems, ...unknownMailboxProblems(file, directory)].sort((a, b) => a.line - b.line);
    return {
      file,
      check: {
        ok: problems.length === 0,
        rows: file.rows,
        entries: file.entries.length,
        repeated: file.repeated,
        problems,
        header: file.header,
        delimiter: file.delimiter,
        mailboxes: { checked: directory.known.size + directory.unknown.size, unknown: directory.unknown.size, graphRequests: directory.requests },
      },
    };
  }

  private async change(
    next: MappingEntry[],
    requestedBy: string,
    options: ChangeOptions,
    what: { origin: MappingOrigin; action: string; note?: string; restoredFrom?: string; detail: Record<string, unknown> },
  ): Promise<MappingChange> {
    const { stores, connectorId } = this.deps;
    const current = await stores.connectors.getOrDefault(connectorId);
    if (current.etag !== options.etag) throw new ImporterError('Conflict', 'The connector was changed by someone else; reload and try again.');
    const active = await stores.mappings.load(current.value.mappingVersion, options);
    const diff = diffMapping(active, next, current.value.mappingVersion);
    if (diff.confirmationRequired && !options.confirmRemovals) {
      throw new ImporterError(
        'ConfirmationRequired',
        `This would remove ${diff.removed.toLocaleString('en-US')} of the ${diff.activeRows.toLocaleString('en-US')} numbers in the active mapping (more than half); confirm to go ahead. Nothing was changed.`,
      );
    }
    const version = await stores.mappings.write(connectorId, next, { createdBy: requestedBy, origin: what.origin, restoredFrom: what.restoredFrom, note: what.note }, options);
    try {
      await stores.mappings.activate(connectorId, version.version, options.etag);
    } catch (err) {
      // Someone else changed the connector meanwhile: their state stays, this version goes.
      await stores.mappings.discard(connectorId, version.version);
      throw err;
    }
    await stores.audit.append({
      actor: requestedBy,
      action: what.action,
      connectorId,
      before: { mappingVersion: current.value.mappingVersion, rows: active.size },
      after: { mappingVersion: version.version, rows: next.length },
      detail: { added: diff.added, changed: diff.changed, removed: diff.removed, unchanged: diff.unchanged, ...what.detail },
    });
    const newlyMapped = next.filter((e) => active.get(e.number) !== e.mailbox).map((e) => e.number);
    return { version, diff, newlyMapped, replay: await this.replay(newlyMapped, requestedBy, options.abortSignal) };
  }

  private async replay(numbers: string[], requestedBy: string, signal?: AbortSignal): Promise<ReplayOutcome> {
    if (!numbers.length) return { status: 'none' };
    try {
      const run = await this.deps.replay(numbers, requestedBy, signal);
      return run ? { status: 'done', run } : { status: 'none' };
    } catch (err) {
      if (err instanceof ImporterError && err.code === 'RunInProgress') {
        return { status: 'deferred', reason: 'Another run of the connector is in progress: the held items are replayed by replayHeldItems once it ends.' };
      }
      throw err;
    }
  }
}

/** The report an admin downloads: one line per problem, in file order, spreadsheet-safe. */
export function mappingReportCsv(problems: readonly MappingProblem[]): string {
  return [csvLine(['Line', 'Problem', 'Value', 'What is wrong']), ...problems.map((p) => csvLine([p.line, p.code, p.value, p.message]))].join('');
}

function unknownMailboxProblems(file: ParsedMappingFile, directory: DirectoryCheck): MappingProblem[] {
  if (!directory.unknown.size) return [];
  return file.entries
    .filter((e) => directory.unknown.has(e.mailbox))
    .map((e) => ({
      line: file.lines.get(e.number)!,
      code: 'UnknownMailbox' as const,
      value: e.mailbox,
      message: `${e.mailbox} is not a Microsoft 365 user (check the spelling, or that the mailbox exists)`,
    }));
}

/**
 * Compares `next` (one entry per number) with the active mapping: what a change would add, change,
 * remove and keep. `nextNumbers`, when the caller has it (a parsed file's lines), saves building it.
 */
export function diffMapping(active: ReadonlyMap<string, string>, next: readonly MappingEntry[], activeVersion: string | undefined, nextNumbers?: ReadonlyMap<string, unknown>): MappingDiff {
  const diff: MappingDiff = { activeVersion, activeRows: active.size, added: 0, changed: 0, removed: 0, unchanged: 0, examples: { added: [], changed: [], removed: [] }, confirmationRequired: false };
  for (const e of next) {
    const before = active.get(e.number);
    if (before === undefined) {
      diff.added++;
      if (diff.examples.added.length < EXAMPLES) diff.examples.added.push({ number: e.number, to: e.mailbox });
    } else if (before !== e.mailbox) {
      diff.changed++;
      if (diff.examples.changed.length < EXAMPLES) diff.examples.changed.push({ number: e.number, from: before, to: e.mailbox });
    } else {
      diff.unchanged++;
    }
  }
  // Numbers are unique on both sides: whatever of the active mapping was not matched is removed.
  diff.removed = active.size - diff.changed - diff.unchanged;
  if (diff.removed > 0) {
    const inNext = nextNumbers ?? new Map(next.map((e) => [e.number, true]));
    for (const [number, mailbox] of active) {
      if (diff.examples.removed.length >= EXAMPLES) break;
      if (!inNext.has(number)) diff.examples.removed.push({ number, from: mailbox });
    }
  }
  diff.confirmationRequired = diff.removed * 2 > diff.activeRows;
  return diff;
}

function entries(map: ReadonlyMap<string, string>): MappingEntry[] {
  return [...map].map(([number, mailbox]) => ({ number, mailbox }));
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
