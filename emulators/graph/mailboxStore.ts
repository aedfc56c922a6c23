import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import { GraphError, itemNotFound, messageSizeExceeded } from './graphError';
import { CLIENT_SUBMIT_TIME, ExtendedProperty, graphDateTime, MESSAGE_DELIVERY_TIME, MESSAGE_FLAGS, MSGFLAG_READ, MSGFLAG_UNSENT, propertyKey } from './extendedProperties';
import { flatString } from './flatString';
import { FileAttachmentInput, InternetMessageHeader, ItemBody, MessageCreate, MessageFields, Recipient } from './messageInput';

/** Mailboxes in memory: folders, messages, attachment metadata, and the lookups Exchange indexes. */
export interface GraphUserSeed {
  id: string;
  userPrincipalName: string;
  mail: string;
  displayName: string;
  mobilePhone?: string;
  /** Exchange's maximum message size for this mailbox; 35 MB unless raised (up to 150 MB). */
  maxMessageSizeBytes?: number;
  /** false: a directory user without an Exchange Online mailbox (unlicensed, on-premises, soft-deleted). */
  hasMailbox?: boolean;
  /** Folders under the root that exist but are hidden (isHidden), e.g. one an admin or a tool hid. */
  hiddenFolders?: string[];
}

export interface StoredUser extends GraphUserSeed {
  maxMessageSizeBytes: number;
}

export const MB = 1024 * 1024;
export const DEFAULT_MAX_MESSAGE_SIZE = 35 * MB;
export const MAX_MESSAGE_SIZE_LIMIT = 150 * MB;

export interface StoredAttachment {
  id: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  isInline: boolean;
  contentId?: string;
  lastModifiedDateTime: string;
  /** Kept only for small attachments; large ones are remembered by size and hash. */
  bytes?: Buffer;
}

/** What is known about attachment content once it has been received. */
export interface AttachmentContent {
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  isInline: boolean;
  contentId?: string;
  bytes?: Buffer;
}

/** A message's MIME as delivered: its exact size, and its bytes on demand (never held in memory). */
export interface RawMime {
  size: number;
  stream(): Readable;
}

export interface StoredMessage {
  id: string;
  /** Creation order, to keep listings stable when times are equal. */
  sequence: number;
  /** The mailbox's change counter when the message last changed or arrived in its folder: what delta queries follow. */
  changeSequence: number;
  /** When the message arrived in the folder it is in (created, delivered or moved there). */
  arrival?: { folderId: string; sequence: number };
  /** Set for messages delivered as MIME (as SMTP delivers); `$value` streams it. */
  mime?: RawMime;
  /** For MIME-delivered messages, whose attachments are not itemised: what the header block says. */
  hasAttachments?: boolean;
  changeKey: string;
  parentFolderId: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  receivedDateTime: string;
  sentDateTime: string;
  isDraft: boolean;
  isRead: boolean;
  subject: string;
  body: ItemBody;
  from?: Recipient;
  sender?: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  replyTo: Recipient[];
  internetMessageHeaders: InternetMessageHeader[];
  internetMessageId: string;
  importance: 'low' | 'normal' | 'high';
  categories: string[];
  isDeliveryReceiptRequested: boolean;
  isReadReceiptRequested: boolean;
  flag: { flagStatus: string };
  inferenceClassification: 'focused' | 'other';
  conversationId: string;
  /** Canonical ids, one entry each; PR_MESSAGE_FLAGS is derived from isRead/isDraft instead. */
  extendedProperties: ExtendedProperty[];
  attachments: StoredAttachment[];
}

export interface StoredFolder {
  id: string;
  displayName: string;
  parentFolderId: string;
  wellKnownName?: string;
  isHidden: boolean;
  childFolderIds: string[];
  messageIds: Set<string>;
  /** Arrivals, changes and departures in change order, for delta queries; superseded entries stay and are skipped. */
  changeLog: FolderChange[];
}

