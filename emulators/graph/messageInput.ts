import { badRequest, GraphError } from './graphError';
import { ExtendedProperty, parseExtendedProperty } from './extendedProperties';

/** Validation of message and attachment bodies, with the errors Graph gives for bad ones. */
export interface EmailAddress {
  name?: string;
  address?: string;
}
export interface Recipient {
  emailAddress: EmailAddress;
}
export interface ItemBody {
  contentType: 'text' | 'html';
  content: string;
}
export interface InternetMessageHeader {
  name: string;
  value: string;
}

export interface MessageFields {
  subject?: string;
  body?: ItemBody;
  from?: Recipient;
  sender?: Recipient;
  toRecipients?: Recipient[];
  ccRecipients?: Recipient[];
  bccRecipients?: Recipient[];
  replyTo?: Recipient[];
  internetMessageHeaders?: InternetMessageHeader[];
  internetMessageId?: string;
  importance?: 'low' | 'normal' | 'high';
  categories?: string[];
  isRead?: boolean;
  isDeliveryReceiptRequested?: boolean;
  isReadReceiptRequested?: boolean;
  flag?: { flagStatus: string };
  inferenceClassification?: 'focused' | 'other';
  singleValueExtendedProperties?: ExtendedProperty[];
}

export interface FileAttachmentInput {
  name: string;
  contentType: string;
  bytes: Buffer;
  isInline: boolean;
  contentId?: string;
}

export interface MessageCreate extends MessageFields {
  attachments: FileAttachmentInput[];
}

/** Server-maintained properties: accepted in a body and ignored, as Graph does. */
const READ_ONLY = new Set([
  '@odata.type',
  '@odata.etag',
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'receivedDateTime',
  'sentDateTime',
  'hasAttachments',
  'isDraft',
  'parentFolderId',
  'conversationId',
  'conversationIndex',
  'webLink',
  'bodyPreview',
  'uniqueBody',
]);

const unknownProperty = (name: string, type: string) =>
  new GraphError(400, 'RequestBodyRead', `The property '${name}' does not exist on type '${type}'. Make sure to only use property names that are defined by the type or mark the type as open type.`);

const wrongType = (name: string, expected: string) => new GraphError(400, 'RequestBodyRead', `Cannot convert the literal in '${name}' to the expected type '${expected}'.`);

function asObject(value: unknown, name: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw wrongType(name, 'object');
  return value as Record<string, unknown>;
}

function asString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw wrongType(name, 'Edm.String');
  return value;
}

function asBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw wrongType(name, 'Edm.Boolean');
  return value;
}

function asArray(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value)) throw wrongType(name, 'Collection');
  return value;
}

function recipient(value: unknown, name: string): Recipient {
  const address = asObject(asObject(value, name).emailAddress ?? {}, `${name}.emailAddress`);
  return {
    emailAddress: {
      ...(address.name !== undefined && { name: asString(address.name, `${name}.emailAddress.name`) }),
      ...(address.address !== undefined && { address: asString(address.address, `${name}.emailAddress.address`) }),
    },
  };
}

function enumValue<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  const text = asString(value, name).toLowerCase();
  const match = allowed.find((a) => a.toLowerCase() === text);
  if (!match) throw wrongType(name, allowed.join('|'));
  return match;
}

function header(value: unknown): InternetMessageHeader {
  const raw = asObject(value, 'internetMessageHeaders');
  const name = asString(raw.name, 'internetMessageHeaders.name');
  // Graph only lets clients add custom headers.
  if (!/^x-/i.test(name)) {
    throw badRequest(`The internet message header name '${name}' should start with 'x-' or 'X-'.`, 'InvalidInternetMessageHeader');
  }
  return { name, value: asString(raw.value, 'internetMessageHeaders.value') };
}

