import { Readable } from 'node:stream';
import { parseHeaderBlock, readHeaderBlock } from '../graph/mimeHeaderBlock';
import { header, textTokens } from './mimeEncoding';
import type { RawMessage } from './rfc822';
import { stableHash } from './seededRandom';
import type { ItemSpec } from './traffic';

/**
 * TeleMessage's SMTP destination, emulated: each archived item of a window goes, in archive
 * order, as an email of its own ("non-threaded", TeleMessage's default) into a capture mailbox,
 * optionally wrapped as an Exchange journal report. The bytes are never held: each message is
 * handed over as a size and a stream, rendered again whenever it is read.
 *
 * The journal wrapper here is a stand-in until the one in smtpFormats.ts (threaded emails and
 * journal reports) lands; the two should become one.
 */

/** Where the mail goes: the Graph emulator (its `deliverMime`) satisfies this. */
export interface MailDrop {
  deliverMime(mailbox: string, raw: RawMessage, options?: { folder?: string; receivedDateTime?: Date | string }): Promise<{ id: string }>;
}

/** The items to send; the TeleMessage emulator's `archivedItems` satisfies this. */
export interface ArchivedTraffic {
  archivedItems(from: Date | string, to: Date | string): Iterable<{ item: ItemSpec; raw: RawMessage }>;
}

export interface SmtpDeliveryOptions {
  /** The capture mailbox's address (or Graph user id). */
  mailbox: string;
  /** Folder id or well-known name; default 'inbox'. */
  folder?: string;
  /** The archive-time window [from, to). */
  from: Date | string;
  to: Date | string;
  /** Wrap each item as an Exchange journal report (the original as a message/rfc822 attachment). */
  journal?: boolean;
  /** When the mailbox received each email: its archive time (real-time delivery, the default) or now. */
  receivedAt?: 'archivedAt' | 'now';
  signal?: AbortSignal;
}

export interface RefusedDelivery {
  itemId: string;
  sizeBytes: number;
  /** The receiving side's reason, e.g. the mailbox's maximum message size. */
  reason: string;
}

export interface SmtpDeliveryReport {
  delivered: number;
  /** Bytes of the emails delivered (journal envelopes included). */
  bytes: number;
  /** Emails the mailbox did not take; TeleMessage would get a non-delivery report for each. */
  refused: RefusedDelivery[];
  /** Graph message ids by archive item id, in delivery order. */
  messageIds: Map<string, string>;
}

const CRLF = '\r\n';

export async function deliverTrafficByEmail(traffic: ArchivedTraffic, drop: MailDrop, options: SmtpDeliveryOptions): Promise<SmtpDeliveryReport> {
  const report: SmtpDeliveryReport = { delivered: 0, bytes: 0, refused: [], messageIds: new Map() };
  for (const { item, raw } of traffic.archivedItems(options.from, options.to)) {
    options.signal?.throwIfAborted();
    const email = options.journal ? await journalReport(raw, { journalRecipient: options.mailbox, at: item.archivedAt, key: item.id }) : raw;
    try {
      const delivered = await drop.deliverMime(options.mailbox, email, {
        ...(options.folder && { folder: options.folder }),
        receivedDateTime: options.receivedAt === 'now' ? new Date() : item.archivedAt,
      });
      report.delivered += 1;
      report.bytes += email.size;
      report.messageIds.set(item.id, delivered.id);
    } catch (error) {
      // A refusal names its SMTP reason (MailDeliveryError); anything else is the caller's problem.
      if (!(error instanceof Error && 'code' in error && error.name === 'MailDeliveryError')) throw error;
      report.refused.push({ itemId: item.id, sizeBytes: email.size, reason: error.message });
    }
  }
  return report;
}

/**
 * Real-time delivery, as TeleMessage's SMTP destination runs: each `catchUp()` sends what was
 * archived since the last one, up to the archive's "now"; `start()` does so on a timer (for
 * `npm start`). Windows meet end to start, so nothing is sent twice or skipped.
 */
export class RealTimeSmtpDelivery {
  private cursor: Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private readonly totals: SmtpDeliveryReport = { delivered: 0, bytes: 0, refused: [], messageIds: new Map() };

