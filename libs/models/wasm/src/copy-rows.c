/*
 * Row copies behind concat and split along the last axis (libs/models/src/kernels/copy-blocks.ts):
 * dst[r * dstStride + j] = src[r * srcStride + j] for r < rows, j < rowLength (strides and lengths in floats).
 */
#include <stdint.h>
#include <wasm_simd128.h>

__attribute__((export_name("copy_rows"))) void copy_rows(const float *src, int32_t srcStride, float *dst,
                                                         int32_t dstStride, int32_t rows, int32_t rowLength) {
  for (int32_t r = 0; r < rows; r++) {
    const float *s = src + (int64_t)r * srcStride;
    float *d = dst + (int64_t)r * dstStride;
    int32_t j = 0;
    for (; j + 8 <= rowLength; j += 8) {
      wasm_v128_store(d + j, wasm_v128_load(s + j));
      wasm_v128_store(d + j + 4, wasm_v128_load(s + j + 4));
    }
    for (; j + 4 <= rowLength; j += 4) wasm_v128_store(d + j, wasm_v128_load(s + j));
    for (; j < rowLength; j++) d[j] = s[j];
  }
}
