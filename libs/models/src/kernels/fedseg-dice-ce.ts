import type { KernelConfig } from '@tensorflow/tfjs-core';
import { backendOf, inputOf, type KernelArgs } from './kernel-context';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeKernels } from './native-addon';
import { allocateOutputs, type PortableBackendName } from './tensor-memory';

/** Kernel name of the fused segmentation loss and its gradient (ours). */
export const FEDSEG_DICE_CE = 'FedsegDiceCE';

export interface DiceCeAttrs {
  /** 1 to include soft Dice, 0 to leave it out. */
  dice: number;
  /** 1 to include cross-entropy, 0 to leave it out. */
  ce: number;
  /** Dice's smoothing term s. */
  smooth: number;
  /** Per-class weights (index = class id; missing entries 1); empty: unweighted. */
  classWeights: number[];
}

/**
 * The training loss of losses/segmentation-loss.ts from logits [..., K] and one-hot targets, and its
 * gradient with respect to the logits, in two passes over the voxels (the composite takes about 20 tfjs
 * ops forward and as many backward, 70 ms of a 670 ms bench-unet3d step on wasm):
 *   p = softmax(z)
 *   Dice (batch Dice over foreground k >= 1, weights u_k):
 *     d_k = (2 I_k + s) / D_k,  I_k = sum_v p_vk y_vk,  D_k = sum_v p_vk + sum_v y_vk + s
 *     L_dice = 1 - sum_k u_k d_k / U,  dL/dp_vk = -(u_k / U) (2 y_vk / D_k - (2 I_k + s) / D_k^2)
 *   CE (weights w_k; unweighted: the mean over voxels):
 *     L_ce = -sum_v sum_k c_vk log p_vk,  c_vk = y_vk w_k / W,  W = sum y w (or the voxel count)
 *     dL/dz_vj = (sum_k c_vk) p_vj - c_vj
 *   through the softmax: dz_vj = p_vj (g_vj - sum_k p_vk g_vk)
 * Sums accumulate in float64. grad receives dL/dz for an upstream gradient of 1.
 */
export function diceCeLoss(
  logits: Float32Array,
  oneHot: Float32Array,
  classes: number,
  attrs: DiceCeAttrs,
  grad: Float32Array,
): number {
  const K = classes;
  const voxels = logits.length / K;
  const inter = new Float64Array(K);
  const probSum = new Float64Array(K);
  const labelSum = new Float64Array(K);
  const w = Float64Array.from({ length: K }, (_, k) => attrs.classWeights[k] ?? 1);
  const weighted = attrs.classWeights.length > 0;
  let ceSum = 0;
  let ceNorm = 0;
  // Pass 1: softmax into grad (as scratch), the sums Dice needs, and cross-entropy.
  if (K === 2) {
    // Two classes (bench-unet3d, most binary tasks): p1 = sigmoid(z1 - z0), one exp and one log1p per
    // voxel instead of three exp and a log, with the same sums. log p1 = -log(1 + e^-d), stable for any d.
    for (let v = 0, o = 0; v < voxels; v++, o += 2) {
      const d = logits[o + 1] - logits[o];
      const e = Math.exp(-Math.abs(d));
      const soft = Math.log1p(e);
      const logP1 = d >= 0 ? -soft : d - soft;
      const logP0 = d >= 0 ? -d - soft : -soft;
      const p1 = d >= 0 ? 1 / (1 + e) : e / (1 + e);
      const p0 = 1 - p1;
      const y0 = oneHot[o];
      const y1 = oneHot[o + 1];
      grad[o] = p0;
      grad[o + 1] = p1;
      inter[0] += p0 * y0;
      inter[1] += p1 * y1;
      probSum[0] += p0;
      probSum[1] += p1;
      labelSum[0] += y0;
      labelSum[1] += y1;
      ceSum -= y0 * w[0] * logP0 + y1 * w[1] * logP1;
      ceNorm += weighted ? y0 * w[0] + y1 * w[1] : 1;
    }
  }
  for (let v = 0, o = 0; K !== 2 && v < voxels; v++, o += K) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, logits[o + k]);
    let total = 0;
    for (let k = 0; k < K; k++) total += Math.exp(logits[o + k] - max);
    const logTotal = Math.log(total);
    let target = 0;
    for (let k = 0; k < K; k++) {
      const logP = logits[o + k] - max - logTotal;
      const p = Math.exp(logP);
      const y = oneHot[o + k];
      grad[o + k] = p;
      inter[k] += p * y;
      probSum[k] += p;
      labelSum[k] += y;
      ceSum -= y * w[k] * logP;
      target += y * w[k];
    }
    ceNorm += weighted ? target : 1;
  }
  const s = attrs.smooth;
  let diceWeightSum = 0;
  let diceWeighted = 0;
  const denom = new Float64Array(K);
  for (let k = 1; k < K; k++) {
    denom[k] = probSum[k] + labelSum[k] + s;
    diceWeighted += (w[k] * (2 * inter[k] + s)) / denom[k];
    diceWeightSum += w[k];
  }
  const useDice = attrs.dice !== 0 && K > 1;
  const useCe = attrs.ce !== 0;
  const loss = (useDice ? 1 - diceWeighted / diceWeightSum : 0) + (useCe ? ceSum / ceNorm : 0);
  // dDice/dp_vk = a_k y_vk + b_k for foreground k, 0 for the background.
  const a = new Float64Array(K);
  const b = new Float64Array(K);
  if (useDice) {
    for (let k = 1; k < K; k++) {
      const scale = w[k] / diceWeightSum;
      a[k] = (-scale * 2) / denom[k];
      b[k] = (scale * (2 * inter[k] + s)) / (denom[k] * denom[k]);
    }
  }
  const ceScale = useCe ? 1 / ceNorm : 0;
  const g = new Float64Array(K);
  // Pass 2: the gradient, in place over the probabilities.
  for (let v = 0, o = 0; v < voxels; v++, o += K) {
    let pg = 0;
    let cTotal = 0;
    for (let k = 0; k < K; k++) {
      const y = oneHot[o + k];
      g[k] = a[k] * y + b[k];
      pg += grad[o + k] * g[k];
      cTotal += y * w[k];
    }
    cTotal *= ceScale;
    for (let k = 0; k < K; k++) {
      const p = grad[o + k];
      const c = oneHot[o + k] * w[k] * ceScale;
      grad[o + k] = p * (g[k] - pg) + cTotal * p - c;
    }
  }
  return loss;
}

