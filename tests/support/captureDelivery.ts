// TeleMessage's SMTP delivery into a capture mailbox of the Graph emulator, for tests: one email
// per item as the TeleMessage emulator renders it, or the same wrapped in an Exchange journal report.
import { Readable } from 'node:stream';
import { renderRawMessage, type RawMessage } from '../../emulators/telemessage/rfc822';
import type { ExpectedItem } from '../../emulators/telemessage/server';
import { MailDeliveryError } from '../../emulators/graph/server';
import type { Harness } from './importerHarness';

export const CAPTURE = 'telemessage-capture@contoso.example';

/** An Exchange journal report carrying `original` whole as message/rfc822 (the layout Exchange documents), streamed. */
export function journalWrapped(original: RawMessage, id: string): RawMessage {
  const boundary = `----=_JR_${id}`;
  const head = Buffer.from(
    [
      'From: Microsoft Exchange <MicrosoftExchange@contoso.example>',
      `To: <${CAPTURE}>`,
      'Date: Tue, 24 Nov 2026 10:00:00 +0000',
      `Subject: journal ${id}`,
      `Message-ID: <JR-${id}@contoso.example>`,
      'X-MS-Journal-Report:',
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset="us-ascii"',
      'Content-Transfer-Encoding: 7bit',
      '',
      'Sender: +15550001111@telemessage.invalid',
      `Message-Id: <${id}@archive.telemessage.example>`,
      `Recipient: ${CAPTURE}`,
      '',
      `--${boundary}`,
      'Content-Type: message/rfc822',
      '',
      '',
    ].join('\r\n'),
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    size: head.length + original.size + tail.length,
    stream: () =>
      Readable.from(
        (async function* () {
          yield head;
          yield* original.stream();
          yield tail;
        })(),
        { objectMode: false },
      ),
  };
}

/**
 * TeleMessage's SMTP delivery of `items` into the capture mailbox: one email each, journal-wrapped
 * when asked. Returns those delivered: transport bounces what is not mail at all (garbage bytes).
 */
export async function deliver(h: Harness, items: ExpectedItem[], options: { journal?: (item: ExpectedItem) => boolean; seed?: string } = {}): Promise<ExpectedItem[]> {
  const delivered: ExpectedItem[] = [];
  for (const [i, item] of items.entries()) {
    const raw = renderRawMessage(item, options.seed ?? 'harness');
    try {
      await h.graph.deliverMime(CAPTURE, options.journal?.(item) ? journalWrapped(raw, `${item.id}-${i}`) : raw, { receivedDateTime: item.archivedAt });
      delivered.push(item);
    } catch (err) {
      if (!(err instanceof MailDeliveryError)) throw err;
    }
  }
  return delivered;
}
