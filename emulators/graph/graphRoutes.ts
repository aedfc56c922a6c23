import { badRequest, GraphError, itemNotFound } from './graphError';
import { ATTACHMENT, filterResolver, FOLDER, MESSAGE, renderAttachment, renderer, USER } from './graphJson';
import { GraphResponse, jsonResponse } from './httpIo';
import { attachmentContent, Mailbox, MailboxStore, StoredFolder, StoredMessage, StoredUser } from './mailboxStore';
import { parseFileAttachment, parseMessageCreate, parseMessagePatch, parseUploadSessionRequest } from './messageInput';
import { expandedExtendedProperties, findMessages, prepareExtendedPropertyFilter, prepareMessageFilter } from './messageQuery';
import { evaluateFilter, type FilterExpr } from './odataFilter';
import { nextLink, ODataQuery, pageOf } from './odataQuery';
import { GraphOperation } from './operations';
import { UploadSessions } from './uploadSessions';
import { DeltaTokens } from './deltaTokens';
import { deltaMessages } from './messageDelta';
import type { Identity } from './accessTokens';

/** Graph v1.0 resources the emulator serves, each one operation with the permission it needs. */
export type Permission = 'directory' | 'mailRead' | 'mailWrite' | 'mailContent';

export interface GraphRequest {
  method: string;
  /** Path after the version segment, e.g. /users/{id}/messages. */
  path: string;
  params: URLSearchParams;
  body: unknown;
  bodyBytes: number;
  /** The Prefer header (e.g. odata.maxpagesize=50). */
  prefer?: string;
}

export interface BaseContext {
  request: GraphRequest;
  query: ODataQuery;
  identity: Identity;
  store: MailboxStore;
  uploads: UploadSessions;
  deltaTokens: DeltaTokens;
  /** https://localhost:port/v1.0 */
  apiBase: string;
}

/** Context of a route under /users/{id|upn}: the user and their mailbox are resolved. */
export interface RouteContext extends BaseContext {
  segments: Record<string, string>;
  user: StoredUser;
  mailbox: Mailbox;
}

interface RouteShape {
  method: string;
  pattern: string[];
  operation: GraphOperation;
  permission: Permission;
  /** Takes $skiptoken / $deltatoken (a delta query); other routes refuse them. */
  stateTokens?: boolean;
}

export type Route = (RouteShape & { scope: 'tenant'; handle(context: BaseContext): GraphResponse }) | (RouteShape & { scope: 'user'; handle(context: RouteContext): GraphResponse });

const created = (body: unknown) => jsonResponse(201, body);
const ok = (body: unknown) => jsonResponse(200, body);

function listResponse<T>(context: BaseContext, items: T[], toJson: (item: T) => unknown, contextUrl: string, defaultTop: number, maxTop: number) {
  const page = pageOf(items, context.query, defaultTop, maxTop);
  return ok({
    '@odata.context': `${context.apiBase}/$metadata#${contextUrl}`,
    value: page.items.map(toJson),
    ...(page.nextSkip !== undefined && {
      '@odata.nextLink': nextLink(context.apiBase, context.request.path, context.request.params, page.nextSkip),
    }),
  });
}

function withContext(context: BaseContext, fragment: string, json: Record<string, unknown>) {
  return { '@odata.context': `${context.apiBase}/$metadata#${fragment}`, ...json };
}

const folderRoot = (context: RouteContext) => context.segments.folder ?? context.mailbox.rootFolderId;

function renderFolder(context: RouteContext) {
  const render = renderer(FOLDER, context.query.select);
  return (folder: StoredFolder) => render({ mailbox: context.mailbox, folder });
}

function filteredFolders(context: RouteContext) {
  // Hidden folders are left out unless asked for, as Graph does; they still take their name.
  const withHidden = context.request.params.get('includeHiddenFolders')?.toLowerCase() === 'true';
  const folders = context.mailbox.childFolders(folderRoot(context)).filter((folder) => withHidden || !folder.isHidden);
  const { filter } = context.query;
  return filter ? folders.filter((folder) => evaluateFilter(filter, filterResolver(FOLDER, { mailbox: context.mailbox, folder }))) : folders;
}