export interface FolderChange {
  sequence: number;
  messageId: string;
  removed: boolean;
}

/** A message as SMTP delivery files it: the listing fields come from the MIME header block. */
export interface DeliveredMessage {
  mime: RawMime;
  subject: string;
  from?: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  internetMessageId: string;
  internetMessageHeaders: InternetMessageHeader[];
  sentDateTime: string;
  receivedDateTime: string;
  hasAttachments: boolean;
}

const WELL_KNOWN_FOLDERS: Array<[string, string]> = [
  ['inbox', 'Inbox'],
  ['drafts', 'Drafts'],
  ['sentitems', 'Sent Items'],
  ['deleteditems', 'Deleted Items'],
  ['junkemail', 'Junk Email'],
  ['archive', 'Archive'],
  ['outbox', 'Outbox'],
];

/** Exchange ids are long opaque base64 strings; these look alike and never repeat. */
function exchangeId(prefix: string): string {
  return flatString(`${prefix}${crypto.randomBytes(33).toString('base64url')}AAA=`);
}

const changeKey = () => crypto.randomBytes(12).toString('base64');
const nowText = () => graphDateTime(Date.now());

export class Mailbox {
  readonly rootFolderId: string;
  private readonly folders = new Map<string, StoredFolder>();
  private readonly wellKnown = new Map<string, string>();
  private readonly messages = new Map<string, StoredMessage>();
  /**
   * String property id + value -> message id(s): the idempotency lookup. A lone id is stored
   * bare, since nearly every key is unique and a Set per message would double the memory.
   */
  private readonly propertyIndex = new Map<string, Map<string, string | Set<string>>>();
  private sequence = 0;
  private changes = 0;

  constructor(
    readonly user: StoredUser,
    private readonly keepAttachmentBytesUpTo: number,
  ) {
    this.rootFolderId = this.addFolder('Top of Information Store', '', 'msgfolderroot').id;
    for (const [name, displayName] of WELL_KNOWN_FOLDERS) this.addFolder(displayName, this.rootFolderId, name);
    for (const displayName of user.hiddenFolders ?? []) this.addFolder(displayName, this.rootFolderId, undefined, true);
  }

  folder(idOrWellKnownName: string): StoredFolder {
    const id = this.wellKnown.get(idOrWellKnownName.toLowerCase()) ?? idOrWellKnownName;
    const folder = this.folders.get(id);
    if (!folder) throw itemNotFound();
    return folder;
  }

  childFolders(parentId: string): StoredFolder[] {
    return this.folder(parentId).childFolderIds.map((id) => this.folders.get(id) as StoredFolder);
  }

  allFolders(): StoredFolder[] {
    return [...this.folders.values()];
  }

  folderPath(folder: StoredFolder): string {
    const names: string[] = [];
    for (let f: StoredFolder | undefined = folder; f && f.id !== this.rootFolderId; f = this.folders.get(f.parentFolderId)) {
      names.unshift(f.displayName);
    }
    return `/${names.join('/')}`;
  }

  createFolder(parentId: string, displayName: string): StoredFolder {
    const parent = this.folder(parentId);
    const name = displayName.trim();
    if (!name) throw new GraphError(400, 'ErrorInvalidFolderName', 'The folder name cannot be empty.');
    // Exchange folder names are unique among siblings, ignoring case.
    if (this.childFolders(parent.id).some((f) => f.displayName.toLowerCase() === name.toLowerCase())) {
      throw new GraphError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
    }
    return this.addFolder(name, parent.id);
  }

  private addFolder(displayName: string, parentFolderId: string, wellKnownName?: string, isHidden = false): StoredFolder {
    const folder: StoredFolder = {
      id: exchangeId('AAMkADFo'),
      displayName,
      parentFolderId,
      wellKnownName,
      isHidden,
      childFolderIds: [],
      messageIds: new Set(),
      changeLog: [],
    };
    this.folders.set(folder.id, folder);
    if (wellKnownName) this.wellKnown.set(wellKnownName, folder.id);
    this.folders.get(parentFolderId)?.childFolderIds.push(folder.id);
    return folder;
  }

