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
