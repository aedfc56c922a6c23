import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExtendedProperty } from './extendedProperties';
import { extendedPropertiesOf } from './graphJson';
import { FaultRule, validateFaultRule } from './faults';
import { parseJsonBody, readBody } from './httpIo';
import { InternetMessageHeader, Recipient } from './messageInput';
import { MAX_MESSAGE_SIZE_LIMIT, MailboxStore, RawMime } from './mailboxStore';
import { DeliveredMail, DeliverOptions, MailDeliveryError } from './mailDelivery';
import { MimeSpool, SpoolLimitError } from './mimeSpool';
import { GraphEmulatorStats } from './stats';

/**
 * Test-only views and controls under /_emulator/: what each mailbox holds, request counts,
 * fault knobs and reset. No authentication, and nothing here counts toward throttling.
 */
export interface MailboxSummary {
  userId: string;
  userPrincipalName: string;
  folderCount: number;
  messageCount: number;
}

export interface FolderSnapshot {
  id: string;
  displayName: string;
  parentFolderId: string;
  path: string;
  wellKnownName?: string;
  isHidden: boolean;
  messageCount: number;
}

export interface AttachmentSnapshot {
  id: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  isInline: boolean;
}

export interface MessageSnapshot {
  id: string;
  folderId: string;
  folderPath: string;
  subject: string;
  isDraft: boolean;
  isRead: boolean;
  createdDateTime: string;
  sentDateTime: string;
  receivedDateTime: string;
  from?: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  body: { contentType: string; content: string };
  internetMessageHeaders: InternetMessageHeader[];
  internetMessageId: string;
  /** Size of the MIME, for messages delivered as MIME (deliverMime). */
  mimeSize?: number;
  extendedProperties: ExtendedProperty[];
  attachments: AttachmentSnapshot[];
}

export interface MailboxSnapshot {
  user: { id: string; userPrincipalName: string; mail: string; maxMessageSizeBytes: number };
  folders: FolderSnapshot[];
  messages: MessageSnapshot[];
}

export function mailboxSummaries(store: MailboxStore): MailboxSummary[] {
  return store.listUsers().map((user) => {
    const mailbox = store.mailbox(user.id);
    return {
      userId: user.id,
      userPrincipalName: user.userPrincipalName,
      folderCount: mailbox.allFolders().length - 1,
      messageCount: mailbox.messageCount(),
    };
  });
}

/** Everything in one mailbox. */
export function mailboxSnapshot(store: MailboxStore, idOrUpn: string): MailboxSnapshot {
  const user = store.findUser(idOrUpn);
  if (!user) throw new UnknownMailboxError(idOrUpn);
  const mailbox = store.mailbox(user.id);
  const folders = mailbox.allFolders().filter((f) => f.id !== mailbox.rootFolderId);
  return {
    user: { id: user.id, userPrincipalName: user.userPrincipalName, mail: user.mail, maxMessageSizeBytes: user.maxMessageSizeBytes },
    folders: folders.map((f) => ({
      id: f.id,
      displayName: f.displayName,
      parentFolderId: f.parentFolderId,
      path: mailbox.folderPath(f),
      ...(f.wellKnownName && { wellKnownName: f.wellKnownName }),
      isHidden: f.isHidden,
      messageCount: f.messageIds.size,
    })),
    messages: mailbox.listMessages().map((m) => ({
      id: m.id,
      folderId: m.parentFolderId,
      folderPath: mailbox.folderPath(mailbox.folder(m.parentFolderId)),
      subject: m.subject,
      isDraft: m.isDraft,
      isRead: m.isRead,
      createdDateTime: m.createdDateTime,
      sentDateTime: m.sentDateTime,
      receivedDateTime: m.receivedDateTime,
      ...(m.from && { from: m.from }),
      toRecipients: m.toRecipients,
      ccRecipients: m.ccRecipients,
      body: m.body,
      internetMessageHeaders: m.internetMessageHeaders,
      internetMessageId: m.internetMessageId,
      ...(m.mime && { mimeSize: m.mime.size }),
      extendedProperties: extendedPropertiesOf(m),
      attachments: m.attachments.map(({ id, name, contentType, size, sha256, isInline }) => ({ id, name, contentType, size, sha256, isInline })),
    })),
  };
}

export class UnknownMailboxError extends Error {
  constructor(idOrUpn: string) {
    super(`unknown user '${idOrUpn}'`);
  }
}

