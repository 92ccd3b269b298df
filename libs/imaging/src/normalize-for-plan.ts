import type { ChannelNormalization } from '@fedseg/protocol';
import { ImagingArgumentError } from './imaging-errors';
import { assertVolume, type Volume } from './volume';
import { zScoreNormalize, type ZScoreOptions } from './z-score-normalize';

/**
 * Applies a data plan's per-channel intensity normalization (DataPlan.normalization, from planFromFingerprint):
 * 'ct' clips to the pooled [clipLo, clipHi] and z-scores with the pooled foreground mean and std, the same
 * numbers at every site (nnU-Net's CTNormalization); 'zscore' uses the case's own foreground statistics
 * (zScoreNormalize, foreground by Otsu or options.foreground). Run it after toPlanGrid: the body crop looks for
 * exact zeros, which normalization removes. Returns a new Volume.
 */
export function normalizeForPlan(
  volume: Volume,
  normalization: readonly ChannelNormalization[],
  options: ZScoreOptions = {},
): Volume {
  assertVolume(volume);
  const c = volume.channels;
  if (normalization.length !== c)
    throw new ImagingArgumentError(
      `the plan normalizes ${normalization.length} channel(s); the image has ${c}`,
    );
  const zscored = normalization.some((n) => n.scheme === 'zscore')
    ? zScoreNormalize(volume, options)
    : undefined;
  const out = new Float32Array(volume.data.length);
  normalization.forEach((n, ch) => {
    if (n.scheme === 'zscore') {
      for (let i = ch; i < out.length; i += c) out[i] = zscored!.data[i];
      return;
    }
    const inv = 1 / n.std;
    for (let i = ch; i < out.length; i += c) {
      const x = volume.data[i];
      out[i] = ((x < n.clipLo ? n.clipLo : x > n.clipHi ? n.clipHi : x) - n.mean) * inv;
    }
  });
  return { ...volume, data: out, shape: [...volume.shape], spacingMm: [...volume.spacingMm] };
}
