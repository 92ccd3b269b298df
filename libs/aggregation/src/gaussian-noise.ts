import { AggregationError } from './aggregation-error';
import { uniform01, type Rng } from './rng';

// Math functions bound once: hot loops then skip a global lookup, which is slow inside jest's vm context.
const { sqrt, log, cos, sin } = Math;
const { isFinite } = Number;

/**
 * Adds independent N(0, std^2) noise to every element of `out`, in place (Box-Muller, two normals per pair
 * of uniforms, computed in float64). This is the Gaussian mechanism of DP-FedAvg (McMahan et al., 2018):
 * std = z * C on a sum of updates clipped to norm C. Known limitation: floating-point noise is not an
 * exact Gaussian (Mironov, 2012); accepted here as in TensorFlow Privacy and Opacus.
 */
export function addGaussianNoise(out: Float32Array, std: number, rng: Rng): Float32Array {
  if (!(std >= 0) || !isFinite(std))
    throw new AggregationError(`Noise standard deviation must be finite and >= 0, got ${std}.`);
  if (std === 0) return out;
  const n = out.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const r = std * sqrt(-2 * log(uniform01(rng)));
    const theta = 2 * Math.PI * uniform01(rng);
    out[i] += r * cos(theta);
    out[i + 1] += r * sin(theta);
  }
  if (i < n) out[i] += std * sqrt(-2 * log(uniform01(rng))) * cos(2 * Math.PI * uniform01(rng));
  return out;
}
