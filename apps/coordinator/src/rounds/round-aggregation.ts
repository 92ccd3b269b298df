import {
  AggregationError,
  StreamingAggregator,
  addFixedPoint,
  addSquares,
  applyDelta,
  clipScale,
  createAggregator,
  decodeUpdate,
  l2Norm,
  type StrategyState,
} from '@fedseg/aggregation';
import {
  STREAMING_STRATEGIES,
  allocateWeightsBlob,
  decodeTensors,
  readTensorManifest,
  tensorHeaderBytes,
} from '@fedseg/protocol';
import type { BlobStore } from '../storage/blob-store';
import { sha256Hex, sha256OfBlob } from '../storage/blob-store';
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
  options: { sliceWeights?: number } = {},
): Promise<AggregationOutcome> {
  try {
    return study.config.secureAggregation
      ? await deps.secure.aggregate(study, round, global, updates)
      : await aggregatePlain(deps.blobs, study, global, updates, options.sliceWeights ?? SLICE_WEIGHTS);
  } catch (err) {
    if (!(err instanceof AggregationError)) throw err;
    return {
      failure: study.config.secureAggregation
        ? `secure aggregation could not unmask round ${round.index}: ${err.message}`
        : `round ${round.index} could not be aggregated: ${err.message}`,
    };
  }
}

/** Weights summed at a time by the sliced path: 4 MB of each update read, 8 MB of fixed-point sum. */
export const SLICE_WEIGHTS = 1 << 20;

/**
 * Plain updates. Mean-based strategies sum the weighted deltas exactly, in the same 64-bit fixed point as
 * secure aggregation (addFixedPoint): the sum does not depend on the order of the updates, and a study gives
 * the same model bit for bit with or without masking. Coordinator-side clipping (updateNormBound, central DP)
 * scales each delta first, as StreamingAggregator.add would. Robust strategies (median, trimmed mean, Krum)
 * need the individual weights. The new model is built in the payload of the blob it will be stored as, so
 * storing it copies nothing (GlobalModelService.store).
 */
async function aggregatePlain(
  blobs: BlobStore,
  study: StudyRecord,
  global: GlobalModel,
  updates: readonly UpdateRecord[],
  sliceWeights: number,
): Promise<{ weights: Float32Array; state: StrategyState | null }> {
  const { strategy, privacy } = study.config;
  const aggregator = createAggregator(strategy, {
    global: global.weights.data,
    state: global.state,
    expectedSites: updates.length,
    privacy,
    // Streaming strategies build the model in it; buffered ones return their own array (then copied once).
    out: STREAMING_STRATEGIES.includes(strategy.name)
      ? allocateWeightsBlob(global.weights.manifest)?.weights.data
      : undefined,
  });
  if (aggregator instanceof StreamingAggregator) {
    const central = privacy.mode === 'central';
    const bounds = [
      'updateNormBound' in strategy ? strategy.updateNormBound : undefined,
      central ? privacy.clipNorm : undefined,
    ].filter((b): b is number => b !== undefined);
    const summed = {
      bound: bounds.length > 0 ? Math.min(...bounds) : undefined,
      // DP-FedAvg's sensitivity bound holds for equal weights only (McMahan et al., 2018).
      weightOf: (u: UpdateRecord) => (central ? 1 : u.samples),
    };
    // A model that fits one slice is read whole: one read of each update instead of four (header, digest,
    // values), which matters to a round of many small updates.
    const slices =
      global.weights.data.length > sliceWeights ? await uncompressedLayouts(blobs, updates) : null;
    if (slices) await sumInSlices(blobs, aggregator, global, updates, slices, summed, sliceWeights);
    else await sumWhole(blobs, aggregator, global, updates, summed);
    return aggregator.finish();
  }
  for (const update of updates) {
    const delta = await wholeDelta(blobs, update);
    aggregator.add({
      siteId: update.siteId,
      samples: update.samples,
      weights: applyDelta(global.weights.data, delta),
    });
  }
  return aggregator.finish();
}

interface Summed {
  bound: number | undefined;
  weightOf: (u: UpdateRecord) => number;
}

/** One update whole, after its stored bytes matched their digest; a view of the blob (codec none) or decoded. */
async function wholeDelta(blobs: BlobStore, update: UpdateRecord): Promise<Float32Array> {
  const blob = await blobs.get(update.storageKey);
  if (sha256Hex(blob) !== update.sha256)
    throw new Error(`stored update ${update.id} no longer matches its digest`);
  return decodeUpdate(decodeTensors(blob), { readOnly: true });
}

/**
 * Compressed updates (fp16, int8, top-k) are summed one whole update at a time: they decode into a new
 * Float32Array anyway, and are a quarter to a half of the model or less on the wire, so slicing them (int8's
 * scales per tensor, top-k's sparse indices) would save little for its complexity. Peak: the fixed-point sum
 * (8 bytes a weight), one decoded update and the new model.
 */
