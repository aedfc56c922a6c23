import { z } from 'zod';

/**
 * The server's whole configuration, read from environment variables through one schema. Each
 * setting says whether it is a secret (never logged or echoed) and whether production needs it,
 * so docs/configuration.md and the Bicep app settings can be checked against this list.
 */
export interface SettingSpec {
  env: string;
  description: string;
  secret?: boolean;
  requiredInProduction?: boolean;
  /** Value used when unset; absent means unset stays unset. */
  default?: string;
}

export const SETTINGS = {
  port: { env: 'PORT', description: 'Port the server listens on (App Service sets it).', default: '3978' },
  host: { env: 'HOST', description: 'Address to bind; forced to 127.0.0.1 in local unauthenticated mode.', default: '0.0.0.0' },
  publicUrl: { env: 'PUBLIC_URL', description: 'The https URL Teams reaches the server at (tab pages, bot endpoint).', requiredInProduction: true },
  logLevel: { env: 'LOG_LEVEL', description: 'pino log level: fatal, error, warn, info, debug, trace.', default: 'info' },
  localDevUnauthenticated: {
    env: 'LOCAL_DEV_UNAUTHENTICATED',
    description: 'true only for local development: skips inbound authentication and binds to loopback. Refused when NODE_ENV=production.',
    default: 'false',
  },
  localDevTabSignIn: {
    env: 'LOCAL_DEV_TAB_SIGN_IN',
    description:
      'With LOCAL_DEV_UNAUTHENTICATED=true only (npm start -- --sign-in): the tab still signs in (MSAL against AUTHORITY_HOST, the sign-in emulator) and its API validates the tokens as in production; the bot endpoint stays unauthenticated for the Agents Playground.',
    default: 'false',
  },
  localDevTeamsHostOrigin: {
    env: 'LOCAL_DEV_TEAMS_HOST_ORIGIN',
    description:
      'Local runs and tests only (refused when NODE_ENV=production): one more https origin that may frame the tab (its frame-ancestors) and that the page trusts as a Teams host (teams-js), e.g. the Teams host emulator that npm start runs.',
  },
  storageConnectionString: {
    env: 'STORAGE_CONNECTION_STRING',
    description: 'Azure Storage connection string (Tables and Blobs); Azurite locally. Use this or STORAGE_ACCOUNT_NAME.',
    secret: true,
  },
  storageAccountName: {
    env: 'STORAGE_ACCOUNT_NAME',
    description: 'Storage account reached with the managed identity instead of a connection string (production).',
  },
  storageBlobEndpoint: {
    env: 'STORAGE_BLOB_ENDPOINT',
    description: 'With STORAGE_ACCOUNT_NAME only: the Blob service URL, if not https://<account>.blob.core.windows.net (another Azure cloud, or a test endpoint).',
  },
  storageTableEndpoint: {
    env: 'STORAGE_TABLE_ENDPOINT',
    description: 'With STORAGE_ACCOUNT_NAME only: the Table service URL, if not https://<account>.table.core.windows.net.',
  },
  storageQueueEndpoint: {
    env: 'STORAGE_QUEUE_ENDPOINT',
    description: 'With STORAGE_ACCOUNT_NAME only: the Queue service URL, if not https://<account>.queue.core.windows.net.',
  },
  workQueueName: {
    env: 'WORK_QUEUE_NAME',
    description:
      "The storage account's queue a run hands its deliveries to, as per-mailbox units for any number of workers (dist/server/worker.js; the server runs one too unless WORKER_CONCURRENCY=0). Unset: each run writes its deliveries in its own process. Set it alike on the server and the workers.",
  },
  workerConcurrency: {
    env: 'WORKER_CONCURRENCY',
    description: 'With WORK_QUEUE_NAME: units one worker handles at once (0-64). 0 on the server: it coordinates runs and leaves the deliveries to separate workers.',
    default: '16',
  },
  workQueueVisibilitySeconds: {
    env: 'WORK_QUEUE_VISIBILITY_SECONDS',
    description: "With WORK_QUEUE_NAME: how long a unit a worker took stays hidden from the others (renewed while it works): a killed worker's units return after this long.",
    default: '60',
  },
  sftpStorageConnectionString: {
    env: 'SFTP_STORAGE_CONNECTION_STRING',
    description:
      "The SFTP landing storage account (TeleMessage's ZIP drop) by connection string; Azurite locally. Use this or SFTP_STORAGE_ACCOUNT_NAME; neither when TeleMessage does not deliver by SFTP.",
    secret: true,
  },
  sftpStorageAccountName: {
    env: 'SFTP_STORAGE_ACCOUNT_NAME',
    description: 'The SFTP landing storage account reached with the managed identity (production): a storage account of its own, SFTP enabled.',
  },
  sftpContainer: { env: 'SFTP_CONTAINER', description: 'The container of the SFTP landing account TeleMessage writes its ZIPs into.', default: 'telemessage' },
  sftpSettleSeconds: {
    env: 'SFTP_SETTLE_SECONDS',
    description: 'How long a ZIP in the SFTP landing container must keep the same size and ETag before it is read (1-600 s): a ZIP TeleMessage is still writing is never read half-written.',
    default: '15',
  },
  tenantId: { env: 'TENANT_ID', description: 'Microsoft Entra tenant (directory) id of the archived mailboxes.', requiredInProduction: true },
  clientId: { env: 'CLIENT_ID', description: 'App registration (client) id used for Microsoft Graph and the tab SSO audience.', requiredInProduction: true },
  graphCredential: {
    env: 'GRAPH_CREDENTIAL',
    description:
      'How the app registration signs in to Microsoft Graph: ManagedIdentityFederation (Azure: its federated credential trusts the managed identity MANAGED_IDENTITY_CLIENT_ID; no secret) or ClientSecret (local runs, and the documented fallback).',
    default: 'ClientSecret',
  },
  clientSecret: {
    env: 'CLIENT_SECRET',
    description: 'Client secret of the app registration, only with GRAPH_CREDENTIAL=ClientSecret; in Azure a Key Vault reference.',
    secret: true,
  },
  authorityHost: { env: 'AUTHORITY_HOST', description: 'Entra sign-in host; the sign-in emulator locally.', default: 'https://login.microsoftonline.com' },
  graphBaseUrl: { env: 'GRAPH_BASE_URL', description: 'Microsoft Graph root; the Graph emulator locally.', default: 'https://graph.microsoft.com' },
  telemessageBaseUrl: { env: 'TELEMESSAGE_BASE_URL', description: 'TeleMessage archive API root; the TeleMessage emulator locally.', requiredInProduction: true },
  botId: {
    env: 'BOT_ID',
    description: "The bot's Microsoft App ID; in Azure the client id of the user-assigned managed identity the Azure Bot is registered with.",
    requiredInProduction: true,
  },
  botAppType: {
    env: 'BOT_APP_TYPE',
    description: 'How the bot proves who it is to the Bot Framework: UserAssignedMSI (Azure, no secret) or SingleTenant (an app registration and BOT_PASSWORD, e.g. behind a dev tunnel).',
    default: 'UserAssignedMSI',
  },
  botPassword: { env: 'BOT_PASSWORD', description: 'Client secret of the bot app registration; only with BOT_APP_TYPE=SingleTenant.', secret: true },
  botOpenIdMetadataUrl: {
    env: 'BOT_OPENID_METADATA_URL',
    description: 'OpenID metadata of the Bot Framework channel whose keys sign the tokens /api/messages accepts (sovereign clouds; tests point it at the sign-in emulator).',
    default: 'https://login.botframework.com/v1/.well-known/openidconfiguration',
  },
  botTokenIssuer: { env: 'BOT_TOKEN_ISSUER', description: 'Issuer of the Bot Framework channel tokens /api/messages accepts.', default: 'https://api.botframework.com' },
  adminObjectIds: {
    env: 'ADMIN_OBJECT_IDS',
    description: "Entra object ids of the connector's first admins, comma-separated: written to the connector's settings at first start (audited); later changes are made there by an admin.",
  },
  botCardCheckSeconds: {
    env: 'BOT_CARD_CHECK_SECONDS',
    description: 'How often the bot looks for finished runs whose cards are not yet posted (runs started by the CLI or another instance, or left by a restart).',
    default: '60',
  },
  teamsAppId: { env: 'TEAMS_APP_ID', description: "The Teams app's id (manifest id), for the bot's links that open a run in the tab." },
  managedIdentityClientId: {
    env: 'MANAGED_IDENTITY_CLIENT_ID',
    description:
      'Client id of the user-assigned managed identity that reaches Storage (with STORAGE_ACCOUNT_NAME) and Key Vault, and that Microsoft Graph sign-in trusts with GRAPH_CREDENTIAL=ManagedIdentityFederation.',
  },
  keyVaultUrl: { env: 'KEY_VAULT_URL', description: 'Key Vault that keeps the TeleMessage password in Azure (https://<name>.vault.azure.net).', requiredInProduction: true },
  telemessageSecretName: { env: 'TELEMESSAGE_SECRET_NAME', description: 'Name of the Key Vault secret that holds the TeleMessage password.', default: 'telemessage-password' },
  connectorId: { env: 'CONNECTOR_ID', description: 'Id of the connector this deployment runs (one TeleMessage account).', default: 'default' },
  localSecretKeyFile: {
    env: 'LOCAL_SECRET_KEY_FILE',
    description: 'Local runs only (no KEY_VAULT_URL): the AES-256-GCM key file for the TeleMessage password, created on first use.',
    default: '.local/secret.key',
  },
  runLeaseSeconds: {
    env: 'RUN_LEASE_SECONDS',
    description: 'How long the one-run-per-connector lease lasts unrenewed (15-60 s, as Blob Storage allows): after a crash, the next run waits at most this long.',
    default: '60',
  },
} as const satisfies Record<string, SettingSpec>;

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const url = z.url({ protocol: /^https?$/ });

