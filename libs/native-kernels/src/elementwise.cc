// See elementwise.h. Same math as libs/models/src/kernels/instance-norm-loops.ts (the portable path):
// forward  mean, var over s (biased); invStd = 1 / sqrt(var + eps); y = gamma * (x - mean) * invStd + beta
// backward xhat = (x - mean) * invStd; dBeta = sum dy; dGamma = sum dy * xhat;
//          dx = gamma * invStd * (dy - mean_s(dy) - xhat * mean_s(dy * xhat))
// Samples run in parallel (OpenMP, already loaded by oneDNN); within a sample the channel loop is innermost
// and contiguous, which the compiler vectorizes.
#include "elementwise.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace fedseg {

void instanceNormForward(const float* x, const float* gamma, const float* beta, long n, long s, long c,
                         double epsilon, float* y, float* stats) {
#pragma omp parallel for schedule(static)
  for (long b = 0; b < n; ++b) {
    std::vector<double> sum(c, 0.0), sumSq(c, 0.0);
    std::vector<float> scale(c), shift(c);
    const float* xb = x + b * s * c;
    float* yb = y + b * s * c;
    for (long v = 0; v < s; ++v) {
      const float* row = xb + v * c;
      for (long k = 0; k < c; ++k) {
        const double value = row[k];
        sum[k] += value;
        sumSq[k] += value * value;
      }
    }
    for (long k = 0; k < c; ++k) {
      const double mean = sum[k] / static_cast<double>(s);
      const double variance = std::max(0.0, sumSq[k] / static_cast<double>(s) - mean * mean);
      const double invStd = 1.0 / std::sqrt(variance + epsilon);
      stats[(b * c + k) * 2] = static_cast<float>(mean);
      stats[(b * c + k) * 2 + 1] = static_cast<float>(invStd);
      scale[k] = static_cast<float>(gamma[k] * invStd);
      shift[k] = static_cast<float>(beta[k] - mean * gamma[k] * invStd);
    }
    for (long v = 0; v < s; ++v) {
      const float* row = xb + v * c;
      float* out = yb + v * c;
      for (long k = 0; k < c; ++k) out[k] = row[k] * scale[k] + shift[k];
    }
  }
}

void instanceNormBackward(const float* dy, const float* x, const float* gamma, const float* stats, long n, long s,
                          long c, float* dx, float* dGamma, float* dBeta) {
  std::vector<double> gammaTotal(n * c, 0.0), betaTotal(n * c, 0.0);
#pragma omp parallel for schedule(static)
  for (long b = 0; b < n; ++b) {
    std::vector<float> mean(c), invStd(c), meanDy(c), meanDyXhat(c), coef(c);
    std::vector<double> sumDy(c, 0.0), sumDyXhat(c, 0.0);
    for (long k = 0; k < c; ++k) {
      mean[k] = stats[(b * c + k) * 2];
      invStd[k] = stats[(b * c + k) * 2 + 1];
    }
    const float* xb = x + b * s * c;
    const float* dyb = dy + b * s * c;
    float* dxb = dx + b * s * c;
    for (long v = 0; v < s; ++v) {
      const float* xr = xb + v * c;
      const float* gr = dyb + v * c;
      for (long k = 0; k < c; ++k) {
        const double g = gr[k];
        sumDy[k] += g;
        sumDyXhat[k] += g * (xr[k] - mean[k]) * invStd[k];
      }
    }
    for (long k = 0; k < c; ++k) {
      betaTotal[b * c + k] = sumDy[k];
      gammaTotal[b * c + k] = sumDyXhat[k];
      meanDy[k] = static_cast<float>(sumDy[k] / static_cast<double>(s));
      meanDyXhat[k] = static_cast<float>(sumDyXhat[k] / static_cast<double>(s));
      coef[k] = gamma[k] * invStd[k];
    }
    for (long v = 0; v < s; ++v) {
      const float* xr = xb + v * c;
      const float* gr = dyb + v * c;
      float* out = dxb + v * c;
      for (long k = 0; k < c; ++k) {
        const float xhat = (xr[k] - mean[k]) * invStd[k];
        out[k] = coef[k] * (gr[k] - meanDy[k] - xhat * meanDyXhat[k]);
      }
    }
  }
  for (long k = 0; k < c; ++k) {
    double g = 0.0, bt = 0.0;
    for (long b = 0; b < n; ++b) {
      g += gammaTotal[b * c + k];
      bt += betaTotal[b * c + k];
    }
    dGamma[k] = static_cast<float>(g);
    dBeta[k] = static_cast<float>(bt);
  }
}