  constructor(
    private readonly traffic: ArchivedTraffic & { now(): Date },
    private readonly drop: MailDrop,
    private readonly options: Omit<SmtpDeliveryOptions, 'from' | 'to' | 'receivedAt' | 'signal'> & { since: Date | string },
  ) {
    this.cursor = new Date(options.since);
    if (Number.isNaN(this.cursor.getTime())) throw new RangeError('since must be a date');
  }

  /** Sends everything archived in [last catch-up, now); the report covers this call only. */
  catchUp(): Promise<SmtpDeliveryReport> {
    const next = this.running.then(async () => {
      const to = this.traffic.now();
      if (to <= this.cursor) return { delivered: 0, bytes: 0, refused: [], messageIds: new Map() };
      const report = await deliverTrafficByEmail(this.traffic, this.drop, { ...this.options, from: this.cursor, to });
      this.cursor = to;
      this.totals.delivered += report.delivered;
      this.totals.bytes += report.bytes;
      this.totals.refused.push(...report.refused);
      for (const [item, message] of report.messageIds) this.totals.messageIds.set(item, message);
      return report;
    });
    this.running = next.catch(() => undefined);
    return next;
  }

  /** Catches up every `everyMs`; a failed round is reported to `onError` and retried next time. */
  start(everyMs: number, onError: (error: unknown) => void = () => undefined): void {
    if (this.timer) return;
    const tick = () => {
      this.catchUp()
        .catch(onError)
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, everyMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Everything delivered since construction. */
  report(): SmtpDeliveryReport {
    return this.totals;
  }
}

export interface JournalOptions {
  /** The journaling mailbox the report is addressed to. */
  journalRecipient: string;
  /** When the report was written (ISO 8601). */
  at: string;
  /** Makes the report's Message-ID and boundary stable for the same item. */
  key: string;
}

/**
 * An Exchange journal report around one message: the `X-MS-Journal-Report` header, a text/plain
 * envelope (`Sender:`, `Subject:`, `Message-Id:`, one `Recipient:` per recipient) and the
 * original, byte for byte, as a message/rfc822 attachment. The envelope comes from the
 * original's header block; the original is streamed, never held.
 */
export async function journalReport(original: RawMessage, options: JournalOptions): Promise<RawMessage> {
  const fields = parseHeaderBlock(await readHeaderBlock(original.stream()));
  const hash = stableHash(['journal', options.key]);
  const boundary = `----=_Journal_${hash.slice(0, 24)}`;
  const domain = options.journalRecipient.includes('@') ? options.journalRecipient.split('@')[1] : 'contoso.example';
  const sender = fields.from?.emailAddress.address ?? '';
  const recipients = [...fields.toRecipients, ...fields.ccRecipients].map((r) => r.emailAddress.address ?? '');
  const envelope = [`Sender: ${sender}`, `Subject: ${fields.subject}`, `Message-Id: ${fields.internetMessageId ?? ''}`, ...recipients.map((r) => `Recipient: ${r}`)];
  const prefix =
    header('From', ['Microsoft', 'Exchange', `<MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@${domain}>`]) +
    header('To', [`<${options.journalRecipient}>`]) +
    header('Date', [new Date(options.at).toUTCString().replace('GMT', '+0000')]) +
    header('Subject', textTokens(fields.subject || 'Journal report')) +
    header('Message-ID', [`<journal-${hash.slice(0, 32)}@${domain}>`]) +
    header('MIME-Version', ['1.0']) +
    'X-MS-Journal-Report:' + CRLF +
    header('Content-Type', ['multipart/mixed;', `boundary="${boundary}"`]) +
    CRLF +
    `--${boundary}${CRLF}` +
    header('Content-Type', ['text/plain;', 'charset="utf-8"']) +
    header('Content-Transfer-Encoding', ['8bit']) +
    CRLF +
    envelope.join(CRLF) +
    CRLF +
    `--${boundary}${CRLF}` +
    header('Content-Type', ['message/rfc822']) +
    header('Content-Disposition', ['attachment']) +
    CRLF;
  const suffix = `${CRLF}--${boundary}--${CRLF}`;
  const head = Buffer.from(prefix, 'utf8');
  const tail = Buffer.from(suffix, 'utf8');
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
