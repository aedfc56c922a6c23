import type { TableClient } from '@azure/data-tables';
import { ImporterError } from '../errors';
import { DELIVERY_KINDS, type DeliveryKind } from '../source/collector';

/** A connector's settings, as the setup steps of the tab leave them; imports start once `setupCompletedAt` is set. */
export interface ConnectorSettings {
  connectorId: string;
  /** Daily run time, HH:MM in UTC. */
  scheduleUtc: string;
  /**
   * The IANA time zone the admin chose that time in, to show it there again; the run follows
   * `scheduleUtc` (converted with the zone's offset of the day it was saved).
   */
  scheduleTimeZone?: string;
  folderName: string;
  automaticMapping: boolean;
  telemessageUsername?: string;
  /** Name of the TeleMessage password in the secret store; never the password. */
  telemessageSecretName?: string;
  /** The active custom mapping version, or none. */
  mappingVersion?: string;
  /** Default country for numbers without a country code in mapping files. */
  defaultCountry?: string;
  /**
   * The tenant's mail domains, which tell an unmapped employee (TeleMessage has an email for them
   * in one of these) from an outside party; the custom mapping's mailbox domains when unset.
   */
  tenantDomains?: string[];
  termsAcceptedAt?: string;
  /** When the user mapping step was saved. */
  mappingConfirmedAt?: string;
  consentedAt?: string;
  setupCompletedAt?: string;
  /** Entra object ids of the connector's admins: the only people the bot and the tab act for. */
  admins?: string[];
  /**
   * How TeleMessage delivers: its archive API ('api', also when unset), emails into a capture
   * mailbox ('smtp'), or ZIPs of EML files into the SFTP landing container ('sftp').
   */
  delivery?: DeliveryKind;
  /** With delivery 'smtp': the capture mailbox TeleMessage sends to, e.g. telemessage-capture@contoso.com. Only ever read. */
  captureMailbox?: string;
}

/** Settings an admin changes that have a shape to keep: a bad one is refused (InvalidSetting) and changes nothing. */
export function checkSettingsChange(changes: Partial<ConnectorSettings>): void {
  if (changes.delivery !== undefined && !DELIVERY_KINDS.includes(changes.delivery)) {
    throw new ImporterError('InvalidSetting', `The delivery must be one of ${DELIVERY_KINDS.join(', ')}.`);
  }
  const mailbox = changes.captureMailbox;
  if (mailbox !== undefined && !/^[^\s@/?#%]+@[^\s@/?#%]+\.[^\s@/?#%]+$/.test(mailbox)) {
    throw new ImporterError('InvalidSetting', 'The capture mailbox must be one mailbox address, e.g. telemessage-capture@contoso.com.');
  }
}

export const DEFAULT_SETTINGS: Omit<ConnectorSettings, 'connectorId'> = {
  scheduleUtc: '02:00',
  folderName: 'Enterprise Number Archiver',
  automaticMapping: true,
};

export interface Versioned<T> {
  value: T;
  etag: string;
}

const CONFIG = 'config';
const CHECKPOINT = 'checkpoint';
const CURSOR = 'cursor';

/**
 * Connector settings and the checkpoint (the archive time up to which every delivery is final).
 * Every update is ETag-checked: a stale writer gets `Conflict`, never a silent overwrite.
 */
export class ConnectorStore {
  constructor(private readonly table: TableClient) {}

  async get(connectorId: string, options: { abortSignal?: AbortSignal } = {}): Promise<Versioned<ConnectorSettings> | undefined> {
    const entity = await this.read(CONFIG, connectorId, options.abortSignal);
    if (!entity) return undefined;
    const { settings } = entity as unknown as { settings: string };
    return { value: { ...DEFAULT_SETTINGS, ...(JSON.parse(settings) as Partial<ConnectorSettings>), connectorId }, etag: entity.etag };
  }

  async getOrDefault(connectorId: string): Promise<Versioned<ConnectorSettings> | { value: ConnectorSettings; etag?: undefined }> {
    return (await this.get(connectorId)) ?? { value: { ...DEFAULT_SETTINGS, connectorId } };
  }

  /** Writes settings; `etag` undefined means "create, and fail if someone already did". */
  async save(settings: ConnectorSettings, etag: string | undefined): Promise<string> {
    const entity = { partitionKey: CONFIG, rowKey: settings.connectorId, settings: JSON.stringify(settings) };
    return this.write(entity, etag);
  }

  async getCheckpoint(connectorId: string): Promise<Versioned<Date> | undefined> {
    const entity = await this.read(CHECKPOINT, connectorId);
    return entity ? { value: new Date(entity.through as string), etag: entity.etag } : undefined;
  }

  /** Moves the checkpoint forward only, never back; a concurrent move makes this one `Conflict`. */
  async advanceCheckpoint(connectorId: string, through: Date): Promise<Date> {
    const current = await this.getCheckpoint(connectorId);
    if (current && current.value >= through) return current.value;
    await this.write({ partitionKey: CHECKPOINT, rowKey: connectorId, through: through.toISOString() }, current?.etag);
    return through;
  }

  /**
   * A collector's cursor (the capture mailbox's delta link, the last ZIP taken), kept beside the
   * checkpoint. `name` tells the collectors apart ('smtp', 'sftp').
   */
  async getCursor(connectorId: string, name: string, options: { abortSignal?: AbortSignal } = {}): Promise<Versioned<string> | undefined> {
    const entity = await this.read(CURSOR, `${connectorId}|${name}`, options.abortSignal);
    return entity ? { value: String(entity.value), etag: entity.etag } : undefined;
  }

  /** Moves a collector's cursor; `etag` undefined means "the first one"; someone else's move makes this `Conflict`. */
  async saveCursor(connectorId: string, name: string, value: string, etag: string | undefined): Promise<string> {
    return this.write({ partitionKey: CURSOR, rowKey: `${connectorId}|${name}`, value }, etag);
  }

  /** Forgets a collector's cursor (its delivery changed, or its token is no longer valid): the next collection starts over. */
  async clearCursor(connectorId: string, name: string, etag: string): Promise<void> {
    try {
      await this.table.deleteEntity(CURSOR, `${connectorId}|${name}`, { etag });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404) return;
      if (status === 412) throw new ImporterError('Conflict', `The ${name} cursor of connector "${connectorId}" was moved by someone else.`);
      throw err;
    }
  }

  private async read(partitionKey: string, rowKey: string, abortSignal?: AbortSignal): Promise<(Record<string, unknown> & { etag: string }) | undefined> {
    try {
      return (await this.table.getEntity(partitionKey, rowKey, { abortSignal })) as Record<string, unknown> & { etag: string };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  private async write(entity: { partitionKey: string; rowKey: string } & Record<string, unknown>, etag: string | undefined): Promise<string> {
    try {
      const result = etag ? await this.table.updateEntity(entity, 'Replace', { etag }) : await this.table.createEntity(entity);
      return result.etag ?? '';
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 409 || status === 412) {
        throw new ImporterError('Conflict', `The connector "${entity.rowKey}" was changed by someone else; reload and try again.`);
      }
      throw err;
    }
  }
}
