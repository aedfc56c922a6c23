import { ImporterError } from '../errors';
import type { FanOut, UnmappedParticipant } from '../mapping/item/participantMapper';
import type { MailboxSink } from '../sink/mailboxSink';

/**
 * A participant mapped to a Microsoft 365 user who has no Exchange Online mailbox (unlicensed,
 * on-premises, soft-deleted) cannot be archived: Graph answers MailboxNotEnabledForRESTAPI. Such
 * a participant is unmapped, with that reason, like any other the admin must fix; it is never a
 * failed delivery. The folder lookup that tells is the one the delivery needs anyway, cached.
 */
export interface MailboxlessParticipant extends UnmappedParticipant {
  mailbox: string;
}

export async function withoutMailboxless(fan: FanOut, sink: MailboxSink, signal?: AbortSignal): Promise<FanOut & { mailboxless: MailboxlessParticipant[] }> {
  const recipients: FanOut['recipients'] = [];
  const unmapped = [...fan.unmapped];
  const mailboxless: MailboxlessParticipant[] = [];
  // Anything but MailboxNotEnabled is the delivery's to meet, retry and record.
  const verdicts = await Promise.all(
    fan.recipients.map((recipient) =>
      sink.ensureFolder(recipient.userId, signal).then(
        () => undefined,
        (err: unknown) => (err instanceof ImporterError && err.code === 'MailboxNotEnabled' ? `${recipient.mailbox} has ${err.message}` : undefined),
      ),
    ),
  );
  fan.recipients.forEach((recipient, i) => {
    const reason = verdicts[i];
    if (reason === undefined) {
      recipients.push(recipient);
      return;
    }
    for (const participant of recipient.participants) {
      unmapped.push({ participant, reason });
      mailboxless.push({ mailbox: recipient.mailbox, participant, reason });
    }
  });
  return { recipients, unmapped, mailboxless };
}
