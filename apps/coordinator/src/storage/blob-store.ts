import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Checkpoints and received updates, addressed by key. Filesystem by default; an S3-compatible store can
 * implement the same interface. Writes go to a temporary file first and are renamed into place, so a
 * crash never leaves a half-written blob under a real key.
 */
export interface BlobStore {
  put(key: string, bytes: Uint8Array): Promise<{ sha256: string; bytes: number }>;
  get(key: string): Promise<Uint8Array>;
  /** `length` bytes from `offset` (fewer at the end), without reading the rest of the blob. */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  /** The blob's size, or undefined when there is none under the key. */
  size(key: string): Promise<number | undefined>;
  delete(key: string): Promise<void>;
  /** Deletes every blob whose key starts with `folder/` (and what was being written there). */
  deleteFolder(folder: string): Promise<void>;
  /**
   * A blob written piece by piece at any offset (a chunked upload), kept beside the real blobs and never
   * under `key` itself. Opening an existing partial blob continues it.
   */
  openPartial(key: string): Promise<PartialBlob>;
}

export interface PartialBlob {
  write(offset: number, bytes: Uint8Array): Promise<void>;
  /** Everything written so far, `bytes` long. */
  read(bytes: number): Promise<Uint8Array>;
  /** `length` bytes from `offset` (fewer at the end): checking a large upload piece by piece, not whole. */
  readRange(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Makes the first `bytes` written the blob under `key`, in one atomic step (a rename, as put() does), without
   * reading them into memory; the partial blob is gone. Like put(), it replaces a blob already there.
   */
  commit(key: string, bytes: number): Promise<void>;
  /** Drops what was written (nothing, after commit). */
  discard(): Promise<void>;
}

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** Bytes read at a time by sha256OfBlob: a blob's digest costs this much memory, not the blob's size. */
const DIGEST_READ_BYTES = 8 * 1024 * 1024;

/** The sha256 of a stored blob, read by ranges: any size of blob in DIGEST_READ_BYTES of memory. */
export async function sha256OfBlob(store: BlobStore, key: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for (let at = 0; ;) {
    const piece = await store.getRange(key, at, DIGEST_READ_BYTES);
    hash.update(piece);
    at += piece.length;
    if (piece.length < DIGEST_READ_BYTES) return hash.digest('hex');
  }
}

export class FileBlobStore implements BlobStore {
  constructor(private readonly rootDir: string) {}

  private pathOf(key: string): string {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9/._-]*$/.test(key) || key.includes('..'))
      throw new Error(`Invalid blob key "${key}".`);
    return path.join(this.rootDir, key);
  }

  async put(key: string, bytes: Uint8Array): Promise<{ sha256: string; bytes: number }> {
    const target = this.pathOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${process.pid}.${crypto.randomUUID()}.tmp`;
    await fs.writeFile(temp, bytes);
    await fs.rename(temp, target);
    return { sha256: sha256Hex(bytes), bytes: bytes.length };
  }

  async get(key: string): Promise<Uint8Array> {
    const buf = await fs.readFile(this.pathOf(key));
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const handle = await fs.open(this.pathOf(key), 'r');
    try {
      // Sized by what is there: a digest reads small blobs with a large range (sha256OfBlob).
      const available = Math.max(0, Math.min(length, (await handle.stat()).size - offset));
      const out = new Uint8Array(available);
      const { bytesRead } = await handle.read(out, 0, available, offset);
      return out.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await fs.stat(this.pathOf(key))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }

  async deleteFolder(folder: string): Promise<void> {
    await fs.rm(this.pathOf(folder), { recursive: true, force: true });
  }

  async openPartial(key: string): Promise<PartialBlob> {
    const target = `${this.pathOf(key)}.partial`;
    await fs.mkdir(path.dirname(target), { recursive: true });
    const handle = await fs.open(target, 'a+').then(async (h) => {
      await h.close(); // 'a+' creates it without truncating; positional writes need 'r+'
      return fs.open(target, 'r+');
    });
    let closed = false;
    const close = async () => {
      if (!closed) await handle.close();
      closed = true;
    };
    return {
      write: async (offset, bytes) => {
        let at = 0;
        while (at < bytes.length) {
          const { bytesWritten } = await handle.write(bytes, at, bytes.length - at, offset + at);
          at += bytesWritten;
        }
      },
      read: async (bytes) => {
        const out = new Uint8Array(bytes);
        let at = 0;
        while (at < bytes) {
          const { bytesRead } = await handle.read(out, at, bytes - at, at);
          if (bytesRead === 0) throw new Error(`Partial blob "${key}" holds ${at} of ${bytes} bytes.`);
          at += bytesRead;
        }
        return out;
      },
      readRange: async (offset, length) => {
        const out = new Uint8Array(length);
        const { bytesRead } = await handle.read(out, 0, length, offset);
        return out.subarray(0, bytesRead);
      },
      commit: async (finalKey, bytes) => {
        const final = this.pathOf(finalKey);
        await handle.truncate(bytes);
        await close();
        await fs.mkdir(path.dirname(final), { recursive: true });
        await fs.rename(target, final);
      },
      discard: async () => {
        await close();
        await fs.rm(target, { force: true });
      },
    };
  }
}
