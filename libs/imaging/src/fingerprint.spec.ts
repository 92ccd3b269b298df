import { CombinedFingerprint, SiteFingerprint } from '@fedseg/protocol';
import { combineFingerprints, pooledHistogramPercentile, percentileOfSorted } from './combine-fingerprints';
import {
  estimateTrainingMemoryMb,
  maxDepthForPatch,
  planFromFingerprint,
  targetSpacingFromFingerprint,
} from './plan-from-fingerprint';
import { caseStats, roundOutward, siteFingerprint } from './site-fingerprint';
import type { Volume } from './volume';

function line(values: number[], spacingMm: [number, number, number]): Volume {
  return { data: Float32Array.from(values), shape: [values.length, 1, 1], spacingMm, channels: 1 };
}

/** Every array anywhere in a JSON value, with its path. */
function arrays(value: unknown, path = '$'): Array<{ path: string; length: number }> {
  if (Array.isArray(value))
    return [{ path, length: value.length }, ...value.flatMap((v, i) => arrays(v, `${path}[${i}]`))];
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => arrays(v, `${path}.${k}`));
  return [];
}

/** Every string value anywhere in a JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

describe('siteFingerprint', () => {
  it('holds exactly the documented keys, hand-computed values, and no name or voxel array', () => {
    // Case 1: intensities 0, 10, 20, 30 with labels 0, 1, 1, 2 -> foreground 10, 20, 30.
    // Case 2: intensities 5, 40 with labels 1, 0 -> foreground 5.
    const a = caseStats(line([0, 10, 20, 30], [1, 1, 2]), Uint8Array.from([0, 1, 1, 2]), { numClasses: 3 });
    const b = caseStats(line([5, 40], [2, 2, 2]), Uint8Array.from([1, 0]), { numClasses: 3 });
    const msg = siteFingerprint([a, b], { modalities: ['T1'], numClasses: 3, memoryBudgetMb: 4096, bins: 5 });
    const wire = JSON.parse(JSON.stringify(msg)) as Record<string, unknown>;
    expect(Object.keys(wire).sort()).toEqual(
      ['version', 'cases', 'modalities', 'numClasses', 'classVolumeFractions', 'memoryBudgetMb'].sort(),
    );
    expect(msg.cases).toEqual([
      // Body = non-zero voxels: x 1..3 in case 1, both voxels in case 2.
      { spacingMm: [1, 1, 2], shape: [4, 1, 1], bodyShape: [3, 1, 1] },
      { spacingMm: [2, 2, 2], shape: [2, 1, 1], bodyShape: [2, 1, 1] },
    ]);
    expect(Object.keys(msg.cases[0]!).sort()).toEqual(['bodyShape', 'shape', 'spacingMm']);
    const [t1] = msg.modalities;
    expect(Object.keys(t1!).sort()).toEqual(['counts', 'hi', 'lo', 'mean', 'modality', 'std', 'voxels']);
    // Foreground 5, 10, 20, 30: mean 16.25, population variance (126.5625+39.0625+14.0625+189.0625)/4 = 92.1875.
    expect(t1).toMatchObject({ modality: 'T1', lo: 5, hi: 30, voxels: 4 });
    expect(t1!.mean).toBeCloseTo(16.25, 10);
    expect(t1!.std).toBeCloseTo(Math.sqrt(92.1875), 10);
    // Bins of width 5 on [5, 30]: 5 -> 0, 10 -> 1, 20 -> 3, 30 -> last bin (hi is included).
    expect(t1!.counts).toEqual([1, 1, 0, 1, 1]);
    // 6 voxels: class 0 twice, class 1 three times, class 2 once.
    expect(msg.classVolumeFractions).toEqual([2 / 6, 3 / 6, 1 / 6]);
    // No array longer than the bins, cases or classes, and no string but the modality name and nothing file-like.
    for (const arr of arrays(wire)) expect(arr.length).toBeLessThanOrEqual(5);
    expect(strings(wire)).toEqual(['T1']);
  });

  it('rounds the histogram range outward to two significant digits', () => {
    const s = caseStats(line([0, 0.14636, 1550.85], [1, 1, 1]), Uint8Array.from([0, 1, 1]), {
      numClasses: 2,
    });
    const [m] = siteFingerprint([s], { modalities: ['T1'], numClasses: 2, bins: 4 }).modalities;
    expect([m!.lo, m!.hi]).toEqual([0.14, 1600]);
    // Bins of 399.965 on [0.14, 1600]: 0.14636 -> bin 0, 1550.85 -> bin 3.
    expect(m!.counts).toEqual([1, 0, 0, 1]);
    expect(roundOutward(-1024.5, 'down')).toBe(-1100);
    expect(roundOutward(-3.14, 'up')).toBe(-3.1);
    expect(roundOutward(5, 'down')).toBe(5);
  });

  it('samples at most samplesPerCase foreground voxels per case, evenly strided', () => {
    const values = Array.from({ length: 100 }, (_, i) => i);
    const s = caseStats(line(values, [1, 1, 1]), new Uint8Array(100).fill(1), {
      numClasses: 2,
      samplesPerCase: 10,
    });
    expect(Array.from(s.channels[0]!.samples)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(s.channels[0]!.count).toBe(100);
  });

  it('the schema refuses any key it does not list (a case id, a file name)', () => {
    const s = caseStats(line([1, 2], [1, 1, 1]), Uint8Array.from([1, 1]), { numClasses: 2 });
    const msg = siteFingerprint([s], { modalities: ['MRI'], numClasses: 2 });
    expect(() => SiteFingerprint.parse({ ...msg, caseIds: ['BRATS_001'] })).toThrow();
    expect(() =>
      SiteFingerprint.parse({ ...msg, cases: [{ ...msg.cases[0], file: 'imagesTr/BRATS_001.nii.gz' }] }),
    ).toThrow();
  });
});

function site(
  cases: Array<[[number, number, number], [number, number, number], [number, number, number]]>,
  modality: { lo: number; hi: number; counts: number[]; mean: number; std: number; voxels: number },
  classVolumeFractions: number[],
  memoryBudgetMb?: number,
): SiteFingerprint {
  return SiteFingerprint.parse({
    version: 1,
    cases: cases.map(([spacingMm, shape, bodyShape]) => ({ spacingMm, shape, bodyShape })),
    modalities: [{ modality: 'CT', ...modality }],
    numClasses: 2,
    classVolumeFractions,
    ...(memoryBudgetMb ? { memoryBudgetMb } : {}),
  });
}

describe('combineFingerprints', () => {
  it('pools spacing, shapes, intensities and class fractions as worked by hand', () => {
    const a = site(
      [
        [
          [1, 1, 1],
          [10, 10, 10],
          [8, 8, 8],
        ],
        [
          [2, 2, 2],
          [10, 10, 10],
          [6, 6, 6],
        ],
      ],
      { lo: 0, hi: 10, counts: [100], mean: 5, std: 1, voxels: 1000 },
      [0.9, 0.1],
      8000,
    );
    const b = site(
      [
        [
          [1.5, 1.5, 3],
          [20, 10, 10],
          [10, 10, 10],
        ],
      ],
      { lo: 10, hi: 20, counts: [50, 50], mean: 15, std: 2, voxels: 3000 },
      [0.5, 0.5],
      2000,
    );
    const fp = CombinedFingerprint.parse(combineFingerprints([a, b]));
    expect(fp.sites).toBe(2);
    expect(fp.cases).toBe(3);
    expect(fp.spacingMm.median).toEqual([1.5, 1.5, 2]);
    // numpy.percentile([1, 1.5, 2], 10) = 1 + 0.2 * 0.5 = 1.1; z: [1, 2, 3] -> 1.2.
    expect(fp.spacingMm.p10[0]).toBeCloseTo(1.1, 12);
    expect(fp.spacingMm.p10[2]).toBeCloseTo(1.2, 12);
    expect(fp.shape.max).toEqual([20, 10, 10]);
    // Body extents in mm: 8, 12, 15 on x -> median 12; z: 8, 12, 30 -> 12.
    expect(fp.bodyExtentMm.median).toEqual([12, 12, 12]);
    expect(fp.bodyShape.median).toEqual([8, 8, 8]);
    // Pooled mean (1000*5 + 3000*15)/4000 = 12.5; E[x^2] = (1000*26 + 3000*229)/4000 = 178.25 -> var 22.
    const ct = fp.modalities[0]!;
    expect(ct.mean).toBeCloseTo(12.5, 12);
    expect(ct.std).toBeCloseTo(Math.sqrt(22), 12);
    expect(ct.voxels).toBe(4000);
    // 200 sampled voxels spread evenly over [0, 20]: 0.5% = 1 voxel -> 0.1; 99.5% = 199 voxels -> 19.9.
    expect(ct.p00_5).toBeCloseTo(0.1, 9);
    expect(ct.p99_5).toBeCloseTo(19.9, 9);
    // Voxel-weighted: site a has 2000 voxels, b 2000 -> (0.9 + 0.5) / 2 = 0.7.
    expect(fp.classVolumeFractions[0]).toBeCloseTo(0.7, 12);
    expect(fp.memoryBudgetMb).toBe(2000);
  });

  it('reads a zero-width histogram as a point mass and refuses sites that disagree on modalities', () => {
    expect(pooledHistogramPercentile([{ lo: 3, hi: 3, counts: [10] }], 50)).toBeCloseTo(3, 9);
    expect(percentileOfSorted([1, 2, 3, 4], 50)).toBe(2.5);
    const a = site(
      [
        [
          [1, 1, 1],
          [4, 4, 4],
          [4, 4, 4],
        ],
      ],
      { lo: 0, hi: 1, counts: [1], mean: 0, std: 0, voxels: 1 },
      [0.5, 0.5],
    );
    const b = { ...a, modalities: [{ ...a.modalities[0]!, modality: 'T2' }] };
    expect(() => combineFingerprints([a, b])).toThrow(/site 1 reports modalities T2; site 0 reports CT/);
  });
});

function combined(overrides: Partial<CombinedFingerprint>): CombinedFingerprint {
  const d = (v: [number, number, number]) => ({ min: v, p10: v, median: v, p90: v, max: v });
  return {
    sites: 3,
    cases: 30,
    spacingMm: d([1, 1, 1]),
    shape: d([160, 190, 176]),
    bodyShape: d([140, 170, 150]),
    bodyExtentMm: d([140, 170, 150]),
    modalities: [{ modality: 'T1', p00_5: 0, p99_5: 1000, mean: 400, std: 100, voxels: 1e6 }],
    numClasses: 2,
    classVolumeFractions: [0.9, 0.1],
    ...overrides,
  };
}

describe('planFromFingerprint', () => {
  it('plans a 1 mm brain MRI without a budget: median shape capped at 128, depth 5, per-case z-score', () => {
    const { plan, reasons } = planFromFingerprint(combined({}));
    expect(plan).toEqual({
      targetSpacingMm: [1, 1, 1],
      patchSize: [128, 128, 128],
      batchSize: 2,
      depth: 5,
      baseFilters: 8,
      normalization: [{ scheme: 'zscore' }],
      foregroundOversampling: 1 / 3,
    });
    expect(reasons).toHaveLength(7);
  });

  it('shrinks the patch one divisor step at a time on the relatively largest axis until it fits the budget', () => {
    // Median body 40x40x20 voxels -> depth floor(log2(20/4)) + 1 = 3, divisor 4. Memory (estimateTrainingMemoryMb,
    // batch 2, 8 filters): 40x40x20 -> 78.125 MiB; 36x40x20 -> 70.3125 MiB; 36x36x20 -> 63.28125 MiB (worked in the
    // memory test below). Ties shrink the first axis; then x is relatively smaller, so y goes next.
    const fp = (memoryBudgetMb: number) => combined({ bodyExtentMm: combined({}).spacingMm, memoryBudgetMb });
    const at = (mm: [number, number, number], budget: number) =>
      planFromFingerprint({ ...fp(budget), bodyExtentMm: { ...fp(budget).bodyExtentMm, median: mm } }).plan;
    expect(at([40, 40, 20], 1000)).toMatchObject({ patchSize: [40, 40, 20], depth: 3, baseFilters: 8 });
    expect(at([40, 40, 20], 71)).toMatchObject({ patchSize: [36, 40, 20], depth: 3 });
    expect(at([40, 40, 20], 64)).toMatchObject({ patchSize: [36, 36, 20], depth: 3 });
  });

  it('estimates memory as documented (hand-worked for 40x40x20, depth 3, 8 filters, batch 2)', () => {
    // V0 = 32000: inputs/outputs 32000 * (1 + 3*2) = 224000; level 0: 32000*8*15 = 3840000; level 1: 4000*16*15 =
    // 960000; bottleneck: 500*32*6 = 96000; total 5120000 maps * 4 bytes * batch 2 * 2 (backward) / 2^20.
    const size = { depth: 3, baseFilters: 8, batchSize: 2, inChannels: 1, numClasses: 2 };
    expect(estimateTrainingMemoryMb({ ...size, patchSize: [40, 40, 20] })).toBe(78.125);
    expect(estimateTrainingMemoryMb({ ...size, patchSize: [36, 40, 20] })).toBe(70.3125);
    expect(estimateTrainingMemoryMb({ ...size, patchSize: [36, 36, 20] })).toBe(63.28125);
    expect(maxDepthForPatch([128, 128, 128])).toBe(5);
    expect(maxDepthForPatch([40, 40, 20])).toBe(3);
  });

  it('gives an anisotropic CT the 10th-percentile slice spacing, CT clipping and wider filters for a big budget', () => {
    const fp = combined({
      spacingMm: {
        min: [0.7, 0.7, 1],
        p10: [0.7, 0.7, 2.5],
        median: [0.8, 0.8, 5],
        p90: [0.9, 0.9, 5],
        max: [1, 1, 5],
      },
      bodyShape: { ...combined({}).bodyShape, median: [400, 400, 40] },
      bodyExtentMm: { ...combined({}).bodyExtentMm, median: [320, 320, 200] },
      modalities: [{ modality: 'CT', p00_5: -1000, p99_5: 1500, mean: 50, std: 200, voxels: 1e7 }],
      classVolumeFractions: [0.995, 0.005],
      memoryBudgetMb: 16000,
    });
    // z: 5 > 3 * 0.8 and 40 * 3 < 400 -> the 10th percentile, 2.5 mm.
    expect(targetSpacingFromFingerprint(fp)).toEqual([0.8, 0.8, 2.5]);
    // Full resolution: the low-resolution rule (plan-from-fingerprint.spec.ts) would coarsen x and y here.
    const { plan, estimatedMemoryMb } = planFromFingerprint(fp, { lowResThreshold: 0 });
    expect(plan.targetSpacingMm).toEqual([0.8, 0.8, 2.5]);
    expect(plan.baseFilters).toBe(32);
    expect(plan.normalization).toEqual([{ scheme: 'ct', clipLo: -1000, clipHi: 1500, mean: 50, std: 200 }]);
    expect(plan.foregroundOversampling).toBe(0.5);
    expect(estimatedMemoryMb).toBeLessThanOrEqual(16000);
    // A 10th percentile finer than the other axes is kept just above them.
    const fine = { ...fp, spacingMm: { ...fp.spacingMm, p10: [0.7, 0.7, 0.5] as [number, number, number] } };
    expect(targetSpacingFromFingerprint(fine)[2]).toBeCloseTo(0.80001, 9);
  });

  it('takes every overridden field as given and plans the rest around it', () => {
    const overrides = {
      targetSpacingMm: [1.5, 1.5, 1.5] as [number, number, number],
      patchSize: [64, 64, 32] as [number, number, number],
      depth: 4,
      baseFilters: 16,
      batchSize: 4,
      normalization: [{ scheme: 'zscore' as const }],
      foregroundOversampling: 0,
    };
    const { plan, reasons } = planFromFingerprint(combined({ memoryBudgetMb: 10 }), { overrides });
    expect(plan).toEqual(overrides);
    expect(reasons.filter((r) => r.endsWith(': given'))).toHaveLength(7);
    // Only the spacing given: the patch follows it (140x170x150 mm at 2 mm = 70x85x75 voxels;
    // depth floor(log2(70 / 4)) + 1 = 5 -> multiples of 16, rounded up).
    expect(
      planFromFingerprint(combined({}), { overrides: { targetSpacingMm: [2, 2, 2] } }).plan.patchSize,
    ).toEqual([80, 96, 80]);
    expect(() =>
      planFromFingerprint(combined({}), { overrides: { patchSize: [30, 32, 32], depth: 3 } }),
    ).toThrow(/not a multiple of 2\^\(depth-1\) = 4/);
  });
});