  message(id: string): StoredMessage {
    const message = this.messages.get(id);
    if (!message) throw itemNotFound();
    return message;
  }

  /** Messages of one folder, or of the whole mailbox, newest received first (Graph's default). */
  listMessages(folderId?: string): StoredMessage[] {
    const ids = folderId === undefined ? this.messages.keys() : this.folder(folderId).messageIds.values();
    return sortNewestFirst([...ids].map((id) => this.messages.get(id) as StoredMessage));
  }

  /** Messages carrying this extended property value, answered from the index. */
  messagesWithProperty(canonicalId: string, value: string): StoredMessage[] {
    const ids = this.propertyIndex.get(propertyKey(canonicalId))?.get(value.toLowerCase());
    const list = ids === undefined ? [] : typeof ids === 'string' ? [ids] : [...ids];
    return sortNewestFirst(list.map((id) => this.messages.get(id) as StoredMessage));
  }

  createMessage(folderId: string, input: MessageCreate): StoredMessage {
    const folder = this.folder(folderId);
    const now = nowText();
    const properties: ExtendedProperty[] = [];
    let flags: number | undefined;
    for (const property of input.singleValueExtendedProperties ?? []) {
      if (property.id === MESSAGE_FLAGS) flags = parseInt(property.value, 10);
      else setProperty(properties, property);
    }
    const attachments = input.attachments.map((a) => this.newAttachment(attachmentContent(a)));
    const message: StoredMessage = {
      id: exchangeId('AAMkADMs'),
      sequence: this.sequence++,
      changeSequence: 0,
      changeKey: changeKey(),
      parentFolderId: folder.id,
      createdDateTime: now,
      lastModifiedDateTime: now,
      receivedDateTime: properties.find((p) => p.id === MESSAGE_DELIVERY_TIME)?.value ?? now,
      sentDateTime: properties.find((p) => p.id === CLIENT_SUBMIT_TIME)?.value ?? now,
      // The unsent flag can be cleared only when the item is created; Exchange keeps it after that.
      isDraft: flags === undefined || (flags & MSGFLAG_UNSENT) !== 0,
      isRead: input.isRead ?? (flags === undefined ? true : (flags & MSGFLAG_READ) !== 0),
      subject: input.subject ?? '',
      body: input.body ?? { contentType: 'text', content: '' },
      from: input.from,
      sender: input.sender ?? input.from,
      toRecipients: input.toRecipients ?? [],
      ccRecipients: input.ccRecipients ?? [],
      bccRecipients: input.bccRecipients ?? [],
      replyTo: input.replyTo ?? [],
      internetMessageHeaders: input.internetMessageHeaders ?? [],
      internetMessageId: input.internetMessageId ?? flatString(`<${crypto.randomUUID()}@emulator.local>`),
      importance: input.importance ?? 'normal',
      categories: input.categories ?? [],
      isDeliveryReceiptRequested: input.isDeliveryReceiptRequested ?? false,
      isReadReceiptRequested: input.isReadReceiptRequested ?? false,
      flag: input.flag ?? { flagStatus: 'notFlagged' },
      inferenceClassification: input.inferenceClassification ?? 'focused',
      conversationId: exchangeId('AAQkADCv'),
      extendedProperties: properties,
      attachments,
    };
    if (messageSize(message) > this.user.maxMessageSizeBytes) throw messageSizeExceeded();
    this.messages.set(message.id, message);
    folder.messageIds.add(message.id);
    this.recordChange(folder, message);
    for (const property of properties) this.index(message.id, property);
    return message;
  }

