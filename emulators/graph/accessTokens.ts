import { createRemoteJWKSet, jwtVerify } from 'jose';
import { GraphError } from './graphError';

/**
 * Validates app-only bearer tokens from the sign-in emulator: RS256 JWTs checked against its
 * JWKS, issuer, audience and lifetime, answered with the errors Graph gives.
 */
export type GraphAuthOptions = { jwksUri: string; issuer: string; audience?: string } | { mode: 'none' };

export interface Identity {
  appId: string;
  tenantId: string;
  roles: ReadonlySet<string>;
}

export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Identity>;
}

const GRAPH_AUDIENCES = ['https://graph.microsoft.com', 'https://graph.microsoft.com/', '00000003-0000-0000-c000-000000000000'];
// Entra ID and Graph tolerate five minutes of clock skew.
const CLOCK_SKEW_SECONDS = 300;

const invalidToken = (message: string) =>
  new GraphError(401, 'InvalidAuthenticationToken', message, {
    'WWW-Authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
  });

/** With auth disabled every caller is one local app holding every permission. */
const LOCAL_IDENTITY: Identity = {
  appId: 'local-app',
  tenantId: 'local-tenant',
  roles: new Set(['Mail.ReadWrite', 'User.Read.All']),
};

/** Graph's wording for each way a token can fail; never the token itself. */
function rejection(error: unknown): GraphError {
  const { code, claim } = error as { code?: string; claim?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return invalidToken('Lifetime validation failed, the token is expired.');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'aud') return invalidToken('Access token validation failure. Invalid audience.');
      if (claim === 'iss') return invalidToken('Access token validation failure. Invalid issuer.');
      if (claim === 'nbf') return invalidToken('Lifetime validation failed, the token is not yet valid.');
      return invalidToken(`Access token validation failure. Invalid '${claim}' claim.`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return invalidToken('Access token validation failure. Invalid signature.');
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return invalidToken('Access token validation failure. Signing key not found.');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return invalidToken('Access token validation failure. Unsupported signing algorithm.');
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return invalidToken('Access token validation failure. Token is malformed.');
    default:
      return new GraphError(503, 'ServiceUnavailable', 'Could not validate the access token: signing keys unavailable.');
  }
}

export function createAuthenticator(options: GraphAuthOptions): Authenticator {
  if ('mode' in options) return { authenticate: async () => LOCAL_IDENTITY };
  const keys = createRemoteJWKSet(new URL(options.jwksUri));
  const audience = options.audience ?? GRAPH_AUDIENCES;
  return {
    async authenticate(authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
      if (!match) throw invalidToken('Access token is empty.');
      let claims;
      try {
        ({ payload: claims } = await jwtVerify(match[1], keys, {
          issuer: options.issuer,
          audience,
          algorithms: ['RS256'],
          clockTolerance: CLOCK_SKEW_SECONDS,
          requiredClaims: ['exp'],
        }));
      } catch (error) {
        throw rejection(error);
      }
      const appId = typeof claims.appid === 'string' ? claims.appid : claims.azp;
      if (typeof appId !== 'string' || typeof claims.tid !== 'string') {
        throw invalidToken('Access token validation failure. The token has no appid or tid.');
      }
      const roles = Array.isArray(claims.roles) ? claims.roles.filter((r: unknown): r is string => typeof r === 'string') : [];
      return { appId, tenantId: claims.tid, roles: new Set(roles) };
    },
  };
}
