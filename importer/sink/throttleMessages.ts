import type { ThrottleKind } from './mailboxPacer';

/**
 * Which of Outlook's limits a 429 is about, read from the message Exchange Online puts in it
 * ("Application is over its IncomingBytes limit.", "...MailboxConcurrency limit.",
 * "...MailboxRequests limit."); the code is ApplicationThrottled for all three, so only the
 * message tells upload throttling from request throttling.
 */
export function throttleKindOf(message: string): ThrottleKind {
  const text = message.toLowerCase();
  if (text.includes('incomingbytes')) return 'upload';
  if (text.includes('mailboxconcurrency')) return 'concurrency';
  if (text.includes('mailboxrequests')) return 'rate';
  return 'other';
}
