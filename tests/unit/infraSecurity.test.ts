import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { SETTINGS, type SettingSpec } from '../../server/config';
import { NODE_RUNTIME_ENV } from '../../server/runtimeEnv';

// What a security review of infra/main.bicep checks, read from the Bicep text (it cannot be
// compiled here): each test names the finding it guards against.
const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const bicep = read('infra/main.bicep');
const parameterFile = (JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, { value: string }> }).parameters;
const envTemplate = parseEnv(read('env/.env.dev'));

/** Top-level `resource` blocks: symbolic name, type, condition (if any) and body. */
const resources = bicep
  .split(/\n(?=\S)/)
  .map((block) => block.match(/^resource (\w+) '([^@']+)@[^']+'( existing)? = (?:\[\s*for [^:]+: )?(?:if \(([^)]*)\) )?([\s\S]*)$/))
  .filter((m): m is RegExpMatchArray => m !== null)
  .map((m) => ({ symbol: m[1], type: m[2], existing: Boolean(m[3]), condition: m[4], body: m[5] }));
const ofType = (type: string) => resources.filter((r) => r.type === type);
const resource = (symbol: string) => {
  const found = resources.find((r) => r.symbol === symbol);
  if (!found) throw new Error(`no resource ${symbol} in infra/main.bicep`);
  return found;
};