  /** Files a message delivered as MIME (by SMTP, not by Graph): not a draft, unread, as transport delivers it. */
  deliverMessage(folderId: string, delivered: DeliveredMessage): StoredMessage {
    const folder = this.folder(folderId);
    if (delivered.mime.size > this.user.maxMessageSizeBytes) throw messageSizeExceeded();
    const now = nowText();
    const message: StoredMessage = {
      id: exchangeId('AAMkADMs'),
      sequence: this.sequence++,
      changeSequence: 0,
      changeKey: changeKey(),
      parentFolderId: folder.id,
      createdDateTime: now,
      lastModifiedDateTime: now,
      receivedDateTime: delivered.receivedDateTime,
      sentDateTime: delivered.sentDateTime,
      isDraft: false,
      isRead: false,
      subject: delivered.subject,
      // The body lives in the MIME; listings do not parse it (bodyPreview is empty).
      body: { contentType: 'text', content: '' },
      from: delivered.from,
      sender: delivered.from,
      toRecipients: delivered.toRecipients,
      ccRecipients: delivered.ccRecipients,
      bccRecipients: [],
      replyTo: [],
      internetMessageHeaders: delivered.internetMessageHeaders,
      internetMessageId: delivered.internetMessageId,
      importance: 'normal',
      categories: [],
      isDeliveryReceiptRequested: false,
      isReadReceiptRequested: false,
      flag: { flagStatus: 'notFlagged' },
      inferenceClassification: 'focused',
      conversationId: exchangeId('AAQkADCv'),
      extendedProperties: [],
      attachments: [],
      mime: delivered.mime,
      hasAttachments: delivered.hasAttachments,
    };
    this.messages.set(message.id, message);
    folder.messageIds.add(message.id);
    this.recordChange(folder, message);
    return message;
  }

  /** The message if it exists, without the not-found error (delta queries skip what has gone). */
  peekMessage(id: string): StoredMessage | undefined {
    return this.messages.get(id);
  }

  /** The last change made in this mailbox; every arrival, change and departure takes the next number. */
  changeWatermark(): number {
    return this.changes;
  }

  private recordChange(folder: StoredFolder, message: StoredMessage): void {
    message.changeSequence = ++this.changes;
    if (message.arrival?.folderId !== folder.id) message.arrival = { folderId: folder.id, sequence: message.changeSequence };
    folder.changeLog.push({ sequence: message.changeSequence, messageId: message.id, removed: false });
  }

  private recordRemoval(folder: StoredFolder | undefined, messageId: string): void {
    folder?.changeLog.push({ sequence: ++this.changes, messageId, removed: true });
  }

  updateMessage(id: string, patch: MessageFields): StoredMessage {
    const message = this.message(id);
    // A sent (non-draft) item keeps its content; only its state can change.
    const contentChange = (['subject', 'body', 'from', 'sender', 'toRecipients', 'ccRecipients', 'bccRecipients', 'replyTo', 'internetMessageId'] as const).find((key) => patch[key] !== undefined);
    if (contentChange && !message.isDraft) {
      throw new GraphError(400, 'ErrorInvalidPropertyUpdateSentMessage', 'Update operation is invalid for property of a sent message.');
    }
    const { singleValueExtendedProperties, internetMessageHeaders: _headersAreSetAtCreateOnly, ...fields } = patch;
    Object.assign(message, fields);
    for (const property of singleValueExtendedProperties ?? []) {
      // Message flags are ignored after creation, like Exchange; isRead is the way to change the read bit.
      if (property.id === MESSAGE_FLAGS) continue;
      const previous = setProperty(message.extendedProperties, property);
      if (previous) this.unindex(message.id, previous);
      this.index(message.id, property);
      if (property.id === MESSAGE_DELIVERY_TIME) message.receivedDateTime = property.value;
      if (property.id === CLIENT_SUBMIT_TIME) message.sentDateTime = property.value;
    }
    this.touch(message);
    return message;
  }