/** Parses the writable properties of a message; `extra` names properties the caller reads itself. */
function messageFields(raw: unknown, extra: Set<string>): MessageFields {
  const body = asObject(raw, 'message');
  const fields: MessageFields = {};
  for (const [key, value] of Object.entries(body)) {
    if (READ_ONLY.has(key) || extra.has(key) || key.startsWith('@odata.')) continue;
    switch (key) {
      case 'subject':
        fields.subject = value === null ? '' : asString(value, key);
        break;
      case 'body': {
        const item = asObject(value, key);
        fields.body = {
          contentType: item.contentType === undefined ? 'text' : enumValue(item.contentType, 'body.contentType', ['text', 'html'] as const),
          content: item.content == null ? '' : asString(item.content, 'body.content'),
        };
        break;
      }
      case 'from':
      case 'sender':
        fields[key] = recipient(value, key);
        break;
      case 'toRecipients':
      case 'ccRecipients':
      case 'bccRecipients':
      case 'replyTo':
        fields[key] = asArray(value, key).map((r) => recipient(r, key));
        break;
      case 'internetMessageHeaders':
        fields.internetMessageHeaders = asArray(value, key).map(header);
        break;
      case 'internetMessageId':
        fields.internetMessageId = asString(value, key);
        break;
      case 'importance':
        fields.importance = enumValue(value, key, ['low', 'normal', 'high'] as const);
        break;
      case 'categories':
        fields.categories = asArray(value, key).map((c) => asString(c, key));
        break;
      case 'isRead':
      case 'isDeliveryReceiptRequested':
      case 'isReadReceiptRequested':
        fields[key] = asBoolean(value, key);
        break;
      case 'flag':
        fields.flag = { flagStatus: asString(asObject(value, key).flagStatus ?? 'notFlagged', 'flag.flagStatus') };
        break;
      case 'inferenceClassification':
        fields.inferenceClassification = enumValue(value, key, ['focused', 'other'] as const);
        break;
      case 'singleValueExtendedProperties':
        fields.singleValueExtendedProperties = asArray(value, key).map(parseExtendedProperty);
        break;
      default:
        throw unknownProperty(key, 'microsoft.graph.message');
    }
  }
  return fields;
}

export function parseMessageCreate(raw: unknown): MessageCreate {
  const fields = messageFields(raw, new Set(['attachments']));
  const attachments = (raw as Record<string, unknown>).attachments;
  return {
    ...fields,
    attachments: attachments === undefined ? [] : asArray(attachments, 'attachments').map(parseFileAttachment),
  };
}

export function parseMessagePatch(raw: unknown): MessageFields {
  return messageFields(raw, new Set());
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function parseFileAttachment(raw: unknown): FileAttachmentInput {
  const body = asObject(raw, 'attachment');
  const type = typeof body['@odata.type'] === 'string' ? body['@odata.type'].replace(/^#/, '').toLowerCase() : undefined;
  if (type === undefined) {
    throw badRequest("The attachment needs '@odata.type': '#microsoft.graph.fileAttachment'.", 'ErrorInvalidRequest');
  }
  if (type !== 'microsoft.graph.fileattachment') {
    throw new GraphError(501, 'NotImplemented', `The emulator stores only file attachments, not '${body['@odata.type']}'.`);
  }
  for (const key of Object.keys(body)) {
    if (!['@odata.type', 'name', 'contentType', 'contentBytes', 'isInline', 'contentId', 'contentLocation', 'size', 'id', 'lastModifiedDateTime'].includes(key)) {
      throw unknownProperty(key, 'microsoft.graph.fileAttachment');
    }
  }
  const contentBytes = asString(body.contentBytes, 'contentBytes').replace(/\s/g, '');
  if (!BASE64.test(contentBytes)) throw wrongType('contentBytes', 'Edm.Binary');
  return {
    name: body.name === undefined ? 'attachment' : asString(body.name, 'name'),
    contentType: body.contentType == null ? 'application/octet-stream' : asString(body.contentType, 'contentType'),
    bytes: Buffer.from(contentBytes, 'base64'),
    isInline: body.isInline === undefined ? false : asBoolean(body.isInline, 'isInline'),
    ...(body.contentId != null && { contentId: asString(body.contentId, 'contentId') }),
  };
}

export interface UploadSessionRequest {
  name: string;
  size: number;
  contentType: string;
  isInline: boolean;
  contentId?: string;
}

export function parseUploadSessionRequest(raw: unknown): UploadSessionRequest {
  const body = asObject(raw, 'createUploadSession');
  const key = Object.keys(body).find((k) => k.toLowerCase() === 'attachmentitem');
  if (!key) throw badRequest("The request needs an 'AttachmentItem'.", 'ErrorInvalidRequest');
  const item = asObject(body[key], 'AttachmentItem');
  if (item.attachmentType !== undefined && asString(item.attachmentType, 'attachmentType').toLowerCase() !== 'file') {
    throw new GraphError(501, 'NotImplemented', 'The emulator supports upload sessions for file attachments only.');
  }
  const size = item.size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw wrongType('AttachmentItem.size', 'Edm.Int64');
  return {
    name: asString(item.name, 'AttachmentItem.name'),
    size,
    contentType: item.contentType == null ? 'application/octet-stream' : asString(item.contentType, 'AttachmentItem.contentType'),
    isInline: item.isInline === undefined ? false : asBoolean(item.isInline, 'AttachmentItem.isInline'),
    ...(item.contentId != null && { contentId: asString(item.contentId, 'AttachmentItem.contentId') }),
  };
}
