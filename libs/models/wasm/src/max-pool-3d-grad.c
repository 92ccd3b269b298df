/*
 * MaxPool3DGrad over NDHWC: dx (zeroed here) receives each dy at its window's maximum, 4 channels at a time
 * (c must be a multiple of 4, else 0 is returned and nothing is done). Ties (common after ReLU) go to the last
 * maximum in d, h, w order and NaN never wins: the rule of tfjs's cpu kernel and of pool-3d-loops.ts.
 * params: the 17 numbers of pool3dParams (libs/models/src/kernels/pool-3d-loops.ts).
 */
#include <stdint.h>
#include <wasm_simd128.h>

__attribute__((export_name("max_pool3d_grad"))) int32_t max_pool3d_grad(const float *dy, const float *x,
                                                                          const int32_t *p, float *dx) {
  const int32_t n = p[0], inD = p[1], inH = p[2], inW = p[3], c = p[4], outD = p[5], outH = p[6], outW = p[7];
  const int32_t kD = p[8], kH = p[9], kW = p[10], sD = p[11], sH = p[12], sW = p[13];
  const int32_t front = p[14], top = p[15], left = p[16];
  if (c % 4 != 0) return 0;
  const uint32_t size = (uint32_t)n * inD * inH * inW * c;
  for (uint32_t i = 0; i < size; i += 4) wasm_v128_store(dx + i, wasm_f32x4_splat(0.0f));
  const float *g = dy;
  for (int32_t b = 0; b < n; b++)
    for (int32_t yd = 0; yd < outD; yd++)
      for (int32_t yh = 0; yh < outH; yh++)
        for (int32_t yw = 0; yw < outW; yw++, g += c)
          for (int32_t k = 0; k < c; k += 4) {
            v128_t best = wasm_f32x4_splat(-__builtin_inff()), at = wasm_i32x4_splat(-1);
            for (int32_t kd = 0; kd < kD; kd++) {
              const int32_t xd = yd * sD - front + kd;
              if (xd < 0 || xd >= inD) continue;
              for (int32_t kh = 0; kh < kH; kh++) {
                const int32_t xh = yh * sH - top + kh;
                if (xh < 0 || xh >= inH) continue;
                for (int32_t kw = 0; kw < kW; kw++) {
                  const int32_t xw = yw * sW - left + kw;
                  if (xw < 0 || xw >= inW) continue;
                  const int32_t offset = (((b * inD + xd) * inH + xh) * inW + xw) * c + k;
                  const v128_t v = wasm_v128_load(x + offset);
                  const v128_t wins = wasm_f32x4_ge(v, best);
                  best = wasm_v128_bitselect(v, best, wins);
                  at = wasm_v128_bitselect(wasm_i32x4_add(wasm_i32x4_splat(offset), wasm_i32x4_make(0, 1, 2, 3)), at,
                                           wins);
                }
              }
            }
            int32_t i0 = wasm_i32x4_extract_lane(at, 0), i1 = wasm_i32x4_extract_lane(at, 1);
            int32_t i2 = wasm_i32x4_extract_lane(at, 2), i3 = wasm_i32x4_extract_lane(at, 3);
            if (i0 >= 0) dx[i0] += g[k];
            if (i1 >= 0) dx[i1] += g[k + 1];
            if (i2 >= 0) dx[i2] += g[k + 2];
            if (i3 >= 0) dx[i3] += g[k + 3];
          }
  return 1;
}
