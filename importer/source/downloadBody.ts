import { Readable } from 'node:stream';
import { ImporterError } from '../errors';

export interface DownloadBodyOptions {
  itemId: string;
  /** Content-Length, when the response sent one. */
  expectedBytes?: number;
  /** Longest wait for the next bytes while the reader is asking for them. */
  idleTimeoutMs: number;
  /** The caller's signal: its abort ends the stream with the caller's reason. */
  abortSignal?: AbortSignal;
  /** Runs when the stream is done with: ended (auto-destroyed), failed or destroyed. */
  onClose: () => void;
}

/**
 * A download's body as a Node stream that fails instead of ending quietly: when the transfer
 * breaks off, when fewer or more bytes arrive than announced, or when no bytes come for a while.
 * The idle clock runs only while the reader waits, so a slow consumer never trips it.
 */
export class DownloadBody extends Readable {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private received = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    body: ReadableStream<Uint8Array> | null,
    private readonly options: DownloadBodyOptions,
  ) {
    super({ highWaterMark: 256 * 1024 });
    this.reader = body?.getReader();
  }

  override _read(): void {
    if (!this.reader) return this.finish();
    this.idleTimer = setTimeout(() => this.destroy(this.stalled()), this.options.idleTimeoutMs);
    this.reader.read().then(
      ({ done, value }) => {
        clearTimeout(this.idleTimer);
        if (this.destroyed) return;
        if (done) return this.finish();
        this.received += value.byteLength;
        this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      },
      (error: unknown) => {
        clearTimeout(this.idleTimer);
        if (!this.destroyed) this.destroy(this.brokenOff(error));
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    this.reader?.cancel(error ?? undefined).catch(() => undefined);
    this.options.onClose();
    callback(error);
  }

  private finish(): void {
    const { expectedBytes, itemId } = this.options;
    if (expectedBytes !== undefined && this.received !== expectedBytes) {
      this.destroy(new ImporterError('SourceUnavailable', `The download of ${itemId} ended after ${this.received} of the ${expectedBytes} bytes TeleMessage announced.`));
      return;
    }
    this.push(null);
  }

  private brokenOff(error: unknown): Error {
    if (this.options.abortSignal?.aborted) return this.options.abortSignal.reason as Error;
    const { expectedBytes, itemId } = this.options;
    const of = expectedBytes === undefined ? '' : ` of ${expectedBytes}`;
    return new ImporterError('SourceUnavailable', `The download of ${itemId} broke off after ${this.received}${of} bytes (${describe(error)}).`);
  }

  private stalled(): Error {
    const seconds = Math.round(this.options.idleTimeoutMs / 100) / 10;
    return new ImporterError('SourceUnavailable', `The download of ${this.options.itemId} stalled: no data for ${seconds} s after ${this.received} bytes.`);
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
