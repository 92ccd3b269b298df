// Backward-weights of a stride-1 3D convolution with 8 output channels, as plain loops the compiler
// vectorizes: dW[kd, kh, kw, ci, :] += x[n, od + kd - pf, oh + kh - pt, ow + kw - pl, ci] * dy[n, od, oh, ow, :].
// oneDNN 2.6 offers no jit implementation of backward-weights for 8 input channels; its gemm path ran
// bench-unet3d's 48^3 8 -> 8 layer at about 20-40 GFLOP/s on 2 AVX-512 cores, the slowest convolution of the
// step. Here a tap's 8 x 8 (or 16 x 8) block of dW stays in registers while a row of output voxels streams
// past: one broadcast of x and one 8-wide FMA per (voxel, tap, input channel). Threads take (n, od) planes
// and keep their own dW, added at the end (the result does not depend on the thread count's timing, only on
// the count).
#include "conv3d-direct.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FEDSEG_DIRECT_X86 1
#endif

namespace fedseg {
namespace {

constexpr int kOut = 8;

#ifdef FEDSEG_DIRECT_X86

// One (n, od) plane: every tap's block of dW, 8 input channels at a time, 8 accumulators of 8 output
// channels in AVX registers while a row of voxels streams past (FMA latency 4, throughput 2 a cycle: 8
// independent chains keep the unit busy). Written with intrinsics: GCC left the block in memory.
template <int kIn>
__attribute__((target("avx2,fma"))) void planeTaps(const Conv3dParams& p, const float* x, const float* dy, long n,
                                                   long od, float* acc) {
  const long inD = p.inD, inH = p.inH, inW = p.inW;
  for (long kd = 0; kd < p.kD; ++kd) {
    const long id = od + kd - p.padFront;
    if (id < 0 || id >= inD) continue;
    for (long kh = 0; kh < p.kH; ++kh) {
      for (long kw = 0; kw < p.kW; ++kw) {
        const long owFirst = std::max<long>(0, p.padLeft - kw);
        const long owEnd = std::min<long>(p.outW, inW + p.padLeft - kw);
        float* out = acc + ((kd * p.kH + kh) * p.kW + kw) * kIn * kOut;
        for (int c0 = 0; c0 < kIn; c0 += 8) {
          __m256 block[8];
          for (int c = 0; c < 8; ++c) block[c] = _mm256_setzero_ps();
          for (long oh = 0; oh < p.outH; ++oh) {
            const long ih = oh + kh - p.padTop;
            if (ih < 0 || ih >= inH) continue;
            const float* xRow = x + (((n * inD + id) * inH + ih) * inW + (owFirst + kw - p.padLeft)) * kIn + c0;
            const float* gRow = dy + (((n * p.outD + od) * p.outH + oh) * p.outW + owFirst) * kOut;
            for (long ow = owFirst; ow < owEnd; ++ow, xRow += kIn, gRow += kOut) {
              const __m256 g = _mm256_loadu_ps(gRow);
              for (int c = 0; c < 8; ++c) block[c] = _mm256_fmadd_ps(_mm256_broadcast_ss(xRow + c), g, block[c]);
            }
          }
          for (int c = 0; c < 8; ++c) {
            float* row = out + (c0 + c) * kOut;
            _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), block[c]));
          }
        }
      }
    }
  }
}

template <int kIn>
void run(const Conv3dParams& p, const float* x, const float* dy, float* dFilter) {
  const long size = p.kD * p.kH * p.kW * kIn * kOut;
  const long planes = p.batch * p.outD;
  std::vector<float> partials;
#pragma omp parallel
  {
#pragma omp single
    partials.assign(static_cast<size_t>(omp_get_num_threads()) * size, 0.0f);
    float* acc = partials.data() + static_cast<size_t>(omp_get_thread_num()) * size;
#pragma omp for schedule(static)
    for (long plane = 0; plane < planes; ++plane) planeTaps<kIn>(p, x, dy, plane / p.outD, plane % p.outD, acc);
  }
  std::memset(dFilter, 0, sizeof(float) * size);
  const size_t threads = partials.size() / size;
  for (size_t t = 0; t < threads; ++t) {
    const float* acc = partials.data() + t * size;
    for (long i = 0; i < size; ++i) dFilter[i] += acc[i];
  }
}

#endif  // FEDSEG_DIRECT_X86

}  // namespace

#ifdef FEDSEG_DIRECT_X86

bool backwardWeightsDirectFits(const Conv3dParams& p) {
  static const bool cpuHas = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return cpuHas && p.outC == kOut && (p.inC == 8 || p.inC == 16) && p.sD == 1 && p.sH == 1 &&
         p.sW == 1 && p.dD == 1 && p.dH == 1 && p.dW == 1;
}

void backwardWeightsDirect(const Conv3dParams& p, const float* x, const float* dy, float* dFilter) {
  switch (p.inC) {
    case 8:
      run<8>(p, x, dy, dFilter);
      break;
    default:
      run<16>(p, x, dy, dFilter);
      break;
  }
}

#else  // not x86: oneDNN runs every convolution

bool backwardWeightsDirectFits(const Conv3dParams&) { return false; }

void backwardWeightsDirect(const Conv3dParams&, const float*, const float*, float*) {}

#endif  // FEDSEG_DIRECT_X86

}  // namespace fedseg
