import { Readable } from 'node:stream';
import { openAttachment } from '../parse/attachmentStream';
import { walkMime } from '../parse/mimeWalk';
import { ImporterError } from '../errors';
import type { RawStore } from '../stage/rawStore';
import type { AttachmentReader } from '../sink/mailboxSink';
import { base64Blob } from '../sink/base64Blob';

/**
 * An item's attachment bytes, read from its raw copy: from memory when staging kept a small item
 * there, else streamed from Blob Storage. Small ones are read in one pass over the item, encoded
 * once and shared by all its deliveries; large ones stream afresh for each upload.
 */
export function attachmentReader(raw: RawStore, sha256: string, bytes?: Buffer): AttachmentReader {
  let held = bytes;
  const reopen = async (signal?: AbortSignal): Promise<Readable> => (held ? Readable.from([held]) : raw.open(sha256, { abortSignal: signal }));
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
    // Every delivery of the item asks for the same ones: the raw bytes have served their purpose.
    held = undefined;
    return found;
  };

  return {
    encoded: async (indexes, signal) => {
      const toRead = indexes.filter((i) => !small.has(i));
      if (toRead.length) {
        const pass = readSome(toRead, signal);
        for (const i of toRead) {
          const one = pass.then((m) => m.get(i)!);
          small.set(i, one);
          one.catch(() => small.delete(i));
        }
      }
      return new Map(await Promise.all(indexes.map(async (i) => [i, await small.get(i)!] as const)));
    },
    open: async (index, signal): Promise<Readable> => (await openAttachment(await reopen(signal), index)).stream,
  };
}
