// A whole importer on this machine for tests: Azurite, the three emulators, the product's stores,
// source and sink, wired only through URLs and connection strings, as production is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunningAzurite } from '../../emulators/storage/azurite';
import type { SigninEmulator } from '../../emulators/signin/server';
import type { GraphEmulator, GraphEmulatorOptions } from '../../emulators/graph/server';
import type { TeleMessageEmulator, TeleMessageEmulatorOptions } from '../../emulators/telemessage/server';
import { directoryPerson, startStack } from '../../emulators/stack';
import { renderMappingCsv, type Employee } from '../../emulators/telemessage/population';
import { StorageAccount } from '../../importer/state/storageAccount';
import { openStores, type ImporterStores } from '../../importer/run/importerStores';
import { LocalSecretStore } from '../../importer/secrets/secretStore';
import { TeleMessageSource } from '../../importer/source/telemessageSource';
import { createGraphClient } from '../../importer/sink/graphClient';
import { MailboxSink } from '../../importer/sink/mailboxSink';
import { RetryPolicy } from '../../importer/retryPolicy';
import { readMappingCsv } from '../../importer/mapping/admin/csvMapping';
import type { ImportContext, RunLogger } from '../../importer/run/importRun';
import type { MailboxLimits } from '../../importer/sink/mailboxPacer';
import { createImporter, type Importer, type ImporterOptions } from '../../importer';

