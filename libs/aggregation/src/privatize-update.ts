import type { PrivacyConfig } from '@fedseg/protocol';
import { clipUpdate, l2Norm } from './clip-update';
import { addGaussianNoise } from './gaussian-noise';
import { cryptoRng, type Rng } from './rng';

/**
 * Site side of DP-FedAvg (McMahan et al., 2018), on the site's delta (local weights minus global weights),
 * in place, before encoding:
 *  - central: clip to C only (the coordinator adds the noise; clipping here keeps it valid under secure
 *    aggregation, where the coordinator cannot clip single updates).
 *  - local: clip to C and add N(0, (zC)^2) to every coordinate; nothing un-noised leaves the site.
 *  - none: unchanged.
 */
export function privatizeUpdate(
  delta: Float32Array,
  privacy: PrivacyConfig,
  rng: Rng = cryptoRng(),
): { norm: number; scale: number; noiseStd: number } {
  if (privacy.mode === 'none') return { norm: l2Norm(delta), scale: 1, noiseStd: 0 };
  const { norm, scale } = clipUpdate(delta, privacy.clipNorm);
  if (privacy.mode === 'central') return { norm, scale, noiseStd: 0 };
  const noiseStd = privacy.noiseMultiplier * privacy.clipNorm;
  addGaussianNoise(delta, noiseStd, rng);
  return { norm, scale, noiseStd };
}
