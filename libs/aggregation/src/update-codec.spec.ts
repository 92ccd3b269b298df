import {
  CompressionConfig,
  decodeTensors,
  encodeTensors,
  type NamedTensor,
  type WeightSpec,
} from '@fedseg/protocol';
import { UpdateCodecError } from './aggregation-error';
import { quantizeInt8 } from './int8-quantize';
import { seededRng } from './rng';
import { topK } from './top-k';
import { applyDelta, decodeUpdate, encodeUpdate, type CodecSiteState } from './update-codec';
import { maxAbsDiff, randomVector } from './testing/reference';

/** Tensors -> blob -> tensors, as on the wire. */
const wire = (tensors: NamedTensor[]) => decodeTensors(encodeTensors(tensors));
const fp32Bytes = (p: number) =>
  encodeTensors([{ name: 'update.f32', shape: [p], dtype: 'float32', data: new Float32Array(p) }]).byteLength;

// A small model's manifest: tensors of very different magnitudes share one update.
const manifest: WeightSpec[] = [
  { name: 'enc.conv.kernel', shape: [3, 3, 3, 16, 32] },
  { name: 'enc.conv.bias', shape: [32] },
  { name: 'enc.norm.gamma', shape: [32] },
  { name: 'dec.conv.kernel', shape: [3, 3, 3, 32, 16] },
  { name: 'out.kernel', shape: [1, 1, 1, 16, 2] },
];
const P = manifest.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
function modelDelta(seed: number): Float32Array {
  const d = randomVector(P, seed, 1e-3);
  for (let i = 13_824; i < 13_888; i++) d[i] *= 100; // bias and norm updates are larger
  return d;
}

