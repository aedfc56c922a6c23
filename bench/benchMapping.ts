// `npm run bench -- --mapping`: the custom mapping at its largest, a generated 100,000-row file.
// Prints the time to parse, validate and preview it (against an active mapping of 100,000 rows),
// the Graph requests and time its mailbox check takes, and the time to store and activate it as a
// version on Azurite. Azurite runs in its own process; the sign-in and Graph emulators (100,000
// users) in this one, started once the parse, the preview and the apply are timed, so that their
// heap does not weigh on those figures.
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';
import { startAzurite } from '../emulators/storage/azurite';
import { startSigninEmulator } from '../emulators/signin/server';
import { startGraphEmulator } from '../emulators/graph/server';
import { readMappingCsv } from '../importer/mapping/admin/csvMapping';
import { MailboxDirectory } from '../importer/mapping/mailboxDirectory';
import { diffMapping } from '../importer/mapping/admin/mappingService';
import { openStores } from '../importer/run/importerStores';
import { createGraphClient } from '../importer/sink/graphClient';
import { StorageAccount } from '../importer/state/storageAccount';

const ROWS = 100_000;
const CONNECTOR = 'bench-mapping';
const TARGETS = { previewMs: 1000, applyMs: 3000 };

/** TeleMessage's format: numbers without '+', one mailbox each; `shift` changes a share of the rows. */
function mappingFile(shift: number): { text: string; mailboxes: string[] } {
  const lines = ['External User ID,Microsoft 365 User Mailbox'];
  const mailboxes: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    // Every twentieth row of the second file is a new number, every twentieth (offset) a new mailbox.
    const n = shift && i % 20 === 0 ? i + ROWS : i;
    const m = shift && i % 20 === 10 ? (i + 1) % ROWS : i;
    const mailbox = `employee.${m}@contoso.example`;
    lines.push(`447700${String(n).padStart(6, '0')},${mailbox}`);
    mailboxes.push(mailbox);
  }
  return { text: lines.join('\r\n') + '\r\n', mailboxes };
}

async function main(): Promise<void> {
  const tenantId = randomUUID();
  const app = { tenantId, clientId: randomUUID(), clientSecret: randomBytes(24).toString('base64url'), roles: ['User.Read.All'] };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ena-bench-mapping-'));
  const azurite = await startAzurite({ inMemory: true });
  let graph: Awaited<ReturnType<typeof startGraphEmulator>> | undefined;
  let signin: Awaited<ReturnType<typeof startSigninEmulator>> | undefined;
  try {
    const stores = await openStores(new StorageAccount({ connectionString: azurite.connectionString }), { tmpDir: tmp });

    // The active mapping the file is previewed against: 100,000 rows already stored.
    const baseline = await readMappingCsv(mappingFile(0).text);
    const { version: first } = await stores.mappings.write(CONNECTOR, baseline.entries, { createdBy: 'bench', origin: 'upload' });
    await stores.mappings.activate(CONNECTOR, first, undefined);

    const { text } = mappingFile(1);
    const bytes = Buffer.byteLength(text);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const file = await readMappingCsv(Buffer.from(text));
    const t1 = performance.now();
    const settings = await stores.connectors.getOrDefault(CONNECTOR);
    const active = await stores.mappings.load(settings.value.mappingVersion);
    const diff = diffMapping(active, file.entries, settings.value.mappingVersion, file.lines);
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const { version } = await stores.mappings.write(CONNECTOR, file.entries, { createdBy: 'bench', origin: 'upload' });
    await stores.mappings.activate(CONNECTOR, version, settings.etag);
    const t3 = performance.now();

    signin = await startSigninEmulator({ apps: [app] });
    const users = Array.from({ length: ROWS }, (_, i) => ({
      id: `user-${i}`,
      userPrincipalName: `employee.${i}@contoso.example`,
      mail: `employee.${i}@contoso.example`,
      displayName: `Employee ${i}`,
    }));
    graph = await startGraphEmulator({ auth: { jwksUri: signin.jwksUri(tenantId), issuer: signin.issuer(tenantId) }, users });
    const directory = new MailboxDirectory(createGraphClient({ tenantId, clientId: app.clientId, clientSecret: app.clientSecret, authorityHost: signin.authorityHost, graphBaseUrl: graph.url }));
    await directory.check(['warm-up@contoso.example']);
    const served = graph.stats().served.byOperation.listUsers ?? 0;
    const t4 = performance.now();
    const check = await directory.check(file.entries.map((e) => e.mailbox));
    const t5 = performance.now();
    const readBack = await stores.mappings.load((await stores.connectors.getOrDefault(CONNECTOR)).value.mappingVersion);
    if (readBack.size !== file.entries.length || file.problems.length || check.unknown.size)
      throw new Error(
        `the bench mapping did not read back whole: ${readBack.size} of ${file.entries.length} rows, ${file.problems.length} problems (${file.problems[0]?.message}), ${check.unknown.size} unknown mailboxes`,
      );

    const ms = (a: number, b: number) => Math.round(b - a);
    const previewMs = ms(t0, t2);
    const applyMs = ms(t2, t3);
    const rows: [string, string, string][] = [
      ['file', `${ROWS.toLocaleString('en-US')} rows, ${(bytes / 1024 / 1024).toFixed(1)} MiB`, ''],
      ['parse + validate', `${ms(t0, t1)} ms`, ''],
      [
        'preview (load the active 100,000 and compare)',
        `${ms(t1, t2)} ms: ${diff.added.toLocaleString('en-US')} added, ${diff.changed.toLocaleString('en-US')} changed, ${diff.removed.toLocaleString('en-US')} removed, ${diff.unchanged.toLocaleString('en-US')} unchanged`,
        '',
      ],
      [
        'parse + validate + preview',
        `${previewMs} ms (${Math.round((cpu.user + cpu.system) / 1000)} ms of CPU)`,
        `under ${TARGETS.previewMs} ms: ${previewMs < TARGETS.previewMs ? 'met' : 'NOT met'}`,
      ],
      [
        'mailbox check (Graph)',
        `${check.requests.toLocaleString('en-US')} requests ($batch) carrying ${check.queries.toLocaleString('en-US')} directory queries (emulator served ${((graph.stats().served.byOperation.listUsers ?? 0) - served).toLocaleString('en-US')}), ${ms(t4, t5)} ms; ${check.known.size.toLocaleString('en-US')} mailboxes found`,
        '',
      ],
      ['apply (stored and active, Azurite)', `${applyMs} ms`, `under ${TARGETS.applyMs} ms: ${applyMs < TARGETS.applyMs ? 'met' : 'NOT met'}`],
    ];
    process.stdout.write(
      `\nload average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(', ')} on ${os.cpus().length} cores\n| figure | value | target |\n|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`,
    );
    process.exitCode = previewMs < TARGETS.previewMs && applyMs < TARGETS.applyMs ? 0 : 1;
  } finally {
    await Promise.allSettled([graph?.close(), signin?.close()]);
    await azurite.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
