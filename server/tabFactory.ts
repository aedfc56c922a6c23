import type { Importer, RunLogger } from '../importer';
import { createTabApi, type TabApi } from '../tab/api/tabApi';
import { tabSignsIn, type Config } from './config';

/** The tab's API as configured: Entra SSO tokens of this tenant for this app, or local development's loopback mode. */
export function createConfiguredTabApi(config: Config, importer: Importer, log: RunLogger): TabApi {
  const auth = tabSignsIn(config)
    ? ({ mode: 'authenticated', authorityHost: config.authorityHost, tenantId: config.tenantId!, clientId: config.clientId! } as const)
    : ({ mode: 'localUnauthenticated' } as const);
  return createTabApi({ importer, auth, log });
}
