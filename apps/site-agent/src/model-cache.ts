import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FedsegError } from '@fedseg/protocol';

/** Global models kept on disk: the latest train model, the latest evaluate model, and a spare. */
const KEEP_MODELS = 3;
const HASH_READ_BYTES = 4 * 1024 * 1024;
const Sha256Hex = /^[0-9a-f]{64}$/;

/** A model being downloaded: chunks land at their offsets in `<sha256>.part`. */
export interface ModelPart {
  write(offset: number, bytes: Uint8Array): Promise<void>;
  /** Checks the whole against its sha256, then makes it the cached model; a mismatch deletes it. */
  finish(): Promise<void>;
  discard(): Promise<void>;
}

/**
 * Global models on this site's disk, named by their sha256 (`<agent home>/models`): a task whose model is
 * here already fetches nothing (evaluation after training of the same model, an agent restart). A model is
 * only ever stored after its bytes hashed to the digest the coordinator signed.
 */
export class ModelCache {
  constructor(readonly dir: string) {}

  private fileOf(sha256: string): string {
    if (!Sha256Hex.test(sha256)) throw new Error(`"${sha256}" is not a sha256.`);
    return path.join(this.dir, `${sha256}.fstn`);
  }

  async has(sha256: string, bytes: number): Promise<boolean> {
    try {
      return (await fs.stat(this.fileOf(sha256))).size === bytes;
    } catch {
      return false;
    }
  }

  async read(sha256: string): Promise<Uint8Array> {
    const file = this.fileOf(sha256);
    const buf = await fs.readFile(file);
    // Touch it: pruning keeps the most recently used.
    const now = new Date();
    await fs.utimes(file, now, now).catch(() => undefined);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  async open(sha256: string, bytes: number): Promise<ModelPart> {
    const target = this.fileOf(sha256);
    const part = target.replace(/\.fstn$/, '.part');
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const handle = await fs.open(part, 'w+');
    await handle.truncate(bytes);
    let closed = false;
    const close = async () => {
      if (!closed) await handle.close();
      closed = true;
    };
    return {
      write: async (offset, chunk) => {
        if (offset + chunk.length > bytes)
          throw new FedsegError('BAD_CHUNK', `A chunk at ${offset} runs past the model's ${bytes} bytes.`);
        let at = 0;
        while (at < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, at, chunk.length - at, offset + at);
          at += bytesWritten;
        }
      },
      finish: async () => {
        const hash = crypto.createHash('sha256');
        const piece = new Uint8Array(Math.min(HASH_READ_BYTES, bytes));
        for (let at = 0; at < bytes;) {
          const { bytesRead } = await handle.read(piece, 0, Math.min(piece.length, bytes - at), at);
          if (bytesRead === 0) break;
          hash.update(piece.subarray(0, bytesRead));
          at += bytesRead;
        }
        await close();
        const digest = hash.digest('hex');
        if (digest !== sha256) {
          await fs.rm(part, { force: true });
          throw new FedsegError(
            'DIGEST_MISMATCH',
            `The downloaded model hashes to ${digest.slice(0, 12)}…, not the task's signed ${sha256.slice(0, 12)}…; discarded.`,
          );
        }
        await fs.rename(part, target);
        await this.prune(sha256);
      },
      discard: async () => {
        await close();
        await fs.rm(part, { force: true });
      },
    };
  }

  /** Keeps the most recently used models (and `keep` itself). */
  private async prune(keep: string): Promise<void> {
    const names = (await fs.readdir(this.dir)).filter((n) => /^[0-9a-f]{64}\.fstn$/.test(n));
    const dated = await Promise.all(
      names.map(async (n) => ({ n, at: (await fs.stat(path.join(this.dir, n))).mtimeMs })),
    );
    dated.sort((a, b) => b.at - a.at);
    for (const { n } of dated.slice(KEEP_MODELS))
      if (n !== `${keep}.fstn`) await fs.rm(path.join(this.dir, n), { force: true });
  }
}
