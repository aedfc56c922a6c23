import type { Client } from '@microsoft/microsoft-graph-client';
import { RetryPolicy } from '../retryPolicy';
import { ArchiveFolders } from './archiveFolders';
import { attachmentKey, noteName, noteOf, planAttachments } from './attachmentPlan';
import { AttachmentUpload } from './attachmentUpload';
import type { AttachmentInfo } from '../model';
import type { DeliveryJob, DeliveryResult } from './deliveryJob';
import { failureOf, isPermanent, statusOf } from './graphFailures';
import { OUTLOOK_MAILBOX_LIMITS, type MailboxLimits, type MailboxUsage, type PacerStats } from './mailboxPacer';
import { MessageCreation } from './messageCreation';
import { PacedGraph, type PacingSummary } from './pacedGraph';

export type { AttachmentReader, DeliveryJob, DeliveryResult } from './deliveryJob';
export type { PacingSummary } from './pacedGraph';

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

/** Graph takes at most 20 requests in one $batch. */
const BATCH_SIZE = 20;

/**
 * Writes archive items into mailboxes through Microsoft Graph, exactly once per (item, mailbox):
 * the folder found or created once per mailbox (archiveFolders.ts), a non-draft message stamped
 * with its archive key (messageCreation.ts), attachments inline or by upload session, streamed
 * from the raw copy (attachmentUpload.ts). Every request goes through the mailbox's pacer and the
 * one retry policy (pacedGraph.ts); failures are read in graphFailures.ts.
 */
export class MailboxSink {
  private readonly users = new Map<string, Promise<ResolvedUser | undefined>>();
  private readonly graph: PacedGraph;
  private readonly folders: ArchiveFolders;
  private readonly messages: MessageCreation;
  private readonly attachments: AttachmentUpload;

  constructor(
    private readonly client: Client,
    options: MailboxSinkOptions,
  ) {
    this.graph = new PacedGraph(options.retry ?? new RetryPolicy(), options.limits ?? OUTLOOK_MAILBOX_LIMITS);
    this.folders = new ArchiveFolders(client, this.graph, options.folderName);
    this.messages = new MessageCreation(client, this.graph);
    this.attachments = new AttachmentUpload(client, this.graph, options.fetch ?? fetch);
  }

  /** The Microsoft 365 user behind an address, or undefined when there is none. Cached. */
  findUser(address: string, signal?: AbortSignal): Promise<ResolvedUser | undefined> {
    const key = address.toLowerCase();
    let found = this.users.get(key);
    if (!found) {
      found = this.graph.call(key, 0, signal, 'retry', async () => {
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
   * found. A user without an Exchange Online mailbox fails with ImporterError 'MailboxNotEnabled'.
   */
  ensureFolder(userId: string, signal?: AbortSignal): Promise<string> {
    return this.folders.ensure(userId, signal);
  }

  /** The archive folder's id when it exists; never creates it. */
  findFolder(userId: string, signal?: AbortSignal): Promise<string | undefined> {
    return this.folders.find(userId, signal);
  }

  /** Ids of the messages stamped with `archiveKey` in the folder: one when all is well. */
  messagesWithKey(userId: string, folderId: string, archiveKey: string, signal?: AbortSignal): Promise<string[]> {
    return this.messages.messagesWithKey(userId, folderId, archiveKey, signal);
  }

  async deliver(job: DeliveryJob, signal?: AbortSignal): Promise<DeliveryResult> {
    const plan = planAttachments(job.item.attachments);
    const keptOutside = [...plan.outside];
    try {
      const { id: messageId, recovered } = await this.messages.createOnce(job, plan, signal);
      const present = recovered ? await this.attachments.attachmentsOf(job.userId, messageId, signal) : new Set<string>();
      const missing = (list: AttachmentInfo[]) => list.filter((a) => !present.has(attachmentKey(a.name, a.size)));

      const posts = missing(plan.post);
      if (posts.length) {
        const encoded = await job.attachments.encoded(
          posts.map((a) => a.index),
          signal,
        );
        for (const a of posts) {
          const refused = await this.attachments.postAttachment(job, messageId, a, encoded.get(a.index)!, signal);
          if (refused) keptOutside.push({ attachment: a, reason: refused });
        }
      }
      for (const a of missing(plan.session)) {
        const refused = await this.attachments.uploadAttachment(job, messageId, a, signal);
        if (refused) keptOutside.push({ attachment: a, reason: refused });
      }
      const notes = keptOutside.filter((k) => !present.has(attachmentKey(noteName(k.attachment), noteOf(job.item, k).length)));
      for (const k of notes) await this.attachments.postNote(job, messageId, k, signal);
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
      const res = await this.graph.call(
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

  /** What a mailbox (by user id) used of Graph's windows, for the worker that writes it next (importer/scale/). */
  usageOf(userId: string): MailboxUsage {
    return this.graph.usageOf(userId);
  }

  /** Starts a mailbox's pacing from what the worker that wrote it last used. */
  assumeUsage(userId: string, usage: MailboxUsage): void {
    this.graph.assumeUsage(userId, usage);
  }

  /** Requests, upload bytes and 429s per mailbox, for the run's figures. */
  stats(): Map<string, PacerStats> {
    return this.graph.stats();
  }

  /** The run's Graph traffic in a few figures, and the mailbox whose limits bound the run. */
  pacingSummary(): PacingSummary {
    return this.graph.pacingSummary();
  }
}
