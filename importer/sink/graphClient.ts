import { AuthenticationHandler, Client, type AuthenticationProvider } from '@microsoft/microsoft-graph-client';
import { ClientAssertionCredential, ClientSecretCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { tokenCache } from '../tokenCache';
import { GraphTransport } from './graphTransport';

/**
 * How the app registration proves who it is to Entra ID: in Azure, a token of the user-assigned
 * managed identity that its federated credential trusts (no secret anywhere); locally, and as the
 * documented fallback, a client secret.
 */
export type GraphConnection = {
  tenantId: string;
  clientId: string;
  authorityHost?: string;
  /** Graph's root, e.g. https://graph.microsoft.com; the emulator's locally. */
  graphBaseUrl: string;
} & ({ clientSecret: string } | { managedIdentityClientId: string });

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
// The audience Entra ID expects in a managed identity token exchanged for an app's token.
const TOKEN_EXCHANGE_SCOPE = 'api://AzureADTokenExchange/.default';

export function graphCredential(c: GraphConnection): TokenCredential {
  const authority = c.authorityHost ? new URL(c.authorityHost) : undefined;
  const options = {
    authorityHost: c.authorityHost,
    // A non-Microsoft authority (the local emulator) has no instance discovery endpoint.
    disableInstanceDiscovery: authority ? !authority.hostname.endsWith('microsoftonline.com') : false,
  };
  if ('clientSecret' in c) return new ClientSecretCredential(c.tenantId, c.clientId, c.clientSecret, options);
  const identity = new ManagedIdentityCredential({ clientId: c.managedIdentityClientId });
  // The assertion is fetched only when the app's own token is missing or expiring; the managed
  // identity caches its token too, so this costs one local request at most.
  return new ClientAssertionCredential(c.tenantId, c.clientId, async () => (await identity.getToken(TOKEN_EXCHANGE_SCOPE)).token, options);
}

/** One pool of kept-alive connections for the process, as fetch's global one was. */
const transport = new GraphTransport();

/**
 * The Graph client as the sink uses it: the SDK's authentication and our transport, without its
 * retry handler, because retries live in the sink's one policy (which knows what is safe to repeat).
 */
export function createGraphClient(c: GraphConnection, credential: TokenCredential = graphCredential(c)): Client {
  const authProvider: AuthenticationProvider = { getAccessToken: tokenCache(credential, GRAPH_SCOPE) };
  const auth = new AuthenticationHandler(authProvider);
  auth.setNext(transport);
  const base = new URL(c.graphBaseUrl);
  return Client.initWithMiddleware({
    middleware: auth,
    baseUrl: base.origin,
    // The SDK attaches tokens only to Graph's own hosts unless told otherwise.
    customHosts: new Set([base.hostname]),
  });
}
