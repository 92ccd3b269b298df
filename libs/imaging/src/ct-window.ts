import { ImagingArgumentError } from './imaging-errors';
import { assertVolume, type Volume } from './volume';

/**
 * CT windowing: clip Hounsfield units to [centre - width/2, centre + width/2] and map that range linearly to
 * [0, 1] (the radiologist's window/level; e.g. abdomen soft tissue centre 40, width 400). Returns a new Volume.
 */
export function ctWindow(volume: Volume, window: { centerHu: number; widthHu: number }): Volume {
  assertVolume(volume);
  if (!(window.widthHu > 0))
    throw new ImagingArgumentError(`ctWindow: width ${window.widthHu} HU must be positive`);
  const lo = window.centerHu - window.widthHu / 2;
  const out = new Float32Array(volume.data.length);
  for (let i = 0; i < out.length; i++) {
    const t = (volume.data[i] - lo) / window.widthHu;
    out[i] = t < 0 ? 0 : t > 1 ? 1 : t;
  }
  return { ...volume, data: out, shape: [...volume.shape], spacingMm: [...volume.spacingMm] };
}