export interface EmulatorControls {
  mailboxes(): MailboxSummary[];
  mailbox(idOrUpn: string): MailboxSnapshot;
  stats(): GraphEmulatorStats;
  faults(): { seed: number; rules: FaultRule[]; stormSecondsLeft: number };
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  startThrottleStorm(seconds: number): void;
  reseedFaults(seed: number): void;
  /**
   * Delivers raw RFC 822 into a mailbox folder, as SMTP delivery would; the bytes stay with the
   * producer (read for the header block now, and again for each `$value`). Throws
   * MailDeliveryError (unknown mailbox, too large for it, unreadable header block).
   */
  deliverMime(mailboxIdOrUpn: string, raw: RawMime, options?: DeliverOptions): Promise<DeliveredMail>;
  /** Every delta and skip token issued so far expires now: the next use answers 410 SyncStateNotFound. */
  expireDeltaTokens(): void;
  reset(): void;
}

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const payload = Buffer.from(JSON.stringify(body));
  // Apart: restify, when loaded in the same process (a test worker), makes writeHead return nothing.
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) });
  res.end(payload);
}

const problem = (code: string, message: string) => ({ error: { code, message } });

interface FaultsRequest {
  seed?: number;
  rules?: unknown[];
  stormSeconds?: number;
}

const DELIVERY_STATUS: Record<MailDeliveryError['code'], number> = {
  UnknownMailbox: 404,
  NoMailbox: 404,
  UnknownFolder: 404,
  MessageTooLarge: 413,
  UnreadableMessage: 400,
};

/** POST /_emulator/mailboxes/{id|upn}/deliveries?folder=&receivedDateTime=, body the raw message. */
async function deliverPosted(req: IncomingMessage, url: URL, mailbox: string, controls: EmulatorControls, spool: MimeSpool) {
  const receivedDateTime = url.searchParams.get('receivedDateTime') ?? undefined;
  const folder = url.searchParams.get('folder') ?? undefined;
  // Anything over Exchange's ceiling would be refused anyway; the margin lets the refusal say so.
  const raw = await spool.take(req, MAX_MESSAGE_SIZE_LIMIT + 1024 * 1024);
  return controls.deliverMime(mailbox, raw, { ...(folder && { folder }), ...(receivedDateTime && { receivedDateTime }) });
}

export async function handleInspection(req: IncomingMessage, res: ServerResponse, url: URL, controls: EmulatorControls, spool: MimeSpool): Promise<void> {
  const parts = url.pathname.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
  const route = `${req.method} ${parts[0] ?? ''}${parts.length > 1 ? '/*' : ''}`;
  try {
    if (req.method === 'POST' && parts[0] === 'mailboxes' && parts[2] === 'deliveries' && parts.length === 3) {
      return reply(res, 201, await deliverPosted(req, url, parts[1], controls, spool));
    }
    if (req.method === 'POST' && parts.join('/') === 'delta-tokens/expire') {
      controls.expireDeltaTokens();
      return reply(res, 204);
    }
    switch (route) {
      case 'GET mailboxes':
        return reply(res, 200, controls.mailboxes());
      case 'GET mailboxes/*':
        return reply(res, 200, controls.mailbox(parts[1]));
      case 'GET stats':
        return reply(res, 200, controls.stats());
      case 'GET faults':
        return reply(res, 200, controls.faults());
      case 'POST faults': {
        const body = (parseJsonBody(await readBody(req, 1024 * 1024)) ?? {}) as FaultsRequest;
        // Validate everything before changing anything.
        const rules = (body.rules ?? []).map(validateFaultRule);
        if (body.stormSeconds !== undefined && !(typeof body.stormSeconds === 'number' && body.stormSeconds >= 0)) {
          throw new Error('stormSeconds must be a non-negative number');
        }
        if (body.seed !== undefined) controls.reseedFaults(body.seed);
        rules.forEach((rule) => controls.addFault(rule));
        if (body.stormSeconds !== undefined) controls.startThrottleStorm(body.stormSeconds);
        return reply(res, 200, controls.faults());
      }
      case 'DELETE faults':
        controls.clearFaults();
        return reply(res, 204);
      case 'POST reset':
        controls.reset();
        return reply(res, 204);
      default:
        return reply(res, 404, problem('NotFound', `No emulator endpoint ${req.method} ${url.pathname}`));
    }
  } catch (error) {
    if (error instanceof MailDeliveryError) return reply(res, DELIVERY_STATUS[error.code], problem(error.code, error.message));
    if (error instanceof SpoolLimitError) return reply(res, 413, problem('MessageTooLarge', error.message));
    const status = error instanceof UnknownMailboxError ? 404 : 400;
    return reply(res, status, problem(status === 404 ? 'NotFound' : 'BadRequest', (error as Error).message));
  }
}
