// Memory-bound kernels around the convolutions: fused instance normalization and axis-block sums.
// Layout views: instance norm sees NDHWC as [n, s, c] (s = D*H*W); sums see [outer, reduce, inner].
#pragma once

namespace fedseg {

// y = gamma * (x - mean) * invStd + beta per (sample, channel); stats[(b * c + k) * 2 + {0, 1}] = mean, invStd.
void instanceNormForward(const float* x, const float* gamma, const float* beta, long n, long s, long c,
                         double epsilon, float* y, float* stats);

// dx, dGamma, dBeta from dy, x, gamma and the forward pass's stats.
void instanceNormBackward(const float* dy, const float* x, const float* gamma, const float* stats, long n, long s,
                          long c, float* dx, float* dGamma, float* dBeta);

// out[o, i] = scale * sum_r x[o, r, i], accumulated in double.
void sumBlock(const float* x, long outer, long reduce, long inner, double scale, float* out);

}  // namespace fedseg

namespace fedseg {

// 3D max pooling over NDHWC. p: batch, inD, inH, inW, channels, outD, outH, outW, kD, kH, kW, sD, sH, sW,
// padFront, padTop, padLeft (17 values). Padded taps are skipped.
void maxPool3dForward(const float* x, const long* p, float* y);
// dx (zeroed here) gets each dy at its window's maximum; ties go to the last maximum in d, h, w order
// (tfjs's reference rule).
void maxPool3dBackward(const float* dy, const float* x, const long* p, float* dx);

}  // namespace fedseg

namespace fedseg {

// dst[dstOffset + r * dstStride + i] = src[srcOffset + r * srcStride + i] for r < rows, i < length: one part
// of a concat or split along an axis, seen as [rows, rowLength].
void copyRows(const float* src, long srcOffset, long srcStride, float* dst, long dstOffset, long dstStride, long rows,
              long length);

}  // namespace fedseg

namespace fedseg {

// out[i] = a[i] (+ or *) b[i % bLength] for i < aLength: same shapes, or b broadcast over a's leading axes
// (b's shape a suffix of a's, e.g. a per-channel bias). op 0: add, 1: multiply.
void broadcastBinary(int op, const float* a, long aLength, const float* b, long bLength, float* out);

}  // namespace fedseg

namespace fedseg {

// dx[i] = dy[i] * step(x[i]): dy where x > 0, dy * 0 elsewhere, NaN where x is NaN (tfjs-core's Relu gradient).
void reluBackward(const float* dy, const float* x, long n, float* dx);

}  // namespace fedseg

namespace fedseg {

// The segmentation loss of libs/models/src/kernels/fedseg-dice-ce.ts (soft Dice over foreground classes and/or
// cross-entropy from logits [voxels, k]) and its gradient for an upstream gradient of 1; same formulas, sums
// in double. w: k class weights (all 1 when unweighted); weighted: whether CE divides by sum(y w) rather
// than the voxel count. Returns the loss.
double diceCeLoss(const float* logits, const float* oneHot, long voxels, long k, bool dice, bool ce, double smooth,
                  const double* w, bool weighted, float* grad);

}  // namespace fedseg
