import type { Client } from '@microsoft/microsoft-graph-client';
import { ImporterError } from '../errors';
import type { ImporterStores } from '../run/importerStores';
import { checkSettingsChange, type ConnectorSettings } from '../state/connectorStore';
import type { DeliveryKind } from './collector';
import type { DeliveredKind, LandingTarget } from './collectors';
import { checkCaptureMailbox, checkLandingContainer, type DeliveryCheck } from './deliveryCheck';
import { landingContainerClient } from './sftp/sftpCollectorFactory';

export type { DeliveryCheck, DeliveryCheckName } from './deliveryCheck';

/** How TeleMessage delivers, as the admin chooses it in the setup. */
export interface DeliveryChoice {
  delivery: DeliveryKind;
  /** With 'smtp': the capture mailbox TeleMessage sends to. */
  captureMailbox?: string;
}

/** What to give TeleMessage for an SFTP delivery. */
export interface SftpEndpoint {
  host: string;
  username: string;
  container: string;
}

/** The connector's source as the tab and the bot name it. */
export interface DeliveryStatus {
  delivery: DeliveryKind;
  /** The TeleMessage setup step is done: a sign-in for the API, a capture mailbox for SMTP, a landing container for SFTP. */
  configured: boolean;
  /** "TeleMessage archive API as <user>", "SMTP capture mailbox <address>", "SFTP container <name>". */
  description: string;
  username?: string;
  captureMailbox?: string;
  sftp?: SftpEndpoint;
}

/** A delivered source's preflight: read-only, nothing collected, nothing changed. */
export interface DeliveryPreflight {
  delivery: DeliveredKind;
  ok: boolean;
  checks: DeliveryCheck[];
  /** Capture emails, or ZIPs, waiting to be collected. */
  waiting?: number;
  sftp?: SftpEndpoint;
}

/** How TeleMessage delivers (the archive API, a capture mailbox, SFTP ZIPs): `importer.delivery`. */
export interface DeliveryClient {
  /** How TeleMessage delivers, named for the admin. */
  status(): Promise<DeliveryStatus>;
  /** Stores how TeleMessage delivers (ETag-checked, audited); bad input is InvalidSetting and changes nothing. */
  set(choice: DeliveryChoice, requestedBy: string, options: { etag?: string }): Promise<DeliveryStatus>;
  /** Proves the app can read the chosen delivery (the capture mailbox, the landing container), changing nothing. */
  check(choice: DeliveryChoice, options?: { abortSignal?: AbortSignal }): Promise<DeliveryPreflight>;
}

/**
 * The local user infra/main.bicep gives TeleMessage on the landing account; an SFTP client signs
 * in to a storage account as `<account>.<local user>`.
 */
const SFTP_LOCAL_USER = 'telemessage';

export interface DeliverySetupContext {
  connectorId: string;
  stores: ImporterStores;
  graph: () => Client;
  landing?: LandingTarget;
  settings: () => Promise<{ value: ConnectorSettings; etag?: string }>;
  updateSettings: (changes: Partial<ConnectorSettings>, requestedBy: string, options: { etag: string | undefined }) => Promise<ConnectorSettings>;
}

export class DeliverySetup implements DeliveryClient {
  constructor(private readonly ctx: DeliverySetupContext) {}

  async status(): Promise<DeliveryStatus> {
    return this.describe((await this.ctx.settings()).value);
  }

  async set(choice: DeliveryChoice, requestedBy: string, options: { etag?: string }): Promise<DeliveryStatus> {
    const changes = this.checked(choice);
    return this.describe(await this.ctx.updateSettings(changes, requestedBy, { etag: options.etag }));
  }

  async check(choice: DeliveryChoice, options: { abortSignal?: AbortSignal } = {}): Promise<DeliveryPreflight> {
    const { delivery, captureMailbox } = this.checked(choice);
    if (delivery === 'smtp') {
      const mailbox = captureMailbox!;
      const saved = await this.ctx.stores.connectors.getCursor(this.ctx.connectorId, 'smtp', options);
      const result = await checkCaptureMailbox(this.ctx.graph(), mailbox, cursorLink(saved?.value, mailbox), options.abortSignal);
      return { delivery, ok: result.checks.every((c) => c.status !== 'failed'), ...result };
    }
    if (delivery === 'sftp') {
      const result = await checkLandingContainer(landingContainerClient(this.ctx.landing!), options.abortSignal);
      return { delivery, ok: result.checks.every((c) => c.status !== 'failed'), ...result, sftp: sftpEndpoint(this.ctx.landing!) };
    }
    throw new ImporterError('InvalidSetting', 'The archive API is checked by signing in to TeleMessage, not by a delivery check.');
  }

