import { Readable } from 'node:stream';
import { mediaChunks, type MediaFormat } from './mediaBytes';
import { base64Lines, base64Size } from './mimeEncoding';
import type { SeedParts } from './seededRandom';

/** One generated message as TeleMessage hands it over: exact size up front, bytes on demand. */
export interface RawMessage {
  size: number;
  stream(): Readable;
}

/** Generated file bytes, written base64 (attachments) or as they are (garbage items). */
export interface FileSegment {
  format: MediaFormat | 'garbage';
  size: number;
  key: SeedParts;
  encoding: 'base64' | 'binary';
}

/** Text (headers, part heads, bodies) or a generated file: a message is a list of these. */
export type Segment = string | FileSegment;

export function segmentSize(segment: Segment): number {
  if (typeof segment === 'string') return Buffer.byteLength(segment, 'utf8');
  return segment.encoding === 'base64' ? base64Size(segment.size) : segment.size;
}

/** The message the segments spell, cut after `limit` bytes when given (an interrupted transfer). */
export function rawMessageOf(segments: Segment[], limit?: number): RawMessage {
  const size = limit ?? segments.reduce((sum, segment) => sum + segmentSize(segment), 0);
  return { size, stream: () => Readable.from(bytes(segments, size), { objectMode: false }) };
}

function* bytes(segments: Segment[], limit: number): Generator<Buffer> {
  let sent = 0;
  for (const segment of segments) {
    const chunks = typeof segment === 'string' ? [Buffer.from(segment, 'utf8')] : fileChunks(segment);
    for (const chunk of chunks) {
      if (sent + chunk.length >= limit) {
        yield chunk.subarray(0, limit - sent);
        return;
      }
      sent += chunk.length;
      yield chunk;
    }
  }
}

function* fileChunks(segment: FileSegment): Generator<Buffer> {
  for (const chunk of mediaChunks(segment.format, segment.size, segment.key)) {
    yield segment.encoding === 'base64' ? base64Lines(chunk) : chunk;
  }
}
