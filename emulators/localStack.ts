// The emulators wired together as one local company: the same employees exist at TeleMessage and
// as Microsoft 365 users, with the usual gaps (a leaver, people with no email at TeleMessage).
// Run directly by `npm start` (in a process that trusts the local CA); tests import it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SigninEmulator, TestUser } from './signin/server';
import type { GraphEmulator } from './graph/server';
import type { TeleMessageEmulator } from './telemessage/server';
import { startTeamsHost, type TeamsHost } from './teamsHost/server';
import { renderMappingCsv, type Employee } from './telemessage/population';
import { captureGrant, captureUser, startLocalDelivery, type LocalDelivery, type LocalLanding, type LocalSource } from './localDelivery';
import { directoryPerson, startStack } from './stack';

export interface LocalStackOptions {
  ports?: { telemessage?: number; graph?: number; signin?: number; teamsHost?: number };
  /** Where the local identity (client secret, TeleMessage password) and mapping CSV are kept. */
  stateDir?: string;
  seed?: string;
  employees?: number;
  itemsPerDay?: number;
  /** Graph throttling time scale (1 = Outlook's real limits). */
  timeScale?: number;
  /** Keep the Graph emulator's mailboxes in <stateDir>/graph across restarts (`npm start`); in memory when false or unset. */
  persistMailboxes?: boolean;
  /** The server's URL: the tab's SPA redirect URI and API URI are registered for it, as docs/deploy.md does; the Teams host frames its tab. */
  publicUrl?: string;
  /** How TeleMessage delivers: its API (default), emails into a capture mailbox, or ZIPs into `landing`. */
  source?: LocalSource;
  landing?: LocalLanding;
  /** How often the delivered sources send what was archived since (60 s unless set; 0: only at start). */
  deliverEveryMs?: number;
}

export interface LocalStackInfo {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  signinUrl: string;
  graphUrl: string;
  telemessageUrl: string;
  telemessageUsername: string;
  mappingCsvPath: string;
  mailboxCount: number;
  summary: string;
  source: LocalSource;
  /** With source smtp: the capture mailbox the connector reads. */
  captureMailbox?: string;
  /** What the delivered source holds at start. */
  deliverySummary?: string;
  /** The people of the sign-in page: the connector's admin (also the Agents Playground's user) and someone who is not. */
  people: { admin: TestUser; member: TestUser };
  /** The Teams host page that frames the tab (with publicUrl only), its origin (the tab's server must allow it) and the local Teams app's id. */
  teamsHost?: { url: string; origin: string; appId: string };
}

export interface LocalStack {
  info: LocalStackInfo;
  telemessagePassword: string;
  signin: SigninEmulator;
  graph: GraphEmulator;
  telemessage: TeleMessageEmulator;
  teamsHost?: TeamsHost;
  /** The SMTP or SFTP delivery, when the source is one. */
  delivery?: LocalDelivery;
  close(): Promise<void>;
}

const TENANT_ID = '8c6b2a5e-0d1f-4c3a-9b7e-1a2b3c4d5e6f';
const CLIENT_ID = '3f1e9d2c-7b6a-4e5d-8c9b-0a1b2c3d4e5f';
const TELEMESSAGE_USERNAME = 'archiver@contoso.example';
/** The local Teams app's id (manifest id), as deep links to its tab name it. */
const TEAMS_APP_ID = '2b7e4c1a-6d3f-4e8b-9a5c-0f1e2d3c4b5a';
const PEOPLE = {
  admin: {
    tenantId: TENANT_ID,
    oid: '5d9c3b2a-1f0e-4d8c-9b7a-6e5f4d3c2b1a',
    name: 'Alex Wilber',
    preferredUsername: 'alexw@contoso.example',
    note: 'an admin of the local connector (ADMIN_OBJECT_IDS)',
  },
  member: {
    tenantId: TENANT_ID,
    oid: '7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b',
    name: 'Megan Bowen',
    preferredUsername: 'meganb@contoso.example',
    note: 'not an admin: the tab shows her who can grant access',
  },
} satisfies Record<string, TestUser>;

interface LocalIdentity {
  clientSecret: string;
  telemessagePassword: string;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const stateDir = options.stateDir ?? path.resolve(__dirname, '..', '.local');
  const identity = loadIdentity(path.join(stateDir, 'dev-identity.json'));
  const employees = options.employees ?? 40;
  const itemsPerDay = options.itemsPerDay ?? 1500;
  const source = options.source ?? 'api';

