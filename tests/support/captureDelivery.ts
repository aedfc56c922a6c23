// TeleMessage's SMTP delivery into a capture mailbox, for tests: the TeleMessage emulator sends a
// window's traffic by email (plain or journal-wrapped) into the Graph emulator's capture mailbox.
import { deliverTrafficByEmail } from '../../emulators/telemessage/smtpDelivery';
import type { ExpectedItem } from '../../emulators/telemessage/server';
import type { Harness } from './importerHarness';

export const CAPTURE = 'telemessage-capture@contoso.example';

/**
 * Delivers every item archived in [from, to) as an email into the capture mailbox, journal-wrapped
 * when asked. Returns the items delivered: transport bounces what is not mail at all (garbage bytes).
 */
export async function deliverWindow(h: Harness, from: Date | string, to: Date | string, options: { journal?: boolean } = {}): Promise<ExpectedItem[]> {
  const report = await deliverTrafficByEmail(h.telemessage, h.graph, { mailbox: CAPTURE, from, to, journal: options.journal });
  return h.telemessage.listExpected(from, to).filter((item) => report.messageIds.has(item.id));
}
