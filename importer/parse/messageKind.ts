import type { ItemKind } from '../model';

/** The types docs/telemessage-api.md lists, the names the formats' sources hint at, and our kinds, compared without case or punctuation. */
const NAMED: Record<string, ItemKind> = {
  SMS: 'sms',
  TEXT: 'sms',
  TEXTMESSAGE: 'sms',
  MMS: 'mms',
  MEDIAMESSAGE: 'mms',
  CHAT: 'chat',
  IM: 'chat',
  // TeleMessage's time-stamp page: "text and media messages can be sent as SMS, MMS, TeleMessage App, WhatsApp or WeChat messages".
  TELEMESSAGEAPP: 'chat',
  WHATSAPP: 'chat',
  WECHAT: 'chat',
  SIGNAL: 'chat',
  TELEGRAM: 'chat',
  VOICERECORDING: 'voiceRecording',
  CALLRECORDING: 'voiceRecording',
  RECORDING: 'voiceRecording',
  VOICECALLLOG: 'voiceCallLog',
  CALLLOG: 'voiceCallLog',
};
/** Names that say "a call" without saying whether it was recorded: the audio decides. */
const CALLS = new Set(['VOICE', 'CALL', 'VOICECALL']);
const CHAT_APPS = /\b(whatsapp|wechat|signal|telegram)\b/i;

/** The types an admin reads in a refusal. */
export const KNOWN_TYPES = 'SMS, MMS, CHAT, VOICE_RECORDING, VOICE_CALL_LOG';

/**
 * The kind a message type names (TeleMessage's `SMS`, a name such as `WhatsApp`, or a kind
 * already, as a replay lists it); undefined for a type it does not know.
 */
export function kindOfType(type: string, hasAudio = false): ItemKind | undefined {
  const key = type.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (CALLS.has(key)) return hasAudio ? 'voiceRecording' : 'voiceCallLog';
  return NAMED[key];
}

export interface KindEvidence {
  attachmentTypes: string[];
  /** X-TELEMESSAGE-CallStart or -CallDuration is there. */
  callHeaders: boolean;
  /** Texts that may name a chat app: ArchiveSource, Network. */
  chatHints: (string | undefined)[];
  /** X-TELEMESSAGE-ChatApp, -ChatGroup, -GroupID or -GROUP_NAME is there. */
  chatHeaders: boolean;
}

/**
 * The kind of an item that names no type (docs/telemessage-formats.md §5): a call by its call
 * headers, a chat by a chat app or group, else by its media: audio a recording, other media an
 * MMS, none an SMS.
 */
export function inferKind(evidence: KindEvidence): ItemKind {
  const audio = evidence.attachmentTypes.some((t) => t.toLowerCase().startsWith('audio/'));
  if (evidence.callHeaders) return audio ? 'voiceRecording' : 'voiceCallLog';
  if (evidence.chatHeaders || evidence.chatHints.some((hint) => hint !== undefined && CHAT_APPS.test(hint))) return 'chat';
  if (audio) return 'voiceRecording';
  return evidence.attachmentTypes.length > 0 ? 'mms' : 'sms';
}
