import { ImporterError } from '../errors';
import { preflightTenant, type PreflightReport } from '../preflight/preflightRequest';
import { checkSettingsChange, type ConnectorSettings } from '../state/connectorStore';
import { TeleMessageSession } from '../source/telemessageSession';
import type { ImporterContext } from './importerContext';

/** What an admin may change with `update`: not the connector's id, its mapping version or where the password is kept. */
export type SettingsChange = Partial<Omit<ConnectorSettings, 'connectorId' | 'mappingVersion' | 'telemessageSecretName'>>;

/** The connector's settings (ETag-checked, audited), its TeleMessage sign-in, and the tenant's preflight. */
export interface ConnectorClient {
  settings(): Promise<{ value: ConnectorSettings; etag?: string }>;
  /** `etag` as read with `settings()`: someone else's change in between is a `Conflict`. */
  update(changes: SettingsChange, requestedBy: string, options: { etag: string | undefined }): Promise<ConnectorSettings>;
  /** Signs in to TeleMessage with these credentials and stores nothing: SourceAuthFailed when TeleMessage refuses them. */
  checkTeleMessageCredentials(username: string, password: string, options?: { abortSignal?: AbortSignal }): Promise<void>;
  /** Stores the TeleMessage password in the secret store; the connector keeps only its name. */
  setTeleMessageCredentials(username: string, password: string, requestedBy: string, options?: { etag?: string }): Promise<void>;
  /** Where the TeleMessage password is kept, for display; never the password. */
  describeSecret(): Promise<string | undefined>;
  /**
   * Tries, against the one test mailbox named, each Graph behaviour the archiver relies on, and
   * reports each as passed or failed with Graph's answer; removes what it created; audited.
   */
  preflight(mailbox: string, requestedBy: string, options?: { abortSignal?: AbortSignal }): Promise<PreflightReport>;
}

const DEFAULT_SECRET_NAME = 'telemessage-password';
const CONFLICT = 'The connector was changed by someone else; reload and try again.';

export class ConnectorSetup implements ConnectorClient {
  constructor(private readonly ctx: ImporterContext) {}

  settings(): Promise<{ value: ConnectorSettings; etag?: string }> {
    return this.ctx.settings();
  }

  async update(changes: SettingsChange, requestedBy: string, options: { etag: string | undefined }): Promise<ConnectorSettings> {
    const current = await this.settings();
    if (current.etag !== options.etag) throw new ImporterError('Conflict', CONFLICT);
    const { connectorId: _id, mappingVersion: _v, telemessageSecretName: _s, ...allowed } = changes as Partial<ConnectorSettings>;
    checkSettingsChange(allowed);
    const next = { ...current.value, ...allowed };
    await this.ctx.stores.connectors.save(next, current.etag);
    await this.ctx.stores.audit.append({ actor: requestedBy, action: 'settings.changed', connectorId: this.ctx.connectorId, before: current.value, after: next });
    return next;
  }

  async checkTeleMessageCredentials(username: string, password: string, options: { abortSignal?: AbortSignal } = {}): Promise<void> {
    if (!username.trim() || !password) throw new ImporterError('SourceAuthFailed', 'Both the TeleMessage username and password are needed.');
    const baseUrl = this.ctx.options.telemessageBaseUrl.replace(/\/+$/, '');
    const session = new TeleMessageSession({ baseUrl, username: username.trim(), password: async () => password, fetch, timeoutMs: 30_000 });
    await session.token(options.abortSignal);
  }

  async setTeleMessageCredentials(username: string, password: string, requestedBy: string, options: { etag?: string } = {}): Promise<void> {
    if (!username.trim() || !password) throw new ImporterError('SourceAuthFailed', 'Both the TeleMessage username and password are needed.');
    const name = this.ctx.options.telemessageSecretName ?? DEFAULT_SECRET_NAME;
    if (options.etag && (await this.settings()).etag !== options.etag) throw new ImporterError('Conflict', CONFLICT);
    await this.ctx.secrets.set(name, password);
    for (let attempt = 0; ; attempt++) {
      const current = await this.settings();
      try {
        // With the caller's ETag, a change made in between is a Conflict for them, not retried.
        await this.ctx.stores.connectors.save({ ...current.value, telemessageUsername: username.trim(), telemessageSecretName: name }, options.etag ?? current.etag);
        await this.ctx.stores.audit.append({
          actor: requestedBy,
          action: 'telemessage.credentials.changed',
          connectorId: this.ctx.connectorId,
          before: { username: current.value.telemessageUsername },
          // The password itself never reaches the trail, not even to be scrubbed there.
          after: { username: username.trim(), password: '[set]' },
        });
        return;
      } catch (err) {
        if (!(err instanceof ImporterError && err.code === 'Conflict') || options.etag || attempt >= 3) throw err;
      }
    }
  }

  async describeSecret(): Promise<string | undefined> {
    const name = (await this.settings()).value.telemessageSecretName;
    return name ? this.ctx.secrets.describe(name) : undefined;
  }

  async preflight(mailbox: string, requestedBy: string, options: { abortSignal?: AbortSignal } = {}): Promise<PreflightReport> {
    const settings = (await this.settings()).value;
    return preflightTenant(mailbox, requestedBy, {
      connectorId: this.ctx.connectorId,
      audit: this.ctx.stores.audit,
      client: this.ctx.graph(),
      credential: this.ctx.credential,
      sink: this.ctx.sink(settings.folderName),
      folderName: settings.folderName,
      abortSignal: options.abortSignal,
    });
  }
}