  const tab = options.publicUrl ? new URL(options.publicUrl) : undefined;
  const stack = await startStack({
    tenantId: TENANT_ID,
    signin: {
      port: options.ports?.signin,
      apps: [
        {
          tenantId: TENANT_ID,
          clientId: CLIENT_ID,
          clientSecret: identity.clientSecret,
          roles: ['Mail.ReadWrite', 'User.Read.All'],
          ...(tab && { spaRedirectUris: [`${tab.origin}/tab/index.html`], identifierUris: [`api://${tab.host}/${CLIENT_ID}`] }),
        },
      ],
      users: Object.values(PEOPLE),
    },
    telemessage: {
      port: options.ports?.telemessage,
      seed: options.seed ?? 'local-company',
      credentials: { username: TELEMESSAGE_USERNAME, password: identity.telemessagePassword },
      population: { employees, domain: 'contoso.example' },
      traffic: { itemsPerDay },
      // Yesterday is a complete day; today fills in as the clock moves.
      days: (now) => [new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10), now.toISOString().slice(0, 10)],
    },
    graph: {
      port: options.ports?.graph,
      users: (staff) => [
        ...mailboxUsers(staff),
        // The sign-in page's people are Microsoft 365 users too: the tab names its admins from Graph.
        ...Object.values(PEOPLE).map(directoryPerson),
        ...(source === 'smtp' ? [captureUser] : []),
      ],
      timeScale: options.timeScale,
      ...(options.persistMailboxes && { dataDir: path.join(stateDir, 'graph') }),
      ...(source === 'smtp' && { mailboxGrants: [captureGrant(CLIENT_ID)] }),
    },
  });
  const { signin, telemessage, graph, staff } = stack;
  const users = mailboxUsers(staff);
  // Delivered sources send from yesterday's start: the day the archive API would serve too.
  const since = new Date(`${new Date(telemessage.now().getTime() - 86_400_000).toISOString().slice(0, 10)}T00:00:00.000Z`);
  const delivery = source === 'api' ? undefined : await startLocalDelivery(source, { telemessage, graph, landing: options.landing }, { since, everyMs: options.deliverEveryMs ?? 60_000 });

  // Teams as the tab's host: signed in as the directory's people, SSO tokens from the sign-in emulator.
  const teamsHost = tab
    ? await startTeamsHost({
        port: options.ports?.teamsHost,
        tabUrl: `${tab.origin}/tab/index.html`,
        appId: TEAMS_APP_ID,
        tenantId: TENANT_ID,
        clientId: CLIENT_ID,
        users: Object.values(PEOPLE),
        signin,
      })
    : undefined;

  // The custom mapping covers most employees; the rest rely on automatic mapping, or stay unmapped.
  const mappingCsvPath = path.join(stateDir, 'seed', 'mapping.csv');
  fs.mkdirSync(path.dirname(mappingCsvPath), { recursive: true });
  fs.writeFileSync(mappingCsvPath, renderMappingCsv(staff.slice(0, Math.ceil(staff.length * 0.8))));

  const info: LocalStackInfo = {
    tenantId: TENANT_ID,
    clientId: CLIENT_ID,
    clientSecret: identity.clientSecret,
    signinUrl: signin.url,
    graphUrl: graph.url,
    telemessageUrl: telemessage.url,
    telemessageUsername: TELEMESSAGE_USERNAME,
    mappingCsvPath,
    mailboxCount: users.length,
    people: PEOPLE,
    teamsHost: teamsHost && { url: teamsHost.url, origin: teamsHost.origin, appId: TEAMS_APP_ID },
    source,
    ...(source === 'smtp' && { captureMailbox: captureUser.mail }),
    deliverySummary: delivery?.summary,
    summary: `${staff.length} employees, about ${itemsPerDay} items a day; password in ${path.relative(process.cwd(), path.join(stateDir, 'dev-identity.json'))}`,
  };
  return {
    info,
    telemessagePassword: identity.telemessagePassword,
    signin,
    graph,
    telemessage,
    teamsHost,
    delivery,
    close: async () => {
      await delivery?.close();
      await Promise.all([stack.close(), teamsHost?.close()]);
    },
  };
}

/** Every employee but the last, who has left: still in TeleMessage's records, no longer a Microsoft 365 user. */
function mailboxUsers(staff: Employee[]) {
  return staff.slice(0, -1).map((e, i) => ({
    id: `00000000-0000-4000-a000-${String(i + 1).padStart(12, '0')}`,
    userPrincipalName: e.mailbox,
    mail: e.mailbox,
    displayName: `${e.firstName} ${e.lastName}`,
    mobilePhone: e.mobile,
    // A couple of mailboxes have their maximum message size raised to Exchange's ceiling.
    maxMessageSizeBytes: i < 2 ? 150 * 1024 * 1024 : undefined,
  }));
}

/** Local credentials are made once per machine and kept out of git, like real secrets would be. */
function loadIdentity(file: string): LocalIdentity {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LocalIdentity;
  } catch {
    const identity = { clientSecret: randomBytes(24).toString('base64url'), telemessagePassword: randomBytes(12).toString('base64url') };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(identity, null, 2), { mode: 0o600 });
    return identity;
  }
}

if (require.main === module) {
  const ports = process.env.LOCAL_STACK_PORTS ? (JSON.parse(process.env.LOCAL_STACK_PORTS) as LocalStackOptions['ports']) : undefined;
  const source = (process.env.LOCAL_STACK_SOURCE ?? 'api') as LocalSource;
  const landing = process.env.LOCAL_STACK_LANDING ? (JSON.parse(process.env.LOCAL_STACK_LANDING) as LocalLanding) : undefined;
  // Run by `npm start`: the mailboxes live under .local like Azurite's data, so a restart keeps them.
  startLocalStack({ ports, publicUrl: process.env.LOCAL_STACK_PUBLIC_URL, persistMailboxes: true, source, landing })
    .then((stack) => {
      process.stdout.write(`READY ${JSON.stringify(stack.info)}\n`);
      const stop = () => stack.close().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    })
    .catch((err: Error) => {
      process.stderr.write(`local stack failed to start: ${err.message}\n`);
      process.exit(1);
    });
}
