import {
  StreamingAggregator,
  addFixedPoint,
  createAggregator,
  encodeUpdate,
  float16ToFloat32,
  float32ToFloat16,
  l2Norm,
  clipScale,
  seededRng,
  uniform01,
  type StrategyState,
} from '@fedseg/aggregation';
import {
  StudyConfig,
  blobOfWeights,
  decodeWeightsView,
  encodeTensors,
  encodeWeights,
  type StudyConfigInput,
  type WeightSpec,
} from '@fedseg/protocol';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileBlobStore, sha256Hex } from '../storage/blob-store';
import type { StudyRecord } from '../studies/studies.repository';
import type { GlobalModel } from './global-model.service';
import { aggregateRound } from './round-aggregation';
import type { RoundRecord, UpdateRecord } from './rounds.repository';
import type { SecureRound } from './secure-round';

/**
 * Plain aggregation reads codec-none updates slice by slice of the weight vector. The reference is the
 * whole-vector computation it replaced, written out here: each update whole, its clip scale from l2Norm, one
 * 64-bit fixed-point sum of all of them, then addSecureSum. The two must agree bit for bit.
 */

// 9,927 weights: the last tensor is odd-sized (a U-Net's head bias is), so slices split tensors and end short.
const manifest: WeightSpec[] = [
  { name: 'conv/kernel', shape: [3, 3, 3, 8, 40] },
  { name: 'conv/bias', shape: [40] },
  { name: 'head/kernel', shape: [1, 1, 1, 40, 3] },
  { name: 'head/bias', shape: [1127] },
];
const P = manifest.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);

function vector(length: number, seed: number, scale: number): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length }, () => scale * (2 * uniform01(rng) - 1));
}

function globalModel(state: StrategyState | null = null, data = vector(P, 1, 1)): GlobalModel {
  const blob = encodeWeights({ manifest, data });
  return { roundIndex: 0, weights: decodeWeightsView(blob), blob, sha256: sha256Hex(blob), state };
}

function study(config: Partial<StudyConfigInput>): StudyRecord {
  return { id: 'study-1', config: StudyConfig.parse({ name: 's', rounds: 2, ...config }) } as StudyRecord;
}

const round = { id: 'round-1', index: 1 } as RoundRecord;
const noSecure = {} as SecureRound;

