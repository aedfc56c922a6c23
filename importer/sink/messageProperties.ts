import { createHash } from 'node:crypto';

/** Our named MAPI properties: the idempotency key and the provenance of every archived message. */
export const PROPERTY_SET = '{6f1c4e0b-2a7d-4c35-9e8f-3b5a1d7c9e21}';
export const ARCHIVE_KEY_PROPERTY = `String ${PROPERTY_SET} Name ArchiveKey`;
export const ITEM_ID_PROPERTY = `String ${PROPERTY_SET} Name ArchiveItemId`;
export const RAW_SHA256_PROPERTY = `String ${PROPERTY_SET} Name RawSha256`;
export const MESSAGE_FLAGS = 'Integer 0x0E07';
export const CLIENT_SUBMIT_TIME = 'SystemTime 0x0039';
export const MESSAGE_DELIVERY_TIME = 'SystemTime 0x0E06';

/** SHA-256(item id + mailbox): the same item into the same mailbox always has the same key. */
export function archiveKeyOf(itemId: string, mailbox: string): string {
  return createHash('sha256').update(`${itemId}\n${mailbox.toLowerCase()}`).digest('hex');
}