void sumBlock(const float* x, long outer, long reduce, long inner, double scale, float* out) {
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (outer > 1 && outer * reduce > 65536)
    for (long o = 0; o < outer; ++o) {
      double acc = 0.0;
      const float* row = x + o * reduce;
      for (long r = 0; r < reduce; ++r) acc += row[r];
      out[o] = static_cast<float>(acc * scale);
    }
    return;
  }
  // Split the reduced axis across threads, each with its own accumulators, then add the partial sums.
  for (long o = 0; o < outer; ++o) {
    const float* block = x + o * reduce * inner;
    std::vector<double> total(inner, 0.0);
#pragma omp parallel if (reduce * inner > 65536)
    {
      std::vector<double> acc(inner, 0.0);
#pragma omp for schedule(static) nowait
      for (long r = 0; r < reduce; ++r) {
        const float* row = block + r * inner;
        for (long i = 0; i < inner; ++i) acc[i] += row[i];
      }
#pragma omp critical
      for (long i = 0; i < inner; ++i) total[i] += acc[i];
    }
    for (long i = 0; i < inner; ++i) out[o * inner + i] = static_cast<float>(total[i] * scale);
  }
}

}  // namespace fedseg

namespace fedseg {
namespace {

// Visits each in-bounds tap of output voxel (b, od, oh, ow) in d, h, w order with its input offset.
template <typename Visit>
void forEachTap(const long* p, long b, long od, long oh, long ow, Visit visit) {
  const long inD = p[1], inH = p[2], inW = p[3], c = p[4];
  for (long kd = 0; kd < p[8]; ++kd) {
    const long xd = od * p[11] - p[14] + kd;
    if (xd < 0 || xd >= inD) continue;
    for (long kh = 0; kh < p[9]; ++kh) {
      const long xh = oh * p[12] - p[15] + kh;
      if (xh < 0 || xh >= inH) continue;
      for (long kw = 0; kw < p[10]; ++kw) {
        const long xw = ow * p[13] - p[16] + kw;
        if (xw < 0 || xw >= inW) continue;
        visit((((b * inD + xd) * inH + xh) * inW + xw) * c);
      }
    }
  }
}

}  // namespace

void maxPool3dForward(const float* x, const long* p, float* y) {
  const long n = p[0], c = p[4], outD = p[5], outH = p[6], outW = p[7];
#pragma omp parallel for collapse(2) schedule(static)
  for (long b = 0; b < n; ++b) {
    for (long od = 0; od < outD; ++od) {
      for (long oh = 0; oh < outH; ++oh) {
        for (long ow = 0; ow < outW; ++ow) {
          float* out = y + (((b * outD + od) * outH + oh) * outW + ow) * c;
          for (long k = 0; k < c; ++k) out[k] = -INFINITY;
          forEachTap(p, b, od, oh, ow, [&](long offset) {
            for (long k = 0; k < c; ++k) {
              const float v = x[offset + k];
              if (v > out[k] || std::isnan(v)) out[k] = v;
            }
          });
        }
      }
    }
  }
}

void maxPool3dBackward(const float* dy, const float* x, const long* p, float* dx) {
  const long n = p[0], c = p[4], outD = p[5], outH = p[6], outW = p[7];
  std::fill(dx, dx + n * p[1] * p[2] * p[3] * c, 0.0f);
  // Windows that do not overlap (stride >= kernel) write disjoint parts of dx: safe in parallel.
  const bool disjoint = p[11] >= p[8] && p[12] >= p[9] && p[13] >= p[10];
#pragma omp parallel for collapse(2) schedule(static) if (disjoint)
  for (long b = 0; b < n; ++b) {
    for (long od = 0; od < outD; ++od) {
      std::vector<float> best(c);
      std::vector<long> at(c);
      for (long oh = 0; oh < outH; ++oh) {
        for (long ow = 0; ow < outW; ++ow) {
          const long o = (((b * outD + od) * outH + oh) * outW + ow) * c;
          std::fill(best.begin(), best.end(), -INFINITY);
          std::fill(at.begin(), at.end(), -1L);
          forEachTap(p, b, od, oh, ow, [&](long offset) {
            for (long k = 0; k < c; ++k) {
              const float v = x[offset + k];
              if (v >= best[k]) {
                best[k] = v;
                at[k] = offset + k;
              }
            }
          });
          for (long k = 0; k < c; ++k) {
            if (at[k] >= 0) dx[at[k]] += dy[o + k];
          }
        }
      }
    }
  }
}

}  // namespace fedseg

#include <cstring>

namespace fedseg {

void copyRows(const float* src, long srcOffset, long srcStride, float* dst, long dstOffset, long dstStride, long rows,
              long length) {
  const size_t bytes = static_cast<size_t>(length) * sizeof(float);
#pragma omp parallel for schedule(static) if (rows * length > (1L << 18))
  for (long r = 0; r < rows; ++r) {
    std::memcpy(dst + dstOffset + r * dstStride, src + srcOffset + r * srcStride, bytes);
  }
}

}  // namespace fedseg

