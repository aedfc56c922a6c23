import { badRequest, GraphError } from './graphError';
import { MESSAGE, renderer } from './graphJson';
import { GraphResponse, jsonResponse } from './httpIo';
import { ChangeType, DeltaState, DeltaTokens } from './deltaTokens';
import type { FolderChange, Mailbox, StoredFolder } from './mailboxStore';

/**
 * `GET /users/{id}/mailFolders/{id}/messages/delta`, as Graph v1.0 documents it: a round of
 * pages linked by `@odata.nextLink` (`$skiptoken`), ending with `@odata.deltaLink`
 * (`$deltatoken`); the next round from that link returns only what arrived, changed
 * (`changeType=created|updated`) or left (`@removed`, `changeType=deleted`) since.
 *
 * A round covers the mailbox's changes up to the watermark taken when it started, walked in
 * change order with the last one served in the token, so pages never skip or repeat a message
 * however the folder changes meanwhile: a message that changes mid-round moves past the
 * watermark and comes in the next round.
 */
export interface DeltaRequest {
  mailbox: Mailbox;
  userId: string;
  folderId: string;
  params: URLSearchParams;
  prefer?: string;
  apiBase: string;
  tokens: DeltaTokens;
}

/** Graph's page size for messages when the client states none; the most a page holds. */
const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 1000;
const CHANGE_TYPES: readonly ChangeType[] = ['created', 'updated', 'deleted'];
/** Options a delta query on messages does not take in the emulator (Graph's are limited too). */
const UNSUPPORTED = ['$filter', '$orderby', '$top', '$skip', '$expand', '$search', '$count'];

export function deltaMessages(request: DeltaRequest): GraphResponse {
  const { mailbox, params, tokens } = request;
  const folder = mailbox.folder(request.folderId);
  const path = `${request.apiBase}/users/${segment(request.userId)}/mailFolders/${segment(folder.id)}/messages/delta`;
  const restartUrl = (state: DeltaState) => {
    const options = new URLSearchParams();
    if (state.select) options.set('$select', state.select.join(','));
    if (state.changeType) options.set('changeType', state.changeType);
    const query = options.toString().replace(/%24/g, '$').replace(/%2C/gi, ',');
    return query ? `${path}?${query}` : path;
  };

  const skipToken = param(params, '$skiptoken');
  const deltaToken = param(params, '$deltatoken');
  let state: DeltaState;
  if (skipToken !== undefined && deltaToken !== undefined) throw badRequest('A delta request takes a $skiptoken or a $deltatoken, not both.');
  if (skipToken !== undefined) {
    state = tokens.read(skipToken, 'skip', request.userId, folder.id, restartUrl);
  } else if (deltaToken !== undefined) {
    // A new round: what changed after the last one, up to now.
    const finished = tokens.read(deltaToken, 'delta', request.userId, folder.id, restartUrl);
    state = { ...finished, from: finished.to, to: mailbox.changeWatermark(), after: finished.to };
  } else {
    state = { userId: request.userId, folderId: folder.id, ...initialOptions(params), from: -1, to: mailbox.changeWatermark(), after: -1 };
  }

  const render = renderer(MESSAGE, state.select);
  const pageSize = maxPageSize(request.prefer);
  const value: Record<string, unknown>[] = [];
  let lastServed = state.after;
  let more = false;
  for (const change of changesAfter(folder, state.after, state.to)) {
    const entry = visible(mailbox, folder, change, state);
    if (!entry) continue;
    if (value.length === (pageSize ?? DEFAULT_PAGE_SIZE)) {
      more = true;
      break;
    }
    value.push(
      entry === 'removed' ? { '@odata.type': '#microsoft.graph.message', id: change.messageId, '@removed': { reason: 'deleted' } } : { '@odata.type': '#microsoft.graph.message', ...render(entry) },
    );
    lastServed = change.sequence;
  }
  const link = more
    ? { '@odata.nextLink': `${path}?$skiptoken=${tokens.issue('skip', { ...state, after: lastServed })}` }
    : { '@odata.deltaLink': `${path}?$deltatoken=${tokens.issue('delta', { ...state, after: state.to })}` };
  return jsonResponse(
    200,
    { '@odata.context': `${request.apiBase}/$metadata#Collection(message)`, ...link, value },
    pageSize === undefined ? {} : { 'Preference-Applied': `odata.maxpagesize=${pageSize}` },
  );
}

/** Exchange ids end in '=' and Graph writes them so in its links. */
const segment = (id: string) => encodeURIComponent(id).replace(/%3D/g, '=');

function param(params: URLSearchParams, name: string): string | undefined {
  for (const [key, value] of params) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** $select and changeType, checked on the initial request; later requests carry them in the token. */
function initialOptions(params: URLSearchParams): Pick<DeltaState, 'select' | 'changeType'> {
  for (const [key] of params) {
    if (UNSUPPORTED.includes(key.toLowerCase())) throw new GraphError(501, 'NotImplemented', `The Graph emulator does not implement '${key}' on a delta query.`);
  }
  const selectText = param(params, '$select');
  const select = selectText
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // Unknown property names are refused now, as Graph refuses them, not on a later page.
  if (select) renderer(MESSAGE, select);
  const changeType = param(params, 'changetype');
  if (changeType !== undefined && !CHANGE_TYPES.includes(changeType as ChangeType)) {
    throw badRequest(`Invalid value '${changeType}' for changeType: use created, updated or deleted.`, 'ErrorInvalidUrlQuery');
  }
  return { ...(select && { select }), ...(changeType !== undefined && { changeType: changeType as ChangeType }) };
}

/** `Prefer: odata.maxpagesize=N` (among other preferences), capped; undefined when absent or unreadable. */
function maxPageSize(prefer: string | undefined): number | undefined {
  const match = /(?:^|[,;\s])odata\.maxpagesize\s*=\s*"?(\d+)"?/i.exec(prefer ?? '');
  if (!match) return undefined;
  const size = Number(match[1]);
  return size >= 1 ? Math.min(size, MAX_PAGE_SIZE) : undefined;
}

/** The folder's log entries with after < sequence <= upTo, found by binary search (the log is in order). */
function* changesAfter(folder: StoredFolder, after: number, upTo: number): Generator<FolderChange> {
  const log = folder.changeLog;
  let low = 0;
  let high = log.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (log[mid].sequence <= after) low = mid + 1;
    else high = mid;
  }
  for (let i = low; i < log.length && log[i].sequence <= upTo; i++) yield log[i];
}

/** What a log entry shows in this round: the message as it is, its removal, or nothing (superseded or filtered out). */
function visible(mailbox: Mailbox, folder: StoredFolder, change: FolderChange, state: DeltaState) {
  const message = mailbox.peekMessage(change.messageId);
  const inFolder = message !== undefined && message.parentFolderId === folder.id;
  if (change.removed) {
    // The initial round lists what is there; removals belong to later rounds.
    if (state.from < 0 || inFolder) return undefined;
    return !state.changeType || state.changeType === 'deleted' ? 'removed' : undefined;
  }
  if (!inFolder || message.changeSequence !== change.sequence) return undefined;
  if (state.from < 0 || !state.changeType) return message;
  const arrivedInRound = (message.arrival?.sequence ?? 0) > state.from;
  if (state.changeType === 'created') return arrivedInRound ? message : undefined;
  if (state.changeType === 'updated') return arrivedInRound ? undefined : message;
  return undefined;
}