const schema = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  publicUrl: url.optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  localDevUnauthenticated: bool,
  localDevTabSignIn: bool,
  // An origin only (scheme, host, port): it goes into a CSP and teams-js's list as it is.
  localDevTeamsHostOrigin: z
    .url({ protocol: /^https$/ })
    .refine((v) => new URL(v).origin === v.replace(/\/$/, ''), 'must be an https origin: https://host[:port], no path')
    .transform((v) => new URL(v).origin)
    .optional(),
  storageConnectionString: z.string().min(1).optional(),
  storageAccountName: z
    .string()
    .regex(/^[a-z0-9]{3,24}$/, 'must be 3-24 lowercase letters or digits')
    .optional(),
  storageBlobEndpoint: z.url({ protocol: /^https$/ }).optional(),
  storageTableEndpoint: z.url({ protocol: /^https$/ }).optional(),
  sftpStorageConnectionString: z.string().min(1).optional(),
  sftpStorageAccountName: z
    .string()
    .regex(/^[a-z0-9]{3,24}$/, 'must be 3-24 lowercase letters or digits')
    .optional(),
  // Blob container names: 3-63 lowercase letters, digits and single dashes, starting and ending with a letter or digit.
  sftpContainer: z.string().regex(/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be a container name: 3-63 lowercase letters, digits and single dashes'),
  tenantId: z.string().min(1).optional(),
  clientId: z.string().min(1).optional(),
  graphCredential: z.enum(['ManagedIdentityFederation', 'ClientSecret']),
  clientSecret: z.string().min(1).optional(),
  authorityHost: url,
  graphBaseUrl: url,
  telemessageBaseUrl: url.optional(),
  botId: z.string().min(1).optional(),
  botAppType: z.enum(['UserAssignedMSI', 'SingleTenant']),
  botPassword: z.string().min(1).optional(),
  botOpenIdMetadataUrl: z.url({ protocol: /^https$/ }),
  botTokenIssuer: z.string().min(1),
  adminObjectIds: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.guid({ message: 'must be Entra object ids (GUIDs), comma-separated' })))
    .optional(),
  botCardCheckSeconds: z.coerce.number().int().min(1).max(3600),
  teamsAppId: z.string().min(1).optional(),
  managedIdentityClientId: z.string().min(1).optional(),
  keyVaultUrl: z.url({ protocol: /^https$/ }).optional(),
  telemessageSecretName: z.string().regex(/^[0-9A-Za-z-]{1,127}$/, 'must be 1-127 letters, digits or dashes'),
  connectorId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be 1-64 letters, digits or dashes'),
  localSecretKeyFile: z.string().min(1),
  runLeaseSeconds: z.coerce.number().int().min(15).max(60),
  storageQueueEndpoint: z.url({ protocol: /^https$/ }).optional(),
  workQueueName: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'must be an Azure Storage queue name: 3-63 lowercase letters, digits and single dashes')
    .optional(),
  workerConcurrency: z.coerce.number().int().min(0).max(64),
  workQueueVisibilitySeconds: z.coerce.number().int().min(10).max(3600),
  sftpSettleSeconds: z.coerce.number().int().min(1).max(600),
});