function renderMessage(context: RouteContext) {
  const render = renderer(MESSAGE, context.query.select);
  const expansions = context.query.expand.map((item) => {
    const name = item.property.toLowerCase();
    if (name === 'singlevalueextendedproperties') {
      const filter = item.filter && prepareExtendedPropertyFilter(item.filter);
      return (m: StoredMessage) => ({ singleValueExtendedProperties: expandedExtendedProperties(m, filter) });
    }
    if (name === 'attachments' && !item.filter) return (m: StoredMessage) => ({ attachments: m.attachments.map(renderAttachment) });
    throw new GraphError(501, 'NotImplemented', `The emulator does not expand '${item.property}' on messages.`);
  });
  return (message: StoredMessage) => Object.assign(render(message), ...expansions.map((expand) => expand(message)));
}

function listMessages(context: RouteContext): GraphResponse {
  const filter = context.query.filter && prepareMessageFilter(context.query.filter);
  const messages = findMessages(context.mailbox, context.segments.folder, filter);
  const fragment = context.segments.folder ? `users('${context.user.id}')/mailFolders('${context.segments.folder}')/messages` : `users('${context.user.id}')/messages`;
  return listResponse(context, messages, renderMessage(context), fragment, 10, 1000);
}

function createMessage(context: RouteContext): GraphResponse {
  const folder = context.segments.folder ?? 'drafts';
  const message = context.mailbox.createMessage(folder, parseMessageCreate(context.request.body));
  return created(withContext(context, `users('${context.user.id}')/messages/$entity`, renderMessage(context)(message)));
}

function createFolder(context: RouteContext): GraphResponse {
  const body = context.request.body as Record<string, unknown> | undefined;
  if (typeof body?.displayName !== 'string') throw badRequest("A folder needs a 'displayName'.", 'ErrorInvalidParameter');
  const folder = context.mailbox.createFolder(folderRoot(context), body.displayName);
  return created(withContext(context, `users('${context.user.id}')/mailFolders/$entity`, renderFolder(context)(folder)));
}

/**
 * `userPrincipalName` or `mail` compared with `eq` or `in` is answered from the store's index, as
 * the directory answers it, instead of by a scan; any other filter is evaluated user by user.
 */
function indexedUsers(store: MailboxStore, filter: FilterExpr | undefined): StoredUser[] | undefined {
  if (filter?.kind !== 'in' && filter?.kind !== 'compare') return undefined;
  if (filter.kind === 'compare' && filter.op !== 'eq') return undefined;
  const property = filter.path.length === 1 ? (['userPrincipalName', 'mail'] as const).find((p) => p.toLowerCase() === filter.path[0].toLowerCase()) : undefined;
  const literals = filter.kind === 'in' ? filter.literals : [filter.literal];
  if (!property || literals.some((l) => l.kind !== 'string')) return undefined;
  const found = literals.map((l) => store.findUserByAddress(property, (l as { value: string }).value)).filter((u): u is StoredUser => u !== undefined);
  return [...new Set(found)];
}

const userRoutes: Route[] = [
  {
    scope: 'tenant',
    method: 'GET',
    pattern: ['users'],
    operation: 'listUsers',
    permission: 'directory',
    handle(context) {
      const { filter } = context.query;
      const users = indexedUsers(context.store, filter) ?? context.store.listUsers().filter((u) => !filter || evaluateFilter(filter, filterResolver(USER, u)));
      return listResponse(context, users, renderer(USER, context.query.select), 'users', 100, 999);
    },
  },
  {
    scope: 'user',
    method: 'GET',
    pattern: ['users', ':user'],
    operation: 'getUser',
    permission: 'directory',
    handle: (context) => ok(withContext(context, 'users/$entity', renderer(USER, context.query.select)(context.user))),
  },
];