async function sumWhole(
  blobs: BlobStore,
  aggregator: StreamingAggregator,
  global: GlobalModel,
  updates: readonly UpdateRecord[],
  summed: Summed,
): Promise<void> {
  const sum = new Uint32Array(global.weights.data.length * 2);
  let totalWeight = 0;
  for (const update of updates) {
    const delta = await wholeDelta(blobs, update);
    const scale = summed.bound === undefined ? 1 : clipScale(l2Norm(delta), summed.bound, update.siteId);
    const weight = summed.weightOf(update);
    addFixedPoint(sum, delta, weight * scale);
    totalWeight += weight;
  }
  // Decoded element by element into the aggregator, then dropped with this frame: not also a decoded copy.
  aggregator.addSecureSum({ deltaSum: { ring: sum }, totalWeight, siteIds: updates.map((u) => u.siteId) });
}

/**
 * Where each update's float32 delta starts in its blob, when every update of the round is codec none (one
 * `update.f32` tensor), read from the blobs' headers alone; null when any is not.
 */
async function uncompressedLayouts(
  blobs: BlobStore,
  updates: readonly UpdateRecord[],
): Promise<{ dataOffset: number; values: number }[] | null> {
  const out: { dataOffset: number; values: number }[] = [];
  for (const update of updates) {
    const headerBytes = tensorHeaderBytes(await blobs.getRange(update.storageKey, 0, 12));
    const entries = readTensorManifest(await blobs.getRange(update.storageKey, 0, headerBytes));
    const only = entries.length === 1 ? entries[0]! : undefined;
    if (only?.name !== 'update.f32' || only.dtype !== 'float32' || only.shape.length !== 1) return null;
    out.push({ dataOffset: only.byteOffset, values: only.shape[0]! });
  }
  return out;
}

/**
 * Codec none, the big case (an update as large as the model), summed one slice of the weight vector at a
 * time: for each slice, that byte range of every update is read from the blob store and added into a
 * slice-sized fixed-point sum, which the aggregator decodes into the new model. Peak: the new model and one
 * slice of sum and update, instead of the whole sum (twice the model) and a whole update. The sum is the same
 * bits as sumWhole's: fixed point is exact per weight, clipping uses the same norm (addSquares in index
 * order), and the aggregator decodes each weight the same way. Each update's digest is checked first by
 * streaming it, before any of it is used; stored updates are never rewritten under their key.
 */
async function sumInSlices(
  blobs: BlobStore,
  aggregator: StreamingAggregator,
  global: GlobalModel,
  updates: readonly UpdateRecord[],
  layouts: readonly { dataOffset: number; values: number }[],
  summed: Summed,
  sliceWeights: number,
): Promise<void> {
  const length = global.weights.data.length;
  for (const update of updates)
    if ((await sha256OfBlob(blobs, update.storageKey)) !== update.sha256)
      throw new Error(`stored update ${update.id} no longer matches its digest`);
  layouts.forEach((l) => {
    if (l.values !== length)
      throw new AggregationError(
        `A sum of ${length} values cannot take ${l.values}.`,
        'UPDATE_LENGTH_MISMATCH',
      );
  });
  const read = async (k: number, from: number, to: number): Promise<Float32Array> => {
    const bytes = await blobs.getRange(
      updates[k]!.storageKey,
      layouts[k]!.dataOffset + 4 * from,
      4 * (to - from),
    );
    if (bytes.length !== 4 * (to - from))
      throw new Error(`stored update ${updates[k]!.id} ends inside its values`);
    // getRange returns a fresh array at offset 0: aligned for a Float32Array view.
    return new Float32Array(bytes.buffer, bytes.byteOffset, to - from);
  };
  const scales = [];
  for (let k = 0; k < updates.length; k++) {
    if (summed.bound === undefined) {
      scales.push(1);
      continue;
    }
    let squares = 0;
    for (let from = 0; from < length; from += sliceWeights)
      squares = addSquares(squares, await read(k, from, Math.min(length, from + sliceWeights)));
    scales.push(clipScale(Math.sqrt(squares), summed.bound, updates[k]!.siteId));
  }
  const totalWeight = updates.reduce((t, u) => t + summed.weightOf(u), 0);
  const siteIds = updates.map((u) => u.siteId);
  const ring = new Uint32Array(2 * Math.min(length, sliceWeights));
  for (let from = 0; from < length; from += sliceWeights) {
    const to = Math.min(length, from + sliceWeights);
    const slice = ring.subarray(0, 2 * (to - from)).fill(0);
    for (let k = 0; k < updates.length; k++)
      addFixedPoint(slice, await read(k, from, to), summed.weightOf(updates[k]!) * scales[k]!, from);
    aggregator.addSecureSumSlice({ offset: from, ring: slice, totalWeight, siteIds });
  }
}
