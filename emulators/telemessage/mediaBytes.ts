import { createCipheriv, createHash } from 'node:crypto';
import type { SeedParts } from './seededRandom';

export type MediaFormat = 'jpeg' | 'png' | 'mp4' | 'mp3' | 'wav';

export const MEDIA_TYPES: Record<MediaFormat, { contentType: string; extension: string }> = {
  jpeg: { contentType: 'image/jpeg', extension: 'jpg' },
  png: { contentType: 'image/png', extension: 'png' },
  mp4: { contentType: 'video/mp4', extension: 'mp4' },
  mp3: { contentType: 'audio/mpeg', extension: 'mp3' },
  wav: { contentType: 'audio/wav', extension: 'wav' },
};

/** Raw chunk size: a multiple of 57 so each chunk base64-encodes into whole 76-character lines. */
const MEDIA_CHUNK_BYTES = 57 * 1024;

/**
 * The bytes of one generated file, chunk by chunk: an AES-CTR keystream keyed by the seed
 * parts (fast, and the same bytes every time), overlaid with the format's real header (and
 * trailer) so content sniffing identifies it. Files of hundreds of MB never sit in memory.
 */
export function* mediaChunks(format: MediaFormat | 'garbage', size: number, key: SeedParts): Generator<Buffer> {
  const header = format === 'garbage' ? Buffer.alloc(0) : magicHeader(format, size);
  const trailer = format === 'jpeg' ? Buffer.from([0xff, 0xd9]) : Buffer.alloc(0);
  const keyBytes = createHash('sha256').update(key.join('\u0000')).digest();
  const keystream = createCipheriv('aes-256-ctr', keyBytes, Buffer.alloc(16));
  for (let offset = 0; offset < size; offset += MEDIA_CHUNK_BYTES) {
    const length = Math.min(MEDIA_CHUNK_BYTES, size - offset);
    const chunk = keystream.update(Buffer.alloc(length));
    overlay(chunk, offset, header, 0);
    overlay(chunk, offset, trailer, size - trailer.length);
    yield chunk;
  }
}

/** Copies `bytes` (which sit at file offset `at`) into the part of it that `chunk` covers. */
function overlay(chunk: Buffer, chunkOffset: number, bytes: Buffer, at: number): void {
  const start = Math.max(at, chunkOffset);
  const end = Math.min(at + bytes.length, chunkOffset + chunk.length);
  if (start < end) bytes.copy(chunk, start - chunkOffset, start - at, end - at);
}

function magicHeader(format: MediaFormat, size: number): Buffer {
  switch (format) {
    case 'jpeg':
      // SOI + JFIF APP0 segment.
      return Buffer.from('ffd8ffe000104a46494600010101004800480000', 'hex');
    case 'png':
      // Signature + IHDR for a 1024x768 RGB image (CRC included).
      return Buffer.from('89504e470d0a1a0a0000000d494844520000040000000300080200000035d8825a', 'hex');
    case 'mp4': {
      // ftyp box, then an mdat box that covers the rest of the file.
      const ftyp = Buffer.from('0000001c6674797069736f6d0000020069736f6d69736f326d703431', 'hex');
      const mdat = Buffer.alloc(8);
      mdat.writeUInt32BE(Math.max(0, size - ftyp.length), 0);
      mdat.write('mdat', 4, 'latin1');
      return Buffer.concat([ftyp, mdat]);
    }
    case 'mp3':
      // ID3v2.4 tag with no frames, then an MPEG-1 Layer III frame header (128 kbps, 44.1 kHz).
      return Buffer.from('494433040000000000' + '00' + 'fffb9064', 'hex');
    case 'wav': {
      // RIFF/WAVE, PCM 8 kHz 16-bit mono: the phone-call format.
      const wav = Buffer.alloc(44);
      wav.write('RIFF', 0, 'latin1');
      wav.writeUInt32LE(Math.max(0, size - 8), 4);
      wav.write('WAVEfmt ', 8, 'latin1');
      wav.writeUInt32LE(16, 16);
      wav.writeUInt16LE(1, 20);
      wav.writeUInt16LE(1, 22);
      wav.writeUInt32LE(8000, 24);
      wav.writeUInt32LE(16000, 28);
      wav.writeUInt16LE(2, 32);
      wav.writeUInt16LE(16, 34);
      wav.write('data', 36, 'latin1');
      wav.writeUInt32LE(Math.max(0, size - 44), 40);
      return wav;
    }
  }
}
