import crypto from 'node:crypto';
import {
  ChunkLedger,
  FedsegError,
  headerDigest,
  type UpdateHeader,
  type UpdateOpener,
} from '@fedseg/protocol';
import type { BlobStore, PartialBlob } from '../storage/blob-store';

/** How many partial updates the coordinator keeps for resumption, and for how long. */
export interface UpdateTransferLimits {
  /** Open transfers across all sites. */
  maxTransfers: number;
  /** Open transfers of one site (one per study it trains for, with room for a retry). */
  maxPerSite: number;
  /** Sum of the announced sizes of all open transfers (their partial blobs on disk). */
  maxBytes: number;
  /** A transfer with no chunk for this long is dropped with its bytes. */
  idleMs: number;
}

/** Where transfers in flight keep their bytes (partial updates, models spooled for download); see AgentGateway.onModuleInit. */
export const TRANSFERS_FOLDER = 'transfers';

export const DEFAULT_UPDATE_TRANSFER_LIMITS: UpdateTransferLimits = {
  maxTransfers: 1024,
  maxPerSite: 4,
  maxBytes: 8 * 1024 * 1024 * 1024,
  idleMs: 30 * 60_000,
};

interface Transfer<Admitted> {
  siteId: string;
  /** What the caller's precheck found when the transfer began or last resumed; handed back with the bytes. */
  admitted: Admitted;
  /** The connection that may send its chunks now: the latest that began or resumed it. */
  connectionId: string;
  opener: UpdateOpener;
  digest: string;
  ledger: ChunkLedger;
  blob: PartialBlob;
  touchedAt: number;
  /** Set once the last chunk is stored: the verdict is being reached and nothing may change it. */
  finishing: boolean;
}

export type ChunkOutcome<Admitted> =
  | { done: false; prefix: number }
  | { done: true; header: UpdateHeader; plaintext: Uint8Array; sha256: string; admitted: Admitted };

/**
 * Update uploads in progress, by header nonce. Decrypted chunks go straight to a partial blob at their
 * offset, so the coordinator holds one chunk per message, not the update. A transfer outlives its connection:
 * the site that began it may resume it from a later connection (with the same signed header) from the
 * contiguous prefix stored, within the limits above. The whole update is read back only at the end, when its
 * signed sha256 gates it; the caller then decides (UpdatesService) and the transfer is gone either way.
 */
export class UpdateTransfers<Admitted> {
  private readonly open = new Map<string, Transfer<Admitted>>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly limits: UpdateTransferLimits = DEFAULT_UPDATE_TRANSFER_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * Opens a transfer, or resumes the site's own transfer of the same signed header from an earlier connection.
   * `opener` was built (signature checked) and prechecked by the caller. Returns the chunk to go on from.
   */
  async begin(
    siteId: string,
    connectionId: string,
    opener: UpdateOpener,
    admitted: Admitted,
  ): Promise<{ resumeFrom: number }> {
    await this.sweep();
    const nonce = opener.header.nonce;
    const held = this.open.get(nonce);
    if (held) {
      const digest = Buffer.from(headerDigest(opener.header)).toString('hex');
      if (held.siteId !== siteId || held.digest !== digest || held.connectionId === connectionId)
        throw new FedsegError(
          'NONCE_REUSED',
          held.connectionId === connectionId && held.siteId === siteId
            ? 'An update with this nonce is already being received on this connection.'
            : 'An update with this nonce is already being received under another header.',
        );
      if (held.finishing)
        throw new FedsegError(
          'TRANSFER_FINISHING',
          'Every chunk of this update arrived; the coordinator is checking it. Ask again shortly.',
        );
      opener.dispose(); // the held opener keeps the chunk nonces seen so far
      held.connectionId = connectionId;
      held.admitted = admitted;
      held.touchedAt = this.now();
      return { resumeFrom: held.ledger.rewind() };
    }
    const mine = [...this.open.values()].filter((t) => t.siteId === siteId).length;
    if (mine >= this.limits.maxPerSite)
      throw new FedsegError(
        'TOO_MANY_TRANSFERS',
        `At most ${this.limits.maxPerSite} updates of one site may be in flight; finish or wait for one.`,
      );
    const bytes = [...this.open.values()].reduce((s, t) => s + t.opener.header.payloadBytes, 0);
    if (
      this.open.size >= this.limits.maxTransfers ||
      bytes + opener.header.payloadBytes > this.limits.maxBytes
    )
      throw new FedsegError(
        'TOO_MANY_TRANSFERS',
        'The coordinator holds as many partial updates as it may; try again in a few minutes.',
      );
    const key = `${TRANSFERS_FOLDER}/updates/${siteId}-${crypto.createHash('sha256').update(nonce).digest('hex').slice(0, 32)}`;
    const transfer: Transfer<Admitted> = {
      siteId,
      admitted,
      connectionId,
      opener,
      digest: Buffer.from(headerDigest(opener.header)).toString('hex'),
      ledger: new ChunkLedger(opener.header.chunks),
      blob: await this.blobs.openPartial(key),
      touchedAt: this.now(),
      finishing: false,
    };
    this.open.set(nonce, transfer);
    return { resumeFrom: 0 };
  }

  /**
   * Stores one sealed chunk. A chunk out of range or already stored is refused and changes nothing; one that
   * fails to open (altered, truncated, from another update) ends the transfer, as an attack would. When the
   * last chunk is stored, the whole plaintext is read back and checked against the signed sha256.
   */
  async chunk(
    connectionId: string,
    nonce: string,
    index: number,
    sealed: Uint8Array,
  ): Promise<ChunkOutcome<Admitted>> {
    const t = this.open.get(nonce);
    if (!t || t.connectionId !== connectionId)
      throw new FedsegError(
        'TRANSFER_NOT_FOUND',
        'No update transfer with this nonce is open on this connection; send update:begin first.',
      );
    if (t.finishing)
      throw new FedsegError('DUPLICATE_CHUNK', `Chunk ${index} arrived after the whole update.`);
    const generation = t.ledger.claim(index);
    let plain: Uint8Array;
    try {
      plain = t.opener.open(index, sealed);
    } catch (err) {
      await this.end(nonce, t);
      throw err;
    }
    try {
      await t.blob.write(index * t.opener.header.chunkBytes, plain);
    } catch (err) {
      t.ledger.abandon(index, generation);
      throw err;
    }
    t.touchedAt = this.now();
    if (!t.ledger.settle(index, generation) || !t.ledger.complete || t.finishing)
      return { done: false, prefix: t.ledger.prefix };
    t.finishing = true;
    try {
      const plaintext = await t.blob.read(t.opener.header.payloadBytes);
      const sha256 = crypto.createHash('sha256').update(plaintext).digest('hex');
      t.opener.checkDigest(sha256);
      return { done: true, header: t.opener.header, plaintext, sha256, admitted: t.admitted };
    } finally {
      await this.end(nonce, t);
    }
  }

  /** Drops transfers idle past the limit, with their bytes. */
  async sweep(): Promise<void> {
    const cutoff = this.now() - this.limits.idleMs;
    for (const [nonce, t] of [...this.open])
      if (t.touchedAt < cutoff && !t.finishing) await this.end(nonce, t);
  }

  async close(): Promise<void> {
    for (const [nonce, t] of [...this.open]) await this.end(nonce, t);
  }

  private async end(nonce: string, t: Transfer<Admitted>): Promise<void> {
    if (this.open.get(nonce) === t) this.open.delete(nonce);
    t.opener.dispose();
    await t.blob.discard();
  }
}
