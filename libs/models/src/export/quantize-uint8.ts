import type * as tf from '@tensorflow/tfjs-core';
import { ExportedModelError } from '../errors';

/**
 * 8-bit affine quantization per tensor, in the encoding tfjs's own weight loader understands
 * (WeightsManifestEntry.quantization = { dtype: 'uint8', scale, min }, value = q * scale + min; the format
 * tensorflowjs_converter writes for --quantize_uint8), so plain tf.loadLayersModel dequantizes on load.
 * A 4x smaller weights file; the error per weight is at most scale / 2 = (max - min) / 510.
 */
export function quantizeUint8(
  specs: readonly tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
): { specs: tf.io.WeightsManifestEntry[]; data: Uint8Array } {
  const floats = new Float32Array(data);
  const out = new Uint8Array(floats.length);
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.dtype !== 'float32')
      throw new ExportedModelError(
        `Cannot quantize weight ${spec.name}: it is ${spec.dtype}, expected float32.`,
      );
    const values = floats.subarray(offset, offset + n);
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (n === 0) min = max = 0;
    // A constant tensor (e.g. untouched gamma = 1) gets scale 1 and decodes exactly to min.
    const scale = max > min ? (max - min) / 255 : 1;
    for (let i = 0; i < n; i++)
      out[offset + i] = Math.min(255, Math.max(0, Math.round((values[i]! - min) / scale)));
    outSpecs.push({ ...spec, quantization: { dtype: 'uint8', scale, min } });
    offset += n;
  }
  return { specs: outSpecs, data: out };
}
