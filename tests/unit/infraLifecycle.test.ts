import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { CONTAINERS, TABLES } from '../../importer/state/tableNames';
import { SETTINGS, type SettingSpec } from '../../server/config';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const bicep = read('infra/main.bicep');
const lifecycle = read('m365agents.yml');
const envTemplateText = read('env/.env.dev');
const envTemplate = parseEnv(envTemplateText);

const placeholders = (text: string) => [...text.matchAll(/\$\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[1]);

/** Bicep `resource` blocks: symbolic name, type, and the text up to the next top-level line. */
const resources = bicep
  .split(/\n(?=\S)/)
  .map((block) => block.match(/^resource (\w+) '([^@']+)@[^']+' = ([\s\S]*)$/))
  .filter((m): m is RegExpMatchArray => m !== null)
  .map((m) => ({ symbol: m[1], type: m[2], body: m[3] }));
const ofType = (type: string) => resources.filter((r) => r.type === type);
const resource = (symbol: string) => resources.find((r) => r.symbol === symbol) ?? { symbol, type: '', body: '' };

describe('provisioning and deployment files', () => {
  it('finds a source for every value the lifecycle, the manifest and the parameters need', () => {
    const needed = new Set([...placeholders(lifecycle), ...placeholders(read('appPackage/manifest.json')), ...placeholders(read('infra/main.parameters.json'))]);
    // Secrets come from env/.env.<env>.user, which the template's header tells the admin to write.
    const secrets = [...needed].filter((name) => name.startsWith('SECRET_'));
    for (const name of secrets) expect(envTemplateText).toContain(`#   ${name}=`);
    const withoutSource = [...needed].filter((name) => !name.startsWith('SECRET_') && !(name in envTemplate));
    expect(withoutSource).toEqual([]);
  });

  it('declares in env/.env.dev everything provisioning writes back', () => {
    const outputs = [...bicep.matchAll(/^output (\w+) /gm)].map((m) => m[1]);
    const written = [...lifecycle.matchAll(/^\s+\w+: ([A-Z][A-Z0-9_]+)$/gm)].map((m) => m[1]).filter((name) => !['TEAMSFX_ENV'].includes(name));
    expect(outputs.length).toBeGreaterThan(0);
    expect([...outputs, ...written].filter((name) => !(name in envTemplate))).toEqual([]);
  });

  it('keeps every secret out of the committed environment file', () => {
    const secretNames = (Object.values(SETTINGS) as SettingSpec[]).filter((s) => s.secret).map((s) => s.env);
    const leaked = Object.entries(envTemplate).filter(([name, value]) => (name.startsWith('SECRET_') || secretNames.includes(name)) && value);
    expect(leaked).toEqual([]);
    expect(envTemplate.RESOURCE_BASE_NAME).toMatch(/^[a-z][a-z0-9]{2,10}$/);
  });

  it('passes every Bicep parameter without a default, and none that Bicep does not declare', () => {
    const declared = [...bicep.matchAll(/^param (\w+) \w+( = .+)?$/gm)].map((m) => ({ name: m[1], required: !m[2] }));
    const given = Object.keys((JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, unknown> }).parameters);
    expect(declared.filter((p) => p.required && !given.includes(p.name)).map((p) => p.name)).toEqual([]);
    expect(given.filter((name) => !declared.some((p) => p.name === name))).toEqual([]);
    // Secrets reach Bicep only as @secure() parameters, so they never show in deployment history.
    for (const name of ['clientSecret', 'telemessagePassword']) expect(bicep).toMatch(new RegExp(`@secure\\(\\)\\n(@description\\(.*\\)\\n)?param ${name} string`));
  });
});

