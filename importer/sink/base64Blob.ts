/** Bytes encoded at a time: a multiple of 3, so each slice encodes without padding. */
const SLICE_BYTES = 48 * 1024;

/**
 * The base64 text of some bytes as a Blob, encoded a slice at a time as the bytes arrive: no
 * string or buffer of the whole content is ever held. A Blob made of Blobs shares their memory,
 * so every delivery of an item can splice the one encoding into its own request body.
 */
export async function base64Blob(source: Buffer | AsyncIterable<Buffer | Uint8Array>): Promise<Blob> {
  const parts: Blob[] = [];
  let carry = Buffer.alloc(0);
  const push = (bytes: Buffer, final: boolean) => {
    let data = carry.length ? Buffer.concat([carry, bytes]) : bytes;
    while (data.length >= SLICE_BYTES) {
      parts.push(new Blob([data.toString('base64', 0, SLICE_BYTES)]));
      data = data.subarray(SLICE_BYTES);
    }
    const whole = final ? data.length : data.length - (data.length % 3);
    if (whole) parts.push(new Blob([data.toString('base64', 0, whole)]));
    // Copied: the piece the stream lent us may be reused once we return.
    carry = Buffer.from(data.subarray(whole));
  };
  if (Buffer.isBuffer(source)) push(source, true);
  else {
    for await (const piece of source) push(Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength), false);
    push(Buffer.alloc(0), true);
  }
  return new Blob(parts);
}