export const TENANT = '0f3c2b1a-9e8d-4c7b-a6f5-e4d3c2b1a0f9';
export const APP = { tenantId: TENANT, clientId: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d', clientSecret: 'harness-client-secret', roles: ['Mail.ReadWrite', 'User.Read.All'] };
export const TM_USER = 'archiver@contoso.example';
export const TM_PASSWORD = 'harness-telemessage-password';
export const CONNECTOR = 'default';

export interface HarnessOptions {
  telemessage?: Partial<TeleMessageEmulatorOptions>;
  graph?: Partial<Omit<GraphEmulatorOptions, 'auth' | 'users'>>;
  /** Employees that are no Microsoft 365 user (leavers). Default: the last one. */
  leavers?: (staff: Employee[]) => Employee[];
  /** Employees in the custom mapping CSV. Default: the first 70 %. */
  mapped?: (staff: Employee[]) => Employee[];
  automaticMapping?: boolean;
  /** Mailboxes whose maximum message size is raised to 150 MB. */
  bigMailboxes?: (staff: Employee[]) => Employee[];
  /** More Microsoft 365 users (the tab's signed-in people), by object id and display name, beside the employees. */
  people?: { oid: string; name: string; preferredUsername: string }[];
  /** Employees who are Microsoft 365 users without an Exchange Online mailbox. Default: none. */
  noMailbox?: (staff: Employee[]) => Employee[];
  /**
   * false: a connector as the tab's setup finds it the first time: no TeleMessage sign-in (and no
   * password in the secret store), no custom mapping, no step of the setup done. Default: set up.
   */
  setUp?: boolean;
  /** A mailbox of the tenant that is nobody's: TeleMessage's SMTP destination (a shared capture mailbox). */
  captureMailbox?: string;
}

/** What the tab's setup records, as a finished setup leaves it. */
export const SETUP_DONE = {
  termsAcceptedAt: '2026-11-01T09:00:00.000Z',
  mappingConfirmedAt: '2026-11-01T09:05:00.000Z',
  consentedAt: '2026-11-01T09:10:00.000Z',
  scheduleTimeZone: 'UTC',
  setupCompletedAt: '2026-11-01T09:15:00.000Z',
};

export interface Harness {
  azurite: RunningAzurite;
  signin: SigninEmulator;
  graph: GraphEmulator;
  telemessage: TeleMessageEmulator;
  stores: ImporterStores;
  storage: StorageAccount;
  secrets: LocalSecretStore;
  tmpDir: string;
  staff: Employee[];
  /** Mailboxes an item can be archived into: Microsoft 365 users with an Exchange Online mailbox. */
  users: Set<string>;
  mappedNumbers: Map<string, string>;
  /** The environment for an importer process (CLI) of this harness. */
  env: Record<string, string>;
  context(overrides?: Partial<ImportContext>): ImportContext;
  close(): Promise<void>;
}

/** The Graph object id of the harness's (i+1)th Microsoft 365 user. */
export const harnessUserId = (i: number) => `00000000-0000-4000-b000-${String(i + 1).padStart(12, '0')}`;

export const quietLog: RunLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ena-harness-'));
  const stack = await startStack({
    azurite: { inMemory: true },
    tenantId: TENANT,
    signin: { apps: [APP] },
    telemessage: {
      seed: 'harness',
      credentials: { username: TM_USER, password: TM_PASSWORD },
      population: { employees: 12 },
      traffic: { itemsPerDay: 120, hugeAttachments: [] },
      days: ['2026-11-23', '2026-11-24'],
      now: new Date('2026-11-25T00:00:00Z'),
      ...options.telemessage,
    },
    graph: {
      ...options.graph,
      users: (staff) => {
        const capture = options.captureMailbox
          ? [{ id: 'user-capture', userPrincipalName: options.captureMailbox, mail: options.captureMailbox, displayName: 'TeleMessage capture', maxMessageSizeBytes: 150 * 1024 * 1024 }]
          : [];
        return [...employeeUsers(staff, options), ...capture, ...(options.people ?? []).map(directoryPerson)];
      },
    },
  });
  const { azurite, signin, telemessage, graph, staff } = stack;
  const graphUsers = employeeUsers(staff, options);

  const storage = new StorageAccount({ connectionString: azurite.connectionString });
  const stores = await openStores(storage, { tmpDir });
  const keyFile = path.join(tmpDir, 'secret.key');
  const secrets = new LocalSecretStore(keyFile);
  const setUp = options.setUp ?? true;

  const mappedStaff = setUp ? (options.mapped ?? ((s) => s.slice(0, Math.ceil(s.length * 0.7))))(staff) : [];
  const { entries } = setUp ? await readMappingCsv(renderMappingCsv(mappedStaff)) : { entries: [] };
  const current = await stores.connectors.getOrDefault(CONNECTOR);
  const automaticMapping = options.automaticMapping ?? true;
  if (setUp) {
    await secrets.set('telemessage-password', TM_PASSWORD);
    const etag = await stores.connectors.save({ ...current.value, ...SETUP_DONE, automaticMapping, telemessageUsername: TM_USER, telemessageSecretName: 'telemessage-password' }, current.etag);
    await stores.mappings.replace(CONNECTOR, entries, etag);
  } else {
    await stores.connectors.save({ ...current.value, automaticMapping }, current.etag);
  }

  const env = {
    STORAGE_CONNECTION_STRING: azurite.connectionString,
    TENANT_ID: TENANT,
    CLIENT_ID: APP.clientId,
    CLIENT_SECRET: APP.clientSecret,
    AUTHORITY_HOST: signin.authorityHost,
    GRAPH_BASE_URL: graph.url,
    TELEMESSAGE_BASE_URL: telemessage.url,
    LOCAL_SECRET_KEY_FILE: keyFile,
    // Blob Storage's shortest lease: a killed importer blocks the next one for 15 s at most.
    RUN_LEASE_SECONDS: '15',
  };

  return {
    azurite,
    signin,
    graph,
    telemessage,
    stores,
    storage,
    secrets,
    tmpDir,
    staff,
    users: new Set(graphUsers.filter((u) => !('hasMailbox' in u)).map((u) => u.userPrincipalName)),
    mappedNumbers: new Map(entries.map((e) => [e.number, e.mailbox])),
    env,
    context: (overrides = {}) => ({
      connectorId: CONNECTOR,
      stores,
      source: new TeleMessageSource({
        baseUrl: telemessage.url,
        username: TM_USER,
        password: () => secrets.get('telemessage-password'),
        pageSize: 50,
        retry: new RetryPolicy({ baseDelayMs: 20, maxDelayMs: 200 }),
      }),
      createSink: (folderName: string) =>
        new MailboxSink(createGraphClient({ tenantId: TENANT, clientId: APP.clientId, clientSecret: APP.clientSecret, authorityHost: signin.authorityHost, graphBaseUrl: graph.url }), {
          folderName,
          retry: new RetryPolicy({ baseDelayMs: 20, maxDelayMs: 500 }),
          limits: options.graph?.timeScale ? scaledLimits(options.graph.timeScale) : undefined,
        }),
      log: quietLog,
      now: () => telemessage.now(),
      leaseSeconds: 15,
      ...overrides,
    }),
    close: async () => {
      await stack.close();
      fs.rmSync(tmpDir, { recursive: true, force: true });
    },
  };
}