export type Config = z.infer<typeof schema> & { production: boolean };

export class ConfigError extends Error {
  readonly code = 'InvalidConfiguration';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Key = keyof typeof SETTINGS;

/** What a worker process (dist/server/worker.js) needs in production: no web endpoints, no TeleMessage. */
const WORKER_NEEDS: readonly string[] = ['TENANT_ID', 'CLIENT_ID', 'WORK_QUEUE_NAME'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env, role: 'server' | 'worker' = 'server'): Config {
  const production = env.NODE_ENV === 'production';
  const raw: Record<string, string | undefined> = {};
  for (const [key, spec] of Object.entries(SETTINGS) as [Key, SettingSpec][]) {
    const value = env[spec.env];
    raw[key] = value === undefined || value === '' ? spec.default : value;
  }
  const parsed = schema.safeParse(raw);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const spec = SETTINGS[issue.path[0] as Key];
      // The message names the variable, never its value: some are secrets.
      problems.push(`${spec?.env ?? issue.path.join('.')}: ${issue.message}`);
    }
  }
  if (raw.localDevTabSignIn === 'true' && raw.localDevUnauthenticated !== 'true') {
    problems.push('LOCAL_DEV_TAB_SIGN_IN: only with LOCAL_DEV_UNAUTHENTICATED=true (without it the tab always signs in)');
  }
  // Checked apart from the schema so it is reported together with every other problem.
  if (Boolean(raw.storageConnectionString) === Boolean(raw.storageAccountName)) {
    problems.push('STORAGE_CONNECTION_STRING: set exactly one of STORAGE_CONNECTION_STRING and STORAGE_ACCOUNT_NAME');
  }
  if (raw.sftpStorageConnectionString && raw.sftpStorageAccountName) {
    problems.push('SFTP_STORAGE_CONNECTION_STRING: set at most one of SFTP_STORAGE_CONNECTION_STRING and SFTP_STORAGE_ACCOUNT_NAME');
  }
  if (role === 'worker' && !raw.workQueueName) problems.push('WORK_QUEUE_NAME: required for a worker (the queue it takes units from)');
  for (const key of ['storageBlobEndpoint', 'storageTableEndpoint', 'storageQueueEndpoint'] as const) {
    if (raw[key] && !raw.storageAccountName) problems.push(`${SETTINGS[key].env}: only with STORAGE_ACCOUNT_NAME (a connection string names its own endpoints)`);
  }
  if (raw.graphCredential === 'ManagedIdentityFederation') {
    if (!raw.managedIdentityClientId) problems.push('MANAGED_IDENTITY_CLIENT_ID: required when GRAPH_CREDENTIAL=ManagedIdentityFederation');
    // A secret nobody uses is still a secret to leak and rotate.
    if (raw.clientSecret) problems.push('CLIENT_SECRET: not used when GRAPH_CREDENTIAL=ManagedIdentityFederation; remove it');
  } else if (raw.graphCredential === 'ClientSecret' && !raw.clientSecret && (production || raw.clientId)) {
    problems.push('CLIENT_SECRET: required when GRAPH_CREDENTIAL=ClientSecret');
  }
  if (production) {
    for (const spec of Object.values(SETTINGS) as SettingSpec[]) {
      const needed = role === 'worker' ? WORKER_NEEDS.includes(spec.env) : spec.requiredInProduction;
      if (needed && !env[spec.env]) problems.push(`${spec.env}: required when NODE_ENV=production`);
    }
    if (raw.localDevUnauthenticated === 'true') problems.push('LOCAL_DEV_UNAUTHENTICATED: cannot be true when NODE_ENV=production');
    // Only Teams and Microsoft 365 frame the tab in production.
    if (raw.localDevTeamsHostOrigin) problems.push('LOCAL_DEV_TEAMS_HOST_ORIGIN: cannot be set when NODE_ENV=production');
    // A single-tenant bot signs its Bot Framework tokens with a secret; a managed identity needs none.
    if (role === 'server' && raw.botAppType === 'SingleTenant' && !raw.botPassword) problems.push('BOT_PASSWORD: required when BOT_APP_TYPE=SingleTenant');
  }
  if (problems.length || !parsed.success) throw new ConfigError(problems);
  const config = { ...parsed.data, production };
  // Unauthenticated mode is only ever reachable from this machine.
  if (config.localDevUnauthenticated) config.host = '127.0.0.1';
  return config;
}

/** Whether the tab's page signs in and its API validates tokens: always, but in local development without LOCAL_DEV_TAB_SIGN_IN. */
export function tabSignsIn(config: Config): boolean {
  return !config.localDevUnauthenticated || config.localDevTabSignIn;
}

/** Names of the settings whose values must never be printed. */
export const SECRET_ENV_NAMES: readonly string[] = (Object.values(SETTINGS) as SettingSpec[]).filter((s) => s.secret).map((s) => s.env);

/** The configuration for an entry point: on a problem, says each one on stderr and exits 2. */
export function loadConfigOrExit(role: 'server' | 'worker' = 'server'): Config {
  try {
    return loadConfig(process.env, role);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}
