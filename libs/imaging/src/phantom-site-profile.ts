import { createRng } from './rng';

/**
 * One synthetic site: its scanner and its case mix. Every field is a non-IID knob; `generateConsortium`
 * derives them per site from `heterogeneity` and lets callers override any of them.
 */
export interface PhantomSiteProfile {
  /** Multiplies every intensity (MRI has no absolute unit: each scanner/protocol scales differently). */
  intensityScale: number;
  /** Added after scaling (receiver offset / different reconstruction baselines). */
  intensityOffset: number;
  /** Gaussian noise sigma, as a fraction of the organ-vs-tissue contrast before scaling. */
  noiseSigma: number;
  /** Peak relative amplitude of the smooth multiplicative bias field (RF inhomogeneity), e.g. 0.2 = +-20%. */
  biasAmplitude: number;
  /** Voxel spacing in mm [dx, dy, dz]; dz > dx models thick-slice (anisotropic) acquisitions. */
  spacingMm: [number, number, number];
  /** Multiplies the organ-vs-tissue intensity difference (sequence/contrast-agent differences), > 0. */
  contrast: number;
  /** Case mix: mean organ size as a fraction of the field of view's half-extent. */
  organScale: number;
  /** Case mix: mean number of lesions per case (Poisson). */
  lesionRate: number;
  /** Case mix: lesion radius as a fraction of the organ radius, mean. */
  lesionSize: number;
}

/** The reference scanner: what every site would be with heterogeneity 0. */
export const REFERENCE_SITE: PhantomSiteProfile = {
  intensityScale: 100,
  intensityOffset: 0,
  noiseSigma: 0.05,
  biasAmplitude: 0,
  spacingMm: [1, 1, 1],
  contrast: 1,
  organScale: 0.55,
  lesionRate: 1,
  lesionSize: 0.35,
};

/**
 * Per-site profiles, deterministic by seed. Each knob is stratified across sites (site k of N sits at
 * t_k = (k + 0.5)/N - 1/2, in an order shuffled per knob) plus a small jitter, so even 2-3 sites differ
 * measurably on every knob; `heterogeneity` (0 = IID scanners, 1 = strongly non-IID) scales all deviations.
 */
export function derivePhantomSites(sites: number, seed: number, heterogeneity: number): PhantomSiteProfile[] {
  const rng = createRng(seed * 7919 + 17);
  const h = Math.max(0, heterogeneity);
  const knobs = 8;
  const orders: number[][] = [];
  for (let k = 0; k < knobs; k++) {
    const order = Array.from({ length: sites }, (_, i) => i);
    for (let i = sites - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    orders.push(order);
  }
  const t = (knob: number, site: number): number =>
    (sites === 1 ? 0 : (orders[knob][site] + 0.5) / sites - 0.5) + 0.1 * (rng.next() - 0.5);
  const r = REFERENCE_SITE;
  return Array.from({ length: sites }, (_, s) => {
    const inPlane = r.spacingMm[0] * (1 + h * 0.5 * t(4, s));
    const anisotropy = 1 + h * 3 * (t(5, s) + 0.5);
    return {
      intensityScale: r.intensityScale * Math.exp(h * 2 * t(0, s)),
      intensityOffset: r.intensityOffset + h * 150 * (t(1, s) + 0.5),
      noiseSigma: r.noiseSigma + h * 0.15 * (t(2, s) + 0.5),
      biasAmplitude: r.biasAmplitude + h * 0.3 * (t(3, s) + 0.5),
      spacingMm: [round3(inPlane), round3(inPlane), round3(inPlane * anisotropy)],
      contrast: r.contrast * Math.exp(h * 0.8 * t(6, s)),
      organScale: r.organScale * (1 + h * 0.4 * t(7, s)),
      lesionRate: r.lesionRate * Math.exp(h * 1.2 * t(7, (s + 1) % sites)),
      lesionSize: r.lesionSize * (1 + h * 0.4 * t(6, (s + 1) % sites)),
    };
  });
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
