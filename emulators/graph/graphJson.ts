import { badRequest } from './graphError';
import { resolvePath } from './odataFilter';
import { MESSAGE_FLAGS, ExtendedProperty } from './extendedProperties';
import { Mailbox, messageFlags, StoredAttachment, StoredFolder, StoredMessage, StoredUser } from './mailboxStore';

/**
 * Graph's JSON for each resource as a table of properties, so one table gives both the default
 * representation and the names $select may use (Graph rejects unknown names even on empty lists).
 */
type Fields<T> = Record<string, (entity: T) => unknown>;

export interface EntityShape<T> {
  typeName: string;
  /** Returned by default. */
  fields: Fields<T>;
  /** Returned only when $select names them. */
  selectOnly?: Fields<T>;
}

/** Checks $select up front and returns a renderer honouring it; id and annotations always stay. */
export function renderer<T>(shape: EntityShape<T>, select: string[] | undefined): (entity: T) => Record<string, unknown> {
  const all: Fields<T> = { ...shape.fields, ...shape.selectOnly };
  const byLowerName = new Map(Object.keys(all).map((name) => [name.toLowerCase(), name]));
  const names = select
    ? [
        ...Object.keys(shape.fields).filter((name) => name === 'id' || name.startsWith('@odata.')),
        ...select.map((requested) => {
          const name = byLowerName.get(requested.toLowerCase());
          if (!name) throw badRequest(`Could not find a property named '${requested}' on type '${shape.typeName}'.`, 'RequestBroker--ParseUri');
          return name;
        }),
      ]
    : Object.keys(shape.fields);
  return (entity) => Object.fromEntries(names.map((name) => [name, all[name](entity)]));
}

/** Resolves $filter paths against an entity, computing only the properties the filter reads. */
export function filterResolver<T>(shape: EntityShape<T>, entity: T): (path: string[]) => unknown {
  const byLowerName = new Map(Object.entries(shape.fields).map(([name, read]) => [name.toLowerCase(), read]));
  return (path) => {
    const read = byLowerName.get(path[0].toLowerCase());
    return read && resolvePath(read(entity), path.slice(1));
  };
}

export const USER: EntityShape<StoredUser> = {
  typeName: 'microsoft.graph.user',
  fields: {
    businessPhones: () => [],
    displayName: (u) => u.displayName,
    givenName: () => null,
    jobTitle: () => null,
    mail: (u) => u.mail,
    mobilePhone: (u) => u.mobilePhone ?? null,
    officeLocation: () => null,
    preferredLanguage: () => null,
    surname: () => null,
    userPrincipalName: (u) => u.userPrincipalName,
    id: (u) => u.id,
  },
};

export interface FolderInMailbox {
  mailbox: Mailbox;
  folder: StoredFolder;
}

const folderMessages = ({ mailbox, folder }: FolderInMailbox) => [...folder.messageIds].map((id) => mailbox.message(id));

export const FOLDER: EntityShape<FolderInMailbox> = {
  typeName: 'microsoft.graph.mailFolder',
  fields: {
    id: ({ folder }) => folder.id,
    displayName: ({ folder }) => folder.displayName,
    parentFolderId: ({ folder }) => folder.parentFolderId,
    childFolderCount: ({ folder }) => folder.childFolderIds.length,
    unreadItemCount: (f) => folderMessages(f).filter((m) => !m.isRead).length,
    totalItemCount: ({ folder }) => folder.messageIds.size,
    isHidden: ({ folder }) => folder.isHidden,
  },
};

const htmlToText = (html: string) =>
  html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');

function bodyPreview(message: StoredMessage): string {
  const text = message.body.contentType === 'html' ? htmlToText(message.body.content) : message.body.content;
  return text.replace(/\s+/g, ' ').trim().slice(0, 255);
}

/** Every extended property as Exchange reports it, PR_MESSAGE_FLAGS included. */
export function extendedPropertiesOf(message: StoredMessage): ExtendedProperty[] {
  return [{ id: MESSAGE_FLAGS, value: String(messageFlags(message)) }, ...message.extendedProperties];
}

export const MESSAGE: EntityShape<StoredMessage> = {
  typeName: 'microsoft.graph.message',
  fields: {
    '@odata.etag': (m) => `W/"${m.changeKey}"`,
    id: (m) => m.id,
    createdDateTime: (m) => m.createdDateTime,
    lastModifiedDateTime: (m) => m.lastModifiedDateTime,
    changeKey: (m) => m.changeKey,
    categories: (m) => m.categories,
    receivedDateTime: (m) => m.receivedDateTime,
    sentDateTime: (m) => m.sentDateTime,
    hasAttachments: (m) => m.hasAttachments ?? m.attachments.some((a) => !a.isInline),
    internetMessageId: (m) => m.internetMessageId,
    subject: (m) => m.subject,
    bodyPreview,
    importance: (m) => m.importance,
    parentFolderId: (m) => m.parentFolderId,
    conversationId: (m) => m.conversationId,
    isDeliveryReceiptRequested: (m) => m.isDeliveryReceiptRequested,
    isReadReceiptRequested: (m) => m.isReadReceiptRequested,
    isRead: (m) => m.isRead,
    isDraft: (m) => m.isDraft,
    webLink: (m) => `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(m.id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: (m) => m.inferenceClassification,
    body: (m) => m.body,
    sender: (m) => m.sender ?? null,
    from: (m) => m.from ?? null,
    toRecipients: (m) => m.toRecipients,
    ccRecipients: (m) => m.ccRecipients,
    bccRecipients: (m) => m.bccRecipients,
    replyTo: (m) => m.replyTo,
    flag: (m) => m.flag,
  },
  selectOnly: {
    internetMessageHeaders: (m) => m.internetMessageHeaders,
    uniqueBody: (m) => m.body,
  },
};

export const ATTACHMENT: EntityShape<StoredAttachment> = {
  typeName: 'microsoft.graph.attachment',
  fields: {
    '@odata.type': () => '#microsoft.graph.fileAttachment',
    '@odata.mediaContentType': (a) => a.contentType,
    id: (a) => a.id,
    lastModifiedDateTime: (a) => a.lastModifiedDateTime,
    name: (a) => a.name,
    contentType: (a) => a.contentType,
    size: (a) => a.size,
    isInline: (a) => a.isInline,
    contentId: (a) => a.contentId ?? null,
    contentLocation: () => null,
    // Large attachments are not kept in memory, so their content cannot be read back.
    contentBytes: (a) => a.bytes?.toString('base64'),
  },
};

export const renderAttachment = renderer(ATTACHMENT, undefined);
