import type { Readable } from 'node:stream';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { AttachmentInfo } from '../model';
import { attachmentKey, fileAttachment, jsonBlob, noteName, noteOf } from './attachmentPlan';
import { base64Blob } from './base64Blob';
import type { DeliveryJob } from './deliveryJob';
import { LENGTH_MISMATCH, SESSION_ENDED, SinkFailure, classify, failureOf, lengthMismatch, refusal, uploadFailure } from './graphFailures';
import type { PacedGraph } from './pacedGraph';

const CHUNK_BYTES = 4 * 1024 * 1024;

class AlreadyThere extends Error {}

/** Attachments after the create: POSTed when small, by upload session from 2 MiB, a note for what stays outside; none twice. */
export class AttachmentUpload {
  constructor(
    private readonly client: Client,
    private readonly graph: PacedGraph,
    private readonly fetchImpl: typeof fetch,
  ) {}

  async attachmentsOf(userId: string, messageId: string, signal?: AbortSignal): Promise<Set<string>> {
    return this.graph.call(userId, 0, signal, 'retry', async () => {
      const res = (await this.client.api(`/users/${userId}/messages/${messageId}/attachments`).select('name,size').get()) as { value: { name: string; size: number }[] };
      return new Set(res.value.map((a) => attachmentKey(a.name, a.size)));
    });
  }

  /** POSTs a small attachment; returns why it was refused for good, or undefined. */
  async postAttachment(job: DeliveryJob, messageId: string, a: AttachmentInfo, content: Blob, signal?: AbortSignal): Promise<string | undefined> {
    const body = jsonBlob([fileAttachment(a.name, a.contentType, content)]);
    let mayExist = false;
    try {
      await this.graph.retry.run(
        async () => {
          if (mayExist && (await this.attachmentsOf(job.userId, messageId, signal)).has(attachmentKey(a.name, a.size))) return;
          try {
            await this.graph.paced(job.userId, body.size, signal, () => this.client.api(`/users/${job.userId}/messages/${messageId}/attachments`).post(body));
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
  async uploadAttachment(job: DeliveryJob, messageId: string, a: AttachmentInfo, signal?: AbortSignal): Promise<string | undefined> {
    try {
      await this.graph.retry.run(
        async () => {
          const session = await this.graph.call(
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
        next = await this.graph.retry.run(
          () =>
            this.graph.paced(job.userId, end - start + 1, signal, async () => {
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

  async postNote(job: DeliveryJob, messageId: string, k: { attachment: AttachmentInfo; reason: string }, signal?: AbortSignal): Promise<void> {
    const note = noteOf(job.item, k);
    await this.postAttachment(job, messageId, { ...k.attachment, name: noteName(k.attachment), contentType: 'text/plain', size: note.length }, await base64Blob(note), signal);
  }
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
