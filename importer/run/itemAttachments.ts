import type { Readable } from 'node:stream';
import { openAttachment } from '../parse/attachmentStream';
import type { RawStore } from '../stage/rawStore';
import type { AttachmentReader } from '../sink/mailboxSink';

/**
 * An item's attachment bytes, read from its raw copy in Blob Storage. Small ones are read once
 * per item and shared by all its deliveries; large ones stream afresh for each upload.
 */
export function attachmentReader(raw: RawStore, sha256: string): AttachmentReader {
  const small = new Map<number, Promise<Buffer>>();
  const readOne = async (index: number, signal?: AbortSignal): Promise<Buffer> => {
    const opened = await openAttachment(await raw.open(sha256, { abortSignal: signal }), index);
    const parts: Buffer[] = [];
    for await (const part of opened.stream) parts.push(part as Buffer);
    return Buffer.concat(parts);
  };
  return {
    read: async (indexes, signal) => {
      const entries = await Promise.all(
        indexes.map(async (i) => {
          let bytes = small.get(i);
          if (!bytes) {
            bytes = readOne(i, signal);
            small.set(i, bytes);
            bytes.catch(() => small.delete(i));
          }
          return [i, await bytes] as const;
        }),
      );
      return new Map(entries);
    },
    open: async (index, signal): Promise<Readable> => (await openAttachment(await raw.open(sha256, { abortSignal: signal }), index)).stream,
  };
}