  /** Graph's DELETE moves a message to Deleted Items; deleting it there removes it for good. */
  deleteMessage(id: string): void {
    const message = this.message(id);
    const deletedItems = this.folder('deleteditems');
    const from = this.folder(message.parentFolderId);
    from.messageIds.delete(id);
    if (message.parentFolderId !== deletedItems.id) {
      this.recordRemoval(from, id);
      message.parentFolderId = deletedItems.id;
      deletedItems.messageIds.add(id);
      this.touch(message);
      return;
    }
    this.recordRemoval(from, id);
    for (const property of message.extendedProperties) this.unindex(id, property);
    this.messages.delete(id);
  }

  addAttachment(messageId: string, content: AttachmentContent): StoredAttachment {
    const message = this.message(messageId);
    this.ensureRoomFor(message, content.size);
    const attachment = this.newAttachment(content);
    message.attachments.push(attachment);
    this.touch(message);
    return attachment;
  }

  /** Refuses growth past the mailbox's maximum message size; `extraBytes` of attachment count as Exchange counts them (base64). */
  ensureRoomFor(message: StoredMessage, extraBytes: number): void {
    if (messageSize(message) + encodedSize(extraBytes) > this.user.maxMessageSizeBytes) throw messageSizeExceeded();
  }

  /** permanentDelete of a folder: it and everything in it are gone (well-known folders stay). */
  removeFolder(id: string): void {
    const folder = this.folder(id);
    if (folder.wellKnownName || folder.id === this.rootFolderId) throw new GraphError(403, 'ErrorDeleteDistinguishedFolder', 'Distinguished folders cannot be deleted.');
    for (const child of this.childFolders(folder.id)) this.removeFolder(child.id);
    for (const messageId of [...folder.messageIds]) this.purgeMessage(messageId);
    const parent = this.folders.get(folder.parentFolderId);
    if (parent) parent.childFolderIds = parent.childFolderIds.filter((c) => c !== folder.id);
    this.folders.delete(folder.id);
  }

  /** permanentDelete of a message: removed at once, wherever it is, without passing through Deleted Items. */
  purgeMessage(id: string): void {
    const message = this.message(id);
    const folder = this.folders.get(message.parentFolderId);
    folder?.messageIds.delete(id);
    this.recordRemoval(folder, id);
    for (const property of message.extendedProperties) this.unindex(id, property);
    this.messages.delete(id);
  }

  messageCount(): number {
    return this.messages.size;
  }

  /** Everything the mailbox holds, as JSON can carry it (attachment bytes as base64; MIME by size only: see mailboxPersistence.ts). */
  toSnapshot(): SavedMailbox {
    return {
      rootFolderId: this.rootFolderId,
      sequence: this.sequence,
      changes: this.changes,
      folders: [...this.folders.values()].map((f) => ({ ...f, messageIds: [...f.messageIds] })),
      messages: [...this.messages.values()].map(({ mime, attachments, ...m }) => ({
        ...m,
        ...(mime && { mimeSize: mime.size }),
        attachments: attachments.map(({ bytes, ...a }) => ({ ...a, ...(bytes && { bytesBase64: bytes.toString('base64') }) })),
      })),
    };
  }

  /** Takes back what `toSnapshot` wrote; `mimeOf` gives a delivered message's bytes back, where they were kept. */
  restoreSnapshot(snapshot: SavedMailbox, mimeOf: (messageId: string, size: number) => RawMime | undefined): void {
    (this as { rootFolderId: string }).rootFolderId = snapshot.rootFolderId;
    this.sequence = snapshot.sequence;
    this.changes = snapshot.changes;
    this.folders.clear();
    this.wellKnown.clear();
    this.messages.clear();
    this.propertyIndex.clear();
    for (const f of snapshot.folders) {
      this.folders.set(f.id, { ...f, messageIds: new Set(f.messageIds) });
      if (f.wellKnownName) this.wellKnown.set(f.wellKnownName, f.id);
    }
    for (const { mimeSize, attachments, ...m } of snapshot.messages) {
      const mime = mimeSize === undefined ? undefined : mimeOf(m.id, mimeSize);
      const message: StoredMessage = {
        ...m,
        ...(mime && { mime }),
        attachments: attachments.map(({ bytesBase64, ...a }) => ({ ...a, ...(bytesBase64 && { bytes: Buffer.from(bytesBase64, 'base64') }) })),
      };
      this.messages.set(message.id, message);
      for (const property of message.extendedProperties) this.index(message.id, property);
    }
  }

