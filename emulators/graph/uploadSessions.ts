import crypto from 'node:crypto';
import { badRequest, GraphError, itemNotFound, messageSizeExceeded } from './graphError';
import { Mailbox, MB, StoredAttachment, StoredMessage } from './mailboxStore';
import { UploadSessionRequest } from './messageInput';

/**
 * Attachment upload sessions. Like Outlook's, each has a pre-authenticated URL on another host
 * (127.0.0.1 here, so the Graph SDK configured for "localhost" does not attach its bearer token,
 * exactly as it does not for outlook.office.com). Bytes are hashed as they arrive and kept only
 * when the attachment is small, so 150 MB attachments cost no memory.
 */
/** Documented as 3 MB; Outlook in fact takes sessions from 2 MiB (2,097,152 bytes), and refuses smaller. */
export const MIN_UPLOAD_SESSION_BYTES = 2 * MB;
export const MAX_ATTACHMENT_BYTES = 150 * MB;
export const MAX_CHUNK_BYTES = 4 * MB;

export interface UploadSessionPolicy {
  /** Lifetime of an unused session; each accepted range extends it. */
  lifetimeMs: number;
  /** Refuse sessions on non-draft messages (a tenant behaviour the preflight must detect). */
  refuseOnSentItems: boolean;
}

export interface UploadSession {
  id: string;
  token: string;
  appId: string;
  tenantId: string;
  mailbox: Mailbox;
  messageId: string;
  attachment: UploadSessionRequest;
  expirationDateTime: string;
  expiresAt: number;
  received: number;
  hash: crypto.Hash;
  /** Present only when the attachment is small enough to keep. */
  chunks?: Buffer[];
}

export interface ContentRange {
  start: number;
  end: number;
  total: number;
}

export type ChunkResult = { done: false; session: UploadSession } | { done: true; attachment: StoredAttachment; session: UploadSession };

const sessionPath = /^\/api\/v2\.0\/Users\('([^']*)'\)\/Messages\('([^']*)'\)\/AttachmentSessions\('([^']*)'\)$/;

export function parseContentRange(header: string | undefined): ContentRange {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header?.trim() ?? '');
  if (!match) throw badRequest("The 'Content-Range' header must read 'bytes {start}-{end}/{total}'.", 'ErrorInvalidContentRange');
  const [start, end, total] = match.slice(1).map(Number);
  if (end < start || end >= total) throw badRequest(`The range 'bytes ${start}-${end}/${total}' is not valid.`, 'ErrorInvalidContentRange');
  return { start, end, total };
}

export class UploadSessions {
  private readonly sessions = new Map<string, UploadSession>();

  constructor(
    private readonly uploadOrigin: string,
    private readonly keepAttachmentBytesUpTo: number,
    private readonly policy: UploadSessionPolicy,
  ) {}

  create(mailbox: Mailbox, message: StoredMessage, appId: string, tenantId: string, attachment: UploadSessionRequest) {
    if (attachment.size < MIN_UPLOAD_SESSION_BYTES) {
      throw badRequest('Attachment size must be greater than the minimum size; attach smaller files with a POST to attachments.', 'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize');
    }
    if (this.policy.refuseOnSentItems && !message.isDraft) {
      throw new GraphError(400, 'ErrorInvalidOperation', 'Upload sessions can be created only on draft items in this mailbox.');
    }
    if (attachment.size > MAX_ATTACHMENT_BYTES) throw messageSizeExceeded();
    const session: UploadSession = {
      id: `AAMkADUs${crypto.randomBytes(24).toString('base64url')}`,
      token: crypto.randomBytes(32).toString('base64url'),
      appId,
      tenantId,
      mailbox,
      messageId: message.id,
      attachment,
      expirationDateTime: '',
      expiresAt: 0,
      received: 0,
      hash: crypto.createHash('sha256'),
      ...(attachment.size <= this.keepAttachmentBytesUpTo && { chunks: [] }),
    };
    this.extend(session);
    this.sessions.set(session.id, session);
    return { session, uploadUrl: this.uploadUrl(session) };
  }