/** name -> value expression (or secretRef) of a `var <name> = [ { name: …, value: … } … ]` settings list. */
function settingsList(variable: string): Map<string, string> {
  const block = bicep.match(new RegExp(`^var ${variable} = [^\\[]*\\[\\n?([\\s\\S]*?)\\]\\n`, 'm'));
  if (!block) throw new Error(`no ${variable} list in infra/main.bicep`);
  return new Map([...block[1].matchAll(/\{ name: '([^']+)', (?:value|secretRef): (.+?) \}/g)].map((m) => [m[1], m[2]]));
}

/** A parameter's declaration: its decorators, type and default. */
function param(name: string): { decorators: string; type: string; default?: string } {
  const m = bicep.match(new RegExp(`((?:^@.*\\n)*)^param ${name} (\\w+)(?: = (.+))?$`, 'm'));
  if (!m) throw new Error(`no parameter ${name} in infra/main.bicep`);
  return { decorators: m[1], type: m[2], default: m[3] };
}
const allowed = (name: string) =>
  param(name)
    .decorators.match(/@allowed\(\[(.*)\]\)/)?.[1]
    .match(/'([^']+)'/g)
    ?.map((v) => v.slice(1, -1));

describe('re-provisioning after the write-once policies are locked', () => {
  it('creates both immutability policies only when createImmutabilityPolicies is true', () => {
    expect(param('createImmutabilityPolicies')).toMatchObject({ type: 'string', default: "'true'" });
    expect(allowed('createImmutabilityPolicies')).toEqual(['true', 'false']);
    const policies = ofType('Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies');
    expect(policies.map((p) => p.symbol).sort()).toEqual(['auditImmutability', 'rawImmutability']);
    for (const p of policies) expect([p.symbol, p.condition]).toEqual([p.symbol, "createImmutabilityPolicies == 'true'"]);
  });

  it('lets the admin set it for each provisioning, from the environment file', () => {
    expect(parameterFile.createImmutabilityPolicies.value).toBe('${{CREATE_IMMUTABILITY_POLICIES}}');
    expect(envTemplate.CREATE_IMMUTABILITY_POLICIES).toBe('true');
  });
});

describe('Microsoft Graph without a client secret', () => {
  it('declares the Microsoft Graph extension the federated credential needs', () => {
    expect(bicep).toMatch(/^extension microsoftGraphV1$/m);
    const config = JSON.parse(read('infra/bicepconfig.json').replace(/^\s*\/\/.*$/gm, '')) as { extensions: Record<string, string> };
    expect(config.extensions.microsoftGraphV1).toMatch(/^br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:\d+\.\d+\.\d+$/);
    // The Toolkit downloads a Bicep CLI that knows extensions (v0.36.1 or later).
    const version = read('m365agents.yml')
      .match(/^\s+bicepCliVersion: v(\d+)\.(\d+)\.(\d+)$/m)!
      .slice(1)
      .map(Number);
    expect(version[0] > 0 || version[1] > 36 || (version[1] === 36 && version[2] >= 1)).toBe(true);
  });

  it('makes the app registration trust the managed identity: issuer, subject and audience as Entra ID documents them', () => {
    const app = resource('app');
    expect(app).toMatchObject({ type: 'Microsoft.Graph/applications', existing: true });
    expect(app.body).toMatch(/uniqueName: appUniqueName/);
    const [fic] = ofType('Microsoft.Graph/applications/federatedIdentityCredentials');
    expect(fic.body).toMatch(/name: '\$\{app\.uniqueName\}\/[^']+'/);
    expect(fic.body).toMatch(/issuer: '\$\{environment\(\)\.authentication\.loginEndpoint\}\$\{tenantId\}\/v2\.0'/);
    expect(fic.body).toMatch(/subject: identity\.properties\.principalId/);
    expect(fic.body).toMatch(/audiences: \['api:\/\/AzureADTokenExchange'\]/);
    // The app, the managed identity and the mailboxes are in the one tenant of the subscription.
    expect(bicep).toMatch(/^var tenantId = tenant\(\)\.tenantId$/m);
    expect(bicep).not.toMatch(/^param tenantId/m);
  });

  it('signs in with the federated credential by default, keeping a Graph secret in Key Vault only in the fallback', () => {
    expect(param('graphCredential').default).toBe("'ManagedIdentityFederation'");
    expect(allowed('graphCredential')).toEqual(['ManagedIdentityFederation', 'ClientSecret']);
    expect(resource('clientSecretEntry').condition).toBe("graphCredential == 'ClientSecret'");
    expect(param('clientSecret').decorators).toContain('@secure()');
    expect(param('clientSecret').default).toBe("''");
    expect(parameterFile).not.toHaveProperty('clientSecret');
  });
});

describe('logs a regulator can ask for', () => {
  const settings = ofType('Microsoft.Insights/diagnosticSettings').map((d) => ({
    scope: d.body.match(/scope: (\w+)/)?.[1],
    workspace: d.body.match(/workspaceId: (\S+)/)?.[1],
    dedicated: /logAnalyticsDestinationType: 'Dedicated'/.test(d.body),
    categories: [...d.body.matchAll(/\{ category: '(\w+)', enabled: true \}/g)].map((m) => m[1]),
    groups: [...d.body.matchAll(/\{ categoryGroup: '(\w+)', enabled: true \}/g)].map((m) => m[1]),
  }));
  const byScope = new Map(settings.map((s) => [s.scope, s]));

  it('sends Key Vault audit events, Storage blob and table data access, and App Service and worker logs to the workspace', () => {
    expect([...byScope.keys()].sort()).toEqual(['blobService', 'sftpBlobService', 'tableService', 'vault', 'webApp', 'workerEnvironment']);
    for (const s of settings) expect([s.scope, s.workspace]).toEqual([s.scope, 'logs.id']);
    expect(byScope.get('vault')!.categories).toEqual(['AuditEvent']);
    for (const scope of ['blobService', 'sftpBlobService', 'tableService']) expect(byScope.get(scope)!.categories).toEqual(['StorageRead', 'StorageWrite', 'StorageDelete']);
    // Every category the web app has: HTTP, console, platform and audit (management site sign-ins) logs.
    expect(byScope.get('webApp')!.groups).toEqual(['allLogs']);
    // The workers' console output and the platform's events about them (scaling, image pulls).
    expect(byScope.get('workerEnvironment')!.categories).toEqual(['ContainerAppConsoleLogs', 'ContainerAppSystemLogs']);
  });

  it('keeps every table those logs land in for logRetentionDays, 7 years unless the admin chooses', () => {
    // Where Azure Monitor writes each category (Key Vault: resource-specific tables when Dedicated).
    expect(byScope.get('vault')!.dedicated).toBe(true);
    // App Service writes each category to the table of the same name; these are a Linux web app's.
    const appServiceTables = [
      'AppServiceHTTPLogs',
      'AppServiceConsoleLogs',
      'AppServiceAppLogs',
      'AppServiceAuditLogs',
      'AppServiceIPSecAuditLogs',
      'AppServicePlatformLogs',
      'AppServiceAuthenticationLogs',
    ];
    // AzureDiagnostics: Key Vault's table where its resource-specific one is not offered.
    // Container Apps' categories land in the tables of the same name when the setting is Dedicated.
    expect(byScope.get('workerEnvironment')!.dedicated).toBe(true);
    const workerTables = ['ContainerAppConsoleLogs', 'ContainerAppSystemLogs'];
    const tables = new Set(['AZKVAuditLogs', 'AzureDiagnostics', 'StorageBlobLogs', 'StorageTableLogs', ...appServiceTables, ...workerTables]);
    const retained = bicep
      .match(/^var retainedTables = \[\n([\s\S]*?)\n\]$/m)![1]
      .match(/'(\w+)'/g)!
      .map((t) => t.slice(1, -1));
    expect(new Set(retained)).toEqual(tables);
    const logTables = resource('logTables');
    expect(logTables.body).toMatch(/totalRetentionInDays: logRetention\n/);
    expect(logTables.body).toMatch(/retentionInDays: min\(logRetention, 730\)/);
    expect(bicep).toMatch(/^var logRetention = int\(logRetentionDays\)$/m);
    const days = Number(param('logRetentionDays').default!.slice(1, -1));
    // SEC 17a-4 and FINRA 4511 keep books and records six years; MiFID II up to seven.
    expect(days).toBeGreaterThanOrEqual(6 * 365);
    expect([...Array.from({ length: 727 }, (_, i) => i + 4), 1095, 1460, 1826, 2191, 2556, 2922, 3288, 3653, 4018, 4383]).toContain(days);
    expect(envTemplate.LOG_RETENTION_DAYS).toBe(String(days));
    expect(resource('logs').body).not.toMatch(/retentionInDays: 30\b/);
  });
});

describe('network and access', () => {
  it('turns off publishing with user names and passwords, for FTP and for the SCM (Kudu) site', () => {
    const policies = ofType('Microsoft.Web/sites/basicPublishingCredentialsPolicies').map((p) => ({
      parent: p.body.match(/parent: (\w+)/)?.[1],
      name: p.body.match(/name: '(\w+)'/)?.[1],
      allow: p.body.match(/allow: (\w+)/)?.[1],
    }));
    expect(policies).toEqual(
      expect.arrayContaining([
        { parent: 'webApp', name: 'ftp', allow: 'false' },
        { parent: 'webApp', name: 'scm', allow: 'false' },
      ]),
    );
    expect(resource('webApp').body).toMatch(/ftpsState: 'Disabled'/);
  });

  it('lets Storage and Key Vault accept only the app, by network rules or private endpoints as the admin chooses', () => {
    expect(allowed('networkIsolation')).toEqual(['networkRules', 'privateEndpoints']);
    expect(param('networkIsolation').default).toBe("'networkRules'");
    expect(bicep).toMatch(/^var usePrivateEndpoints = networkIsolation == 'privateEndpoints'$/m);
    for (const symbol of ['storage', 'vault']) {
      const body = resource(symbol).body;
      expect(body).toMatch(/defaultAction: 'Deny'/);
      expect(body).toMatch(/virtualNetworkRules: usePrivateEndpoints \? \[\] : \[\{ id: appSubnetId[ ,}]/);
      expect(body).toMatch(/publicNetworkAccess: usePrivateEndpoints \? 'Disabled' : 'Enabled'/);
      expect(body).toMatch(/ipRules: \[\]/);
    }
    expect(resource('storage').body).toMatch(/bypass: 'None'/);
    // The app's outbound traffic goes through that subnet.
    const webApp = resource('webApp').body;
    expect(webApp).toMatch(/virtualNetworkSubnetId: appSubnetId/);
    expect(webApp).toMatch(/vnetRouteAllEnabled: true/);
    expect(resource('vnet').body).toMatch(/serviceEndpoints: usePrivateEndpoints \? \[\] : \[\{ service: 'Microsoft\.Storage' \}, \{ service: 'Microsoft\.KeyVault' \}\]/);
    // One private endpoint per service the app reaches, each with its DNS zone.
    const endpoints = [...bicep.match(/^var privateEndpoints = \[\n([\s\S]*?)\n\]$/m)![1].matchAll(/groupId: '(\w+)'/g)].map((m) => m[1]);
    expect(endpoints).toEqual(['blob', 'table', 'queue', 'vault']);
    for (const symbol of ['privateZones', 'privateZoneLinks', 'endpoints', 'endpointDns']) expect([symbol, resource(symbol).condition]).toEqual([symbol, 'usePrivateEndpoints']);
  });

  it("lets only the admins' group get a token for the tab: assignment required on the enterprise app, the group assigned", () => {
    const sp = resource('appServicePrincipal');
    expect(sp.type).toBe('Microsoft.Graph/servicePrincipals');
    expect(sp.body).toMatch(/appId: clientId\n/);
    expect(sp.body).toMatch(/appRoleAssignmentRequired: true/);
    const [assignment] = ofType('Microsoft.Graph/appRoleAssignedTo');
    expect(assignment.body).toMatch(/principalId: adminsGroupId\n/);
    expect(assignment.body).toMatch(/resourceId: appServicePrincipal\.id$/m);
    expect(assignment.body).toMatch(/appRoleId: '00000000-0000-0000-0000-000000000000'/);
    expect(parameterFile.adminsGroupId.value).toBe('${{ADMINS_GROUP_ID}}');
  });

  it('keeps the records storage in more than one zone or region unless the admin chooses otherwise', () => {
    expect(resource('storage').body).toMatch(/sku: \{ name: storageRedundancy \}/);
    const choices = allowed('storageRedundancy')!;
    expect(choices).toContain(param('storageRedundancy').default!.slice(1, -1));
    // Locally redundant storage keeps every copy in one datacenter.
    expect(choices.filter((sku) => !/^Standard_(RA)?(GZRS|GRS|ZRS)$/.test(sku))).toEqual([]);
    expect(param('storageRedundancy').default).toBe("'Standard_GZRS'");
  });
});

describe('small defects', () => {
  it('creates the web app after the role that lets App Service resolve its Key Vault reference', () => {
    const dependsOn = resource('webApp')
      .body.match(/dependsOn: \[([^\]]*)\]/)![1]
      .split(',')
      .map((s) => s.trim());
    expect(dependsOn).toEqual(expect.arrayContaining(['secretsUserRole', 'clientSecretEntry']));
    expect(resource('secretsUserRole').body).toMatch(/scope: vault/);
  });

  it('binds no custom domain, so it offers no publicUrl: the app is reached at its own host name', () => {
    expect(bicep).not.toMatch(/publicUrl/);
    expect(bicep).toMatch(/^var appPublicUrl = 'https:\/\/\$\{webAppName\}\.azurewebsites\.net'$/m);
  });

  it('checks resourceBaseName against storage account naming before anything is created', () => {
    // 11 characters plus the 13 of uniqueString() make the 24 a storage account name allows.
    expect(param('resourceBaseName').decorators).toMatch(/@minLength\(3\)\n@maxLength\(11\)/);
    const check = bicep.match(/^var baseNameIsValid = (.+)$/m)![1];
    expect(check).toContain("!contains('abcdefghijklmnopqrstuvwxyz0123456789', c)");
    expect(check).toContain("contains('abcdefghijklmnopqrstuvwxyz', first(baseNameChars))");
    const name = bicep.match(/^var storageAccountName = baseNameIsValid \? take\('\$\{resourceBaseName\}\$\{suffix\}', 24\) : '([^']+)'$/m)![1];
    // The stand-in is itself an invalid storage name, so preflight validation refuses it, showing why.
    expect(name).not.toMatch(/^[a-z0-9]{3,24}$/);
    expect(name).toContain('resourceBaseName');
    expect(resource('storage').body).toMatch(/name: storageAccountName\n/);
  });
});

