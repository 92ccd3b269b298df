import {
  AggregationError,
  StreamingAggregator,
  addFixedPoint,
  applyDelta,
  clipScale,
  createAggregator,
  decodeUpdate,
  l2Norm,
  type StrategyState,
} from '@fedseg/aggregation';
import { decodeTensors } from '@fedseg/protocol';
import type { BlobStore } from '../storage/blob-store';
import { sha256Hex } from '../storage/blob-store';
import type { StudyRecord } from '../studies/studies.repository';
import type { GlobalModel } from './global-model.service';
import type { RoundRecord, UpdateRecord } from './rounds.repository';
import type { SecureRound } from './secure-round';

export type AggregationOutcome = { weights: Float32Array; state: StrategyState | null } | { failure: string };

/**
 * The new global model from exactly these updates (in site order, which the caller guarantees), or why it
 * cannot be made: a strategy that cannot aggregate them, or masks that cannot be removed. Such a failure
 * fails the round; retrying would fail the same way. Reads the updates from the blob store; writes nothing.
 */
export async function aggregateRound(
  deps: { blobs: BlobStore; secure: SecureRound },
  study: StudyRecord,
  round: RoundRecord,
  global: GlobalModel,
  updates: readonly UpdateRecord[],
): Promise<AggregationOutcome> {
  try {
    return study.config.secureAggregation
      ? await deps.secure.aggregate(study, round, global, updates)
      : await aggregatePlain(deps.blobs, study, global, updates);
  } catch (err) {
    if (!(err instanceof AggregationError)) throw err;
    return {
      failure: study.config.secureAggregation
        ? `secure aggregation could not unmask round ${round.index}: ${err.message}`
        : `round ${round.index} could not be aggregated: ${err.message}`,
    };
  }
}

/**
 * Plain updates, streamed: one in memory at a time. Mean-based strategies sum the weighted deltas exactly,
 * in the same 64-bit fixed point as secure aggregation (addFixedPoint): the sum does not depend on the order
 * of the updates, and a study gives the same model bit for bit with or without masking. Coordinator-side
 * clipping (updateNormBound, central DP) scales each delta first, as StreamingAggregator.add would.
 * Robust strategies (median, trimmed mean, Krum) need the individual weights.
 */
async function aggregatePlain(
  blobs: BlobStore,
  study: StudyRecord,
  global: GlobalModel,
  updates: readonly UpdateRecord[],
): Promise<{ weights: Float32Array; state: StrategyState | null }> {
  const { strategy, privacy } = study.config;
  const aggregator = createAggregator(strategy, {
    global: global.weights.data,
    state: global.state,
    expectedSites: updates.length,
    privacy,
  });
  const deltas = async function* () {
    for (const update of updates) {
      const blob = await blobs.get(update.storageKey);
      if (sha256Hex(blob) !== update.sha256)
        throw new Error(`stored update ${update.id} no longer matches its digest`);
      yield { update, delta: decodeUpdate(decodeTensors(blob), { readOnly: true }) };
    }
  };
  if (aggregator instanceof StreamingAggregator) {
    const central = privacy.mode === 'central';
    const bounds = [
      'updateNormBound' in strategy ? strategy.updateNormBound : undefined,
      central ? privacy.clipNorm : undefined,
    ].filter((b): b is number => b !== undefined);
    const bound = bounds.length > 0 ? Math.min(...bounds) : undefined;
    let sum: Uint32Array | null = new Uint32Array(global.weights.data.length * 2);
    let totalWeight = 0;
    for await (const { update, delta } of deltas()) {
      const scale = bound === undefined ? 1 : clipScale(l2Norm(delta), bound, update.siteId);
      // DP-FedAvg's sensitivity bound holds for equal weights only (McMahan et al., 2018).
      const weight = central ? 1 : update.samples;
      addFixedPoint(sum!, delta, weight * scale);
      totalWeight += weight;
    }
    // Decoded element by element into the aggregator, then dropped: peak memory is the fixed-point sum
    // (8 bytes a weight), one update and the new model, not also a decoded copy of the sum.
    aggregator.addSecureSum({ deltaSum: { ring: sum }, totalWeight, siteIds: updates.map((u) => u.siteId) });
    sum = null;
    return aggregator.finish();
  }
  for await (const { update, delta } of deltas()) {
    aggregator.add({
      siteId: update.siteId,
      samples: update.samples,
      weights: applyDelta(global.weights.data, delta),
    });
  }
  return aggregator.finish();
}
