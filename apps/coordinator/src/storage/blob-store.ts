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
  /** Drops what was written. */
  discard(): Promise<void>;
}

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
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
      const out = new Uint8Array(length);
      const { bytesRead } = await handle.read(out, 0, length, offset);
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
      discard: async () => {
        await close();
        await fs.rm(target, { force: true });
      },
    };
  }
}
