import { randomBytes } from 'node:crypto';
import { base64Blob } from '../../importer/sink/base64Blob';

async function* pieces(bytes: Buffer, sizes: number[]): AsyncIterable<Buffer> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

describe('base64 encoding of attachment content', () => {
  it.each([0, 1, 2, 3, 4, 49_151, 49_152, 49_153, 200_003])('encodes %i bytes as Node encodes them, from a buffer', async (length) => {
    const bytes = randomBytes(length);
    expect(await (await base64Blob(bytes)).text()).toBe(bytes.toString('base64'));
  });

  it('encodes a stream whatever the sizes of its pieces', async () => {
    const bytes = randomBytes(300_001);
    for (const sizes of [[1], [2, 5], [0, 7, 65_536], [49_152], [100_000, 1]]) {
      const blob = await base64Blob(
        pieces(
          bytes,
          sizes.map((n) => n || 1),
        ),
      );
      expect(await blob.text()).toBe(bytes.toString('base64'));
    }
  });

  it('encodes pieces that the stream reuses once read', async () => {
    const bytes = randomBytes(10_000);
    const shared = Buffer.alloc(7);
    async function* reused(): AsyncIterable<Buffer> {
      for (let at = 0; at < bytes.length; at += 7) {
        const n = bytes.copy(shared, 0, at, at + 7);
        yield shared.subarray(0, n);
        shared.fill(0);
      }
    }
    expect(await (await base64Blob(reused())).text()).toBe(bytes.toString('base64'));
  });
});
