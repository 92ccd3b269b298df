import type { SeededRandom } from '../util/seeded-random';

/** Weight names (last path part) that hold scale-like values initialized to one. */
const ONES = new Set(['gamma', 'moving_variance']);
/** Weight names that are convolution kernels (He-initialized); everything else starts at zero. */
const KERNELS = new Set(['kernel', 'wx', 'wg', 'psi']);

/**
 * One weight's initial values, written into `out` (its length is the weight's size). Kernels: He uniform,
 * U(+-sqrt(6 / fan_in)) (He et al., 2015), right for ReLU nets; fan_in = kernel volume x input channels (the
 * last axis is the input for transposed convs, whose kernels are [d, h, w, out, in]). Biases and shifts 0,
 * scales 1. Only kernels draw from `rng`, so the order weights are visited in is part of the result.
 * Pure TypeScript: the coordinator computes round 0's model with it and loads no tfjs.
 */
export function fillInitialValues(
  name: string,
  shape: readonly number[],
  transposed: boolean,
  rng: SeededRandom,
  out: Float32Array,
): void {
  const base = name.slice(name.lastIndexOf('/') + 1);
  if (ONES.has(base)) out.fill(1);
  else if (KERNELS.has(base) && shape.length === 5) {
    const inputs = transposed ? shape[4]! : shape[3]!;
    const fanIn = shape[0]! * shape[1]! * shape[2]! * inputs;
    const limit = Math.sqrt(6 / fanIn);
    for (let i = 0; i < out.length; i++) out[i] = (2 * rng.next() - 1) * limit;
  } else out.fill(0);
}
