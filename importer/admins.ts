import type { ConnectorSettings } from './state/connectorStore';

/**
 * The one form of an Entra object id (a GUID) the connector stores and compares: trimmed, lower
 * case. Entra writes them in lower case, but an admin may paste one in upper case; the bot and
 * the tab must agree on who that is.
 */
export function normalObjectId(id: string): string {
  return id.trim().toLowerCase();
}

/** Whether the caller's object id (a token's `oid`, an activity's `aadObjectId`) is one of the connector's admins. */
export function isAdmin(settings: Pick<ConnectorSettings, 'admins'>, oid: string | undefined): boolean {
  if (!oid) return false;
  const caller = normalObjectId(oid);
  // Both sides: rows written before ids were stored normalised still match.
  return (settings.admins ?? []).some((admin) => normalObjectId(admin) === caller);
}