const folderRoutes: Route[] = [
  {
    scope: 'user',
    method: 'GET',
    pattern: ['users', ':user', 'mailFolders'],
    operation: 'listFolders',
    permission: 'mailRead',
    handle: (context) => listResponse(context, filteredFolders(context), renderFolder(context), `users('${context.user.id}')/mailFolders`, 10, 1000),
  },
  { scope: 'user', method: 'POST', pattern: ['users', ':user', 'mailFolders'], operation: 'createFolder', permission: 'mailWrite', handle: createFolder },
  {
    scope: 'user',
    method: 'GET',
    pattern: ['users', ':user', 'mailFolders', ':folder'],
    operation: 'getFolder',
    permission: 'mailRead',
    handle: (context) => ok(withContext(context, `users('${context.user.id}')/mailFolders/$entity`, renderFolder(context)(context.mailbox.folder(context.segments.folder)))),
  },
  {
    scope: 'user',
    method: 'GET',
    pattern: ['users', ':user', 'mailFolders', ':folder', 'childFolders'],
    operation: 'listFolders',
    permission: 'mailRead',
    handle: (context) => listResponse(context, filteredFolders(context), renderFolder(context), `users('${context.user.id}')/mailFolders('${context.segments.folder}')/childFolders`, 10, 1000),
  },
  { scope: 'user', method: 'POST', pattern: ['users', ':user', 'mailFolders', ':folder', 'childFolders'], operation: 'createFolder', permission: 'mailWrite', handle: createFolder },
  {
    scope: 'user',
    method: 'POST',
    pattern: ['users', ':user', 'mailFolders', ':folder', 'permanentDelete'],
    operation: 'deleteFolder',
    permission: 'mailWrite',
    handle(context) {
      context.mailbox.removeFolder(context.mailbox.folder(context.segments.folder).id);
      return { status: 204, headers: {} };
    },
  },
];

const messageRoutes: Route[] = [
  { scope: 'user', method: 'GET', pattern: ['users', ':user', 'mailFolders', ':folder', 'messages'], operation: 'listMessages', permission: 'mailRead', handle: listMessages },
  { scope: 'user', method: 'POST', pattern: ['users', ':user', 'mailFolders', ':folder', 'messages'], operation: 'createMessage', permission: 'mailWrite', handle: createMessage },
  { scope: 'user', method: 'GET', pattern: ['users', ':user', 'messages'], operation: 'listMessages', permission: 'mailRead', handle: listMessages },
  { scope: 'user', method: 'POST', pattern: ['users', ':user', 'messages'], operation: 'createMessage', permission: 'mailWrite', handle: createMessage },
  {
    scope: 'user',
    method: 'GET',
    pattern: ['users', ':user', 'messages', ':message'],
    operation: 'getMessage',
    permission: 'mailRead',
    handle: (context) => ok(withContext(context, `users('${context.user.id}')/messages/$entity`, renderMessage(context)(context.mailbox.message(context.segments.message)))),
  },
  {
    scope: 'user',
    method: 'GET',
    pattern: ['users', ':user', 'mailFolders', ':folder', 'messages', ':message'],
    operation: 'getMessage',
    permission: 'mailRead',
    handle(context) {
      context.mailbox.folder(context.segments.folder);
      return ok(withContext(context, `users('${context.user.id}')/messages/$entity`, renderMessage(context)(context.mailbox.message(context.segments.message))));
    },
  },
  {
    scope: 'user',
    method: 'PATCH',
    pattern: ['users', ':user', 'messages', ':message'],
    operation: 'updateMessage',
    permission: 'mailWrite',
    handle(context) {
      const message = context.mailbox.updateMessage(context.segments.message, parseMessagePatch(context.request.body));
      return ok(withContext(context, `users('${context.user.id}')/messages/$entity`, renderMessage(context)(message)));
    },
  },
  {
    scope: 'user',
    method: 'DELETE',
    pattern: ['users', ':user', 'messages', ':message'],
    operation: 'deleteMessage',
    permission: 'mailWrite',
    handle(context) {
      context.mailbox.deleteMessage(context.segments.message);
      return { status: 204, headers: {} };
    },
  },
  {
    scope: 'user',
    method: 'POST',
    pattern: ['users', ':user', 'messages', ':message', 'permanentDelete'],
    operation: 'deleteMessage',
    permission: 'mailWrite',
    handle(context) {
      context.mailbox.purgeMessage(context.segments.message);
      return { status: 204, headers: {} };
    },
  },
];

