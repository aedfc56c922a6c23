import { PublicClientApplication, InteractionRequiredAuthError, type AccountInfo } from '@azure/msal-browser';
import type { SignIn } from './signIn';

/** Outside Teams, with sign-in: MSAL's authorization code flow with PKCE against the configured authority. */
export async function msalSignIn(config: { clientId: string; tenantId: string; authorityHost: string }, theme: Pick<SignIn, 'theme' | 'onThemeChange'>): Promise<SignIn> {
  const authorityHost = config.authorityHost.replace(/\/+$/, '');
  const msal = new PublicClientApplication({
    auth: {
      clientId: config.clientId,
      authority: `${authorityHost}/${config.tenantId}`,
      knownAuthorities: [new URL(authorityHost).host],
      redirectUri: `${location.origin}/tab/index.html`,
    },
    cache: { cacheLocation: 'sessionStorage' },
  });
  await msal.initialize();
  const redirect = await msal.handleRedirectPromise();
  // The tab's API scope, as docs/deploy.md registers it: api://<public host>/<client id>/access_as_user.
  const scopes = [`api://${location.host}/${config.clientId}/access_as_user`];
  let account: AccountInfo | undefined = redirect?.account ?? msal.getAllAccounts()[0];
  // Not signed in: to the authority's sign-in page before anything is shown or asked of the API.
  if (!account) {
    await msal.loginRedirect({ scopes });
    return new Promise<SignIn>(() => undefined); // the page navigates away
  }
  return {
    host: 'browser',
    ...theme,
    switchAccount: async () => {
      await msal.clearCache();
      await msal.loginRedirect({ scopes, prompt: 'select_account' });
    },
    token: async () => {
      if (!account) {
        await msal.loginRedirect({ scopes });
        return new Promise<string>(() => undefined); // the page navigates away
      }
      try {
        return (await msal.acquireTokenSilent({ scopes, account })).accessToken;
      } catch (err) {
        if (!(err instanceof InteractionRequiredAuthError)) throw err;
        account = undefined;
        await msal.acquireTokenRedirect({ scopes });
        return new Promise<string>(() => undefined);
      }
    },
  };
}