describe('update codecs', () => {
  it('none and fp16 round-trip through the tensor blob', () => {
    const d = modelDelta(1);
    expect(
      decodeUpdate(wire(encodeUpdate(CompressionConfig.parse({ codec: 'none' }), d, null).tensors)),
    ).toEqual(d);
    const half = decodeUpdate(
      wire(encodeUpdate(CompressionConfig.parse({ codec: 'fp16' }), d, null).tensors),
    );
    expect(maxAbsDiff(half, d)).toBeLessThan(0.1 * 2 ** -11);
  });

  it.each(['nearest', 'stochastic'] as const)(
    'int8 (%s): ratio >= 3.9x and the error bound per tensor scale',
    (rounding) => {
      const d = modelDelta(2);
      const codec = CompressionConfig.parse({ codec: 'int8', rounding });
      const { tensors } = encodeUpdate(codec, d, null, { manifest, rng: seededRng(3) });
      const blob = encodeTensors(tensors);
      expect(fp32Bytes(P) / blob.byteLength).toBeGreaterThanOrEqual(3.9);
      const decoded = decodeUpdate(decodeTensors(blob));
      const scales = tensors[1].data as Float32Array;
      expect(scales.length).toBe(manifest.length);
      const q = tensors[0].data as Int8Array;
      let start = 0;
      manifest.forEach((spec, s) => {
        const end = start + spec.shape.reduce((a, b) => a * b, 1);
        const scale = scales[s];
        let maxAbs = 0;
        for (let i = start; i < end; i++) maxAbs = Math.max(maxAbs, Math.abs(d[i]));
        expect(Math.abs(scale - maxAbs / 127)).toBeLessThanOrEqual((maxAbs / 127) * 2 ** -23); // float32 scale
        let maxErr = 0;
        let decodeMismatches = 0;
        for (let i = start; i < end; i++) {
          maxErr = Math.max(maxErr, Math.abs(d[i] - q[i] * scale)); // exact in float64
          // what decodeUpdate returns is q * scale rounded to float32
          if (decoded[i] !== Math.fround(q[i] * scale)) decodeMismatches++;
        }
        if (rounding === 'nearest') expect(maxErr).toBeLessThanOrEqual(scale / 2);
        else expect(maxErr).toBeLessThan(scale);
        expect(decodeMismatches).toBe(0);
        start = end;
      });
    },
  );

  it('int8 stochastic rounding is unbiased: the mean of many encodings converges to the value', () => {
    const x = Float32Array.of(1, 0.3, -0.77, 0.01);
    const rng = seededRng(11);
    const sum = new Float64Array(4);
    const n = 4000;
    for (let t = 0; t < n; t++) {
      const { q, scales } = quantizeInt8(x, [4], 'stochastic', rng);
      for (let i = 0; i < 4; i++) sum[i] += q[i] * scales[0];
    }
    // scale = 1/127; rounding noise per draw < scale, std <= scale/2: 5 sigma of the mean = 5 * (1/254) / sqrt(4000)
    for (let i = 0; i < 4; i++) expect(Math.abs(sum[i] / n - x[i])).toBeLessThan(5 / 254 / Math.sqrt(n));
  });

  it('top-k keeps exactly k entries, the largest in magnitude, ties broken by index', () => {
    const { indices, values } = topK(Float32Array.of(0.5, -3, 1, 3, -1, 0, 1), 3);
    expect(Array.from(indices)).toEqual([1, 2, 3]); // |-3|, |3|, then the first of the tied 1s
    expect(Array.from(values)).toEqual([-3, 1, 3]);
    const d = modelDelta(4);
    for (const fraction of [0.001, 0.01, 0.1, 0.5, 1]) {
      const k = Math.ceil(fraction * P);
      const { tensors } = encodeUpdate(
        CompressionConfig.parse({ codec: 'top-k', fraction, errorFeedback: false }),
        d,
        null,
      );
      const idx = tensors[0].data as Int32Array;
      expect(idx.length).toBe(k);
      const kept = new Set(idx);
      const threshold = Math.min(...Array.from(idx, (i) => Math.abs(d[i])));
      const decoded = decodeUpdate(wire(tensors));
      let larger = 0;
      let wrong = 0;
      for (let i = 0; i < P; i++) {
        if (!kept.has(i) && Math.abs(d[i]) > threshold) larger++;
        if (decoded[i] !== (kept.has(i) ? d[i] : 0)) wrong++;
      }
      expect(larger).toBe(0);
      expect(wrong).toBe(0);
      // 8 bytes per kept entry, plus the blob's header and manifest (under 512 bytes).
      expect(encodeTensors(tensors).byteLength).toBeLessThan(8 * k + 512);
    }
    const ties = encodeUpdate(
      CompressionConfig.parse({ codec: 'top-k', fraction: 0.5 }),
      new Float32Array(10).fill(2),
      null,
    );
    expect(Array.from(ties.tensors[0].data)).toEqual([0, 1, 2, 3, 4]);
  });

  it('top-k error feedback: what is sent over rounds converges to what was meant to be sent', () => {
    // The same delta every round; with feedback the residual stays bounded, so the average sent per round
    // tends to the delta: |sum_sent - T * delta| = |residual_T| is bounded while T * delta grows.
    const d = modelDelta(5);
    const codec = CompressionConfig.parse({ codec: 'top-k', fraction: 0.05 });
    let state: CodecSiteState | null = null;
    const sent = new Float64Array(P);
    const gaps: number[] = [];
    const T = 200;
    for (let t = 1; t <= T; t++) {
      const r = encodeUpdate(codec, d, state);
      state = r.siteState;
      const dec = decodeUpdate(r.tensors);
      for (let i = 0; i < P; i++) sent[i] += dec[i];
      if (t % 50 === 0)
        gaps.push(
          maxAbsDiff(
            Float64Array.from(sent, (s) => s / t),
            d,
          ),
        );
      // Invariant: sent so far + residual = T * delta (nothing is lost).
      if (t === T)
        expect(
          maxAbsDiff(
            Float64Array.from(sent, (s, i) => s + state!.residual![i]),
            Float64Array.from(d, (x) => T * x),
          ),
        ).toBeLessThan(1e-6 * T);
    }
    for (let j = 1; j < gaps.length; j++) expect(gaps[j]).toBeLessThan(gaps[j - 1]);
    expect(gaps[gaps.length - 1]).toBeLessThan(0.15 * Math.max(...Array.from(d, Math.abs)));
    // Without feedback the untransmitted coordinates are never sent: the gap does not shrink.
    const noFeedback = CompressionConfig.parse({ codec: 'top-k', fraction: 0.05, errorFeedback: false });
    const once = decodeUpdate(encodeUpdate(noFeedback, d, null).tensors);
    expect(maxAbsDiff(once, d)).toBeGreaterThan(gaps[gaps.length - 1] * 2);
  });

  it('refuses malformed updates and a residual from another model', () => {
    expect(() =>
      decodeUpdate([{ name: 'weights', shape: [1], dtype: 'float32', data: new Float32Array(1) }]),
    ).toThrow(UpdateCodecError);
    const bad: NamedTensor[] = [
      {
        name: 'update.topk.index',
        shape: [2],
        dtype: 'int32',
        data: Int32Array.of(5, 3),
        meta: { length: 10 },
      },
      { name: 'update.topk.value', shape: [2], dtype: 'float32', data: Float32Array.of(1, 2) },
    ];
    expect(() => decodeUpdate(bad)).toThrow(/not ascending/);
    const codec = CompressionConfig.parse({ codec: 'top-k' });
    expect(() => encodeUpdate(codec, new Float32Array(5), { residual: new Float32Array(4) })).toThrow(
      /another model/,
    );
    expect(() =>
      encodeUpdate(CompressionConfig.parse({ codec: 'int8' }), Float32Array.of(1, NaN), null),
    ).toThrow(/not finite/);
  });

  it('applyDelta rebuilds full weights for the aggregator', () => {
    expect(Array.from(applyDelta(Float32Array.of(1, 2), Float32Array.of(0.5, -1)))).toEqual([1.5, 1]);
  });
});

describe('decodeUpdate readOnly', () => {
  it('gives an uncompressed delta as a view of the tensor (no copy) only when asked, with the same values', () => {
    const delta = Float32Array.from({ length: 9 }, (_, i) => i - 4.5);
    const tensors = wire(encodeUpdate(CompressionConfig.parse({ codec: 'none' }), delta, null).tensors);
    const view = decodeUpdate(tensors, { readOnly: true });
    const copy = decodeUpdate(tensors);
    expect(Array.from(view)).toEqual(Array.from(delta));
    expect(Array.from(copy)).toEqual(Array.from(delta));
    expect(view.buffer).toBe(tensors[0]!.data.buffer);
    expect(copy.buffer).not.toBe(tensors[0]!.data.buffer);
  });
});
