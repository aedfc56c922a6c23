import { normalObjectId } from './admins';
import { ImporterError } from './errors';
import type { DirectoryPerson, MailboxDirectory } from './mapping/mailboxDirectory';
import type { ImporterStores } from './run/importerStores';

/** An admin as the tab lists them: the object id the connector keeps, and who Graph says that is. */
export interface AdminListing {
  id: string;
  /** Graph's display name; absent when Graph does not know the id (a deleted user, a typo in ADMIN_OBJECT_IDS). */
  displayName?: string;
  userPrincipalName?: string;
}

export type { DirectoryPerson };

const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ADDRESS = /^[^\s@/?#%]+@[^\s@/?#%]+\.[^\s@/?#%]+$/;

/**
 * The connector's admins, by name: listed with Graph's display names, added by email or object id
 * (resolved through Graph, so only a real user is added), removed while one is left. Every change
 * is ETag-checked like the other settings and audited.
 */
export class AdminList {
  constructor(
    private readonly connectorId: string,
    private readonly stores: Pick<ImporterStores, 'connectors' | 'audit'>,
    private readonly directory: () => MailboxDirectory,
  ) {}

  async list(options: { abortSignal?: AbortSignal } = {}): Promise<AdminListing[]> {
    const ids = (await this.stores.connectors.getOrDefault(this.connectorId)).value.admins ?? [];
    const names = await this.names(ids, options);
    return ids.map((id) => listing(normalObjectId(id), names.get(normalObjectId(id))));
  }

  /** Who these object ids are (admins, the audit trail's actors); ids that are no object id, or unknown to Graph, are left out. */
  async names(ids: Iterable<string>, options: { abortSignal?: AbortSignal } = {}): Promise<Map<string, DirectoryPerson>> {
    const wanted = [...ids].map(normalObjectId).filter((id) => OBJECT_ID.test(id));
    if (!wanted.length) return new Map();
    return this.directory().people(wanted, options);
  }

  /** Adds the Microsoft 365 user named by `user` (an email address or an object id); UnknownMailbox when Graph does not know them. */
  async add(user: string, requestedBy: string, etag: string | undefined, options: { abortSignal?: AbortSignal } = {}): Promise<AdminListing> {
    const ref = user.trim().toLowerCase();
    if (!OBJECT_ID.test(ref) && !ADDRESS.test(ref)) throw new ImporterError('InvalidSetting', 'An admin is named by their email address or their Microsoft Entra object id.');
    const person = await this.find(ref, options.abortSignal);
    if (!person) throw new ImporterError('UnknownMailbox', `Microsoft 365 has no user ${user.trim()}: check the address or the object id.`);
    const id = normalObjectId(person.id);
    const current = await this.current(etag);
    const before = current.value.admins ?? [];
    if (before.map(normalObjectId).includes(id)) return listing(id, person);
    await this.stores.connectors.save({ ...current.value, admins: [...before, id] }, current.etag);
    await this.stores.audit.append({ actor: requestedBy, action: 'admins.added', connectorId: this.connectorId, detail: { admin: id, displayName: person.displayName ?? person.userPrincipalName } });
    return listing(id, person);
  }

  /** Removes one admin; the last one cannot be removed (LastAdmin), so someone can always reach the settings. */
  async remove(id: string, requestedBy: string, etag: string | undefined): Promise<void> {
    const gone = normalObjectId(id);
    const current = await this.current(etag);
    const before = (current.value.admins ?? []).map(normalObjectId);
    if (!before.includes(gone)) throw new ImporterError('NotFound', `${id} is not one of the connector's admins.`);
    if (before.length === 1) throw new ImporterError('LastAdmin', "This is the connector's only admin: add another admin first, then remove this one.");
    const person = (await this.names([gone]).catch(() => new Map<string, DirectoryPerson>())).get(gone);
    await this.stores.connectors.save({ ...current.value, admins: before.filter((a) => a !== gone) }, current.etag);
    await this.stores.audit.append({
      actor: requestedBy,
      action: 'admins.removed',
      connectorId: this.connectorId,
      detail: { admin: gone, displayName: person?.displayName ?? person?.userPrincipalName },
    });
  }

  private async find(ref: string, abortSignal?: AbortSignal): Promise<DirectoryPerson | undefined> {
    const directory = this.directory();
    const direct = (await directory.people([ref], { abortSignal })).get(ref);
    if (direct || OBJECT_ID.test(ref)) return direct;
    // An address that is a user's mail but not their user principal name.
    const byMail = (await directory.check([ref], { abortSignal })).known.get(ref);
    return byMail && (await directory.people([byMail.id], { abortSignal })).get(normalObjectId(byMail.id));
  }

  private async current(etag: string | undefined) {
    const current = await this.stores.connectors.getOrDefault(this.connectorId);
    if (current.etag !== etag) throw new ImporterError('Conflict', 'The connector was changed by someone else; reload and try again.');
    return current;
  }
}

function listing(id: string, person: DirectoryPerson | undefined): AdminListing {
  return { id, displayName: person?.displayName, userPrincipalName: person?.userPrincipalName };
}
