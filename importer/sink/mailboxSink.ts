import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Client } from '@microsoft/microsoft-graph-client';
import { ImporterError } from '../errors';
import type { ArchiveItem, AttachmentInfo } from '../model';
import { RetryPolicy, parseRetryAfter, type FailureClass } from '../retryPolicy';
import { MailboxPacer, OUTLOOK_MAILBOX_LIMITS, type MailboxLimits, type PacerStats } from './mailboxPacer';
import { renderMessage, size as formatSize } from './messageRenderer';
import { base64Blob } from './base64Blob';
import { throttleKindOf } from './throttleMessages';

/** Our named MAPI properties: the idempotency key and the provenance of every archived message. */
export const PROPERTY_SET = '{6f1c4e0b-2a7d-4c35-9e8f-3b5a1d7c9e21}';
export const ARCHIVE_KEY_PROPERTY = `String ${PROPERTY_SET} Name ArchiveKey`;
export const ITEM_ID_PROPERTY = `String ${PROPERTY_SET} Name ArchiveItemId`;
export const RAW_SHA256_PROPERTY = `String ${PROPERTY_SET} Name RawSha256`;
export const MESSAGE_FLAGS = 'Integer 0x0E07';
export const CLIENT_SUBMIT_TIME = 'SystemTime 0x0039';
export const MESSAGE_DELIVERY_TIME = 'SystemTime 0x0E06';

const MB = 1024 * 1024;
/**
 * Graph documents 3 MB as the point where upload sessions start; Outlook in fact takes sessions
 * from 2 MiB and refuses smaller ones. From 2 MiB on, then, an attachment goes by session, so none
 * falls between a 4 MB request (about 2.9 MB of bytes once base64) and the session minimum.
 */
export const SESSION_MIN_BYTES = 2 * MB;
/** Exchange's ceiling for a message, which it counts with attachments base64-encoded: about 112 MB of attachment. */
const MAX_MESSAGE_BYTES = 150 * MB;
const base64Size = (bytes: number) => Math.ceil(bytes / 3) * 4;
/** Graph refuses request bodies over 4 MB; a little is kept for the JSON around the content. */
const REQUEST_BUDGET_BYTES = 4 * MB - 64 * 1024;
const CHUNK_BYTES = 4 * MB;
const LENGTH_MISMATCH = 'AttachmentLengthMismatch';
/** An upload session that cannot be continued: the attachment is checked for, then a new session started. */
const SESSION_ENDED = 'UploadSessionEnded';
/** Graph takes at most 20 requests in one $batch. */
const BATCH_SIZE = 20;

/** SHA-256(item id + mailbox): the same item into the same mailbox always has the same key. */
export function archiveKeyOf(itemId: string, mailbox: string): string {
  return createHash('sha256').update(`${itemId}\n${mailbox.toLowerCase()}`).digest('hex');
}

/** Where the sink reads an item's attachment bytes from (the raw copy in Blob Storage). */
export interface AttachmentReader {
  /** Small attachments' content in base64, for POST bodies: one encoding shared by the item's deliveries. */
  encoded(indexes: readonly number[], signal?: AbortSignal): Promise<Map<number, Blob>>;
  /** One attachment's decoded bytes as a stream, for upload sessions. */
  open(index: number, signal?: AbortSignal): Promise<Readable>;
}

export interface DeliveryJob {
  item: ArchiveItem;
  mailbox: string;
  userId: string;
  folderId: string;
  archiveKey: string;
  /** An earlier attempt may have created the message: look it up before creating. */
  mayExist: boolean;
  attachments: AttachmentReader;
}

export interface DeliveryResult {
  outcome: 'imported' | 'partial' | 'failed';
  /** For failures: retrying will not help. */
  permanent: boolean;
  messageId?: string;
  /** Found already in the mailbox (an earlier, unrecorded attempt made it). */
  recovered: boolean;
  reason?: string;
  /** Attachments that stay only in Blob Storage, with why. */
  keptOutside: { attachment: AttachmentInfo; reason: string }[];
}

