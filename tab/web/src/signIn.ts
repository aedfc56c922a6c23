/** What the server publishes at /tab/config.json for the page to sign in. */
export interface TabConfig {
  clientId?: string;
  tenantId?: string;
  authorityHost: string;
  localDevUnauthenticated: boolean;
}

export type TeamsTheme = 'default' | 'dark' | 'contrast';

/** How the page gets its bearer token: Teams SSO inside Teams, MSAL (auth code + PKCE) in a browser, none in local development. */
export interface SignIn {
  host: 'teams' | 'browser';
  token(): Promise<string | undefined>;
  theme: TeamsTheme;
  onThemeChange(handler: (theme: TeamsTheme) => void): void;
  /** Outside Teams: back to the sign-in page to pick another account. */
  switchAccount?(): Promise<void>;
}

const TEAMS_INIT_TIMEOUT_MS = 5_000;

type TeamsJs = typeof import('@microsoft/teams-js');

/** teams-js once Teams has answered its handshake; undefined in a plain browser. */
async function inTeams(): Promise<TeamsJs | undefined> {
  // Teams always frames the tab; a top-level page is a plain browser, which needs no teams-js at all.
  if (window.parent === window) return undefined;
  const teams = await import('@microsoft/teams-js');
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), TEAMS_INIT_TIMEOUT_MS));
  const ready = await Promise.race([teams.app.initialize().then(() => true), timeout]).catch(() => false);
  return ready ? teams : undefined;
}

export async function startSignIn(config: TabConfig): Promise<SignIn> {
  const teams = await inTeams();
  if (teams) {
    const { app, authentication } = teams;
    const context = await app.getContext();
    return {
      host: 'teams',
      token: () => (config.localDevUnauthenticated ? Promise.resolve(undefined) : authentication.getAuthToken()),
      theme: (context.app.theme as TeamsTheme) ?? 'default',
      onThemeChange: (handler) => app.registerOnThemeChangeHandler((theme) => handler(theme as TeamsTheme)),
    };
  }
  const browserTheme = (): TeamsTheme => (window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'default');
  const onThemeChange = (handler: (theme: TeamsTheme) => void) => window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener('change', () => handler(browserTheme()));
  if (config.localDevUnauthenticated || !config.clientId || !config.tenantId) {
    return { host: 'browser', token: async () => undefined, theme: browserTheme(), onThemeChange };
  }
  // MSAL is a third of the bundle and only a plain browser with sign-in needs it: loaded then.
  const { msalSignIn } = await import('./msalSignIn');
  return msalSignIn({ clientId: config.clientId, tenantId: config.tenantId, authorityHost: config.authorityHost }, { theme: browserTheme(), onThemeChange });
}
