import fs from 'node:fs';
import path from 'node:path';
import { SETTINGS, loadConfig, type SettingSpec } from '../../server/config';
import { NODE_RUNTIME_ENV, NODE_RUNTIME_FLAGS } from '../../server/runtimeEnv';
import { END_MARKER, START_MARKER, renderConfigSection } from '../../scripts/configDoc';

const ROOT = path.resolve(__dirname, '..', '..');
const specs = Object.values(SETTINGS) as SettingSpec[];

const bicep = fs.readFileSync(path.join(ROOT, 'infra', 'main.bicep'), 'utf8');

/** name -> Bicep value expression, from a `var <name> = [ { name: …, value: … } … ]` list in main.bicep. */
function settingsList(variable: string): Map<string, string> {
  const block = bicep.match(new RegExp(`^var ${variable} = [^\\[]*\\[\\n?([\\s\\S]*?)\\]\\n`, 'm'));
  if (!block) throw new Error(`no ${variable} list in infra/main.bicep`);
  const settings = new Map<string, string>();
  for (const m of block[1].matchAll(/\{ name: '([^']+)', value: (.+?) \}/g)) settings.set(m[1], m[2]);
  return settings;
}

// The web app's settings: the list every deployment gets, and the client-secret fallback's addition.
const common = settingsList('appSettings');
const secretFallback = settingsList('graphSecretSettings');

const isKeyVaultReference = (value: string) => /^'@Microsoft\.KeyVault\(SecretUri=\$\{vault\.properties\.vaultUri\}secrets\/[^')]+\)'$/.test(value);

// Read by App Service and its Node.js agent, not by the server, so not in SETTINGS.
const PLATFORM_SETTINGS = ['NODE_ENV', 'APPLICATIONINSIGHTS_CONNECTION_STRING', 'ApplicationInsightsAgent_EXTENSION_VERSION', 'SCM_DO_BUILD_DURING_DEPLOYMENT', 'WEBSITE_RUN_FROM_PACKAGE'];

// What Azure puts where main.bicep computes a value; literals in main.bicep are used as written.
const DEPLOYED_VALUES: Record<string, string> = {
  PUBLIC_URL: 'https://archiver-3kx7q2m4.azurewebsites.net',
  TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  CLIENT_ID: '0d7e2f4a-8c1b-4e6d-a3f5-9b8c7d6e5f41',
  CLIENT_SECRET: 'value App Service resolved from Key Vault',
  GRAPH_CREDENTIAL: 'ManagedIdentityFederation',
  BOT_ID: 'a4b3c2d1-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
  MANAGED_IDENTITY_CLIENT_ID: 'a4b3c2d1-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
  STORAGE_ACCOUNT_NAME: 'archiver3kx7q2m4abcde',
  KEY_VAULT_URL: 'https://archiverkv3kx7q2m4abc.vault.azure.net/',
  TELEMESSAGE_BASE_URL: 'https://archive.telemessage.example',
  ADMIN_OBJECT_IDS: '3f2504e0-4f89-41d3-9a0c-0305e82c3301,9b2c6a1e-0d4f-4e8a-b7c3-5f1e2d3c4b5a',
  TEAMS_APP_ID: '6f1c4a0e-3b2d-4c5e-9a8f-1b2c3d4e5f60',
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000',
};

/** The environment Azure gives the server for these app settings: literals as written, the rest from DEPLOYED_VALUES. */
function deployedEnv(settings: Map<string, string>, deployed: Record<string, string> = DEPLOYED_VALUES): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of settings) {
    // A literal, or a variable that holds one, is used as written.
    const variable = /^\w+$/.test(value) ? bicep.match(new RegExp(`^var ${value} = ('[^'$]*')$`, 'm')) : null;
    const expression = variable?.[1] ?? value;
    const literal = expression.match(/^'([^'$]*)'$/);
    const given = literal && !isKeyVaultReference(value) ? literal[1] : deployed[name];
    if (given === undefined) throw new Error(`add what Azure sets for ${name} to DEPLOYED_VALUES`);
    env[name] = given;
  }
  return env;
}