export interface MailboxSinkOptions {
  folderName: string;
  limits?: MailboxLimits;
  retry?: RetryPolicy;
  fetch?: typeof fetch;
}

export interface ResolvedUser {
  id: string;
  userPrincipalName: string;
}

export interface PacingSummary {
  /** Mailboxes (and directory lookups) the sink paced. */
  mailboxes: number;
  /** Requests sent, 429s among them, and bytes uploaded, over all mailboxes. */
  requests: number;
  throttled: number;
  uploadBytes: number;
  /** Requests the service accepted and bytes uploaded for the mailbox that bounds the run. */
  busiest?: { mailbox: string; requests: number; uploadBytes: number; throttled: number; lowerBoundMs: number };
}

type Plan = { inline: AttachmentInfo[]; post: AttachmentInfo[]; session: AttachmentInfo[]; outside: { attachment: AttachmentInfo; reason: string }[] };

/** A Graph failure reduced to what the sink decides on. */
interface Failure {
  status: number;
  code: string;
  retryAfterMs?: number;
}

class SinkFailure extends Error {
  constructor(
    readonly failure: Failure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Writes archive items into mailboxes through Microsoft Graph, exactly once per (item, mailbox):
 * the folder found or created once per mailbox, a non-draft message stamped with its archive
 * key, attachments inline or by upload session, streamed from the raw copy. Every request goes
 * through the mailbox's pacer and the one retry policy.
 */
export class MailboxSink {
  private readonly pacers = new Map<string, MailboxPacer>();
  private readonly users = new Map<string, Promise<ResolvedUser | undefined>>();
  private readonly folders = new Map<string, Promise<string>>();
  private readonly retry: RetryPolicy;
  private readonly limits: MailboxLimits;
  private readonly fetchImpl: typeof fetch;

  constructor(
    private readonly client: Client,
    private readonly options: MailboxSinkOptions,
  ) {
    this.retry = options.retry ?? new RetryPolicy();
    this.limits = options.limits ?? OUTLOOK_MAILBOX_LIMITS;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The Microsoft 365 user behind an address, or undefined when there is none. Cached. */
  findUser(address: string, signal?: AbortSignal): Promise<ResolvedUser | undefined> {
    const key = address.toLowerCase();
    let found = this.users.get(key);
    if (!found) {
      found = this.call(key, 0, signal, 'retry', async () => {
        try {
          return (await this.client
            .api(`/users/${encodeURIComponent(key)}`)
            .select('id,userPrincipalName')
            .get()) as ResolvedUser;
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
        }
        // Not a user principal name: it may still be a user's primary email address.
        const byMail = (await this.client
          .api('/users')
          .filter(`mail eq '${key.replace(/'/g, "''")}'`)
          .select('id,userPrincipalName')
          .get()) as { value: ResolvedUser[] };
        return byMail.value[0];
      });
      this.users.set(key, found);
      found.catch(() => this.users.delete(key));
    }
    return found;
  }

  /**
   * The archive folder's id in a mailbox: found, else created, else (someone else just created it)
   * found. A user without an Exchange Online mailbox fails with ImporterError 'MailboxNotEnabled',
   * remembered for the run: asking again would get the same answer.
   */
  ensureFolder(userId: string, signal?: AbortSignal): Promise<string> {
    let folder = this.folders.get(userId);
    if (!folder) {
      folder = this.findOrCreateFolder(userId, signal).catch((err: unknown) => {
        throw mailboxNotEnabled(err) ?? err;
      });
      this.folders.set(userId, folder);
      folder.catch((err: unknown) => {
        if (!(err instanceof ImporterError && err.code === 'MailboxNotEnabled')) this.folders.delete(userId);
      });
    }
    return folder;
  }

  async deliver(job: DeliveryJob, signal?: AbortSignal): Promise<DeliveryResult> {
    const plan = planAttachments(job.item.attachments);
    const keptOutside = [...plan.outside];
    try {
      const { id: messageId, recovered } = await this.createOnce(job, plan, signal);
      const present = recovered ? await this.attachmentsOf(job.userId, messageId, signal) : new Set<string>();
      const missing = (list: AttachmentInfo[]) => list.filter((a) => !present.has(attachmentKey(a.name, a.size)));

      const posts = missing(plan.post);
      if (posts.length) {
        const encoded = await job.attachments.encoded(
          posts.map((a) => a.index),
          signal,
        );
        for (const a of posts) {
          const refused = await this.postAttachment(job, messageId, a, encoded.get(a.index)!, signal);
          if (refused) keptOutside.push({ attachment: a, reason: refused });
        }
      }
      for (const a of missing(plan.session)) {
        const refused = await this.uploadAttachment(job, messageId, a, signal);
        if (refused) keptOutside.push({ attachment: a, reason: refused });
      }
      const notes = keptOutside.filter((k) => !present.has(attachmentKey(noteName(k.attachment), noteOf(job.item, k).length)));
      for (const k of notes) await this.postNote(job, messageId, k, signal);
      return {
        outcome: keptOutside.length ? 'partial' : 'imported',
        permanent: false,
        messageId,
        recovered,
        keptOutside,
        reason: keptOutside.length ? keptOutside.map((k) => `${k.attachment.name}: ${k.reason}`).join('; ') : undefined,
      };
    } catch (err) {
      if (signal?.aborted) throw err;
      const failure = failureOf(err);
      return {
        outcome: 'failed',
        permanent: isPermanent(failure),
        recovered: false,
        keptOutside,
        reason: `${failure.code || 'Error'} (${failure.status || 'no response'}): ${(err as Error).message}`.slice(0, 500),
      };
    }
  }

  /**
   * Looks many addresses up 20 to a `$batch`, to fill the user cache in a few round trips. Each
   * inner request still counts toward Graph's limits; one that fails (throttled, say) is left to
   * findUser, which asks again on its own.
   */
  async prefetchUsers(addresses: Iterable<string>, signal?: AbortSignal): Promise<void> {
    const wanted = [...new Set([...addresses].map((a) => a.toLowerCase()))].filter((a) => !this.users.has(a));
    for (let i = 0; i < wanted.length; i += BATCH_SIZE) {
      const slice = wanted.slice(i, i + BATCH_SIZE);
      const requests = slice.map((address, n) => ({ id: String(n), method: 'GET', url: `/users/${encodeURIComponent(address)}?$select=id,userPrincipalName` }));
      const text = JSON.stringify({ requests });
      const res = await this.call(
        '$batch',
        Buffer.byteLength(text),
        signal,
        'retry',
        () => this.client.api('/$batch').post(text) as Promise<{ responses: { id: string; status: number; body?: ResolvedUser }[] }>,
      );
      for (const r of res.responses) {
        const address = slice[Number(r.id)];
        if (r.status === 200 && r.body?.id) this.users.set(address, Promise.resolve({ id: r.body.id, userPrincipalName: r.body.userPrincipalName }));
      }
    }
  }

  /** Requests, upload bytes and 429s per mailbox, for the run's figures. */
  stats(): Map<string, PacerStats> {
    return new Map([...this.pacers].map(([k, p]) => [k, p.stats]));
  }

  /**
   * The run's Graph traffic in a few figures, and the mailbox whose limits bound the run: it
   * cannot end before that mailbox's requests and upload bytes fit through its windows.
   */
  pacingSummary(): PacingSummary {
    const summary: PacingSummary = { mailboxes: 0, requests: 0, throttled: 0, uploadBytes: 0 };
    const perRequestMs = this.limits.requestWindowMs / this.limits.requestsPerWindow;
    const perByteMs = this.limits.uploadWindowMs / this.limits.uploadBytesPerWindow;
    for (const [mailbox, { stats: s }] of this.pacers) {
      const throttled = Object.values(s.throttled).reduce((a, b) => a + b, 0);
      summary.mailboxes++;
      summary.requests += s.requests;
      summary.throttled += throttled;
      summary.uploadBytes += s.uploadBytes;
      // Requests the service turned away with a 429 used none of its window.
      const accepted = s.requests - throttled;
      const lowerBoundMs = Math.max(accepted * perRequestMs, s.uploadBytes * perByteMs);
      if (!summary.busiest || lowerBoundMs > summary.busiest.lowerBoundMs) summary.busiest = { mailbox, requests: accepted, uploadBytes: s.uploadBytes, throttled, lowerBoundMs };
    }
    return summary;
  }

  private async findOrCreateFolder(userId: string, signal?: AbortSignal): Promise<string> {
    const name = this.options.folderName;
    const find = () => this.findFolder(userId, signal);
    const existing = await find();
    if (existing) return existing;
    try {
      // Creating a folder twice is harmless: the second answers ErrorFolderExists.
      const created = await this.call(userId, 64, signal, 'retry-unknown', () => this.client.api(`/users/${userId}/mailFolders`).post({ displayName: name }) as Promise<{ id: string }>);
      return created.id;
    } catch (err) {
      if (failureOf(err).code !== 'ErrorFolderExists') throw err;
      const raced = await find();
      if (!raced) throw err;
      return raced;
    }
  }

  private async folderNamed(userId: string): Promise<string | undefined> {
    // A hidden folder still holds its name (creating it again answers ErrorFolderExists): ask for hidden ones too.
    const res = (await this.client
      .api(`/users/${userId}/mailFolders`)
      .query({ includeHiddenFolders: 'true' })
      .filter(`displayName eq '${this.options.folderName.replace(/'/g, "''")}'`)
      .select('id,displayName')
      .get()) as { value: { id: string }[] };
    return res.value[0]?.id;
  }

  /** Creates the message, or finds the one an earlier attempt made; never makes a second copy. */
  private async createOnce(job: DeliveryJob, plan: Plan, signal?: AbortSignal): Promise<{ id: string; recovered: boolean }> {
    const encoded = plan.inline.length
      ? await job.attachments.encoded(
          plan.inline.map((a) => a.index),
          signal,
        )
      : new Map<number, Blob>();
    const body = this.createBody(job, plan, encoded);
    let mayExist = job.mayExist;
    return this.retry.run(
      async () => {
        if (mayExist) {
          const found = await this.findByKey(job, signal);
          if (found) return { id: found, recovered: true };
        }
        try {
          const created = await this.paced<{ id: string }>(job.userId, body.size, signal, () => this.client.api(`/users/${job.userId}/mailFolders/${job.folderId}/messages`).post(body));
          return { id: created.id, recovered: false };
        } catch (err) {
          // A create whose answer was lost may have happened: check before trying again.
          if (classify(err, 'retry-unknown').kind === 'unknown') mayExist = true;
          throw err;
        }
      },
      (err) => classify(err, 'retry-unknown'),
      { abortSignal: signal },
    );
  }

  private async findByKey(job: DeliveryJob, signal?: AbortSignal): Promise<string | undefined> {
    return (await this.messagesWithKey(job.userId, job.folderId, job.archiveKey, signal))[0];
  }

  /** Ids of the messages stamped with `archiveKey` in the folder: one when all is well. */
  async messagesWithKey(userId: string, folderId: string, archiveKey: string, signal?: AbortSignal): Promise<string[]> {
    return this.call(userId, 0, signal, 'retry', async () => {
      const res = (await this.client
        .api(`/users/${userId}/mailFolders/${folderId}/messages`)
        .filter(`singleValueExtendedProperties/Any(ep: ep/id eq '${ARCHIVE_KEY_PROPERTY}' and ep/value eq '${archiveKey}')`)
        .select('id')
        .top(10)
        .get()) as { value: { id: string }[] };
      return res.value.map((m) => m.id);
    });
  }

  /** The archive folder's id when it exists; never creates it. */
  async findFolder(userId: string, signal?: AbortSignal): Promise<string | undefined> {
    return this.call(userId, 0, signal, 'retry', () => this.folderNamed(userId));
  }

  private async attachmentsOf(userId: string, messageId: string, signal?: AbortSignal): Promise<Set<string>> {
    return this.call(userId, 0, signal, 'retry', async () => {
      const res = (await this.client.api(`/users/${userId}/messages/${messageId}/attachments`).select('name,size').get()) as { value: { name: string; size: number }[] };
      return new Set(res.value.map((a) => attachmentKey(a.name, a.size)));
    });
  }

  /** The message's JSON, its attachments' shared encodings spliced in rather than copied. */
  private createBody(job: DeliveryJob, plan: Plan, encoded: Map<number, Blob>): Blob {
    const { item } = job;
    const rendered = renderMessage(item, { keptOutside: new Set(plan.outside.map((o) => o.attachment.index)) });
    const message = {
      subject: rendered.subject,
      body: { contentType: 'html', content: rendered.html },
      from: rendered.from,
      sender: rendered.from,
      toRecipients: rendered.to,
      ccRecipients: rendered.cc,
      isRead: true,
      singleValueExtendedProperties: [
        // Set at create, or the message is a draft for ever: 1 = read, not unsent.
        { id: MESSAGE_FLAGS, value: '1' },
        { id: CLIENT_SUBMIT_TIME, value: item.at.toISOString() },
        { id: MESSAGE_DELIVERY_TIME, value: item.at.toISOString() },
        { id: ARCHIVE_KEY_PROPERTY, value: job.archiveKey },
        { id: ITEM_ID_PROPERTY, value: item.id },
        { id: RAW_SHA256_PROPERTY, value: item.raw.sha256 },
      ],
    };
    const attachments = plan.inline.flatMap((a, i) => [...(i ? [','] : []), fileAttachment(a.name, a.contentType, encoded.get(a.index)!)]);
    return jsonBlob([JSON.stringify(message).slice(0, -1), ',"attachments":[', ...attachments, ']}']);
  }

  /** POSTs a small attachment; returns why it was refused for good, or undefined. */
  private async postAttachment(job: DeliveryJob, messageId: string, a: AttachmentInfo, content: Blob, signal?: AbortSignal): Promise<string | undefined> {
    const body = jsonBlob([fileAttachment(a.name, a.contentType, content)]);
    let mayExist = false;
    try {
      await this.retry.run(
        async () => {
          if (mayExist && (await this.attachmentsOf(job.userId, messageId, signal)).has(attachmentKey(a.name, a.size))) return;
          try {
            await this.paced(job.userId, body.size, signal, () => this.client.api(`/users/${job.userId}/messages/${messageId}/attachments`).post(body));
          } catch (err) {
            if (classify(err, 'retry-unknown').kind === 'unknown') mayExist = true;
            throw err;
          }
        },
        (err) => classify(err, 'retry-unknown'),
        { abortSignal: signal },
      );
      return undefined;
    } catch (err) {
      return refusal(err);
    }
  }

  /**
   * Streams one attachment from the raw copy through an upload session in 4 MB ranges. A range
   * whose answer was lost is sent once more, from where the last answer seen (nextExpectedRanges)
   * said to go on. A session that still cannot go on (refused that range, a 401 or 404 once it
   * expired or ended) is given up for a new one from byte 0, but only after the message is checked
   * for the attachment: Outlook makes it when the last range lands, so a finished upload is never
   * made twice. Nothing here reads a session back (a GET on the upload URL is not documented).
   */
  private async uploadAttachment(job: DeliveryJob, messageId: string, a: AttachmentInfo, signal?: AbortSignal): Promise<string | undefined> {
    try {
      await this.retry.run(
        async () => {
          const session = await this.call(
            job.userId,
            256,
            signal,
            'retry-unknown',
            () =>
              this.client.api(`/users/${job.userId}/messages/${messageId}/attachments/createUploadSession`).post({
                AttachmentItem: { attachmentType: 'file', name: a.name, size: a.size, contentType: a.contentType },
              }) as Promise<{ uploadUrl: string }>,
          );
          await this.putRanges(job, session.uploadUrl, a, signal);
        },
        (err) => {
          if (failureOf(err).code === SESSION_ENDED) return { kind: 'retry' };
          const c = classify(err, 'retry-unknown');
          return c.kind === 'unknown' ? { kind: 'retry', retryAfterMs: c.retryAfterMs } : c;
        },
        {
          abortSignal: signal,
          onRetry: async () => {
            if ((await this.attachmentsOf(job.userId, messageId, signal)).has(attachmentKey(a.name, a.size))) throw new AlreadyThere();
          },
        },
      );
      return undefined;
    } catch (err) {
      if (err instanceof AlreadyThere) return undefined;
      return refusal(err);
    }
  }

  /** PUTs the ranges in order, each where the session's last answer (nextExpectedRanges) said the next one begins. */
  private async putRanges(job: DeliveryJob, uploadUrl: string, a: AttachmentInfo, signal?: AbortSignal): Promise<void> {
    const stream = await job.attachments.open(a.index, signal);
    const ranges = chunks(stream, CHUNK_BYTES)[Symbol.asyncIterator]();
    try {
      for (let next = 0; next < a.size;) {
        const start = next;
        const end = Math.min(start + CHUNK_BYTES, a.size) - 1;
        let chunk: Buffer | undefined;
        let resent = false;
        next = await this.retry.run(
          () =>
            this.paced(job.userId, end - start + 1, signal, async () => {
              // Read once the mailbox can take it: a range waiting for its turn holds no memory.
              chunk ??= await nextRange(ranges, end - start + 1, a);
              const res = await this.fetchImpl(uploadUrl, {
                method: 'PUT',
                headers: { 'content-range': `bytes ${start}-${end}/${a.size}`, 'content-length': String(chunk.length), 'content-type': 'application/octet-stream' },
                // A view of the range, not a copy (Buffer.concat made it on an ArrayBuffer of its own).
                body: chunk as Uint8Array<ArrayBuffer>,
                signal,
              });
              if (res.status >= 400) throw await uploadFailure(res);
              if (res.status === 201) {
                await res.arrayBuffer();
                return a.size;
              }
              const state = (await res.json().catch(() => ({}))) as { nextExpectedRanges?: string[] };
              return Number.parseInt(state.nextExpectedRanges?.[0] ?? String(end + 1), 10);
            }),
          (err) => {
            const f = failureOf(err);
            // A 429 changed nothing. A lost answer or a 5xx may have: the range goes once more, and
            // if it did land the session refuses it (out of order, or ended) and is given up.
            if (f.status === 429) return { kind: 'retry', retryAfterMs: 0 };
            if (f.code !== SESSION_ENDED && f.code !== LENGTH_MISMATCH && (f.status === 0 || f.status >= 500) && !resent && !signal?.aborted) {
              resent = true;
              return { kind: 'retry', retryAfterMs: f.retryAfterMs };
            }
            return { kind: 'fatal' };
          },
          { abortSignal: signal },
        );
        // The ranges stream from the raw copy and cannot go back: a session out of step is started again.
        if (next !== end + 1 && next < a.size) throw new SinkFailure({ status: 0, code: SESSION_ENDED }, `The upload session for "${a.name}" expects byte ${next}, not ${end + 1}.`);
      }
      if (!(await ranges.next()).done) throw lengthMismatch(a);
    } finally {
      stream.destroy();
    }
  }

  private async postNote(job: DeliveryJob, messageId: string, k: { attachment: AttachmentInfo; reason: string }, signal?: AbortSignal): Promise<void> {
    const note = noteOf(job.item, k);
    await this.postAttachment(job, messageId, { ...k.attachment, name: noteName(k.attachment), contentType: 'text/plain', size: note.length }, await base64Blob(note), signal);
  }

  /** One Graph call through the mailbox's pacer and the retry policy. */
  private call<T>(mailbox: string, bytes: number, signal: AbortSignal | undefined, mode: 'retry' | 'retry-unknown', op: () => Promise<T>): Promise<T> {
    return this.retry.run(
      () => this.paced(mailbox, bytes, signal, op),
      (err) => classify(err, mode),
      { abortSignal: signal },
    );
  }

  private async paced<T>(mailbox: string, bytes: number, signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
    const pacer = this.pacerFor(mailbox);
    const release = await pacer.acquire(bytes, signal);
    try {
      const result = await op();
      pacer.succeeded();
      return result;
    } catch (err) {
      const f = failureOf(err);
      if (f.status === 429) pacer.throttled(throttleKindOf(String((err as Error).message ?? '')), f.retryAfterMs ?? 1000);
      throw err;
    } finally {
      release();
    }
  }

  private pacerFor(mailbox: string): MailboxPacer {
    let pacer = this.pacers.get(mailbox);
    if (!pacer) {
      pacer = new MailboxPacer(this.limits);
      this.pacers.set(mailbox, pacer);
    }
    return pacer;
  }
}

class AlreadyThere extends Error {}

function planAttachments(attachments: readonly AttachmentInfo[]): Plan {
  const plan: Plan = { inline: [], post: [], session: [], outside: [] };
  let budget = REQUEST_BUDGET_BYTES - 256 * 1024; // room for the body and recipients
  for (const a of [...attachments].sort((x, y) => x.size - y.size)) {
    const encoded = Math.ceil(a.size / 3) * 4 + 1024;
    if (base64Size(a.size) > MAX_MESSAGE_BYTES) {
      plan.outside.push({ attachment: a, reason: `larger than the ${MAX_MESSAGE_BYTES / MB} MB Exchange Online accepts in a message, once base64-encoded as it counts attachments` });
    } else if (a.size >= SESSION_MIN_BYTES) {
      plan.session.push(a);
    } else if (encoded <= budget) {
      plan.inline.push(a);
      budget -= encoded;
    } else {
      // Under 2 MiB its base64 always fits a request of its own.
      plan.post.push(a);
    }
  }
  const byIndex = (x: AttachmentInfo, y: AttachmentInfo) => x.index - y.index;
  plan.inline.sort(byIndex);
  plan.post.sort(byIndex);
  plan.session.sort(byIndex);
  return plan;
}

/** A fileAttachment's JSON around its base64 content (which needs no escaping in a JSON string). */
function fileAttachment(name: string, contentType: string, content: Blob): Blob {
  const empty = JSON.stringify({ '@odata.type': '#microsoft.graph.fileAttachment', name, contentType, contentBytes: '' });
  // `…"contentBytes":""}` split between its quotes.
  return new Blob([empty.slice(0, -2), content, empty.slice(-2)]);
}

function jsonBlob(parts: BlobPart[]): Blob {
  return new Blob(parts, { type: 'application/json' });
}

function attachmentKey(name: string, size: number): string {
  return `${name}\u0000${size}`;
}

function noteName(a: AttachmentInfo): string {
  return `${a.name} (not attached).txt`;
}

function noteOf(item: ArchiveItem, k: { attachment: AttachmentInfo; reason: string }): Buffer {
  const a = k.attachment;
  return Buffer.from(
    [
      `The attachment "${a.name}" of this archived item is not attached to this message: ${k.reason}.`,
      "It is kept, unaltered, in the archive's raw item storage.",
      '',
      `Name: ${a.name}`,
      `Type: ${a.contentType}`,
      `Size: ${a.size} bytes (${formatSize(a.size)})`,
      `SHA-256: ${a.sha256}`,
      `Archive item: ${item.id}`,
      `Raw item SHA-256: ${item.raw.sha256}`,
      '',
    ].join('\r\n'),
    'utf8',
  );
}

async function* chunks(stream: Readable, size: number): AsyncIterable<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const piece of stream) {
    let buf = piece as Buffer;
    while (buf.length) {
      const take = Math.min(size - length, buf.length);
      pending.push(buf.subarray(0, take));
      length += take;
      buf = buf.subarray(take);
      if (length === size) {
        yield Buffer.concat(pending);
        pending = [];
        length = 0;
      }
    }
  }
  if (length) yield Buffer.concat(pending);
}

/** The next range of an attachment from its raw copy, which must be exactly as long as the item said. */
async function nextRange(ranges: AsyncIterator<Buffer>, length: number, a: AttachmentInfo): Promise<Buffer> {
  const next = await ranges.next();
  if (next.done || next.value.length !== length) throw lengthMismatch(a);
  return next.value;
}

function lengthMismatch(a: AttachmentInfo): SinkFailure {
  return new SinkFailure({ status: 0, code: LENGTH_MISMATCH }, `The raw copy of "${a.name}" is not the ${a.size} bytes the item said.`);
}

async function httpFailure(res: Response): Promise<SinkFailure> {
  let code = '';
  let message = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? '';
    message = body.error?.message ?? message;
  } catch {
    // Not JSON: the status says enough.
  }
  return new SinkFailure({ status: res.status, code, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) }, message);
}

