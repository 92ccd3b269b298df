// Direct loops for a convolution oneDNN 2.6 runs slowly: backward-weights with few channels; see
// conv3d-direct.cc.
#pragma once

#include "conv3d.h"

namespace fedseg {

// Whether `backwardWeightsDirect` handles this shape on this CPU: stride 1, dilation 1, 8 output channels,
// 8 or 16 input channels, AVX2 and FMA present.
bool backwardWeightsDirectFits(const Conv3dParams& p);

// dFilter [kD, kH, kW, inC, outC] = sum over batch and output voxels of x (NDHWC) times dy (NDHWC).
void backwardWeightsDirect(const Conv3dParams& p, const float* x, const float* dy, float* dFilter);

}  // namespace fedseg