describe('aggregateRound (plain updates)', () => {
  let dir: string;
  let blobs: FileBlobStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-aggregation-'));
    blobs = new FileBlobStore(dir);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function stored(siteId: string, samples: number, blob: Uint8Array): Promise<UpdateRecord> {
    const storageKey = `updates/${siteId}.fstn`;
    await blobs.put(storageKey, blob);
    return { id: `u-${siteId}`, siteId, samples, storageKey, sha256: sha256Hex(blob) } as UpdateRecord;
  }

  const none = (delta: Float32Array) => encodeTensors(encodeUpdate({ codec: 'none' }, delta, null).tensors);

  /** The whole-vector path, as it was before slicing. */
  function reference(
    config: StudyRecord['config'],
    global: GlobalModel,
    deltas: readonly Float32Array[],
    samples: readonly number[],
  ) {
    const aggregator = createAggregator(config.strategy, {
      global: global.weights.data,
      state: global.state,
      expectedSites: deltas.length,
      privacy: config.privacy,
    }) as StreamingAggregator;
    const bound = 'updateNormBound' in config.strategy ? config.strategy.updateNormBound : undefined;
    const ring = new Uint32Array(2 * P);
    deltas.forEach((d, k) =>
      addFixedPoint(ring, d, samples[k]! * (bound === undefined ? 1 : clipScale(l2Norm(d), bound))),
    );
    aggregator.addSecureSum({
      deltaSum: { ring },
      totalWeight: samples.reduce((a, b) => a + b, 0),
      siteIds: deltas.map((_, k) => `site-${k}`),
    });
    return aggregator.finish();
  }

  const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

  it('gives FedAvg the same model, bit for bit, for any slice size, built in the blob it will be stored as', async () => {
    const config = study({}).config;
    const global = globalModel();
    const deltas = [vector(P, 11, 0.01), vector(P, 12, 0.02), vector(P, 13, 0.005)];
    const samples = [30, 7, 112];
    const updates = await Promise.all(deltas.map((d, k) => stored(`site-${k}`, samples[k]!, none(d))));
    const expected = reference(config, global, deltas, samples);
    for (const sliceWeights of [1000, 1080, 3333, 4096, P - 1, P, 1 << 20]) {
      const got = await aggregateRound({ blobs, secure: noSecure }, study({}), round, global, updates, {
        sliceWeights,
      });
      if ('failure' in got) throw new Error(got.failure);
      expect(bytes(got.weights).equals(bytes(expected.weights))).toBe(true);
      // The new model is the payload of its own blob: storing it copies nothing.
      const blob = blobOfWeights({ manifest, data: got.weights });
      expect(
        blob && Buffer.from(blob).equals(Buffer.from(encodeWeights({ manifest, data: got.weights }))),
      ).toBe(true);
    }
  });

  it('keeps FedAdam moments and clipping identical: a second round from the first one’s state', async () => {
    const config = { strategy: { name: 'fedadam' as const, updateNormBound: 0.5 } };
    const deltas = [vector(P, 21, 0.02), vector(P, 22, 0.001), vector(P, 23, 0.03)];
    expect(deltas.filter((d) => l2Norm(d) > 0.5).length).toBeGreaterThan(0); // some are clipped
    const samples = [5, 5, 9];
    const updates = await Promise.all(deltas.map((d, k) => stored(`site-${k}`, samples[k]!, none(d))));
    const first = reference(study(config).config, globalModel(), deltas, samples);
    const global = globalModel(first.state, first.weights.slice());
    const expected = reference(study(config).config, global, deltas, samples);
    for (const sliceWeights of [999, 5000]) {
      const got = await aggregateRound({ blobs, secure: noSecure }, study(config), round, global, updates, {
        sliceWeights,
      });
      if ('failure' in got) throw new Error(got.failure);
      expect(bytes(got.weights).equals(bytes(expected.weights))).toBe(true);
      expect(got.state).toEqual(expected.state);
    }
  });

  it('sums a round with a compressed update whole, with the same result as the reference', async () => {
    const global = globalModel();
    const deltas = [vector(P, 31, 0.01), vector(P, 32, 0.01)];
    const halfBlob = encodeTensors(encodeUpdate({ codec: 'fp16' }, deltas[1]!, null).tensors);
    const updates = [await stored('site-0', 3, none(deltas[0]!)), await stored('site-1', 4, halfBlob)];
    // What the site's fp16 update decodes to: each value rounded to half precision.
    const expected = reference(
      study({}).config,
      global,
      [deltas[0]!, float16ToFloat32(float32ToFloat16(deltas[1]!))],
      [3, 4],
    );
    const got = await aggregateRound({ blobs, secure: noSecure }, study({}), round, global, updates, {
      sliceWeights: 1000,
    });
    if ('failure' in got) throw new Error(got.failure);
    expect(bytes(got.weights).equals(bytes(expected.weights))).toBe(true);
  });

  it('hands a robust strategy the whole updates: the coordinate-wise median of the sites’ weights', async () => {
    const global = globalModel();
    const deltas = [vector(P, 51, 0.01), vector(P, 52, 0.01), vector(P, 53, 0.01)];
    const updates = await Promise.all(deltas.map((d, k) => stored(`site-${k}`, 1, none(d))));
    const got = await aggregateRound(
      { blobs, secure: noSecure },
      study({ strategy: { name: 'median' } }),
      round,
      global,
      updates,
      { sliceWeights: 1000 },
    );
    if ('failure' in got) throw new Error(got.failure);
    // Hand-made reference: the middle of the three float32 weights g + d_k at each index.
    const g = global.weights.data;
    const expected = Float32Array.from({ length: P }, (_, i) => {
      const w = deltas.map((d) => Math.fround(g[i]! + d[i]!)).sort((a, b) => a - b);
      return w[1]!;
    });
    expect(bytes(got.weights).equals(bytes(expected))).toBe(true);
  });

  it('refuses a stored update whose bytes changed, and fails a round whose update has the wrong length', async () => {
    const global = globalModel();
    const good = await stored('site-0', 1, none(vector(P, 41, 0.01)));
    const altered = await stored('site-1', 1, none(vector(P, 42, 0.01)));
    const file = path.join(dir, altered.storageKey);
    const raw = fs.readFileSync(file);
    raw[raw.length - 5] ^= 1;
    fs.writeFileSync(file, raw);
    const short = await stored('site-2', 1, none(vector(P - 1, 43, 0.01)));
    // Sliced (the model spans several slices) and whole (it fits one): the same verdicts.
    for (const sliceWeights of [1000, P]) {
      await expect(
        aggregateRound({ blobs, secure: noSecure }, study({}), round, global, [good, altered], {
          sliceWeights,
        }),
      ).rejects.toThrow(/u-site-1 no longer matches its digest/);
      expect(
        await aggregateRound({ blobs, secure: noSecure }, study({}), round, global, [good, short], {
          sliceWeights,
        }),
      ).toEqual({
        failure: `round 1 could not be aggregated: A sum of ${P} values cannot take ${P - 1}.`,
      });
    }
  });
});
