import { Readable } from 'node:stream';
import { openAttachment } from '../parse/attachmentStream';
import { walkMime } from '../parse/mimeWalk';
import { ImporterError } from '../errors';
import type { RawStore } from '../stage/rawStore';
import type { AttachmentReader } from '../sink/mailboxSink';
import { base64Blob } from '../sink/base64Blob';

/**
 * An item's attachment bytes. An item small enough to be held in memory had its attachments kept
 * as it was parsed (`decoded`), so they are never parsed out of it again; a larger one's are
 * read from its raw copy in Blob Storage. Small ones are encoded once and shared by all the
 * item's deliveries; large ones stream afresh for each upload.
 */
export function attachmentReader(raw: RawStore, sha256: string, decoded?: ReadonlyMap<number, Buffer>): AttachmentReader {
  const reopen = async (signal?: AbortSignal): Promise<Readable> => raw.open(sha256, { abortSignal: signal });
  const small = new Map<number, Promise<Blob>>();

  /** One walk over the item collects every attachment asked for. */
  const readSome = async (indexes: readonly number[], signal?: AbortSignal): Promise<Map<number, Blob>> => {
    const wanted = new Set(indexes);
    const found = new Map<number, Blob>();
    await walkMime(await reopen(signal), async (attachment, at) => {
      if (wanted.has(at)) found.set(at, await base64Blob(attachment.content as AsyncIterable<Buffer>));
      else for await (const _ of attachment.content); // skipped: the parser moves on only once it is read
      return found.size === wanted.size ? 'stop' : 'next';
    });
    const missing = indexes.find((i) => !found.has(i));
    if (missing !== undefined) throw new ImporterError('NotFound', `The item has no attachment ${missing}.`);
    return found;
  };

  return {
    encoded: async (indexes, signal) => {
      const toRead = indexes.filter((i) => !small.has(i));
      for (const i of toRead.filter((i) => decoded?.has(i))) small.set(i, base64Blob(decoded!.get(i)!));
      const toWalk = toRead.filter((i) => !small.has(i));
      if (toWalk.length) {
        const pass = readSome(toWalk, signal);
        for (const i of toWalk) {
          const one = pass.then((m) => m.get(i)!);
          small.set(i, one);
          one.catch(() => small.delete(i));
        }
      }
      return new Map(await Promise.all(indexes.map(async (i) => [i, await small.get(i)!] as const)));
    },
    open: async (index, signal): Promise<Readable> => {
      const kept = decoded?.get(index);
      return kept ? Readable.from([kept]) : (await openAttachment(await reopen(signal), index)).stream;
    },
  };
}
