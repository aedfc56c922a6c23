import type { TokenCredential } from '@azure/identity';
import type { Client } from '@microsoft/microsoft-graph-client';
import { ImporterError } from '../errors';
import type { ImporterOptions } from '../importerOptions';
import { RetryPolicy } from '../retryPolicy';
import type { ImporterStores } from '../run/importerStores';
import type { SecretStore } from '../secrets/secretStore';
import { createGraphClient } from '../sink/graphClient';
import { MailboxSink } from '../sink/mailboxSink';
import type { ArchiveSource } from '../source/archiveSource';
import { isDelivered } from '../source/collectors';
import { InboxSource } from '../source/inboxSource';
import { TeleMessageSource } from '../source/telemessageSource';
import type { ConnectorSettings } from '../state/connectorStore';
import type { WorkQueue } from '../scale/workQueue';

/** What every client of the front door shares: the connector's stores, secrets and Graph, and how a source and a sink are made. */
export class ImporterContext {
  constructor(
    readonly options: ImporterOptions,
    readonly stores: ImporterStores,
    readonly secrets: SecretStore,
    readonly credential: TokenCredential,
    /** The work queue runs hand their deliveries to, when the importer has one. */
    readonly workQueue?: WorkQueue,
  ) {}

  get connectorId(): string {
    return this.options.connectorId;
  }

  now(): Date {
    return (this.options.now ?? (() => new Date()))();
  }

  settings(): Promise<{ value: ConnectorSettings; etag?: string }> {
    return this.stores.connectors.getOrDefault(this.connectorId);
  }

  graph(): Client {
    return createGraphClient(this.options.graph, this.credential);
  }

  async source(settings: ConnectorSettings): Promise<ArchiveSource> {
    // Delivered items are read from the inbox the collector fills: verify and dry runs never collect.
    if (isDelivered(settings.delivery)) return new InboxSource(this.connectorId, this.stores);
    if (!settings.telemessageUsername || !settings.telemessageSecretName) {
      throw new ImporterError('SourceAuthFailed', 'The connector has no TeleMessage sign-in yet: finish the setup first.');
    }
    const secretName = settings.telemessageSecretName;
    return new TeleMessageSource({ baseUrl: this.options.telemessageBaseUrl, username: settings.telemessageUsername, password: () => this.secrets.get(secretName) });
  }

  sink(folderName: string): MailboxSink {
    return new MailboxSink(this.graph(), { folderName, limits: this.options.mailboxLimits, retry: new RetryPolicy() });
  }
}
