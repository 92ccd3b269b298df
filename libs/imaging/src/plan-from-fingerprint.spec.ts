import type { CombinedFingerprint } from '@fedseg/protocol';
import { planFromFingerprint } from './plan-from-fingerprint';

type Vec3 = [number, number, number];

/** One spacing and one body extent for every case (so every percentile is that value), MR, no budget. */
function fingerprint(
  spacingMm: Vec3,
  extentMm: Vec3,
  more: Partial<CombinedFingerprint> = {},
): CombinedFingerprint {
  const d = (v: Vec3) => ({ min: v, p10: v, median: v, p90: v, max: v });
  const voxels = extentMm.map((mm, a) => Math.round(mm / spacingMm[a])) as Vec3;
  return {
    sites: 3,
    cases: 9,
    spacingMm: d(spacingMm),
    shape: d(voxels),
    bodyShape: d(voxels),
    bodyExtentMm: d(extentMm),
    modalities: [{ modality: 'T1', p00_5: 0, p99_5: 1000, mean: 400, std: 100, voxels: 1e6 }],
    numClasses: 2,
    classVolumeFractions: [0.8, 0.2],
    ...more,
  };
}

/** The researcher fixes a small network for CPU sites and lets the plan choose the spacing. */
const small = { patchSize: [32, 32, 32] as Vec3, depth: 3, baseFilters: 8 };

describe("planFromFingerprint: nnU-Net's low-resolution rule", () => {
  it('coarsens an isotropic spacing by 3% a step until the given patch covers a quarter of the median body', () => {
    // 100 mm cube at 1 mm: 32^3 / 100^3 = 3.3% < 25%. Coverage is 32768 * s^3 / 1e6, so s^3 >= 7.63: after 22
    // steps s = 1.03^22 = 1.9161 (23.1%), after 23 steps 1.03^23 = 1.97359 (25.2%), rounded up to 4 digits.
    const { plan, reasons } = planFromFingerprint(fingerprint([1, 1, 1], [100, 100, 100]), {
      overrides: small,
    });
    expect(plan.targetSpacingMm).toEqual([1.974, 1.974, 1.974]);
    expect(plan.patchSize).toEqual([32, 32, 32]);
    expect(plan.depth).toBe(3);
    expect(reasons[0]).toBe(
      "targetSpacingMm: 1.974x1.974x1.974 mm, coarsened from the median case spacing 1x1x1 mm (nnU-Net's 3d_lowres): " +
        'there a 32x32x32 patch covers 3.28% of the median body shape 100x100x100, under 25%; here the 32x32x32 ' +
        "patch covers 25.2% of 51x51x51. Predictions are resampled back to each case's native grid for scoring",
    );
  });

  it('plans the patch again at every candidate spacing when nobody fixed it', () => {
    // 400 mm cube at 1 mm, no budget: the patch is the median shape capped at 128, i.e. 128^3 while the cube is
    // wider than 128 voxels, so coverage is 128^3 * s^3 / 400^3, the first case scaled by 4: again 1.03^23.
    const { plan } = planFromFingerprint(fingerprint([1, 1, 1], [400, 400, 400]));
    expect(plan.targetSpacingMm).toEqual([1.974, 1.974, 1.974]);
    expect(plan.patchSize).toEqual([128, 128, 128]);
    expect(plan.depth).toBe(5);
  });

  it('coarsens the fine axes of an anisotropic grid first, then all axes', () => {
    // 1x1x6 mm, 240x240x120 mm: fullres keeps 6 mm on z (its 10th percentile), median 240x240x20 voxels, and a
    // 32x32x8 patch covers 0.71%. While 6 / s > 2 only x and y grow: 1.03^37 = 2.985 (ratio 2.01), so a 38th
    // step: 1.03^38 = 3.0748, 78.05x78.05x20 voxels, 6.7%. Then all axes: 6.7% * 1.03^(3k) >= 25% needs
    // 1.03^(3k) >= 3.72, k = 15 (1.03^42 = 3.46, 1.03^45 = 3.78). x, y: 1.03^53 = 4.7904; z: 6 * 1.03^15 = 9.3478.
    const fp = fingerprint([1, 1, 6], [240, 240, 120]);
    const { plan } = planFromFingerprint(fp, { overrides: { ...small, patchSize: [32, 32, 8] } });
    expect(plan.targetSpacingMm).toEqual([4.791, 4.791, 9.348]);
  });

  it('keeps full resolution when the patch covers a quarter, or when coarsening would not halve the voxels', () => {
    // 64^3 / 100^3 = 26.2%: enough.
    const big = planFromFingerprint(fingerprint([1, 1, 1], [100, 100, 100]), {
      overrides: { ...small, patchSize: [64, 64, 64] },
    });
    expect(big.plan.targetSpacingMm).toEqual([1, 1, 1]);
    expect(big.reasons[0]).toBe('targetSpacingMm: median case spacing 1x1x1 mm (nnU-Net)');
    // 60^3 / 100^3 = 21.6%: two steps (1.03^2 = 1.0609, 25.8%) would cover it, but 1.0609^3 = 1.19 < 2, so
    // nnU-Net would drop that 3d_lowres and keep full resolution; the reason says so.
    const near = planFromFingerprint(fingerprint([1, 1, 1], [100, 100, 100]), {
      overrides: { ...small, patchSize: [60, 60, 60] },
    });
    expect(near.plan.targetSpacingMm).toEqual([1, 1, 1]);
    expect(near.reasons[0]).toMatch(/covers 21.6% .* under 25%, but 1.061x1.061x1.061 mm, .* does not halve/);
  });

  it("keeps the researcher's spacing, and lowResThreshold 0 turns the rule off", () => {
    const fp = fingerprint([1, 1, 1], [100, 100, 100]);
    const given = planFromFingerprint(fp, { overrides: { ...small, targetSpacingMm: [1.5, 1.5, 1.5] } });
    expect(given.plan.targetSpacingMm).toEqual([1.5, 1.5, 1.5]);
    expect(given.reasons[0]).toBe('targetSpacingMm: given');
    expect(planFromFingerprint(fp, { overrides: small, lowResThreshold: 0 }).plan.targetSpacingMm).toEqual([
      1, 1, 1,
    ]);
    // A stricter threshold coarsens further: 50% needs s^3 >= 15.26, 1.03^31 = 2.5001 (s^3 = 15.63).
    expect(planFromFingerprint(fp, { overrides: small, lowResThreshold: 0.5 }).plan.targetSpacingMm).toEqual([
      2.501, 2.501, 2.501,
    ]);
  });
});