describe('the SFTP landing account TeleMessage delivers ZIPs into', () => {
  const sftp = () => resource('sftpStorage');

  it('exists only when TeleMessage delivers by SFTP: made when its SSH public key is given', () => {
    expect(bicep).toMatch(/^var useSftp = !empty\(telemessageSftpPublicKey\)$/m);
    expect(param('telemessageSftpPublicKey')).toMatchObject({ type: 'string', default: "''" });
    for (const symbol of ['sftpStorage', 'sftpBlobService', 'sftpContainer', 'sftpLocalUser', 'sftpContainerRole', 'sftpDiagnostics'])
      expect([symbol, resource(symbol).condition]).toEqual([symbol, 'useSftp']);
    for (const symbol of ['sftpEndpoint', 'sftpEndpointDns']) expect([symbol, resource(symbol).condition]).toEqual([symbol, 'useSftp && usePrivateEndpoints']);
    expect(parameterFile.telemessageSftpPublicKey.value).toBe('${{TELEMESSAGE_SFTP_PUBLIC_KEY}}');
    expect(envTemplate.TELEMESSAGE_SFTP_PUBLIC_KEY).toBe('');
  });

  it('is an account of its own, hierarchical namespace and SFTP on, no account keys, a firewall that admits TeleMessage and the app only', () => {
    const body = sftp().body;
    expect(body).toMatch(/name: sftpAccountName\n/);
    expect(bicep).toMatch(/^var sftpAccountName = baseNameIsValid \? take\('\$\{resourceBaseName\}sftp\$\{suffix\}', 24\) : /m);
    for (const setting of [
      'isHnsEnabled: true',
      'isSftpEnabled: true',
      'isLocalUserEnabled: true',
      'allowSharedKeyAccess: false',
      'allowBlobPublicAccess: false',
      "minimumTlsVersion: 'TLS1_2'",
      "defaultAction: 'Deny'",
      "bypass: 'None'",
    ]) {
      expect([setting, body.includes(setting)]).toEqual([setting, true]);
    }
    expect(body).toMatch(/virtualNetworkRules: usePrivateEndpoints \? \[\] : \[\{ id: appSubnetId, action: 'Allow' \}\]/);
    expect(body).toMatch(/ipRules: \[for address in sftpSourceAddresses: \{ value: address, action: 'Allow' \}\]/);
    expect(parameterFile.telemessageSftpSourceAddresses.value).toBe('${{TELEMESSAGE_SFTP_SOURCE_ADDRESSES}}');
  });

  it('gives TeleMessage one local user: its SSH key only, its container only, and no delete', () => {
    const user = resource('sftpLocalUser').body;
    expect(user).toMatch(/parent: sftpStorage\n/);
    expect(user).toMatch(/hasSshKey: true/);
    expect(user).toMatch(/hasSshPassword: false/);
    expect(user).toMatch(/hasSharedKey: false/);
    expect(user).toMatch(/homeDirectory: sftpContainerName/);
    const scopes = [...user.matchAll(/\{ permissions: '(\w+)', service: '(\w+)', resourceName: (\w+) \}/g)].map((m) => m.slice(1));
    expect(scopes).toEqual([['rcwl', 'blob', 'sftpContainerName']]);
    expect(user).toMatch(/sshAuthorizedKeys: \[\{ description: 'TeleMessage', key: telemessageSftpPublicKey \}\]/);
  });

  it('tells the app where the ZIPs land, under the settings the server reads', () => {
    const settings = bicep.match(/^var sftpSettings = useSftp\n\s+\? \[\n([\s\S]*?)\n\s+\]\n\s+: \[\]$/m)![1];
    const named = Object.fromEntries([...settings.matchAll(/\{ name: '(\w+)', value: (\w+) \}/g)].map((m) => [m[1], m[2]]));
    expect(named).toEqual({ [SETTINGS.sftpStorageAccountName.env]: 'sftpAccountName', [SETTINGS.sftpContainer.env]: 'sftpContainerName' });
    expect(resource('webApp').body).toMatch(/appSettings: concat\(appSettings, sftpSettings, graphSecretSettings, workQueueSettings\)/);
    // And the admin what to give TeleMessage: the host and the user name SFTP signs in with.
    expect(bicep).toMatch(/^output SFTP_HOST string = useSftp \? '\$\{sftpAccountName\}\.blob\.\$\{environment\(\)\.suffixes\.storage\}' : ''$/m);
    expect(bicep).toMatch(/^output SFTP_USERNAME string = useSftp \? '\$\{sftpAccountName\}\.\$\{sftpUserName\}' : ''$/m);
  });
});

