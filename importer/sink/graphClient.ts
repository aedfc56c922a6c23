import { AuthenticationHandler, Client, HTTPMessageHandler, type AuthenticationProvider } from '@microsoft/microsoft-graph-client';
import { ClientSecretCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';

export interface GraphConnection {
  tenantId: string;
  clientId: string;
  /** Absent: the managed identity (federated) is used instead of a secret. */
  clientSecret?: string;
  authorityHost?: string;
  /** Graph's root, e.g. https://graph.microsoft.com; the emulator's locally. */
  graphBaseUrl: string;
}

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export function graphCredential(c: GraphConnection): TokenCredential {
  if (c.clientSecret) {
    const authority = c.authorityHost && new URL(c.authorityHost);
    return new ClientSecretCredential(c.tenantId, c.clientId, c.clientSecret, {
      authorityHost: c.authorityHost,
      // A non-Microsoft authority (the local emulator) has no instance discovery endpoint.
      disableInstanceDiscovery: authority ? !authority.hostname.endsWith('microsoftonline.com') : false,
    });
  }
  return new ManagedIdentityCredential({ clientId: c.clientId });
}

/**
 * The Graph client as the sink uses it: the SDK's authentication and transport, without its
 * retry handler, because retries live in the sink's one policy (which knows what is safe to repeat).
 */
export function createGraphClient(c: GraphConnection, credential: TokenCredential = graphCredential(c)): Client {
  const authProvider: AuthenticationProvider = {
    getAccessToken: async () => {
      const token = await credential.getToken(GRAPH_SCOPE);
      if (!token) throw new Error('no token for Microsoft Graph');
      return token.token;
    },
  };
  const auth = new AuthenticationHandler(authProvider);
  auth.setNext(new HTTPMessageHandler());
  const base = new URL(c.graphBaseUrl);
  return Client.initWithMiddleware({
    middleware: auth,
    baseUrl: base.origin,
    // The SDK attaches tokens only to Graph's own hosts unless told otherwise.
    customHosts: new Set([base.hostname]),
  });
}
