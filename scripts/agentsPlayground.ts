// The Microsoft 365 Agents Playground (from node_modules) as the Teams client of the local bot:
// offline (no browser opened, telemetry off), with a mock user whose Entra object id is a
// connector admin. Used by `npm start` and by the end-to-end test.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface PlaygroundUser {
  name: string;
  email: string;
  aadObjectId: string;
}

export interface RunningPlayground {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface PlaygroundOptions {
  /** The bot endpoint, e.g. http://localhost:3978/api/messages. */
  botEndpoint: string;
  port: number;
  /** Where its config file and logs go. */
  dir: string;
  tenantId: string;
  user: PlaygroundUser;
  ownProcessGroup?: boolean;
}

const COLLEAGUES: PlaygroundUser[] = [
  { name: 'Megan Bowen', email: 'meganb@contoso.example', aadObjectId: 'b2f1e0d9-8c7b-4a6f-9e5d-4c3b2a1f0e01' },
  { name: 'Adele Vance', email: 'adelev@contoso.example', aadObjectId: 'b2f1e0d9-8c7b-4a6f-9e5d-4c3b2a1f0e02' },
  { name: 'Isaiah Langer', email: 'isaiahl@contoso.example', aadObjectId: 'b2f1e0d9-8c7b-4a6f-9e5d-4c3b2a1f0e03' },
  { name: 'Patti Fernandez', email: 'pattif@contoso.example', aadObjectId: 'b2f1e0d9-8c7b-4a6f-9e5d-4c3b2a1f0e04' },
  { name: 'Lynne Robbins', email: 'lynner@contoso.example', aadObjectId: 'b2f1e0d9-8c7b-4a6f-9e5d-4c3b2a1f0e05' },
];

const CLI = require.resolve('@microsoft/m365agentsplayground/cli.js');

export async function startAgentsPlayground(options: PlaygroundOptions): Promise<RunningPlayground> {
  fs.mkdirSync(options.dir, { recursive: true });
  const [givenName, ...rest] = options.user.name.split(' ');
  // Its mock Teams context: the tenant and the signed-in user (the default user's id is not a GUID).
  fs.writeFileSync(
    path.join(options.dir, '.m365agentsplayground.yml'),
    [
      'version: "0.1.1"',
      `tenantId: ${options.tenantId}`,
      'bot:',
      '  id: 00000000-0000-0000-0000-00000000000011',
      '  name: Number Archiver',
      'currentUser:',
      '  id: user-id-0',
      `  name: ${options.user.name}`,
      `  userPrincipleName: ${options.user.email}`,
      `  aadObjectId: ${options.user.aadObjectId}`,
      `  givenName: ${givenName}`,
      `  surname: ${rest.join(' ') || givenName}`,
      `  email: ${options.user.email}`,
      // At least five other members, as its schema asks: colleagues who are not admins.
      'users:',
      ...COLLEAGUES.flatMap((c, i) => [
        `  - id: user-id-${i + 1}`,
        `    name: ${c.name}`,
        `    userPrincipleName: ${c.email}`,
        `    aadObjectId: ${c.aadObjectId}`,
        `    givenName: ${c.name.split(' ')[0]}`,
        `    surname: ${c.name.split(' ')[1]}`,
        `    email: ${c.email}`,
      ]),
      'personalChat:',
      '  id: personal-chat-local-admin',
      'groupChat:',
      '  id: group-chat-local',
      '  name: Group Chat',
      'team:',
      '  id: team-local',
      '  name: Compliance',
      '  aadGroupId: 7e1d2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b',
      '  channels:',
      '    - id: channel-general-local',
      '      name: General',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [CLI, 'start', '-e', options.botEndpoint, '-p', String(options.port), '-c', 'msteams', '--disable-telemetry'], {
    cwd: options.dir,
    env: { ...process.env, TEAMSAPPTESTER_BROWSER: 'none' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownProcessGroup ?? false,
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Listening on (\d+)/.exec(out);
      if (m) resolve(`http://localhost:${m[1]}`);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the Agents Playground exited with code ${code}: ${out.slice(-2000)}`)));
  });
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
