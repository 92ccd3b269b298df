/**
 * Instance normalization (Ulyanov et al., 2016) over NDHWC viewed as [N, S, C] (S = D*H*W voxels), in two
 * passes each way instead of the ~25 whole-tensor ops tfjs's autodiff makes of moments/sub/mul/rsqrt/add.
 * Biased variance, as tf.moments and PyTorch's InstanceNorm3d use. Statistics accumulate in float64.
 *
 * Forward:  mean, var over S per (n, c); invStd = 1 / sqrt(var + eps); y = gamma * (x - mean) * invStd + beta
 * Backward: xhat = (x - mean) * invStd; dbeta = sum_{n,s} dy; dgamma = sum_{n,s} dy * xhat;
 *           dx = gamma * invStd * (dy - mean_s(dy) - xhat * mean_s(dy * xhat))
 */

/** `stats` receives [N, C, 2]: mean and invStd per sample and channel. */
export function instanceNormForward(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  n: number,
  s: number,
  c: number,
  epsilon: number,
  y: Float32Array,
  stats: Float32Array,
): void {
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    sum.fill(0);
    sumSq.fill(0);
    const base = b * s * c;
    for (let v = 0; v < s; v++) {
      const o = base + v * c;
      for (let k = 0; k < c; k++) {
        const value = x[o + k];
        sum[k] += value;
        sumSq[k] += value * value;
      }
    }
    for (let k = 0; k < c; k++) {
      const mean = sum[k] / s;
      const variance = Math.max(0, sumSq[k] / s - mean * mean);
      const invStd = 1 / Math.sqrt(variance + epsilon);
      stats[(b * c + k) * 2] = mean;
      stats[(b * c + k) * 2 + 1] = invStd;
      scale[k] = gamma[k] * invStd;
      shift[k] = beta[k] - mean * scale[k];
    }
    for (let v = 0; v < s; v++) {
      const o = base + v * c;
      for (let k = 0; k < c; k++) y[o + k] = x[o + k] * scale[k] + shift[k];
    }
  }
}

export function instanceNormBackward(
  dy: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  stats: Float32Array,
  n: number,
  s: number,
  c: number,
  dx: Float32Array,
  dGamma: Float32Array,
  dBeta: Float32Array,
): void {
  const sumDy = new Float64Array(c);
  const sumDyXhat = new Float64Array(c);
  const gammaTotal = new Float64Array(c);
  const betaTotal = new Float64Array(c);
  const mean = new Float64Array(c);
  const invStd = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    sumDy.fill(0);
    sumDyXhat.fill(0);
    for (let k = 0; k < c; k++) {
      mean[k] = stats[(b * c + k) * 2];
      invStd[k] = stats[(b * c + k) * 2 + 1];
    }
    const base = b * s * c;
    for (let v = 0; v < s; v++) {
      const o = base + v * c;
      for (let k = 0; k < c; k++) {
        const g = dy[o + k];
        sumDy[k] += g;
        sumDyXhat[k] += g * (x[o + k] - mean[k]) * invStd[k];
      }
    }
    for (let k = 0; k < c; k++) {
      betaTotal[k] += sumDy[k];
      gammaTotal[k] += sumDyXhat[k];
      // Reuse the accumulators as the per-channel terms of dx.
      sumDy[k] /= s;
      sumDyXhat[k] /= s;
    }
    for (let v = 0; v < s; v++) {
      const o = base + v * c;
      for (let k = 0; k < c; k++) {
        const xhat = (x[o + k] - mean[k]) * invStd[k];
        dx[o + k] = gamma[k] * invStd[k] * (dy[o + k] - sumDy[k] - xhat * sumDyXhat[k]);
      }
    }
  }
  for (let k = 0; k < c; k++) {
    dGamma[k] = gammaTotal[k];
    dBeta[k] = betaTotal[k];
  }
}
