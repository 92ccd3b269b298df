import { ImagingArgumentError } from './imaging-errors';
import { otsuThreshold } from './otsu-threshold';
import { assertVolume, type Volume } from './volume';

export interface ZScoreOptions {
  /** Foreground mask (non-zero = foreground), one value per voxel. Default: per channel, voxels above Otsu's threshold. */
  foreground?: ArrayLike<number>;
}

/**
 * MRI intensity normalisation: per channel, out = (x - mean_fg) / std_fg, with mean and standard deviation
 * taken over the foreground only (nnU-Net's "ZScoreNormalization" with use_mask_for_norm; Isensee et al.,
 * Nature Methods 2021), so the amount of air in the field of view does not change the scale. All voxels are
 * transformed the same way. A channel with std 0 is only centred. Returns a new Volume.
 */
export function zScoreNormalize(volume: Volume, options: ZScoreOptions = {}): Volume {
  assertVolume(volume);
  const { data, channels } = volume;
  const voxels = data.length / channels;
  if (options.foreground && options.foreground.length !== voxels) {
    throw new ImagingArgumentError(
      `zScoreNormalize: foreground has ${options.foreground.length} values for ${voxels} voxels`,
    );
  }
  const out = new Float32Array(data.length);
  for (let c = 0; c < channels; c++) {
    const fg = options.foreground;
    const threshold = fg ? 0 : otsuThreshold(data, channels, c);
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    for (let v = 0; v < voxels; v++) {
      const x = data[v * channels + c];
      const inside = fg ? fg[v] !== 0 : x > threshold;
      if (!inside || !Number.isFinite(x)) continue;
      n++;
      sum += x;
      sumSq += x * x;
    }
    if (n === 0) {
      // No foreground: fall back to all voxels rather than dividing by nothing.
      for (let v = 0; v < voxels; v++) {
        const x = data[v * channels + c];
        n++;
        sum += x;
        sumSq += x * x;
      }
    }
    const mean = sum / n;
    const std = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
    const inv = std > 1e-12 ? 1 / std : 1;
    for (let v = 0; v < voxels; v++) out[v * channels + c] = (data[v * channels + c] - mean) * inv;
  }
  return { ...volume, data: out, shape: [...volume.shape], spacingMm: [...volume.spacingMm] };
}
