// 3D convolution on oneDNN; see conv3d.cc.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fedseg {

enum class Conv3dKind { Forward = 0, BackwardData = 1, BackwardWeights = 2 };

// Plain: NDHWC in place. Blocked: oneDNN's own layout with reorders. Auto: time every candidate once per
// shape. Direct: our loops (conv3d-direct.h; backward-weights with 8 output channels only; for tests).
enum class ConvMode { Plain = 0, Blocked = 1, Auto = 2, Direct = 3 };

// Shapes in tfjs's terms (NDHWC activations, [kD, kH, kW, inC, outC] filters); dilations count from 1.
struct Conv3dParams {
  long batch, inD, inH, inW, inC, outD, outH, outW, outC, kD, kH, kW, sD, sH, sW, dD, dH, dW;
  long padFront, padTop, padLeft, padBack, padBottom, padRight;
};

// Forward:         a = x,  b = filter, out = y
// BackwardData:    a = dy, b = filter, out = dx
// BackwardWeights: a = x,  b = dy,     out = dFilter
// Returns whether the blocked layout ran. Throws dnnl::error when oneDNN refuses the shape.
bool conv3d(Conv3dKind kind, const Conv3dParams& p, ConvMode mode, const float* a, const float* b, float* out);

size_t conv3dCachedPlans();

// One cached plan: which convolution (kind, mode and the 24 numbers of Conv3dParams), the oneDNN
// implementation chosen, and the calls and seconds since it was chosen or the counters were reset.
struct PlanReport {
  int kind = 0;
  int mode = 0;
  std::vector<long> shape;
  std::string impl;
  bool blocked = false;
  long calls = 0;
  double seconds = 0;
};

std::vector<PlanReport> conv3dPlanReports();
void conv3dResetCounters();

}  // namespace fedseg
