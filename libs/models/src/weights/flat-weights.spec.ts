import { ModelConfig, TrainingConfig, sameManifest } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import { WeightsMismatchError } from '../errors';
import { createSegmentationModel } from '../model/segmentation-model';
import { spherePhantom } from '../testing/sphere-phantom';
import { trainLocal } from '../training/train-local';
import { getFlatWeights, setFlatWeights } from './flat-weights';
import { applyWeightsDelta, weightsDelta } from './weights-delta';

const config = ModelConfig.parse({ architecture: 'unet3d', baseFilters: 2, depth: 2 });
const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('flat weights', () => {
  beforeAll(async () => {
    await initBackend('wasm', { fastKernels: false });
  });

  it('gives identical weights for the same seed and different ones for another seed', () => {
    const a = createSegmentationModel(config, 42);
    const b = createSegmentationModel(config, 42);
    const c = createSegmentationModel(config, 43);
    expect(bytes(getFlatWeights(a).data).equals(bytes(getFlatWeights(b).data))).toBe(true);
    expect(bytes(getFlatWeights(a).data).equals(bytes(getFlatWeights(c).data))).toBe(false);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('round-trips exactly through another model, with a stable named order', () => {
    const source = createSegmentationModel(config, 1);
    const target = createSegmentationModel(config, 2);
    const weights = getFlatWeights(source);
    expect(weights.manifest[0]).toEqual({ name: 'enc0_a_conv/kernel', shape: [3, 3, 3, 1, 2] });
    expect(weights.manifest.at(-1)).toEqual({ name: 'head/bias', shape: [2] });
    setFlatWeights(target, weights);
    const back = getFlatWeights(target);
    expect(sameManifest(back.manifest, weights.manifest)).toBe(true);
    expect(bytes(back.data).equals(bytes(weights.data))).toBe(true);
    // The model keeps no reference to the caller's vector.
    weights.data.fill(0);
    expect(bytes(getFlatWeights(target).data).equals(bytes(back.data))).toBe(true);
    source.dispose();
    target.dispose();
  });

  it('refuses weights of another architecture with a named error and leaves the model unchanged', () => {
    const model = createSegmentationModel(config, 1);
    const other = createSegmentationModel({ ...config, depth: 3 }, 1);
    const before = getFlatWeights(model).data;
    expect(() => setFlatWeights(model, getFlatWeights(other))).toThrow(WeightsMismatchError);
    expect(() => setFlatWeights(model, { ...getFlatWeights(model), data: new Float32Array(3) })).toThrow(
      /vector holds 3/,
    );
    expect(bytes(getFlatWeights(model).data).equals(bytes(before))).toBe(true);
    model.dispose();
    other.dispose();
  });

  it('leaves normalization parameters out for FedBN and keeps them local on set', () => {
    const model = createSegmentationModel(config, 1);
    const shared = getFlatWeights(model, { excludeNormalization: true });
    expect(shared.manifest.some((s) => s.name.includes('_norm/'))).toBe(false);
    expect(shared.manifest.length).toBeLessThan(getFlatWeights(model).manifest.length);
    const local = getFlatWeights(model).data.slice();
    const incoming = { manifest: shared.manifest, data: shared.data.map((v) => v + 1) };
    setFlatWeights(model, incoming, { excludeNormalization: true });
    const after = getFlatWeights(model);
    after.manifest.forEach((spec, i) => {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const offset = after.manifest.slice(0, i).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
      const changed = after.data[offset] !== local[offset];
      expect([spec.name, n > 0 && changed]).toEqual([spec.name, !spec.name.includes('_norm/')]);
    });
    expect(() => setFlatWeights(model, getFlatWeights(model))).not.toThrow();
    expect(() => setFlatWeights(model, shared)).toThrow(WeightsMismatchError);
    model.dispose();
  });

  it('reproduces trained weights bit for bit from the initial weights plus the delta', async () => {
    const model = createSegmentationModel(config, 3);
    const initial = getFlatWeights(model);
    await trainLocal(
      model,
      [spherePhantom({ shape: [8, 8, 8], radius: 2.5 })],
      TrainingConfig.parse({ epochs: 3, batchSize: 1, learningRate: 0.01 }),
    );
    const trained = getFlatWeights(model);
    const delta = weightsDelta(trained, initial);
    expect(delta.data.some((d) => d !== 0)).toBe(true);
    const rebuilt = applyWeightsDelta(delta, initial);
    expect(bytes(rebuilt.data).equals(bytes(trained.data))).toBe(true);
    expect(() => weightsDelta(trained, { manifest: [], data: new Float32Array() })).toThrow(
      WeightsMismatchError,
    );
    model.dispose();
  });

  it('inverts a delta where a float32 difference would lose bits (a = 1e-3, b = -0.5)', () => {
    const manifest = [{ name: 'w', shape: [2] }];
    const a = { manifest, data: Float32Array.from([1e-3, 3]) };
    const b = { manifest, data: Float32Array.from([-0.5, -7e-9]) };
    // Hand check: the float32 route fails on the first element.
    expect(Math.fround(Math.fround(a.data[0]! - b.data[0]!) + b.data[0]!)).not.toBe(a.data[0]);
    expect(Array.from(applyWeightsDelta(weightsDelta(a, b), b).data)).toEqual(Array.from(a.data));
  });
});
