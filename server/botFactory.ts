import { StorageAccount, type Importer, type RunLogger } from '../importer';
import { createBot, type BotAuthentication, type BotEndpoint } from '../bot';
import type { Config } from './config';
import { configuredStorage } from './importerFactory';
import { teamsRunLink } from './teamsLinks';

/** The bot as configured; none when neither local development nor a bot id says how to authenticate. */
export async function createConfiguredBot(config: Config, importer: Importer, log: RunLogger): Promise<BotEndpoint | undefined> {
  let auth: BotAuthentication;
  if (config.localDevUnauthenticated) auth = { mode: 'localUnauthenticated' };
  else if (config.botId && config.tenantId) {
    auth = {
      mode: 'authenticated',
      appId: config.botId,
      appType: config.botAppType,
      tenantId: config.tenantId,
      password: config.botPassword,
      openIdMetadataUrl: config.botOpenIdMetadataUrl,
      tokenIssuer: config.botTokenIssuer,
      authorityHost: config.authorityHost,
    };
  } else return undefined;
  return createBot({ importer, storage: new StorageAccount(configuredStorage(config)), auth, log, tabUrl: tabLink(config), scanEveryMs: config.botCardCheckSeconds * 1000 });
}

/** A Teams deep link to the tab for a run, or the tab's page when there is no Teams app id. */
function tabLink(config: Config): ((runId: string) => string | undefined) | undefined {
  if (config.teamsAppId) return (runId) => teamsRunLink(config.teamsAppId!, runId);
  if (config.publicUrl) return (runId) => `${config.publicUrl!.replace(/\/$/, '')}/tab/index.html#/runs/${encodeURIComponent(runId)}`;
  return undefined;
}

/** The first admins, from ADMIN_OBJECT_IDS, when the connector has none yet (audited as the system's change). */
export async function seedAdmins(config: Config, importer: Importer): Promise<void> {
  if (!config.adminObjectIds?.length) return;
  const current = await importer.connector.settings();
  if (current.value.admins?.length) return;
  await importer.connector.update({ admins: config.adminObjectIds }, 'system:ADMIN_OBJECT_IDS', { etag: current.etag });
}