/**
 * A refused range. On the upload URL a 401 or 404 means the session is gone (it expired, or it
 * ended), and a 416 that it is not where we are: none of them is mended by sending the range again.
 */
async function uploadFailure(res: Response): Promise<SinkFailure> {
  const failure = await httpFailure(res);
  if (res.status !== 401 && res.status !== 404 && res.status !== 416) return failure;
  // Status 0: not the message's refusal, so never kept outside for it; the delivery is retried.
  return new SinkFailure({ ...failure.failure, status: 0, code: SESSION_ENDED }, `The upload session ended (${res.status} ${failure.failure.code}): ${failure.message}`);
}

/** Graph's answer for a directory user whose mailbox is not in Exchange Online (none, on-premises, soft-deleted). */
export const MAILBOX_NOT_ENABLED = 'MailboxNotEnabledForRESTAPI';

function mailboxNotEnabled(err: unknown): ImporterError | undefined {
  const f = failureOf(err);
  if (f.code !== MAILBOX_NOT_ENABLED) return undefined;
  return new ImporterError('MailboxNotEnabled', `no Exchange Online mailbox: Microsoft Graph answered ${f.status} ${f.code} (${(err as Error).message})`);
}

function statusOf(err: unknown): number {
  return failureOf(err).status;
}

function failureOf(err: unknown): Failure {
  if (err instanceof SinkFailure) return err.failure;
  const e = err as { statusCode?: number; code?: string; headers?: Headers | Record<string, string> };
  const headers = e.headers;
  const retryAfter = headers && (typeof (headers as Headers).get === 'function' ? (headers as Headers).get('retry-after') : (headers as Record<string, string>)['retry-after']);
  return { status: typeof e.statusCode === 'number' && e.statusCode > 0 ? e.statusCode : 0, code: typeof e.code === 'string' ? e.code : '', retryAfterMs: parseRetryAfter(retryAfter) };
}