const attachmentRoutes: Route[] = [
  {
    scope: 'user',
    method: 'GET',
    pattern: ['users', ':user', 'messages', ':message', 'attachments'],
    operation: 'listAttachments',
    permission: 'mailRead',
    handle(context) {
      const message = context.mailbox.message(context.segments.message);
      const render = renderer(ATTACHMENT, context.query.select);
      return listResponse(context, message.attachments, render, `users('${context.user.id}')/messages('${message.id}')/attachments`, 1000, 1000);
    },
  },
  {
    scope: 'user',
    method: 'POST',
    pattern: ['users', ':user', 'messages', ':message', 'attachments'],
    operation: 'createAttachment',
    permission: 'mailWrite',
    handle(context) {
      const content = attachmentContent(parseFileAttachment(context.request.body));
      const attachment = context.mailbox.addAttachment(context.segments.message, content);
      return created(withContext(context, `users('${context.user.id}')/messages('${context.segments.message}')/attachments/$entity`, renderAttachment(attachment)));
    },
  },
  {
    scope: 'user',
    method: 'GET',
    pattern: ['users', ':user', 'messages', ':message', 'attachments', ':attachment'],
    operation: 'getAttachment',
    permission: 'mailRead',
    handle(context) {
      const message = context.mailbox.message(context.segments.message);
      const attachment = message.attachments.find((a) => a.id === context.segments.attachment);
      if (!attachment) throw itemNotFound();
      return ok(renderer(ATTACHMENT, context.query.select)(attachment));
    },
  },
  ...['createUploadSession', 'microsoft.graph.createUploadSession'].map((action): Route => ({
    scope: 'user',
    method: 'POST',
    pattern: ['users', ':user', 'messages', ':message', 'attachments', action],
    operation: 'createUploadSession',
    permission: 'mailWrite',
    handle(context) {
      const message = context.mailbox.message(context.segments.message);
      const { session, uploadUrl } = context.uploads.create(context.mailbox, message, context.identity.appId, context.identity.tenantId, parseUploadSessionRequest(context.request.body));
      return created({
        '@odata.context': `${context.apiBase}/$metadata#microsoft.graph.uploadSession`,
        uploadUrl,
        expirationDateTime: session.expirationDateTime,
        nextExpectedRanges: ['0-'],
      });
    },
  })),
];

/** The message's MIME as delivered, streamed with the content type Graph's documentation shows. */
function messageContent(context: RouteContext): GraphResponse {
  if (context.segments.folder) context.mailbox.folder(context.segments.folder);
  const message = context.mailbox.message(context.segments.message);
  const mime = message.mime;
  if (!mime) throw new GraphError(501, 'NotImplemented', 'The emulator serves $value only for messages delivered as MIME (deliverMime), not for messages created through Graph.');
  return { status: 200, headers: { 'Content-Type': 'text/plain' }, stream: () => mime.stream() };
}

const captureRoutes: Route[] = [
  ...['delta', 'microsoft.graph.delta'].map((fn): Route => ({
    scope: 'user',
    method: 'GET',
    pattern: ['users', ':user', 'mailFolders', ':folder', 'messages', fn],
    operation: 'deltaMessages',
    permission: 'mailRead',
    stateTokens: true,
    handle: (context) =>
      deltaMessages({
        mailbox: context.mailbox,
        userId: context.user.id,
        folderId: context.segments.folder,
        params: context.request.params,
        prefer: context.request.prefer,
        apiBase: context.apiBase,
        tokens: context.deltaTokens,
      }),
  })),
  { scope: 'user', method: 'GET', pattern: ['users', ':user', 'messages', ':message', '$value'], operation: 'getMessageContent', permission: 'mailContent', handle: messageContent },
  {
    scope: 'user',
    method: 'GET',
    pattern: ['users', ':user', 'mailFolders', ':folder', 'messages', ':message', '$value'],
    operation: 'getMessageContent',
    permission: 'mailContent',
    handle: messageContent,
  },
];

const ROUTES: Route[] = [...userRoutes, ...folderRoutes, ...captureRoutes, ...messageRoutes, ...attachmentRoutes];

export interface RouteMatch {
  route: Route;
  segments: Record<string, string>;
}

/** Finds the route for a path; literal segments match case-insensitively, as Graph's do. */
export function matchRoute(method: string, path: string): RouteMatch {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let pathMatched = false;
  for (const route of ROUTES) {
    if (route.pattern.length !== parts.length) continue;
    const segments: Record<string, string> = {};
    const matches = route.pattern.every((p, i) => {
      if (p.startsWith(':')) {
        segments[p.slice(1)] = parts[i];
        return true;
      }
      return p.toLowerCase() === parts[i].toLowerCase();
    });
    if (!matches) continue;
    pathMatched = true;
    if (route.method === method) return { route, segments };
  }
  if (pathMatched) throw new GraphError(405, 'BadRequest', `The HTTP method '${method}' is not allowed on this resource.`);
  throw badRequest(`Resource not found for the segment '${parts[parts.length - 1] ?? ''}'.`);
}
