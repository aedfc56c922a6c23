import crypto from 'node:crypto';
import { GraphError } from './graphError';
import type { MailboxStore, RawMime } from './mailboxStore';
import { parseHeaderBlock, readHeaderBlock, UnreadableMimeError } from './mimeHeaderBlock';

/**
 * Mail arriving by SMTP, as Exchange Online files it: the raw RFC 822 goes into a folder as it
 * is (its bytes stay with the producer, read again for each `$value`), and the listing fields
 * come from its header block. Only the mailbox's maximum message size can refuse it.
 */
export interface DeliverOptions {
  /** Folder id or well-known name; default 'inbox'. */
  folder?: string;
  /** When the mailbox received it; default now. */
  receivedDateTime?: Date | string;
}

export interface DeliveredMail {
  /** The Graph message id. */
  id: string;
  internetMessageId: string;
  receivedDateTime: string;
  size: number;
}

export type DeliveryRefusal = 'UnknownMailbox' | 'NoMailbox' | 'MessageTooLarge' | 'UnreadableMessage' | 'UnknownFolder';

/** Why transport did not deliver: what an SMTP sender would get back as a non-delivery report. */
export class MailDeliveryError extends Error {
  constructor(
    readonly code: DeliveryRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'MailDeliveryError';
  }
}

const graphTime = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function deliverMime(store: MailboxStore, mailboxIdOrUpn: string, raw: RawMime, options: DeliverOptions = {}): Promise<DeliveredMail> {
  if (!(Number.isInteger(raw.size) && raw.size > 0)) throw new MailDeliveryError('UnreadableMessage', 'the message must have a positive size');
  const user = store.findUser(mailboxIdOrUpn);
  if (!user) throw new MailDeliveryError('UnknownMailbox', `550 5.1.1 no such recipient '${mailboxIdOrUpn}'`);
  if (user.hasMailbox === false) throw new MailDeliveryError('NoMailbox', `550 5.1.1 '${mailboxIdOrUpn}' has no Exchange Online mailbox`);
  const received = options.receivedDateTime === undefined ? new Date() : new Date(options.receivedDateTime);
  if (Number.isNaN(received.getTime())) throw new MailDeliveryError('UnreadableMessage', 'receivedDateTime is not a date');
  const mailbox = store.mailbox(user.id);
  let folderId: string;
  try {
    folderId = mailbox.folder(options.folder ?? 'inbox').id;
  } catch {
    throw new MailDeliveryError('UnknownFolder', `the mailbox has no folder '${options.folder}'`);
  }
  if (raw.size > user.maxMessageSizeBytes) {
    throw new MailDeliveryError('MessageTooLarge', `552 5.3.4 message of ${raw.size} bytes exceeds the mailbox's maximum message size of ${user.maxMessageSizeBytes} bytes`);
  }
  let fields;
  try {
    fields = parseHeaderBlock(await readHeaderBlock(raw.stream()));
  } catch (error) {
    if (error instanceof UnreadableMimeError) throw new MailDeliveryError('UnreadableMessage', error.message);
    throw error;
  }
  const receivedDateTime = graphTime(received);
  // Exchange gives a message without a Message-ID one of its own.
  const internetMessageId = fields.internetMessageId ?? `<${crypto.randomUUID()}@emulator.local>`;
  try {
    const message = mailbox.deliverMessage(folderId, {
      mime: raw,
      subject: fields.subject,
      from: fields.from,
      toRecipients: fields.toRecipients,
      ccRecipients: fields.ccRecipients,
      internetMessageId,
      internetMessageHeaders: fields.headers,
      sentDateTime: fields.sentDateTime ?? receivedDateTime,
      receivedDateTime,
      hasAttachments: fields.hasAttachments,
    });
    return { id: message.id, internetMessageId, receivedDateTime, size: raw.size };
  } catch (error) {
    if (error instanceof GraphError && error.code === 'ErrorItemNotFound') throw new MailDeliveryError('UnknownFolder', 'the folder is gone');
    throw error;
  }
}
