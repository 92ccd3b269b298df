/*
 * Fused instance normalization (Ulyanov et al., 2016) over NDHWC viewed as [n, s, c] (s voxels), the same
 * math as libs/models/src/kernels/instance-norm-loops.ts, in f32x4 over 4 channels at a time:
 *
 *   forward:  mean, biased var over s per (n, c); invStd = 1 / sqrt(var + eps); y = gamma (x - mean) invStd + beta
 *   backward: xhat = (x - mean) invStd; dbeta = sum dy; dgamma = sum dy xhat;
 *             dx = gamma invStd (dy - mean_s(dy) - xhat mean_s(dy xhat))  =  k1 dy + k2 x + k3 per channel
 *
 * Sums run in float32 over blocks of BLOCK voxels, then add into float64 totals, and the forward sums are of
 * x minus the sample's first voxel (a shift that keeps E[x^2] - E[x]^2 from cancelling when |mean| >> std).
 * c must be a multiple of 4 and at most MAX_C (else the functions return 0 and do nothing).
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define BLOCK 512
#define MAX_C 256

/* Bytes of scratch the two functions need for c channels (16-aligned by the caller). */
EXPORT(instance_norm_scratch_bytes)
uint32_t instance_norm_scratch_bytes(int32_t c) { return (uint32_t)c * (6 * 4 + 2 * 8); }

EXPORT(instance_norm_forward)
int32_t instance_norm_forward(const float *x, const float *gamma, const float *beta, int32_t n, int32_t s,
                              int32_t c, float eps, float *y, float *stats, uint8_t *scratch) {
  if (c % 4 != 0 || c > MAX_C || s < 1) return 0;
  double *totalSum = (double *)scratch, *totalSq = totalSum + c;
  float *part = (float *)(totalSq + c), *partSq = part + c, *shift = partSq + c, *scale = shift + c;
  float *offset = scale + c;
  for (int32_t b = 0; b < n; b++) {
    const float *xb = x + (int64_t)b * s * c;
    float *yb = y + (int64_t)b * s * c;
    for (int32_t k = 0; k < c; k++) {
      shift[k] = xb[k];
      totalSum[k] = 0;
      totalSq[k] = 0;
    }
    for (int32_t v0 = 0; v0 < s; v0 += BLOCK) {
      const int32_t v1 = s - v0 < BLOCK ? s : v0 + BLOCK;
      for (int32_t k = 0; k < c; k += 4) {
        v128_t sum = wasm_f32x4_splat(0.0f), sq = sum, sh = wasm_v128_load(shift + k);
        const float *p = xb + (int64_t)v0 * c + k;
        for (int32_t v = v0; v < v1; v++, p += c) {
          v128_t d = wasm_f32x4_sub(wasm_v128_load(p), sh);
          sum = wasm_f32x4_add(sum, d);
          sq = wasm_f32x4_add(sq, wasm_f32x4_mul(d, d));
        }
        wasm_v128_store(part + k, sum);
        wasm_v128_store(partSq + k, sq);
      }
      for (int32_t k = 0; k < c; k++) {
        totalSum[k] += part[k];
        totalSq[k] += partSq[k];
      }
    }
    for (int32_t k = 0; k < c; k++) {
      const double m = totalSum[k] / s;
      double var = totalSq[k] / s - m * m;
      if (var < 0) var = 0;
      const double mean = shift[k] + m;
      const double invStd = 1.0 / __builtin_sqrt(var + eps);
      stats[((int64_t)b * c + k) * 2] = (float)mean;
      stats[((int64_t)b * c + k) * 2 + 1] = (float)invStd;
      scale[k] = (float)(gamma[k] * invStd);
      offset[k] = (float)(beta[k] - mean * gamma[k] * invStd);
    }
    /* Voxel-major, so the tensor streams through once (scale and offset stay in L1). */
    for (int64_t i = 0; i < (int64_t)s * c; i += c)
      for (int32_t k = 0; k < c; k += 4)
        wasm_v128_store(yb + i + k, wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(xb + i + k), wasm_v128_load(scale + k)),
                                                   wasm_v128_load(offset + k)));
  }
  return 1;
}

EXPORT(instance_norm_backward)
int32_t instance_norm_backward(const float *dy, const float *x, const float *gamma, const float *stats, int32_t n,
                               int32_t s, int32_t c, float *dx, float *dGamma, float *dBeta, uint8_t *scratch) {
  if (c % 4 != 0 || c > MAX_C || s < 1) return 0;
  double *totalDy = (double *)scratch, *totalDyXhat = totalDy + c;
  float *part = (float *)(totalDyXhat + c), *partXhat = part + c, *mean = partXhat + c, *inv = mean + c;
  float *k1 = inv + c, *k2 = k1 + c;
  for (int32_t k = 0; k < c; k++) {
    dGamma[k] = 0;
    dBeta[k] = 0;
  }
  for (int32_t b = 0; b < n; b++) {
    const float *dyb = dy + (int64_t)b * s * c, *xb = x + (int64_t)b * s * c;
    float *dxb = dx + (int64_t)b * s * c;
    for (int32_t k = 0; k < c; k++) {
      mean[k] = stats[((int64_t)b * c + k) * 2];
      inv[k] = stats[((int64_t)b * c + k) * 2 + 1];
      totalDy[k] = 0;
      totalDyXhat[k] = 0;
    }
    for (int32_t v0 = 0; v0 < s; v0 += BLOCK) {
      const int32_t v1 = s - v0 < BLOCK ? s : v0 + BLOCK;
      for (int32_t k = 0; k < c; k += 4) {
        v128_t sd = wasm_f32x4_splat(0.0f), sdx = sd;
        const v128_t mu = wasm_v128_load(mean + k), is = wasm_v128_load(inv + k);
        const float *g = dyb + (int64_t)v0 * c + k, *p = xb + (int64_t)v0 * c + k;
        for (int32_t v = v0; v < v1; v++, g += c, p += c) {
          const v128_t gv = wasm_v128_load(g);
          sd = wasm_f32x4_add(sd, gv);
          sdx = wasm_f32x4_add(sdx, wasm_f32x4_mul(gv, wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(p), mu), is)));
        }
        wasm_v128_store(part + k, sd);
        wasm_v128_store(partXhat + k, sdx);
      }
      for (int32_t k = 0; k < c; k++) {
        totalDy[k] += part[k];
        totalDyXhat[k] += partXhat[k];
      }
    }
    /* dx = gi (dy - a - (x - mean) inv bb) with gi = gamma inv, a = mean_s dy, bb = mean_s dy xhat. */
    for (int32_t k = 0; k < c; k++) {
      dBeta[k] += (float)totalDy[k];
      dGamma[k] += (float)totalDyXhat[k];
      const double a = totalDy[k] / s, bb = totalDyXhat[k] / s, gi = (double)gamma[k] * inv[k];
      k1[k] = (float)gi;
      k2[k] = (float)(-gi * inv[k] * bb);
      part[k] = (float)(-gi * a + gi * inv[k] * bb * mean[k]); /* k3, reusing part */
    }
    for (int64_t i = 0; i < (int64_t)s * c; i += c)
      for (int32_t k = 0; k < c; k += 4) {
        const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(dyb + i + k), wasm_v128_load(k1 + k)),
                                        wasm_f32x4_mul(wasm_v128_load(xb + i + k), wasm_v128_load(k2 + k)));
        wasm_v128_store(dxb + i + k, wasm_f32x4_add(t, wasm_v128_load(part + k)));
      }
  }
  return 1;
}