  /** Grows with every change to the mailbox (messages, attachments, folders): whether it needs saving again. */
  changeCount(): number {
    return this.changes + this.folders.size + this.sequence;
  }

  private newAttachment(content: AttachmentContent): StoredAttachment {
    return {
      id: exchangeId('AAMkADAt'),
      name: content.name,
      contentType: content.contentType,
      size: content.size,
      sha256: content.sha256,
      isInline: content.isInline,
      ...(content.contentId !== undefined && { contentId: content.contentId }),
      lastModifiedDateTime: nowText(),
      ...(content.bytes && content.size <= this.keepAttachmentBytesUpTo && { bytes: content.bytes }),
    };
  }

  private touch(message: StoredMessage): void {
    message.changeKey = changeKey();
    message.lastModifiedDateTime = nowText();
    const folder = this.folders.get(message.parentFolderId);
    if (folder) this.recordChange(folder, message);
  }

  private index(messageId: string, property: ExtendedProperty): void {
    if (!isIndexed(property.id)) return;
    const key = propertyKey(property.id);
    let byValue = this.propertyIndex.get(key);
    if (!byValue) this.propertyIndex.set(key, (byValue = new Map()));
    const value = property.value.toLowerCase();
    const ids = byValue.get(value);
    if (ids === undefined) byValue.set(value, messageId);
    else if (typeof ids === 'string') byValue.set(value, new Set([ids, messageId]));
    else ids.add(messageId);
  }

  private unindex(messageId: string, property: ExtendedProperty): void {
    if (!isIndexed(property.id)) return;
    const byValue = this.propertyIndex.get(propertyKey(property.id));
    const value = property.value.toLowerCase();
    const ids = byValue?.get(value);
    if (ids === messageId) byValue?.delete(value);
    else if (typeof ids === 'object') {
      ids.delete(messageId);
      if (ids.size === 0) byValue?.delete(value);
    }
  }
}

/** Hashes attachment bytes that arrived in one piece (inline in a create, or a POST). */
export function attachmentContent(input: FileAttachmentInput): AttachmentContent {
  return {
    name: input.name,
    contentType: input.contentType,
    size: input.bytes.length,
    sha256: crypto.createHash('sha256').update(input.bytes).digest('hex'),
    isInline: input.isInline,
    ...(input.contentId !== undefined && { contentId: input.contentId }),
    bytes: input.bytes,
  };
}

/** Only string properties are indexed: that is where idempotency keys live. */
export const isIndexed = (id: string) => /^string /i.test(id);

/** Adds or replaces a property (ids compare without case); returns the one replaced. */
function setProperty(properties: ExtendedProperty[], property: ExtendedProperty): ExtendedProperty | undefined {
  const key = propertyKey(property.id);
  const at = properties.findIndex((p) => propertyKey(p.id) === key);
  if (at === -1) {
    properties.push(property);
    return undefined;
  }
  const previous = properties[at];
  properties[at] = property;
  return previous;
}

function sortNewestFirst(messages: StoredMessage[]): StoredMessage[] {
  // Times are uniform ISO strings, so plain string order is time order (and far cheaper than localeCompare).
  return messages.sort((a, b) => (a.receivedDateTime === b.receivedDateTime ? b.sequence - a.sequence : a.receivedDateTime < b.receivedDateTime ? 1 : -1));
}

/** Exchange counts attachments by their MIME size: base64, a third more than the bytes. */
export const encodedSize = (bytes: number) => Math.ceil(bytes / 3) * 4;