describe('storage the importer relies on', () => {
  it('creates every table and container the importer uses', () => {
    const tableNames = bicep
      .match(/^var tableNames = \[(.*)\]$/m)?.[1]
      .match(/'([^']+)'/g)
      ?.map((t) => t.slice(1, -1));
    expect(new Set(tableNames)).toEqual(new Set(Object.values(TABLES)));
    // The records account's containers; the SFTP landing account's one container is configuration.
    const records = ofType('Microsoft.Storage/storageAccounts/blobServices/containers').filter((c) => /parent: blobService\n/.test(c.body));
    const containers = records.map((c) => c.body.match(/name: '([^']+)'/)?.[1]);
    expect(new Set(containers)).toEqual(new Set(Object.values(CONTAINERS)));
    expect(resource('sftpContainer').body).toMatch(/parent: sftpBlobService\n\s+name: sftpContainerName\n/);
    expect(bicep).toMatch(new RegExp(`^var sftpContainerName = '${SETTINGS.sftpContainer.default}'$`, 'm'));
    // Container-level WORM needs no blob versions, which would only add cost.
    expect(ofType('Microsoft.Storage/storageAccounts/blobServices')[0].body).toMatch(/isVersioningEnabled: false/);
    expect(bicep).not.toMatch(/isVersioningEnabled: true/);
  });

  it('makes raw items write-once and the audit trail append-only for a period the admin chooses', () => {
    const containerOf = (symbol: string) =>
      ofType('Microsoft.Storage/storageAccounts/blobServices/containers')
        .find((c) => c.symbol === symbol)
        ?.body.match(/name: '([^']+)'/)?.[1];
    const policies = new Map(
      ofType('Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies').map((p) => [
        containerOf(p.body.match(/parent: (\w+)/)![1]),
        { period: p.body.match(/immutabilityPeriodSinceCreationInDays: int\((\w+)\)/)?.[1], appends: p.body.match(/allowProtectedAppendWrites: (\w+)/)?.[1] },
      ]),
    );
    expect(policies.get(CONTAINERS.raw)).toEqual({ period: 'rawRetentionDays', appends: 'false' });
    expect(policies.get(CONTAINERS.audit)).toEqual({ period: 'auditRetentionDays', appends: 'true' });
    expect(policies.has(CONTAINERS.locks)).toBe(false);
  });

  it('lets the app identity use tables, blobs, the queue and secrets, the SFTP landing container, and pull the worker image, and nothing broader', () => {
    const roleIdsBlock = bicep.match(/^var roleIds = \{\n([\s\S]*?)\n\}$/m)![1];
    const roleIds = Object.fromEntries([...roleIdsBlock.matchAll(/^ {2}(\w+): '([0-9a-f-]{36})'$/gm)].map((m) => [m[1], m[2]]));
    const grants = ofType('Microsoft.Authorization/roleAssignments').map((a) => ({
      scope: a.body.match(/scope: (\w+)/)?.[1],
      role: a.body.match(/roleIds\.(\w+)\)/)?.[1],
      principal: a.body.match(/principalId: (\w+)\./)?.[1],
    }));
    expect(grants).toEqual(
      expect.arrayContaining([
        { scope: 'storage', role: 'storageTableDataContributor', principal: 'identity' },
        { scope: 'storage', role: 'storageBlobDataContributor', principal: 'identity' },
        // The delivery units the web app puts and the workers take.
        { scope: 'storage', role: 'storageQueueDataContributor', principal: 'identity' },
        { scope: 'vault', role: 'keyVaultSecretsUser', principal: 'identity' },
        { scope: 'telemessagePasswordEntry', role: 'keyVaultSecretsOfficer', principal: 'identity' },
        // It reads TeleMessage's ZIPs and moves refused ones under rejected/: that container, not the account.
        { scope: 'sftpContainer', role: 'storageBlobDataContributor', principal: 'identity' },
        // The workers' image: pull only, from the deployment's own registry.
        { scope: 'registry', role: 'acrPull', principal: 'identity' },
      ]),
    );
    expect(grants).toHaveLength(7);
    // Built-in role definition ids, as Azure publishes them.
    expect(roleIds).toEqual({
      storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
      storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
      storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
      keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
      keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
      acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
    });
  });
});
