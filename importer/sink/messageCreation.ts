import type { Client } from '@microsoft/microsoft-graph-client';
import { fileAttachment, jsonBlob, type Plan } from './attachmentPlan';
import type { DeliveryJob } from './deliveryJob';
import { classify } from './graphFailures';
import { renderMessage } from './messageRenderer';
import { ARCHIVE_KEY_PROPERTY, CLIENT_SUBMIT_TIME, ITEM_ID_PROPERTY, MESSAGE_DELIVERY_TIME, MESSAGE_FLAGS, RAW_SHA256_PROPERTY } from './messageProperties';
import type { PacedGraph } from './pacedGraph';

/** The archived message, created once: stamped with its archive key, looked up by it before any repeat. */
export class MessageCreation {
  constructor(
    private readonly client: Client,
    private readonly graph: PacedGraph,
  ) {}

  /** Creates the message, or finds the one an earlier attempt made; never makes a second copy. */
  async createOnce(job: DeliveryJob, plan: Plan, signal?: AbortSignal): Promise<{ id: string; recovered: boolean }> {
    const encoded = plan.inline.length
      ? await job.attachments.encoded(
          plan.inline.map((a) => a.index),
          signal,
        )
      : new Map<number, Blob>();
    const body = this.createBody(job, plan, encoded);
    let mayExist = job.mayExist;
    return this.graph.retry.run(
      async () => {
        if (mayExist) {
          const [found] = await this.messagesWithKey(job.userId, job.folderId, job.archiveKey, signal);
          if (found) return { id: found, recovered: true };
        }
        try {
          const created = await this.graph.paced<{ id: string }>(job.userId, body.size, signal, () => this.client.api(`/users/${job.userId}/mailFolders/${job.folderId}/messages`).post(body));
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

  /** Ids of the messages stamped with `archiveKey` in the folder: one when all is well. */
  async messagesWithKey(userId: string, folderId: string, archiveKey: string, signal?: AbortSignal): Promise<string[]> {
    return this.graph.call(userId, 0, signal, 'retry', async () => {
      const res = (await this.client
        .api(`/users/${userId}/mailFolders/${folderId}/messages`)
        .filter(`singleValueExtendedProperties/Any(ep: ep/id eq '${ARCHIVE_KEY_PROPERTY}' and ep/value eq '${archiveKey}')`)
        .select('id')
        .top(10)
        .get()) as { value: { id: string }[] };
      return res.value.map((m) => m.id);
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
}
