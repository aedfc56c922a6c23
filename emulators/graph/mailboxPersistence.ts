import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Mailbox, SavedMailbox, MailboxStore, RawMime } from './mailboxStore';

const FORMAT = 1;
/** How often the store is looked at; a changed one is written once it has been quiet for a look, or has waited MAX_UNSAVED_MS. */
const LOOK_EVERY_MS = 2_000;
const MAX_UNSAVED_MS = 30_000;

interface MailboxFile {
  format: number;
  savedAt: string;
  userId: string;
  mailbox: SavedMailbox;
}

/**
 * Keeps the emulator's mailboxes in a data directory, as Azurite keeps storage under .local: what
 * the importer filed is still there after a restart, so a `--verify` then tells the truth.
 *
 * Kept: folders, messages with their extended properties (the idempotency keys), change logs
 * (delta queries continue), attachments (bytes up to the emulator's keep limit, as in memory),
 * and delivered MIME messages (each copied once into `mime/`, read from there after a restart).
 * Not kept: upload sessions in flight, delta tokens (a client whose token is unknown after a
 * restart starts over, as after Graph's own expiry), throttling state, faults and statistics.
 */
export class MailboxPersistence {
  private saved = '';
  private seen = '';
  private unsavedSince?: number;
  private timer?: NodeJS.Timeout;
  private saving: Promise<void> = Promise.resolve();
  private readonly mimeDir: string;
  private readonly mailboxDir: string;
  /** Each mailbox as last written: the object (a reset makes new ones) and its change count then. */
  private readonly written = new Map<string, { mailbox: Mailbox; changes: number }>();

  constructor(
    private readonly store: MailboxStore,
    dir: string,
  ) {
    this.mimeDir = path.join(dir, 'mime');
    this.mailboxDir = path.join(dir, 'mailboxes');
    fs.mkdirSync(this.mimeDir, { recursive: true });
    fs.mkdirSync(this.mailboxDir, { recursive: true });
  }

  /** Takes back the mailboxes saved before, for the users that still exist; how many it took. */
  load(): number {
    let taken = 0;
    for (const [userId, mailbox] of this.store.allMailboxes()) {
      const file = this.mailboxFile(userId);
      if (!fs.existsSync(file)) continue;
      const kept = JSON.parse(fs.readFileSync(file, 'utf8')) as MailboxFile;
      if (kept.format !== FORMAT) throw new Error(`${file} is in format ${kept.format}, not ${FORMAT}: delete it to start that mailbox empty`);
      mailbox.restoreSnapshot(kept.mailbox, (messageId, size) => this.keptMime(messageId, size));
      this.written.set(userId, { mailbox, changes: mailbox.changeCount() });
      taken++;
    }
    this.saved = this.store.changeCount();
    return taken;
  }

  /** Saves what changed, without writing the whole store every few seconds while a run is filing messages. */
  start(): void {
    this.timer = setInterval(() => {
      const now = this.store.changeCount();
      if (now === this.saved) return void (this.unsavedSince = undefined);
      this.unsavedSince ??= Date.now();
      const quiet = now === this.seen;
      this.seen = now;
      if (quiet || Date.now() - this.unsavedSince >= MAX_UNSAVED_MS) void this.save();
    }, LOOK_EVERY_MS);
    this.timer.unref();
  }

  /** Writes the store if it changed since the last write; one write at a time. */
  save(): Promise<void> {
    this.saving = this.saving.then(() => this.write()).catch((err: Error) => console.error(`graph emulator: could not save the mailboxes: ${err.message}`));
    return this.saving;
  }

  /** The last write, then no more. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.save();
  }

  /** Writes the mailboxes that changed since they were last written, one file each (a big tenant never becomes one huge string). */
  private async write(): Promise<void> {
    const changes = this.store.changeCount();
    if (changes === this.saved) return;
    for (const [userId, mailbox] of this.store.allMailboxes()) {
      const count = mailbox.changeCount();
      const last = this.written.get(userId);
      if (last?.mailbox === mailbox && last.changes === count) continue;
      for (const message of mailbox.listMessages()) if (message.mime) await this.keepMime(message.id, message.mime);
      const file = this.mailboxFile(userId);
      // Written beside and renamed over: a crash mid-write leaves the previous file whole.
      await fs.promises.writeFile(`${file}.tmp`, JSON.stringify({ format: FORMAT, savedAt: new Date().toISOString(), userId, mailbox: mailbox.toSnapshot() } satisfies MailboxFile));
      await fs.promises.rename(`${file}.tmp`, file);
      this.written.set(userId, { mailbox, changes: count });
    }
    this.saved = changes;
    this.unsavedSince = undefined;
  }

  private mailboxFile(userId: string): string {
    return path.join(this.mailboxDir, `${userId.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
  }

  private mimeFile(messageId: string): string {
    // Exchange ids are base64url-like: safe as file names once the few other characters are replaced.
    return path.join(this.mimeDir, `${messageId.replace(/[^A-Za-z0-9_-]/g, '_')}.eml`);
  }

  private async keepMime(messageId: string, mime: RawMime): Promise<void> {
    const file = this.mimeFile(messageId);
    if (fs.existsSync(file)) return;
    await pipeline(mime.stream(), fs.createWriteStream(`${file}.tmp`));
    await fs.promises.rename(`${file}.tmp`, file);
  }

  private keptMime(messageId: string, size: number): RawMime | undefined {
    const file = this.mimeFile(messageId);
    return fs.existsSync(file) ? { size, stream: () => fs.createReadStream(file) } : undefined;
  }
}
