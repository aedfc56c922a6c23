// The one way the local stack is started: Azurite when the caller holds storage in-process, then
// the sign-in emulator, TeleMessage and Graph, Graph trusting the sign-in emulator's tokens and
// its users made from TeleMessage's employees. `npm start` (emulators/localStack.ts), the tests
// (tests/support/importerHarness.ts) and the bench (bench/benchStack.ts) differ only in the
// options: ports, seeds, who is a Microsoft 365 user, persistence, throttling's time scale.
import { startAzurite, type AzuriteOptions, type RunningAzurite } from './storage/azurite';
import { startSigninEmulator, type RegisteredApp, type SigninEmulator, type TestUser } from './signin/server';
import { startGraphEmulator, type GraphEmulator, type GraphEmulatorOptions, type GraphUserSeed } from './graph/server';
import { startTeleMessageEmulator, type TeleMessageEmulator, type TeleMessageEmulatorOptions } from './telemessage/server';
import type { Employee } from './telemessage/population';

export interface StackOptions {
  /**
   * Azurite, started first, when storage lives in this process (the tests). `npm start` and the
   * bench start it in their parent process instead: there it stops last, after the server, and
   * the bench measures its CPU and memory apart from the emulators'.
   */
  azurite?: AzuriteOptions;
  tenantId: string;
  signin: { port?: number; apps: RegisteredApp[]; /** Who may sign in on its page (the tab, the Playground). */ users?: TestUser[] };
  telemessage: TeleMessageEmulatorOptions;
  /** Graph's options; its users are made from TeleMessage's employees, as each caller's tenant has them. */
  graph: Omit<GraphEmulatorOptions, 'auth' | 'users'> & { users(staff: Employee[]): GraphUserSeed[] };
}

export interface Stack {
  azurite?: RunningAzurite;
  signin: SigninEmulator;
  telemessage: TeleMessageEmulator;
  graph: GraphEmulator;
  /** TeleMessage's employees, as its emulator generated them from the seed. */
  staff: Employee[];
  /** Stops the emulators, then Azurite. */
  close(): Promise<void>;
}

/** A person who signs in, as a Microsoft 365 user: the tab names its admins from Graph. */
export function directoryPerson(p: { oid: string; name: string; preferredUsername: string }): GraphUserSeed {
  return { id: p.oid, userPrincipalName: p.preferredUsername, mail: p.preferredUsername, displayName: p.name };
}

export function startStack(options: StackOptions & { azurite: AzuriteOptions }): Promise<Stack & { azurite: RunningAzurite }>;
export function startStack(options: StackOptions): Promise<Stack>;
export async function startStack(options: StackOptions): Promise<Stack> {
  const azurite = options.azurite ? await startAzurite(options.azurite) : undefined;
  const signin = await startSigninEmulator({ port: options.signin.port, apps: options.signin.apps, ...(options.signin.users && { users: options.signin.users }) });
  const telemessage = await startTeleMessageEmulator(options.telemessage);
  const staff = telemessage.population.employees;
  const { users, ...graphOptions } = options.graph;
  const graph = await startGraphEmulator({
    ...graphOptions,
    auth: { jwksUri: signin.jwksUri(options.tenantId), issuer: signin.issuer(options.tenantId) },
    users: users(staff),
  });
  return {
    azurite,
    signin,
    telemessage,
    graph,
    staff,
    close: async () => {
      await Promise.allSettled([graph.close(), telemessage.close(), signin.close()]);
      await azurite?.stop();
    },
  };
}
