import { FedsegError, chunkRange, type ModelChunkRequest, type ModelOffer } from '@fedseg/protocol';
import type { BlobStore } from '../storage/blob-store';
import { TRANSFERS_FOLDER } from './update-transfers';

/** Models each site may fetch: the ones its latest tasks ran on (a train and an evaluate task, and a spare). */
const OFFERS_PER_SITE = 4;

const spoolKey = (sha256: string) => `${TRANSFERS_FOLDER}/models/${sha256}.fstn`;

/**
 * Global models that sites pull in chunks (model-transfer.ts). A model offered with a task is written once to
 * the blob store under its digest and served from there by ranged reads, one chunk per request, so serving
 * holds no copy of the model and a chunk costs a read of that chunk alone. A site may fetch only a model
 * offered to it; a model no site holds an offer for any more is deleted.
 */
export class ModelOffers {
  private readonly bySite = new Map<string, string[]>();
  private readonly sizes = new Map<string, number>();
  private readonly spooling = new Map<string, Promise<void>>();

  constructor(private readonly blobs: BlobStore) {}

  /** Makes `blob` (whose sha256 the signed task names) fetchable by the site; resolves once it can be served. */
  async offer(siteId: string, sha256: string, blob: Uint8Array): Promise<ModelOffer> {
    await this.spool(sha256, blob);
    const offers = (this.bySite.get(siteId) ?? []).filter((d) => d !== sha256);
    offers.push(sha256);
    const dropped = offers.splice(0, Math.max(0, offers.length - OFFERS_PER_SITE));
    this.bySite.set(siteId, offers);
    for (const digest of dropped) await this.release(digest);
    return { sha256, bytes: blob.byteLength };
  }

  /** One chunk of a model offered to this site; refuses anything else, naming what was wrong. */
  async chunk(siteId: string, request: ModelChunkRequest): Promise<Uint8Array> {
    const bytes = this.sizes.get(request.sha256);
    if (bytes === undefined || !this.bySite.get(siteId)?.includes(request.sha256))
      throw new FedsegError(
        'MODEL_NOT_OFFERED',
        `Model ${request.sha256.slice(0, 12)}… was not offered to this site (a task names the models it may fetch).`,
      );
    const { offset, length } = chunkRange(bytes, request.chunkBytes, request.index);
    const out = await this.blobs.getRange(spoolKey(request.sha256), offset, length);
    if (out.length !== length)
      throw new FedsegError(
        'MODEL_UNAVAILABLE',
        `Model ${request.sha256.slice(0, 12)}… is no longer stored.`,
      );
    return out;
  }

  private spool(sha256: string, blob: Uint8Array): Promise<void> {
    if (this.sizes.get(sha256) === blob.byteLength) return Promise.resolve();
    let pending = this.spooling.get(sha256);
    if (!pending) {
      pending = (async () => {
        const key = spoolKey(sha256);
        if ((await this.blobs.size(key)) !== blob.byteLength) {
          const stored = await this.blobs.put(key, blob);
          if (stored.sha256 !== sha256) {
            await this.blobs.delete(key);
            throw new Error(`The global model hashes to ${stored.sha256}, not its task's ${sha256}.`);
          }
        }
        this.sizes.set(sha256, blob.byteLength);
      })().finally(() => this.spooling.delete(sha256));
      this.spooling.set(sha256, pending);
    }
    return pending;
  }

  private async release(sha256: string): Promise<void> {
    for (const offers of this.bySite.values()) if (offers.includes(sha256)) return;
    this.sizes.delete(sha256);
    await this.blobs.delete(spoolKey(sha256));
  }
}