/** Approximates the size Exchange checks against the limit: body plus base64-encoded attachments. */
export function messageSize(message: StoredMessage): number {
  return Buffer.byteLength(message.body.content) + message.attachments.reduce((sum, a) => sum + encodedSize(a.size), 0);
}

/** PR_MESSAGE_FLAGS as Exchange reports it for the message's current state. */
export function messageFlags(message: StoredMessage): number {
  return (message.isRead ? MSGFLAG_READ : 0) | (message.isDraft ? MSGFLAG_UNSENT : 0);
}

/** A mailbox as mailboxPersistence.ts writes it to disk. */
export interface SavedMailbox {
  rootFolderId: string;
  sequence: number;
  changes: number;
  folders: (Omit<StoredFolder, 'messageIds'> & { messageIds: string[] })[];
  messages: (Omit<StoredMessage, 'mime' | 'attachments'> & { mimeSize?: number; attachments: (Omit<StoredAttachment, 'bytes'> & { bytesBase64?: string })[] })[];
}

/** The directory's users and one mailbox each. */
export class MailboxStore {
  private readonly users: StoredUser[];
  /** By lower-cased id or user principal name, and by mail: a directory of 100,000 users answers lookups at once. */
  private readonly byIdOrUpn = new Map<string, StoredUser>();
  private readonly byMail = new Map<string, StoredUser>();
  private mailboxes = new Map<string, Mailbox>();

  constructor(
    seeds: GraphUserSeed[],
    private readonly keepAttachmentBytesUpTo: number,
  ) {
    this.users = seeds.map((seed) => {
      const maxMessageSizeBytes = seed.maxMessageSizeBytes ?? DEFAULT_MAX_MESSAGE_SIZE;
      if (maxMessageSizeBytes > MAX_MESSAGE_SIZE_LIMIT) {
        throw new Error(`maxMessageSizeBytes of ${seed.userPrincipalName} exceeds Exchange's 150 MB ceiling`);
      }
      return { ...seed, maxMessageSizeBytes };
    });
    // The first user with a key wins, as the scan this replaces found it.
    for (const user of [...this.users].reverse()) {
      this.byIdOrUpn.set(user.userPrincipalName.toLowerCase(), user);
      this.byIdOrUpn.set(user.id.toLowerCase(), user);
      if (user.mail) this.byMail.set(user.mail.toLowerCase(), user);
    }
    this.reset();
  }

  /** Empties every mailbox back to its default folders. */
  reset(): void {
    this.mailboxes = new Map(this.users.map((user) => [user.id, new Mailbox(user, this.keepAttachmentBytesUpTo)]));
    this.resets++;
  }

  private resets = 0;

  /** Changes anywhere since the store began (a reset counts): a saver compares it with the last one it wrote. */
  changeCount(): string {
    let n = 0;
    for (const mailbox of this.mailboxes.values()) n += mailbox.changeCount();
    return `${this.resets}:${n}`;
  }

  /** Every user's mailbox by user id. */
  allMailboxes(): [string, Mailbox][] {
    return [...this.mailboxes];
  }

  listUsers(): StoredUser[] {
    return this.users;
  }

  /** Finds a user by object id or by user principal name, ignoring case as the directory does. */
  findUser(idOrUpn: string): StoredUser | undefined {
    return this.byIdOrUpn.get(idOrUpn.toLowerCase());
  }

  /** A user by user principal name or mail, from the index (what `$filter` on either asks). */
  findUserByAddress(property: 'userPrincipalName' | 'mail', address: string): StoredUser | undefined {
    const key = address.toLowerCase();
    if (property === 'mail') return this.byMail.get(key);
    const user = this.byIdOrUpn.get(key);
    return user?.userPrincipalName.toLowerCase() === key ? user : undefined;
  }

  mailbox(userId: string): Mailbox {
    return this.mailboxes.get(userId) as Mailbox;
  }
}
