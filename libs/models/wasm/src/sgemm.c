/*
 * C [m, n] = A [m, k] . B [k, n], row-major, m a multiple of 4 and n of 8. Not used by the kernels: it is the yardstick
 * `npm run bench -- conv3d` measures them against, the same 4 x 8 register block of f32x4 multiply-adds as
 * their inner loops (conv3d.c), on operands that stay in cache. Its GFLOP/s is what this engine's SIMD128
 * reaches on this machine with that block, so convolutions near it are compute-bound.
 */
#include <stdint.h>
#include <wasm_simd128.h>

__attribute__((export_name("sgemm"))) void sgemm(int32_t m, int32_t n, int32_t k, const float *a, const float *b,
                                                 float *c) {
  for (int32_t i = 0; i + 4 <= m; i += 4)
    for (int32_t j = 0; j + 8 <= n; j += 8) {
      v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00;
      v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      const float *a0 = a + i * k, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;
      const float *bp = b + j;
      for (int32_t p = 0; p < k; p++, bp += n) {
        v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
        v128_t v0 = wasm_v128_load32_splat(a0 + p), v1 = wasm_v128_load32_splat(a1 + p);
        v128_t v2 = wasm_v128_load32_splat(a2 + p), v3 = wasm_v128_load32_splat(a3 + p);
        c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(v0, b0));
        c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(v0, b1));
        c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(v1, b0));
        c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(v1, b1));
        c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(v2, b0));
        c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(v2, b1));
        c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(v3, b0));
        c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(v3, b1));
      }
      float *cp = c + i * n + j;
      wasm_v128_store(cp, c00);
      wasm_v128_store(cp + 4, c01);
      wasm_v128_store(cp + n, c10);
      wasm_v128_store(cp + n + 4, c11);
      wasm_v128_store(cp + 2 * n, c20);
      wasm_v128_store(cp + 2 * n + 4, c21);
      wasm_v128_store(cp + 3 * n, c30);
      wasm_v128_store(cp + 3 * n + 4, c31);
    }
}