/** A tensor's values as the backend holds them (any numeric typed array); on wasm, take it after allocating. */
function valuesOf(
  backendName: PortableBackendName,
  backend: KernelBackend,
  t: TensorInfo,
): Float32Array | Int32Array | Uint8Array {
  const values =
    backendName === 'cpu'
      ? (backend as unknown as MathBackendCPU).data.get(t.dataId)?.values
      : (backend as unknown as BackendWasm).typedArrayFromHeap(t);
  if (values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint8Array)
    return values;
  throw new Error(`${FEDSEG_DICE_CE}: ${t.dtype} labels are not numeric`);
}

/** FedsegDiceCE (logits, oneHot) -> [loss (a scalar), dLoss/dLogits], float32; in the addon when loaded. */
export function diceCeKernel(backendName: PortableBackendName, native: NativeKernels | null): KernelConfig {
  return {
    kernelName: FEDSEG_DICE_CE,
    backendName,
    kernelFunc: (args: KernelArgs) => {
      const logits = inputOf(args, FEDSEG_DICE_CE, 'logits');
      const oneHot = inputOf(args, FEDSEG_DICE_CE, 'oneHot');
      if (logits.shape.join('x') !== oneHot.shape.join('x'))
        throw new Error(
          `${FEDSEG_DICE_CE}: logits are ${logits.shape.join('x')}, oneHot is ${oneHot.shape.join('x')}`,
        );
      const backend = backendOf(args);
      const mem = allocateOutputs(backendName, backend, [logits], [[], logits.shape]);
      if (!mem) throw new Error(`${FEDSEG_DICE_CE} needs float32 logits, got ${logits.dtype}`);
      const [z] = mem.inputs;
      // Labels arrive as float32 or int32 (tf.oneHot's dtype); the loop reads float32.
      const labels = valuesOf(backendName, backend, oneHot);
      const y = labels instanceof Float32Array ? labels : Float32Array.from(labels);
      const [loss, grad] = mem.outValues;
      const classes = logits.shape[logits.shape.length - 1];
      const attrs = args.attrs as unknown as DiceCeAttrs;
      loss[0] = native?.diceCeLoss
        ? native.diceCeLoss(
            z,
            y,
            classes,
            Int32Array.of(attrs.dice, attrs.ce, attrs.classWeights.length > 0 ? 1 : 0),
            attrs.smooth,
            Float64Array.from({ length: classes }, (_, k) => attrs.classWeights[k] ?? 1),
            grad,
          )
        : diceCeLoss(z, y, classes, attrs, grad);
      return mem.outs;
    },
  };
}
