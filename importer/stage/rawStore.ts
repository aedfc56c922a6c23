import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerClient } from '@azure/storage-blob';
import { ImporterError } from '../errors';
import { WriteOnceBlob } from './writeOnceBlob';

export interface StageResult {
  sha256: string;
  size: number;
  /** The same bytes were already kept (a replay, or the source offered the item twice). */
  alreadyStored: boolean;
  /** The bytes just kept, when asked for and small enough to have been held in memory. */
  bytes?: Buffer;
}

export interface RawStoreOptions {
  /** Items up to this size are hashed in memory; larger ones go through a temporary file. */
  memoryLimitBytes?: number;
  tmpDir?: string;
}

const DEFAULT_MEMORY_LIMIT = 4 * 1024 * 1024;
const UPLOAD_BLOCK = 8 * 1024 * 1024;
const RAW_CONTENT_TYPE = 'message/rfc822';

/**
 * Raw items, kept before anything is imported, named by their SHA-256 and written once
 * (If-None-Match: *): what is kept can be checked against what was archived, and never replaced.
 */
export class RawStore {
  /** Items up to this size are held in memory while staged; larger ones stream through a file. */
  readonly memoryLimit: number;
  private readonly tmpDir: string;
  /** The write of an item held in memory, without the SDK's pipeline (the SDK's when the container is reached by SAS). */
  private readonly writer: WriteOnceBlob | undefined;

  constructor(
    private readonly container: ContainerClient,
    options: RawStoreOptions = {},
  ) {
    this.memoryLimit = options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT;
    this.tmpDir = options.tmpDir ?? os.tmpdir();
    this.writer = WriteOnceBlob.for(container);
  }

  /**
   * Hashes and keeps `body`. `expectedSize`, when the source announced one, must match.
   * `keepBytes` hands back the bytes of a small item, so reading it needs no second download.
   */
  async stage(body: Readable, options: { expectedSize?: number; abortSignal?: AbortSignal; keepBytes?: boolean } = {}): Promise<StageResult> {
    const { expectedSize, abortSignal } = options;
    if (expectedSize !== undefined && expectedSize <= this.memoryLimit) {
      const chunks: Buffer[] = [];
      const hash = createHash('sha256');
      for await (const chunk of body) {
        hash.update(chunk as Buffer);
        chunks.push(chunk as Buffer);
      }
      const data = Buffer.concat(chunks);
      const sha256 = hash.digest('hex');
      checkSize(data.length, expectedSize);
      const alreadyStored = this.writer
        ? await this.writer.put(sha256, data, RAW_CONTENT_TYPE, abortSignal)
        : await this.writeOnce(sha256, () => this.container.getBlockBlobClient(sha256).upload(data, data.length, this.uploadOptions(abortSignal)));
      return options.keepBytes ? { sha256, size: data.length, alreadyStored, bytes: data } : { sha256, size: data.length, alreadyStored };
    }
    const file = path.join(this.tmpDir, `ena-stage-${randomUUID()}`);
    try {
      const hash = createHash('sha256');
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(body, counter, fs.createWriteStream(file, { mode: 0o600 }), { signal: abortSignal });
      const sha256 = hash.digest('hex');
      checkSize(size, expectedSize);
      const alreadyStored = await this.writeOnce(sha256, () =>
        this.container.getBlockBlobClient(sha256).uploadFile(file, { ...this.uploadOptions(abortSignal), blockSize: UPLOAD_BLOCK, concurrency: 2 }),
      );
      return { sha256, size, alreadyStored };
    } finally {
      await fs.promises.rm(file, { force: true });
    }
  }

  /** Streams a kept raw item back, for parsing and for attachments. */
  async open(sha256: string, options: { abortSignal?: AbortSignal; offset?: number; count?: number } = {}): Promise<Readable> {
    const res = await this.container.getBlobClient(sha256).download(options.offset ?? 0, options.count, { abortSignal: options.abortSignal, maxRetryRequests: 5 });
    return res.readableStreamBody as Readable;
  }

  /** The kept copy's size, or undefined when there is none. */
  async sizeOf(sha256: string, options: { abortSignal?: AbortSignal } = {}): Promise<number | undefined> {
    try {
      return (await this.container.getBlobClient(sha256).getProperties({ abortSignal: options.abortSignal })).contentLength;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Re-hashes the kept copy: the check that it was not altered. */
  async hashOf(sha256: string, options: { abortSignal?: AbortSignal } = {}): Promise<string | undefined> {
    try {
      const hash = createHash('sha256');
      for await (const chunk of await this.open(sha256, options)) hash.update(chunk as Buffer);
      return hash.digest('hex');
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /**
   * Reads back what the storage says about immutability, never assuming it. Azure reports the
   * container's time-based retention policy; Azurite answers 501 to immutability calls.
   */
  async describeImmutability(probeSha256?: string): Promise<string> {
    const props = await this.container.getProperties();
    if (props.hasImmutabilityPolicy) {
      return `container "${this.container.containerName}" has a time-based retention policy${props.hasLegalHold ? ' and a legal hold' : ''}`;
    }
    if (props.isImmutableStorageWithVersioningEnabled && probeSha256) {
      return `container "${this.container.containerName}" has version-level immutability; no container policy reported`;
    }
    if (probeSha256) {
      try {
        await this.container.getBlobClient(probeSha256).setLegalHold(false);
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status === 501) return 'not supported by this storage (it answered 501 Not Implemented): raw items are write-once but not immutable';
      }
    }
    return `no immutability policy on container "${this.container.containerName}": raw items are write-once but not immutable`;
  }

  private uploadOptions(abortSignal?: AbortSignal) {
    return { abortSignal, conditions: { ifNoneMatch: '*' }, blobHTTPHeaders: { blobContentType: RAW_CONTENT_TYPE } };
  }

  private async writeOnce(sha256: string, upload: () => Promise<unknown>): Promise<boolean> {
    try {
      await upload();
      return false;
    } catch (err) {
      const e = err as { statusCode?: number; code?: string };
      // Same name means same bytes: a kept copy is never replaced.
      if (e.statusCode === 409 || e.statusCode === 412) return true;
      throw err;
    }
  }
}

function checkSize(actual: number, expected: number | undefined): void {
  if (expected !== undefined && actual !== expected) {
    throw new ImporterError('SourceUnavailable', `The download was ${actual} bytes where the source announced ${expected}: it was cut short or changed.`);
  }
}

export function sha256Of(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
