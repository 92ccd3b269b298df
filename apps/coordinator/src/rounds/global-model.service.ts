import { Inject, Injectable } from '@nestjs/common';
import type { Db } from '../database/transactions';
import { decodeStrategyState, encodeStrategyState, type StrategyState } from '@fedseg/aggregation';
import {
  blobOfWeights,
  decodeWeightsView,
  encodeWeights,
  weightCount,
  type FlatWeights,
} from '@fedseg/protocol';
import { z } from 'zod';
import { BLOB_STORE } from '../core/tokens';
import { sha256Hex, type BlobStore } from '../storage/blob-store';
import type { StudyRecord } from '../studies/studies.repository';
import { RoundsRepository } from './rounds.repository';
import { createInitialWeights } from './initial-weights';

export interface GlobalModel {
  roundIndex: number;
  /** Read-only: where the layout allows (decodeWeightsView), a view of `blob`, so the model is held once. */
  weights: FlatWeights;
  /** The encoded blob exactly as stored and sent to sites. */
  blob: Uint8Array;
  sha256: string;
  /** Server-optimizer state checkpointed with these weights (FedOpt moments); null for stateless strategies. */
  state: StrategyState | null;
}

/** What Checkpoint.strategyState holds: where the encoded state blob lives. */
const StateRef = z.object({ storageKey: z.string(), sha256: z.string() });

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
    if (row) {
      const ref = row.strategyState === null ? null : StateRef.parse(row.strategyState);
      const state = ref ? decodeStrategyState(await this.blobs.get(ref.storageKey)) : null;
      return this.remember(study.id, row.roundIndex, await this.blobs.get(row.storageKey), row.sha256, state);
    }
    // Round 0: the initial model, committed before any site sees it.
    const weights = await createInitialWeights(study.config.model, study.config.training.seed, {
      fedBn: study.config.training.fedBn,
    });
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
    return this.remember(study.id, 0, blob, stored.sha256, null);
  }

  /**
   * How many values the study's model has. Every round's model has the same manifest, so any model held in
   * memory answers without reading the latest checkpoint (checked once per update, so it matters at scale).
   */
  async weightCount(study: StudyRecord): Promise<number> {
    const held = this.cache.get(study.id) ?? (await this.latest(study));
    return weightCount(held.weights.manifest);
  }

  /**
   * Stores the blob; the caller writes the Checkpoint row inside its round transaction. Weights built in the
   * payload of their own blob (allocateWeightsBlob, as aggregation does) are stored as that blob, not copied.
   */
  async store(
    studyId: string,
    roundIndex: number,
    weights: FlatWeights,
    state: StrategyState | null,
  ): Promise<{
    key: string;
    sha256: string;
    bytes: number;
    blob: Uint8Array;
    stateRef: z.infer<typeof StateRef> | null;
  }> {
    const blob = blobOfWeights(weights) ?? encodeWeights(weights);
    const key = checkpointKey(studyId, roundIndex);
    const stored = await this.blobs.put(key, blob);
    let stateRef: z.infer<typeof StateRef> | null = null;
    if (state) {
      const stateKey = key.replace(/\.fstn$/, '.state.fstn');
      stateRef = {
        storageKey: stateKey,
        sha256: (await this.blobs.put(stateKey, encodeStrategyState(state))).sha256,
      };
    }
    return { key, ...stored, blob, stateRef };
  }

  async commitRow(
    data: {
      studyId: string;
      roundIndex: number;
      roundId: string;
      key: string;
      sha256: string;
      bytes: number;
      stateRef: z.infer<typeof StateRef> | null;
    },
    tx: Db,
  ): Promise<void> {
    await this.rounds.createCheckpoint(
      {
        studyId: data.studyId,
        roundIndex: data.roundIndex,
        roundId: data.roundId,
        storageKey: data.key,
        sha256: data.sha256,
        bytes: data.bytes,
        strategyState: data.stateRef ?? undefined,
      },
      tx,
    );
  }

  remember(
    studyId: string,
    roundIndex: number,
    blob: Uint8Array,
    sha256 = sha256Hex(blob),
    state: StrategyState | null,
  ): GlobalModel {
    // The weights as a view of the blob where the layout allows: the model is held once, not twice.
    const model = { roundIndex, weights: decodeWeightsView(blob), blob, sha256, state };
    this.cache.set(studyId, model);
    return model;
  }

  async blobOf(studyId: string, roundIndex: number): Promise<{ blob: Uint8Array; sha256: string } | null> {
    const row = await this.rounds.checkpointOf(studyId, roundIndex);
    if (!row) return null;
    return { blob: await this.blobs.get(row.storageKey), sha256: row.sha256 };
  }
}