namespace fedseg {

void broadcastBinary(int op, const float* a, long aLength, const float* b, long bLength, float* out) {
  const long rows = aLength / bLength;
#pragma omp parallel for schedule(static) if (aLength > (1L << 16))
  for (long r = 0; r < rows; ++r) {
    const float* ar = a + r * bLength;
    float* outr = out + r * bLength;
    if (op == 0) {
      for (long i = 0; i < bLength; ++i) outr[i] = ar[i] + b[i];
    } else {
      for (long i = 0; i < bLength; ++i) outr[i] = ar[i] * b[i];
    }
  }
}

}  // namespace fedseg

namespace fedseg {

void reluBackward(const float* dy, const float* x, long n, float* dx) {
#pragma omp parallel for schedule(static) if (n > (1L << 16))
  for (long i = 0; i < n; ++i) {
    const float v = x[i];
    const float step = v > 0.0f ? 1.0f : (v == v ? 0.0f : NAN);
    dx[i] = dy[i] * step;
  }
}

}  // namespace fedseg

namespace fedseg {

double diceCeLoss(const float* logits, const float* oneHot, long voxels, long k, bool dice, bool ce, double smooth,
                  const double* w, bool weighted, float* grad) {
  // Pass 1: softmax into grad, and the sums (per thread, then added).
  std::vector<double> inter(k, 0.0), probSum(k, 0.0), labelSum(k, 0.0);
  double ceSum = 0.0, ceNorm = 0.0;
#pragma omp parallel
  {
    std::vector<double> in(k, 0.0), ps(k, 0.0), ls(k, 0.0);
    double ceLocal = 0.0, normLocal = 0.0;
#pragma omp for schedule(static) nowait
    for (long v = 0; v < voxels; ++v) {
      const float* z = logits + v * k;
      const float* y = oneHot + v * k;
      float* p = grad + v * k;
      double max = -INFINITY;
      for (long c = 0; c < k; ++c) max = std::max(max, static_cast<double>(z[c]));
      double total = 0.0;
      for (long c = 0; c < k; ++c) total += std::exp(z[c] - max);
      const double logTotal = std::log(total);
      double target = 0.0;
      for (long c = 0; c < k; ++c) {
        const double logP = z[c] - max - logTotal;
        const double prob = std::exp(logP);
        p[c] = static_cast<float>(prob);
        in[c] += prob * y[c];
        ps[c] += prob;
        ls[c] += y[c];
        ceLocal -= y[c] * w[c] * logP;
        target += y[c] * w[c];
      }
      normLocal += weighted ? target : 1.0;
    }
#pragma omp critical
    {
      for (long c = 0; c < k; ++c) {
        inter[c] += in[c];
        probSum[c] += ps[c];
        labelSum[c] += ls[c];
      }
      ceSum += ceLocal;
      ceNorm += normLocal;
    }
  }
  std::vector<double> denom(k, 0.0), a(k, 0.0), b(k, 0.0);
  double diceWeighted = 0.0, diceWeightSum = 0.0;
  for (long c = 1; c < k; ++c) {
    denom[c] = probSum[c] + labelSum[c] + smooth;
    diceWeighted += w[c] * (2 * inter[c] + smooth) / denom[c];
    diceWeightSum += w[c];
  }
  const bool useDice = dice && k > 1;
  const double loss = (useDice ? 1.0 - diceWeighted / diceWeightSum : 0.0) + (ce ? ceSum / ceNorm : 0.0);
  if (useDice) {
    for (long c = 1; c < k; ++c) {
      const double scale = w[c] / diceWeightSum;
      a[c] = -scale * 2 / denom[c];
      b[c] = scale * (2 * inter[c] + smooth) / (denom[c] * denom[c]);
    }
  }
  const double ceScale = ce ? 1.0 / ceNorm : 0.0;
  // Pass 2: the gradient through the softmax, in place over the probabilities.
#pragma omp parallel
  {
    std::vector<double> g(k);
#pragma omp for schedule(static)
    for (long v = 0; v < voxels; ++v) {
      const float* y = oneHot + v * k;
      float* p = grad + v * k;
      double pg = 0.0, cTotal = 0.0;
      for (long c = 0; c < k; ++c) {
        g[c] = a[c] * y[c] + b[c];
        pg += p[c] * g[c];
        cTotal += y[c] * w[c];
      }
      cTotal *= ceScale;
      for (long c = 0; c < k; ++c) {
        const double prob = p[c];
        p[c] = static_cast<float>(prob * (g[c] - pg) + cTotal * prob - y[c] * w[c] * ceScale);
      }
    }
  }
  return loss;
}

}  // namespace fedseg
