import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImporterError } from '../errors';
import type { AttachmentInfo } from '../model';
import { attachmentName, walkMime } from './mimeWalk';

export interface OpenedAttachment extends Pick<AttachmentInfo, 'index' | 'name' | 'contentType'> {
  /** The decoded bytes, streamed from the raw item as they are read. */
  stream: Readable;
}

/**
 * Re-reads a raw item (streamed from Blob by the caller) and yields attachment `index`'s decoded
 * bytes as a stream, never holding the attachment: the parser advances only as fast as the
 * stream is read. Reading stops at the end of that attachment; destroying the stream stops it
 * too. The same indexes as parseRawItem's AttachmentInfo.
 */
export function openAttachment(raw: Readable, index: number): Promise<OpenedAttachment> {
  return new Promise<OpenedAttachment>((resolve, reject) => {
    let opened: PassThrough | undefined;
    let seen = 0;
    walkMime(raw, async (attachment, at) => {
      seen = at + 1;
      if (at < index) {
        attachment.content.resume();
        await new Promise((done, fail) => attachment.content.once('end', done).once('error', fail));
        return 'next';
      }
      opened = new PassThrough({ highWaterMark: 256 * 1024 });
      resolve({ index, name: attachmentName(attachment, index), contentType: attachment.contentType, stream: opened });
      await pipeline(attachment.content, opened);
      return 'stop';
    }).then(
      () => {
        if (!opened) reject(new ImporterError('NotFound', `The item has no attachment ${index}; it has ${seen}.`));
      },
      (error: unknown) => {
        if (opened) opened.destroy(error as Error);
        else reject(error);
      },
    );
  });
}
