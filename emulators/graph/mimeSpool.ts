import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RawMime } from './mailboxStore';

/**
 * Raw messages posted to the emulator's delivery route, kept in files rather than in memory so a
 * bench can deliver thousands of large messages; read again for each `$value`.
 */
export class MimeSpool {
  private dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-emulator-mail-'));

  /** Writes the bytes to a file of their own; past `limit` bytes the file is dropped and the call fails. */
  async take(bytes: Readable, limit: number): Promise<RawMime> {
    const file = path.join(this.dir, `${Date.now()}-${Math.random().toString(36).slice(2)}.eml`);
    let size = 0;
    await pipeline(
      bytes,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          size += chunk.length;
          if (size > limit) throw new SpoolLimitError(limit);
          yield chunk;
        }
      },
      fs.createWriteStream(file),
    ).catch((error: unknown) => {
      fs.rmSync(file, { force: true });
      throw error;
    });
    return { size, stream: () => fs.createReadStream(file) };
  }

  /** Forgets every spooled message (after a reset nothing refers to them). */
  clear(): void {
    this.close();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-emulator-mail-'));
  }

  close(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export class SpoolLimitError extends Error {
  constructor(limit: number) {
    super(`the message is larger than the ${limit} bytes the delivery route takes`);
  }
}
