import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileBlobStore, sha256Hex, sha256OfBlob } from './blob-store';

describe('FileBlobStore', () => {
  let dir: string;
  let blobs: FileBlobStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-blobs-'));
    blobs = new FileBlobStore(dir);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('hashes a stored blob by ranges to the digest of its bytes, across several reads and at the edges', async () => {
    // 8 MiB is one read: one byte either side of it, an exact multiple, and an empty blob.
    for (const size of [0, 1, 8 * 1024 * 1024 - 1, 8 * 1024 * 1024, 16 * 1024 * 1024 + 3]) {
      const bytes = crypto.randomBytes(size);
      await blobs.put(`b/${size}`, bytes);
      expect(await sha256OfBlob(blobs, `b/${size}`)).toBe(
        crypto.createHash('sha256').update(bytes).digest('hex'),
      );
    }
    await expect(sha256OfBlob(blobs, 'b/missing')).rejects.toThrow(/ENOENT/);
  });

  it('commits a partial blob under its key without reading it whole, and reads it back by ranges', async () => {
    const bytes = crypto.randomBytes(10_000);
    const partial = await blobs.openPartial('transfers/x');
    await partial.write(6_000, bytes.subarray(6_000));
    await partial.write(0, bytes.subarray(0, 6_000));
    expect(Buffer.from(await partial.readRange(9_990, 100))).toEqual(bytes.subarray(9_990));
    await blobs.put('updates/u.fstn', Uint8Array.of(1, 2, 3)); // replaced, as put() would
    await partial.commit('updates/u.fstn', 10_000);
    expect(sha256Hex(await blobs.get('updates/u.fstn'))).toBe(sha256Hex(bytes));
    expect(await blobs.size('transfers/x.partial')).toBeUndefined();
    await partial.discard(); // after a commit: nothing left to drop, and the committed blob stays
    expect(await blobs.size('updates/u.fstn')).toBe(10_000);
  });

  it('reads a range past the end as the bytes there, in memory sized by them (a digest asks small blobs for 8 MiB)', async () => {
    await blobs.put('small', Uint8Array.of(1, 2, 3, 4, 5));
    const tail = await blobs.getRange('small', 2, 8 * 1024 * 1024);
    expect([...tail]).toEqual([3, 4, 5]);
    expect(tail.buffer.byteLength).toBe(3);
    expect((await blobs.getRange('small', 9, 10)).length).toBe(0);
  });
});
