/*
 * out[o, i] = scale * sum_r x[o, r, i] over x seen as [outer, reduce, inner] (a reduction over a contiguous
 * block of axes; libs/models/src/kernels/reduce-axes.ts). Float32 SIMD sums over blocks of at most BLOCK
 * terms, added into float64 totals. inner must be 1 or a multiple of 4 and at most MAX_INNER (else 0 is
 * returned). scratch: 12 * inner bytes (16-aligned).
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define BLOCK 512
#define MAX_INNER 1024

__attribute__((export_name("sum_block"))) int32_t sum_block(const float *x, int32_t outer, int32_t reduce,
                                                            int32_t inner, float scale, float *out,
                                                            uint8_t *scratch) {
  if (inner > MAX_INNER || (inner != 1 && inner % 4 != 0)) return 0;
  if (inner == 1) {
    for (int32_t o = 0; o < outer; o++) {
      const float *p = x + (int64_t)o * reduce;
      double total = 0;
      for (int32_t r0 = 0; r0 < reduce; r0 += BLOCK) {
        const int32_t r1 = reduce - r0 < BLOCK ? reduce : r0 + BLOCK;
        v128_t acc = wasm_f32x4_splat(0.0f);
        int32_t r = r0;
        for (; r + 4 <= r1; r += 4) acc = wasm_f32x4_add(acc, wasm_v128_load(p + r));
        float part = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) +
                     wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
        for (; r < r1; r++) part += p[r];
        total += part;
      }
      out[o] = (float)(total * scale);
    }
    return 1;
  }
  double *total = (double *)scratch;
  float *part = (float *)(total + inner);
  for (int32_t o = 0; o < outer; o++) {
    const float *base = x + (int64_t)o * reduce * inner;
    for (int32_t i = 0; i < inner; i++) total[i] = 0;
    for (int32_t r0 = 0; r0 < reduce; r0 += BLOCK) {
      const int32_t r1 = reduce - r0 < BLOCK ? reduce : r0 + BLOCK;
      for (int32_t i = 0; i < inner; i += 4) wasm_v128_store(part + i, wasm_f32x4_splat(0.0f));
      for (int32_t r = r0; r < r1; r++) {
        const float *p = base + (int64_t)r * inner;
        for (int32_t i = 0; i < inner; i += 4)
          wasm_v128_store(part + i, wasm_f32x4_add(wasm_v128_load(part + i), wasm_v128_load(p + i)));
      }
      for (int32_t i = 0; i < inner; i++) total[i] += part[i];
    }
    for (int32_t i = 0; i < inner; i++) out[(int64_t)o * inner + i] = (float)(total[i] * scale);
  }
  return 1;
}
