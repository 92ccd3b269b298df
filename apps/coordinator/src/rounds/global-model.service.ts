import { Inject, Injectable } from '@nestjs/common';
import type { Prisma } from '@prisma/client';
import { decodeWeights, encodeWeights, type FlatWeights } from '@fedseg/protocol';
import { BLOB_STORE } from '../core/tokens';
import { sha256Hex, type BlobStore } from '../storage/blob-store';
import type { StudyRecord } from '../studies/studies.repository';
import { RoundsRepository } from './rounds.repository';
import { createInitialWeights } from './initial-weights';

export interface GlobalModel {
  roundIndex: number;
  weights: FlatWeights;
  /** The encoded blob exactly as stored and sent to sites. */
  blob: Uint8Array;
  sha256: string;
}

export function checkpointKey(studyId: string, roundIndex: number): string {
  return `checkpoints/${studyId}/round-${String(roundIndex).padStart(5, '0')}.fstn`;
}

/** The latest committed global model of each study: stored as a blob, indexed by a Checkpoint row. */
@Injectable()
export class GlobalModelService {
  private readonly cache = new Map<string, GlobalModel>();

  constructor(
    private readonly rounds: RoundsRepository,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  async latest(study: StudyRecord): Promise<GlobalModel> {
    const row = await this.rounds.latestCheckpoint(study.id);
    const cached = this.cache.get(study.id);
    if (row && cached && cached.roundIndex === row.roundIndex) return cached;
    if (row) return this.remember(study.id, row.roundIndex, await this.blobs.get(row.storageKey), row.sha256);
    // Round 0: the initial model, committed before any site sees it.
    const weights = await createInitialWeights(study.config.model, study.config.training.seed);
    const blob = encodeWeights(weights);
    const key = checkpointKey(study.id, 0);
    const stored = await this.blobs.put(key, blob);
    await this.rounds.createCheckpoint({
      studyId: study.id,
      roundIndex: 0,
      roundId: null,
      storageKey: key,
      sha256: stored.sha256,
      bytes: stored.bytes,
    });
    return this.remember(study.id, 0, blob, stored.sha256);
  }

  /** Stores the blob; the caller writes the Checkpoint row inside its round transaction. */
  async store(studyId: string, roundIndex: number, weights: FlatWeights): Promise<{ key: string; sha256: string; bytes: number; blob: Uint8Array }> {
    const blob = encodeWeights(weights);
    const key = checkpointKey(studyId, roundIndex);
    const stored = await this.blobs.put(key, blob);
    return { key, ...stored, blob };
  }

  async commitRow(
    data: { studyId: string; roundIndex: number; roundId: string; key: string; sha256: string; bytes: number },
    tx: Prisma.TransactionClient,
  ): Promise<void> {
    await this.rounds.createCheckpoint(
      { studyId: data.studyId, roundIndex: data.roundIndex, roundId: data.roundId, storageKey: data.key, sha256: data.sha256, bytes: data.bytes },
      tx,
    );
  }

  remember(studyId: string, roundIndex: number, blob: Uint8Array, sha256 = sha256Hex(blob)): GlobalModel {
    const model = { roundIndex, weights: decodeWeights(blob), blob, sha256 };
    this.cache.set(studyId, model);
    return model;
  }

  async blobOf(studyId: string, roundIndex: number): Promise<{ blob: Uint8Array; sha256: string } | null> {
    const row = await this.rounds.checkpointOf(studyId, roundIndex);
    if (!row) return null;
    return { blob: await this.blobs.get(row.storageKey), sha256: row.sha256 };
  }
}