describe('configuration contract', () => {
  const appSettings = new Map([...common, ...secretFallback]);

  it('sets every setting production requires in the Bicep app settings, secrets as Key Vault references', () => {
    const required = specs.filter((s) => s.requiredInProduction);
    expect(required.length).toBeGreaterThan(0);
    const missing = required.filter((s) => !appSettings.has(s.env)).map((s) => s.env);
    expect(missing).toEqual([]);
    const secretsInClear = specs.filter((s) => s.secret && appSettings.has(s.env) && !isKeyVaultReference(appSettings.get(s.env)!)).map((s) => s.env);
    expect(secretsInClear).toEqual([]);
  });

  it('runs the server in Azure with the allocator settings and Node flags the benchmark measured', () => {
    for (const [name, value] of Object.entries(NODE_RUNTIME_ENV)) expect([name, appSettings.get(name)]).toEqual([name, `'${value}'`]);
    expect(bicep).toContain(`appCommandLine: 'node ${NODE_RUNTIME_FLAGS.join(' ')} dist/server/index.js'`);
  });

  it('runs `npm run archive` with the same allocator settings and Node flags', () => {
    const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const env = Object.entries(NODE_RUNTIME_ENV).map(([name, value]) => `${name}=${value}`);
    expect(scripts.archive).toBe(`${env.join(' ')} NODE_OPTIONS='${NODE_RUNTIME_FLAGS.join(' ')}' tsx cli/archive.ts`);
    // The compiled CLI, for App Service, where development dependencies (tsx) are pruned.
    expect(scripts['archive:compiled']).toBe(`${env.join(' ')} node ${NODE_RUNTIME_FLAGS.join(' ')} dist/cli/archive.js`);
  });

  it('deploys on Node.js 24 LTS, the runtime package.json asks for', () => {
    expect(bicep).toContain("linuxFxVersion: 'NODE|24-lts'");
    expect(bicep).not.toMatch(/NODE\|(?!24-lts')/);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };
    expect(pkg.engines.node).toBe('>=24');
    expect(pkg.devDependencies['@types/node']).toMatch(/^\^24\./);
    expect(fs.readFileSync(path.join(ROOT, '.npmrc'), 'utf8')).toMatch(/^engine-strict=true$/m);
  });

  it('sets nothing in Azure that the server does not know, so a misspelt name cannot hide', () => {
    const known = new Set([...specs.map((s) => s.env), ...PLATFORM_SETTINGS, ...Object.keys(NODE_RUNTIME_ENV)]);
    expect([...appSettings.keys()].filter((name) => !known.has(name))).toEqual([]);
  });

  it('gives the server a production configuration it accepts, signing in to Graph with no secret', () => {
    // The Bicep's default: the federated credential.
    expect(bicep).toMatch(/^param graphCredential string = 'ManagedIdentityFederation'$/m);
    const env = deployedEnv(common);
    expect(env.NODE_ENV).toBe('production');
    expect(env).not.toHaveProperty('CLIENT_SECRET');
    const config = loadConfig(env);
    expect(config.production).toBe(true);
    expect(config.storageConnectionString).toBeUndefined();
    expect(config.botAppType).toBe('UserAssignedMSI');
    expect(config.graphCredential).toBe('ManagedIdentityFederation');
    expect(config.clientSecret).toBeUndefined();
    expect(config.managedIdentityClientId).toBe(DEPLOYED_VALUES.MANAGED_IDENTITY_CLIENT_ID);
  });

  it('adds the client secret, as a Key Vault reference, only in the client-secret fallback, which the server accepts too', () => {
    expect([...secretFallback.keys()]).toEqual(['CLIENT_SECRET']);
    expect(bicep).toMatch(/^var graphSecretSettings = graphCredential == 'ClientSecret'$/m);
    expect(bicep).toMatch(/^resource clientSecretEntry '[^']+' = if \(graphCredential == 'ClientSecret'\) \{$/m);
    const config = loadConfig(deployedEnv(new Map([...common, ...secretFallback]), { ...DEPLOYED_VALUES, GRAPH_CREDENTIAL: 'ClientSecret' }));
    expect(config.graphCredential).toBe('ClientSecret');
    expect(config.clientSecret).toBe(DEPLOYED_VALUES.CLIENT_SECRET);
  });

  it('refuses a single-tenant bot in production without its password, naming the variable only', () => {
    const production = { NODE_ENV: 'production', STORAGE_ACCOUNT_NAME: 'archiverstore', KEY_VAULT_URL: 'https://archiverkv.vault.azure.net/' };
    expect(() => loadConfig({ ...production, BOT_APP_TYPE: 'SingleTenant' })).toThrow(/BOT_PASSWORD: required when BOT_APP_TYPE=SingleTenant/);
    // Other required settings are missing here too; the message must name them, never print the password.
    expect(() => loadConfig({ ...production, BOT_APP_TYPE: 'SingleTenant', BOT_PASSWORD: 'bot-secret-value' })).toThrow(/^(?![\s\S]*(BOT_PASSWORD|bot-secret-value))[\s\S]*TENANT_ID/);
    expect(() => loadConfig({ ...production, BOT_APP_TYPE: 'MultiTenant' })).toThrow(/BOT_APP_TYPE/);
  });

  it('lists every setting in docs/configuration.md, as generated from the schema', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const start = readme.indexOf(START_MARKER);
    const end = readme.indexOf(END_MARKER);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const section = readme.slice(start + START_MARKER.length, end);
    for (const spec of specs) expect(section).toContain(`\`${spec.env}\``);
    // Regenerate with `npm run docs:config` when this fails.
    expect(section).toBe(renderConfigSection());
  });
});
