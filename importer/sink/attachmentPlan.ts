import type { ArchiveItem, AttachmentInfo } from '../model';
import { size as formatSize } from './messageRenderer';

// Which way each attachment goes into the mailbox (in the create, POSTed, by upload session, or
// kept outside with a note), and the JSON and notes that carry them.

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

/** Where each attachment of a message goes. */
export type Plan = { inline: AttachmentInfo[]; post: AttachmentInfo[]; session: AttachmentInfo[]; outside: { attachment: AttachmentInfo; reason: string }[] };

export function planAttachments(attachments: readonly AttachmentInfo[]): Plan {
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
export function fileAttachment(name: string, contentType: string, content: Blob): Blob {
  const empty = JSON.stringify({ '@odata.type': '#microsoft.graph.fileAttachment', name, contentType, contentBytes: '' });
  // `…"contentBytes":""}` split between its quotes.
  return new Blob([empty.slice(0, -2), content, empty.slice(-2)]);
}

export function jsonBlob(parts: BlobPart[]): Blob {
  return new Blob(parts, { type: 'application/json' });
}

export function attachmentKey(name: string, size: number): string {
  return `${name}\u0000${size}`;
}

export function noteName(a: AttachmentInfo): string {
  return `${a.name} (not attached).txt`;
}

export function noteOf(item: ArchiveItem, k: { attachment: AttachmentInfo; reason: string }): Buffer {
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