/**
 * 429 and a refused connection never applied anything: repeat. A lost answer, a timeout or a 5xx
 * may have applied the request: `retry-unknown` callers check before repeating.
 */
function classify(err: unknown, mode: 'retry' | 'retry-unknown'): FailureClass {
  const f = failureOf(err);
  // The raw copy disagrees with the parsed item: no attempt will change that.
  if (f.code === LENGTH_MISMATCH) return { kind: 'fatal' };
  if (f.status === 429) return { kind: 'retry', retryAfterMs: 0 };
  if (f.status === 0 || f.status >= 500) {
    if ((err as { name?: string }).name === 'AbortError') return { kind: 'fatal' };
    return mode === 'retry-unknown' ? { kind: 'unknown', retryAfterMs: f.retryAfterMs } : { kind: 'retry', retryAfterMs: f.retryAfterMs };
  }
  if (f.status === 401) return { kind: 'retry' }; // a token that just expired; the credential renews it
  return { kind: 'fatal' };
}

function isPermanent(f: Failure): boolean {
  return f.status >= 400 && f.status < 500 && f.status !== 429 && f.status !== 401 && f.status !== 408;
}

/** Why the mailbox will not take an attachment for good, or rethrows what retrying may mend. */
function refusal(err: unknown): string {
  const f = failureOf(err);
  if (f.code === 'ErrorMessageSizeExceeded' || f.status === 413) return 'the mailbox refused it: the message would exceed its maximum size';
  if (isPermanent(f)) return `Microsoft Graph refused it (${f.code || f.status})`;
  throw err;
}