/** The employees who are Microsoft 365 users (all but the leavers), as Graph holds them. */
function employeeUsers(staff: Employee[], options: HarnessOptions) {
  const leavers = new Set((options.leavers ?? ((s) => s.slice(-1)))(staff).map((e) => e.id));
  const big = new Set((options.bigMailboxes ?? (() => []))(staff).map((e) => e.id));
  const mailboxless = new Set((options.noMailbox ?? (() => []))(staff).map((e) => e.id));
  return staff
    .filter((e) => !leavers.has(e.id))
    .map((e, i) => ({
      // Entra object ids are GUIDs: the connector's admins are kept and looked up by them.
      id: harnessUserId(i),
      userPrincipalName: e.mailbox,
      mail: e.mailbox,
      displayName: `${e.firstName} ${e.lastName}`,
      maxMessageSizeBytes: big.has(e.id) ? 150 * 1024 * 1024 : undefined,
      ...(mailboxless.has(e.id) && { hasMailbox: false }),
    }));
}

/** Settles once the connector has a run and none is going (a server's own first run, one the test started), or throws after `timeoutMs`. */
export async function runsEnded(h: Harness, timeoutMs = 90_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const runs = await h.stores.runs.list(CONNECTOR, 20);
    if (runs.length && runs.every((r) => r.status !== 'running')) return;
  }
  throw new Error('runs did not finish');
}

/** The importer's public API over this harness (its storage, emulators and secret key), with `overrides`. */
export function harnessImporter(h: Harness, overrides: Partial<ImporterOptions> = {}): Promise<Importer> {
  return createImporter({
    connectorId: CONNECTOR,
    storage: { connectionString: h.azurite.connectionString },
    graph: { tenantId: TENANT, clientId: APP.clientId, clientSecret: APP.clientSecret, authorityHost: h.signin.authorityHost, graphBaseUrl: h.graph.url },
    telemessageBaseUrl: h.telemessage.url,
    secrets: { localKeyFile: path.join(h.tmpDir, 'secret.key') },
    log: quietLog,
    ...overrides,
  });
}

export function scaledLimits(timeScale: number): MailboxLimits {
  return { concurrentRequests: 4, requestsPerWindow: 10_000, requestWindowMs: 600_000 * timeScale, uploadBytesPerWindow: 150 * 1024 * 1024, uploadWindowMs: 300_000 * timeScale };
}

/** Which mailboxes an item must reach, worked out from the population independently of the product. */
export function expectedMailboxes(h: Harness, item: { participants: { number: string; email?: string }[] }, automatic = true): string[] {
  const out = new Set<string>();
  for (const p of item.participants) {
    const custom = h.mappedNumbers.get(p.number);
    if (custom && h.users.has(custom)) out.add(custom);
    else if (automatic && p.email && h.users.has(p.email.toLowerCase())) out.add(p.email.toLowerCase());
  }
  return [...out].sort();
}

/** Per number, how many items it took part in without mapping to any mailbox (independently of the product). */
export function expectedUnmapped(h: Harness, items: { participants: { number: string; email?: string }[]; malformation?: unknown }[], automatic = true): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    if (item.malformation) continue;
    for (const p of item.participants) {
      const custom = h.mappedNumbers.get(p.number);
      const mapped = (custom && h.users.has(custom)) || (automatic && p.email && h.users.has(p.email.toLowerCase()));
      if (!mapped) counts.set(p.number, (counts.get(p.number) ?? 0) + 1);
    }
  }
  return counts;
}
