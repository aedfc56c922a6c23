/** What the server publishes at /tab/config.json for the page to sign in. */
export interface TabConfig {
  clientId?: string;
  tenantId?: string;
  authorityHost: string;
  localDevUnauthenticated: boolean;
  /** Hosts besides Teams' own that may frame the page as Teams (locally, the Teams host emulator). */
  teamsHostOrigins?: string[];
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
  /** In Teams: the sub-page a deep link opened the tab at (its subEntityId), e.g. `run:<id>` from the bot's cards. */
  subPageId?: string;
  /** In Teams: the user's language, as Teams shows it (e.g. en-us). */
  locale?: string;
}

/** Teams gave the page no SSO token (authentication.getAuthToken failed), with Teams's reason: the page says what to do. */
export class TeamsSignInError extends Error {
  constructor(readonly reason: string) {
    super(`Teams could not sign you in to the tab: ${reason}`);
    this.name = 'TeamsSignInError';
  }
}

const TEAMS_INIT_TIMEOUT_MS = 5_000;

type TeamsJs = typeof import('@microsoft/teams-js');

// Teams always frames the tab; a top-level page is a plain browser, which needs no teams-js at all.
// Framed, teams-js starts loading with the page, beside the config the handshake needs.
const teamsJs: Promise<TeamsJs> | undefined = window.parent === window ? undefined : import('@microsoft/teams-js');

/** teams-js once Teams has answered its handshake; undefined in a plain browser. */
async function inTeams(config: TabConfig): Promise<TeamsJs | undefined> {
  if (!teamsJs) return undefined;
  const teams = await teamsJs;
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), TEAMS_INIT_TIMEOUT_MS));
  const ready = await Promise.race([teams.app.initialize(config.teamsHostOrigins?.length ? config.teamsHostOrigins : undefined).then(() => true), timeout]).catch(() => false);
  return ready ? teams : undefined;
}

export async function startSignIn(config: TabConfig): Promise<SignIn> {
  const teams = await inTeams(config);
  if (teams) {
    const { app, authentication } = teams;
    const context = await app.getContext();
    // teams-js rejects with Teams's reason as the message (resourceRequiresConsent, resourceDisabled…).
    const ssoToken = () => authentication.getAuthToken().catch((err: unknown) => Promise.reject(new TeamsSignInError(err instanceof Error ? err.message : String(err))));
    return {
      host: 'teams',
      token: () => (config.localDevUnauthenticated ? Promise.resolve(undefined) : ssoToken()),
      theme: (context.app.theme as TeamsTheme) ?? 'default',
      onThemeChange: (handler) => app.registerOnThemeChangeHandler((theme) => handler(theme as TeamsTheme)),
      subPageId: context.page.subPageId || undefined,
      locale: context.app.locale || undefined,
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