  isSessionPath(pathname: string): boolean {
    return sessionPath.test(pathname);
  }

  /** The session a pre-authenticated URL names; a wrong or missing authtoken is a 401 as in Outlook. */
  find(pathname: string, authtoken: string | null): UploadSession {
    const match = sessionPath.exec(pathname);
    const session = match ? this.sessions.get(decodeURIComponent(match[3])) : undefined;
    if (!session) throw itemNotFound();
    if (authtoken === null || !safeEqual(authtoken, session.token)) {
      throw new GraphError(401, 'InvalidAuthenticationToken', 'The upload URL token is missing or invalid.');
    }
    // The URL's token dies with the session: Outlook answers 401, and the bytes sent so far are gone.
    if (Date.now() >= session.expiresAt) {
      this.sessions.delete(session.id);
      throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.');
    }
    return session;
  }

  /** Puts the session a URL names past its expiry now (the 'expireUploadSession' fault). */
  expireAt(pathname: string): void {
    const match = sessionPath.exec(pathname);
    const session = match ? this.sessions.get(decodeURIComponent(match[3])) : undefined;
    if (session) session.expiresAt = 0;
  }

  private extend(session: UploadSession): void {
    session.expiresAt = Date.now() + this.policy.lifetimeMs;
    session.expirationDateTime = new Date(session.expiresAt).toISOString();
  }

  cancel(session: UploadSession): void {
    this.sessions.delete(session.id);
  }

  clear(): void {
    this.sessions.clear();
  }

  /** Checks a range before its bytes are read, so a refused chunk costs nothing. */
  checkRange(session: UploadSession, range: ContentRange): StoredMessage {
    if (range.total !== session.attachment.size) {
      throw badRequest(`The total size ${range.total} does not match the session's ${session.attachment.size} bytes.`, 'ErrorInvalidContentRange');
    }
    if (range.start !== session.received) {
      throw new GraphError(416, 'ErrorInvalidContentRange', `Ranges must be uploaded in order; the next expected byte is ${session.received}.`);
    }
    if (range.end - range.start + 1 > MAX_CHUNK_BYTES) {
      throw new GraphError(413, 'ErrorRequestEntityTooLarge', 'Each upload range must be 4 MB or smaller.');
    }
    const message = session.mailbox.message(session.messageId);
    // Exchange fails the upload at the range that takes the message past its maximum size.
    session.mailbox.ensureRoomFor(message, range.end + 1);
    return message;
  }

  acceptChunk(session: UploadSession, range: ContentRange, chunk: Buffer): ChunkResult {
    if (chunk.length !== range.end - range.start + 1) {
      throw badRequest(`The body has ${chunk.length} bytes but the range declares ${range.end - range.start + 1}.`, 'ErrorInvalidContentRange');
    }
    this.checkRange(session, range);
    session.hash.update(chunk);
    session.chunks?.push(chunk);
    session.received = range.end + 1;
    this.extend(session);
    if (session.received < session.attachment.size) return { done: false, session };
    this.sessions.delete(session.id);
    const { name, contentType, size, isInline, contentId } = session.attachment;
    const attachment = session.mailbox.addAttachment(session.messageId, {
      name,
      contentType,
      size,
      isInline,
      ...(contentId !== undefined && { contentId }),
      sha256: session.hash.digest('hex'),
      ...(session.chunks && { bytes: Buffer.concat(session.chunks) }),
    });
    return { done: true, attachment, session };
  }

  /** Where Outlook says the finished attachment lives; clients read the attachment id from it. */
  attachmentLocation(session: UploadSession, attachmentId: string): string {
    return `${this.uploadOrigin}/api/v2.0/Users('${session.mailbox.user.id}@${session.tenantId}')/Messages('${session.messageId}')/Attachments('${attachmentId}')`;
  }

  private uploadUrl(session: UploadSession): string {
    return `${this.uploadOrigin}/api/v2.0/Users('${session.mailbox.user.id}@${session.tenantId}')/Messages('${session.messageId}')/AttachmentSessions('${session.id}')?authtoken=${session.token}`;
  }
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}
