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
  delete(key: string): Promise<void>;
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

  async delete(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }
}
