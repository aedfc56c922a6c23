import type { ChangeOptions, MappingChange, MappingPreview, MappingService, MappingVersionListing } from '../mapping/admin/mappingService';
import { groupUnmapped, type UnmappedReport } from '../mapping/item/unmappedKind';
import type { UnmappedNumber } from '../state/unmappedStore';
import type { ImporterContext } from './importerContext';

type MappingFile = Buffer | string | AsyncIterable<Buffer | string>;

/** The custom mapping from numbers to mailboxes, as admins change it, and the numbers that map nowhere. */
export interface MappingClient {
  /** Reads and checks a mapping file (mailboxes against Microsoft 365) and compares it with the active mapping; changes nothing. */
  preview(csv: MappingFile, options?: { abortSignal?: AbortSignal }): Promise<MappingPreview>;
  /** Applies a mapping file as a new version; throws MappingFileError (code InvalidMappingCsv) or ConfirmationRequired and changes nothing. */
  apply(csv: MappingFile, requestedBy: string, options: ChangeOptions): Promise<MappingChange>;
  /** `apply` for a setup script: the rows now active and the new version's name. */
  upload(csv: Buffer | string, requestedBy: string, options: { etag: string | undefined }): Promise<{ entries: number; version: string }>;
  mapNumber(number: string, mailbox: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange>;
  unmapNumber(number: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange>;
  versions(options?: { top?: number; abortSignal?: AbortSignal }): Promise<MappingVersionListing[]>;
  restore(version: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange>;
  /** The active mapping, or `version`, as spreadsheet-safe CSV in TeleMessage's format. */
  export(options?: { version?: string; abortSignal?: AbortSignal }): AsyncIterable<string>;
  unmapped(): Promise<UnmappedNumber[]>;
  /** Unmapped numbers by kind: archived lines and employees to fix, outside parties only counted. */
  unmappedReport(): Promise<UnmappedReport<UnmappedNumber>>;
  /** What the bot alerts on: archived lines and employees without a mailbox, never outside parties. */
  unmappedAlerts(): Promise<UnmappedNumber[]>;
}

export class ConnectorMapping implements MappingClient {
  constructor(
    private readonly ctx: ImporterContext,
    private readonly service: MappingService,
  ) {}

  preview(csv: MappingFile, options?: { abortSignal?: AbortSignal }): Promise<MappingPreview> {
    return this.service.previewMapping(csv, options);
  }

  apply(csv: MappingFile, requestedBy: string, options: ChangeOptions): Promise<MappingChange> {
    return this.service.applyMapping(csv, requestedBy, options);
  }

  async upload(csv: Buffer | string, requestedBy: string, options: { etag: string | undefined }): Promise<{ entries: number; version: string }> {
    const change = await this.service.applyMapping(csv, requestedBy, { etag: options.etag });
    const settings = (await this.ctx.settings()).value;
    return { entries: change.version?.rows ?? change.diff.activeRows, version: settings.mappingVersion ?? '' };
  }

  mapNumber(number: string, mailbox: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange> {
    return this.service.mapNumber(number, mailbox, requestedBy, options);
  }

  unmapNumber(number: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange> {
    return this.service.unmapNumber(number, requestedBy, options);
  }

  versions(options?: { top?: number; abortSignal?: AbortSignal }): Promise<MappingVersionListing[]> {
    return this.service.listMappingVersions(options);
  }

  restore(version: string, requestedBy: string, options: ChangeOptions): Promise<MappingChange> {
    return this.service.restoreMappingVersion(version, requestedBy, options);
  }

  export(options: { version?: string; abortSignal?: AbortSignal } = {}): AsyncIterable<string> {
    return this.service.exportMapping(options.version, options);
  }

  unmapped(): Promise<UnmappedNumber[]> {
    return this.ctx.stores.unmapped.list(this.ctx.connectorId);
  }

  async unmappedReport(): Promise<UnmappedReport<UnmappedNumber>> {
    return groupUnmapped(await this.unmapped());
  }

  async unmappedAlerts(): Promise<UnmappedNumber[]> {
    return (await this.unmapped()).filter((u) => u.kind !== 'outsideParty');
  }
}
