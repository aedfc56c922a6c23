/** Names of the Graph operations the emulator serves; faults and statistics refer to these. */
export const GRAPH_OPERATIONS = [
  'listUsers',
  'getUser',
  'listFolders',
  'getFolder',
  'createFolder',
  'deleteFolder',
  'listMessages',
  'getMessage',
  'getMessageContent',
  'deltaMessages',
  'createMessage',
  'updateMessage',
  'deleteMessage',
  'listAttachments',
  'getAttachment',
  'createAttachment',
  'createUploadSession',
  'uploadChunk',
  'getUploadSession',
  'cancelUploadSession',
  'batch',
] as const;

export type GraphOperation = (typeof GRAPH_OPERATIONS)[number];

/** Operations whose effect survives even when the response is lost on the way back. */
export const WRITE_OPERATIONS: readonly GraphOperation[] = ['createFolder', 'createMessage', 'createAttachment', 'createUploadSession', 'uploadChunk'];