  /** The choice as settings to store, or InvalidSetting with what is missing. */
  private checked(choice: DeliveryChoice): Pick<ConnectorSettings, 'delivery' | 'captureMailbox'> {
    const captureMailbox = choice.captureMailbox?.trim().toLowerCase();
    const changes = { delivery: choice.delivery, ...(captureMailbox && { captureMailbox }) };
    checkSettingsChange(changes);
    if (choice.delivery === 'smtp' && !captureMailbox) throw new ImporterError('InvalidSetting', 'SMTP delivery needs the capture mailbox TeleMessage sends to, e.g. telemessage-capture@contoso.com.');
    if (choice.delivery === 'sftp' && !this.ctx.landing) {
      throw new ImporterError(
        'InvalidSetting',
        "This deployment has no SFTP landing container: deploy it with TeleMessage's SSH key (docs/deploy.md), or set SFTP_STORAGE_ACCOUNT_NAME and SFTP_CONTAINER.",
      );
    }
    return changes;
  }

  private describe(settings: ConnectorSettings): DeliveryStatus {
    const delivery = settings.delivery ?? 'api';
    if (delivery === 'smtp') {
      const mailbox = settings.captureMailbox;
      return { delivery, configured: Boolean(mailbox), captureMailbox: mailbox, description: mailbox ? `SMTP capture mailbox ${mailbox}` : 'SMTP capture mailbox not named yet' };
    }
    if (delivery === 'sftp') {
      const sftp = this.ctx.landing && sftpEndpoint(this.ctx.landing);
      return { delivery, configured: Boolean(sftp), sftp, description: sftp ? `SFTP container ${sftp.container}` : 'SFTP, but this deployment has no landing container' };
    }
    const username = settings.telemessageUsername;
    const configured = Boolean(username && settings.telemessageSecretName);
    return { delivery, configured, username, description: configured ? `TeleMessage archive API as ${username}` : 'TeleMessage archive API, not signed in yet' };
  }
}

/** Whether the TeleMessage setup step is done for the connector's delivery (the scheduler and the review ask). */
export function deliveryConfigured(settings: ConnectorSettings): boolean {
  if (settings.delivery === 'smtp') return Boolean(settings.captureMailbox);
  if (settings.delivery === 'sftp') return true;
  return Boolean(settings.telemessageUsername && settings.telemessageSecretName);
}

/** The host, user and container TeleMessage's SFTP client is given. */
export function sftpEndpoint(landing: LandingTarget): SftpEndpoint {
  const account = accountOf(landing) ?? 'account';
  // A connection string naming its own endpoint (Azurite locally) is shown as it is: no SFTP there, but no made-up host either.
  const endpoint = 'connectionString' in landing.storage ? landing.storage.connectionString.match(/BlobEndpoint=([^;]+)/i)?.[1] : undefined;
  const host = endpoint ? new URL(endpoint).host : `${account}.blob.core.windows.net`;
  return { host, username: `${account}.${SFTP_LOCAL_USER}`, container: landing.container };
}

function accountOf(landing: LandingTarget): string | undefined {
  const { storage } = landing;
  if ('accountName' in storage) return storage.accountName;
  if (/UseDevelopmentStorage=true/i.test(storage.connectionString)) return 'devstoreaccount1';
  return storage.connectionString.match(/AccountName=([^;]+)/i)?.[1];
}

/** The collector's saved delta link, when it belongs to this mailbox (its shape is the collector's: { mailbox, link }). */
function cursorLink(value: string | undefined, mailbox: string): string | undefined {
  if (!value) return undefined;
  try {
    const cursor = JSON.parse(value) as { mailbox?: unknown; link?: unknown };
    return cursor.mailbox === mailbox && typeof cursor.link === 'string' ? cursor.link : undefined;
  } catch {
    return undefined;
  }
}