describe("the workers that take a run's delivery units from the queue", () => {
  const worker = () => resource('worker').body;
  const workerEnv = settingsList('workerSettings');

  it('exist only when a worker image is given; without them the web app is not told of the queue and does each run itself', () => {
    expect(bicep).toMatch(/^var useWorkers = !empty\(workerImage\)$/m);
    expect(param('workerImage')).toMatchObject({ type: 'string', default: "''" });
    for (const symbol of ['workerEnvironment', 'worker', 'workerDiagnostics']) expect([symbol, resource(symbol).condition]).toEqual([symbol, 'useWorkers']);
    // A queue nobody takes from would leave every run waiting.
    expect(bicep).toMatch(/^var workQueueSettings = useWorkers \? \[\{ name: 'WORK_QUEUE_NAME', value: workQueueName \}\] : \[\]$/m);
    expect(parameterFile.workerImage.value).toBe('${{WORKER_IMAGE}}');
    expect(envTemplate.WORKER_IMAGE).toBe('');
  });

  it('scale on the very queue the web app and the workers are told of, read as the identity, from none up to maxWorkers', () => {
    expect(bicep).toMatch(/^var workQueueName = 'delivery-units'$/m);
    expect(resource('queueService').body).toMatch(/parent: storage\n\s+name: 'default'(\n|$)/);
    expect(resource('workQueue').body).toMatch(/parent: queueService\n\s+name: workQueueName(\n|$)/);
    expect(settingsList('workQueueSettings').get(SETTINGS.workQueueName.env)).toBe('workQueueName');
    expect(workerEnv.get(SETTINGS.workQueueName.env)).toBe('workQueueName');
    expect(workerEnv.get(SETTINGS.storageAccountName.env)).toBe('storage.name');
    const rules = [...worker().matchAll(/azureQueue: \{([^}]*)\}/g)].map((m) => Object.fromEntries([...m[1].matchAll(/(\w+): (\S+)/g)].map((p) => [p[1], p[2]])));
    // The identity instead of a connection string; the account by name, as KEDA's scaler needs it then.
    expect(rules).toEqual([{ accountName: 'storage.name', queueName: 'workQueueName', queueLength: 'unitsPerWorker', identity: 'identity.id' }]);
    expect(worker()).not.toMatch(/\bauth:/);
    // One replica per unitsPerWorker units queued or taken: what one worker handles at once.
    expect(workerEnv.get(SETTINGS.workerConcurrency.env)).toBe('string(unitsPerWorker)');
    expect(bicep).toMatch(/^var unitsPerWorker = \d+$/m);
    expect(worker()).toMatch(/minReplicas: 0\n/);
    expect(worker()).toMatch(/maxReplicas: int\(maxWorkers\)\n/);
    expect(param('maxWorkers').default).toBe("'10'");
    expect(parameterFile.maxWorkers.value).toBe('${{MAX_WORKERS}}');
    expect(envTemplate.MAX_WORKERS).toBe('10');
    // The azure-queue rule takes accountName and a managed identity in the stable API 2025-01-01 (2024-03-01's does not).
    const version = bicep.match(/^resource worker 'Microsoft\.App\/containerApps@([^']+)'/m)![1];
    expect(version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(version >= '2025-01-01').toBe(true);
    expect(worker()).toMatch(/userAssignedIdentities: \{ '\$\{identity\.id\}': \{\} \}/);
  });

  it('lets the identity put, take and delete queue messages on the records storage account, before the web app starts', () => {
    const role = resource('queueDataRole').body;
    expect(role).toMatch(/scope: storage\n/);
    expect(role).toMatch(/roleIds\.storageQueueDataContributor\)/);
    expect(role).toMatch(/principalId: identity\.properties\.principalId/);
    // Storage Queue Data Contributor, as Azure publishes its id.
    expect(bicep).toMatch(/^ {2}storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'$/m);
    expect(resource('webApp').body).toMatch(/dependsOn: \[[^\]]*\bqueueDataRole\b/);
    expect(worker()).toMatch(/dependsOn: \[[^\]]*\bqueueDataRole\b/);
  });

  it('has no ingress and no public address, and reaches Storage from a subnet of its own', () => {
    expect(worker()).not.toMatch(/ingress/);
    const environment = resource('workerEnvironment').body;
    expect(environment).toMatch(/infrastructureSubnetId: workersSubnetId\n/);
    expect(environment).toMatch(/internal: true\n/);
    const subnets = [...resource('vnet').body.matchAll(/name: '(\w+)'\n/g)].map((m) => m[1]);
    expect(subnets).toEqual(['app', 'endpoints', 'workers']);
    expect(bicep).toMatch(/^var workersSubnetId = vnet\.properties\.subnets\[2\]\.id$/m);
    expect(resource('vnet').body).toMatch(/delegations: \[\{ name: 'container-apps', properties: \{ serviceName: 'Microsoft\.App\/environments' \} \}\]/);
    // Storage's firewall lets the workers in; Key Vault's does not: they never read it themselves.
    expect(resource('storage').body).toMatch(/virtualNetworkRules: usePrivateEndpoints \? \[\] : \[\{ id: appSubnetId, action: 'Allow' \}, \{ id: workersSubnetId, action: 'Allow' \}\]/);
    expect(resource('vault').body).not.toMatch(/workersSubnetId/);
  });

  it('holds no account key, connection string or password anywhere: the identity signs in to Storage, the registry and Key Vault', () => {
    expect(bicep).not.toMatch(/listKeys\(|sharedKey:|primarySharedKey|AccountKey=|SharedAccessSignature/);
    // Application Insights' connection string names the telemetry resource; it opens no data.
    const credentials = [...workerEnv.keys()].filter((name) => /CONNECTION_STRING|PASSWORD|SECRET|KEY$/.test(name));
    expect(credentials).toEqual(['APPLICATIONINSIGHTS_CONNECTION_STRING']);
    expect(resource('workerEnvironment').body).toMatch(/appLogsConfiguration: \{ destination: 'azure-monitor' \}/);
    expect(resource('registry').body).toMatch(/adminUserEnabled: false/);
    expect(worker()).toMatch(/registries: \[\{ server: registry\.properties\.loginServer, identity: identity\.id \}\]/);
    // The client-secret fallback's secret is a Key Vault reference resolved as the identity, never a value.
    expect(bicep).toMatch(
      /^var workerSecrets = graphCredential == 'ClientSecret'\n\s+\? \[\{ name: graphSecretName, keyVaultUrl: '\$\{vault\.properties\.vaultUri\}secrets\/\$\{graphSecretName\}', identity: identity\.id \}\]\n\s+: \[\]$/m,
    );
    expect(bicep).toMatch(/^var workerSecretSettings = graphCredential == 'ClientSecret' \? \[\{ name: 'CLIENT_SECRET', secretRef: graphSecretName \}\] : \[\]$/m);
    expect(worker()).toMatch(/secrets: workerSecrets\n/);
    expect(worker()).toMatch(/env: concat\(workerSettings, workerSecretSettings\)\n/);
  });

  it('gives each worker only settings it knows, the runtime tuning, and nothing of TeleMessage, the bot or Key Vault', () => {
    const known = new Set([...(Object.values(SETTINGS) as SettingSpec[]).map((s) => s.env), 'NODE_ENV', 'APPLICATIONINSIGHTS_CONNECTION_STRING', ...Object.keys(NODE_RUNTIME_ENV)]);
    expect([...workerEnv.keys()].filter((name) => !known.has(name))).toEqual([]);
    expect(workerEnv.get('NODE_ENV')).toBe("'production'");
    for (const [name, value] of Object.entries(NODE_RUNTIME_ENV)) expect([name, workerEnv.get(name)]).toEqual([name, `'${value}'`]);
    for (const name of ['TENANT_ID', 'CLIENT_ID', 'GRAPH_CREDENTIAL', 'MANAGED_IDENTITY_CLIENT_ID']) expect([name, workerEnv.has(name)]).toEqual([name, true]);
    const foreign = [...workerEnv.keys()].filter((name) => /^(TELEMESSAGE_|BOT_|SFTP_)|^(KEY_VAULT_URL|PUBLIC_URL|ADMIN_OBJECT_IDS)$/.test(name));
    expect(foreign).toEqual([]);
  });

  it("runs the image from the deployment's own registry, which the identity may only pull from", () => {
    expect(worker()).toMatch(/image: '\$\{registry\.properties\.loginServer\}\/\$\{workerImage\}'/);
    const pull = resource('acrPullRole').body;
    expect(pull).toMatch(/scope: registry\n/);
    expect(pull).toMatch(/roleIds\.acrPull\)/);
    expect(bicep).toMatch(/^ {2}acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'$/m);
    expect(bicep).toMatch(/^output CONTAINER_REGISTRY_NAME string = registry\.name$/m);
  });
});
