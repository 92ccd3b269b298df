// N-API entry points (plain node_api.h, so the binary works across Node versions with N-API 8).
// Every function works on the caller's Float32Arrays without copying: tfjs's cpu backend keeps tensors in
// plain typed arrays and the wasm backend in views of its WebAssembly memory, both readable in place.
#include <node_api.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "conv3d.h"
#include "elementwise.h"

namespace {

constexpr size_t kConvParamCount = 24;

bool check(napi_env env, napi_status status, const char* what) {
  if (status == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "FEDSEG_NATIVE_ARGS", what);
  return false;
}

// Reads a typed array argument of the expected type; returns nullptr (with a JS exception) otherwise.
void* typedArrayData(napi_env env, napi_value value, napi_typedarray_type expected, size_t* length,
                     const char* name) {
  bool isTyped = false;
  if (!check(env, napi_is_typedarray(env, value, &isTyped), name)) return nullptr;
  if (!isTyped) {
    napi_throw_type_error(env, "FEDSEG_NATIVE_ARGS", (std::string(name) + " must be a typed array").c_str());
    return nullptr;
  }
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value buffer;
  size_t offset = 0;
  if (!check(env, napi_get_typedarray_info(env, value, &type, length, &data, &buffer, &offset), name)) {
    return nullptr;
  }
  if (type != expected) {
    napi_throw_type_error(env, "FEDSEG_NATIVE_ARGS", (std::string(name) + " has the wrong element type").c_str());
    return nullptr;
  }
  return data;
}

bool expectLength(napi_env env, size_t actual, long expected, const char* name) {
  if (static_cast<long>(actual) == expected) return true;
  std::string msg = std::string(name) + " has " + std::to_string(actual) + " elements, expected " +
                    std::to_string(expected);
  napi_throw_range_error(env, "FEDSEG_NATIVE_ARGS", msg.c_str());
  return false;
}

// conv3d(kind: 0|1|2, params: Int32Array(24), mode: 0|1|2, a: Float32Array, b: Float32Array,
//        out: Float32Array): boolean   (see conv3d.h for what a, b and out hold per kind and mode;
//        returns whether oneDNN's blocked layout ran)
napi_value Conv3d(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (!check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "arguments")) return nullptr;
  if (argc != 6) {
    napi_throw_type_error(env, "FEDSEG_NATIVE_ARGS", "conv3d takes 6 arguments");
    return nullptr;
  }
  int32_t kindValue = 0;
  if (!check(env, napi_get_value_int32(env, argv[0], &kindValue), "kind must be a number")) return nullptr;
  if (kindValue < 0 || kindValue > 2) {
    napi_throw_range_error(env, "FEDSEG_NATIVE_ARGS", "kind must be 0, 1 or 2");
    return nullptr;
  }
  size_t paramLength = 0;
  auto* raw = static_cast<int32_t*>(typedArrayData(env, argv[1], napi_int32_array, &paramLength, "params"));
  if (raw == nullptr) return nullptr;
  if (!expectLength(env, paramLength, kConvParamCount, "params")) return nullptr;
  int32_t modeValue = 0;
  if (!check(env, napi_get_value_int32(env, argv[2], &modeValue), "mode must be a number")) return nullptr;
  if (modeValue < 0 || modeValue > 3) {
    napi_throw_range_error(env, "FEDSEG_NATIVE_ARGS",
                           "mode must be 0 (plain), 1 (blocked), 2 (auto) or 3 (direct loops)");
    return nullptr;
  }

  fedseg::Conv3dParams p{raw[0],  raw[1],  raw[2],  raw[3],  raw[4],  raw[5],  raw[6],  raw[7],
                         raw[8],  raw[9],  raw[10], raw[11], raw[12], raw[13], raw[14], raw[15],
                         raw[16], raw[17], raw[18], raw[19], raw[20], raw[21], raw[22], raw[23]};
  const long xSize = p.batch * p.inD * p.inH * p.inW * p.inC;
  const long ySize = p.batch * p.outD * p.outH * p.outW * p.outC;
  const long wSize = p.kD * p.kH * p.kW * p.inC * p.outC;
  const auto kind = static_cast<fedseg::Conv3dKind>(kindValue);
  long aSize = xSize, bSize = wSize, outSize = ySize;
  if (kind == fedseg::Conv3dKind::BackwardData) {
    aSize = ySize;
    outSize = xSize;
  } else if (kind == fedseg::Conv3dKind::BackwardWeights) {
    bSize = ySize;
    outSize = wSize;
  }

  size_t aLength = 0, bLength = 0, outLength = 0;
  auto* a = static_cast<float*>(typedArrayData(env, argv[3], napi_float32_array, &aLength, "a"));
  if (a == nullptr || !expectLength(env, aLength, aSize, "a")) return nullptr;
  auto* b = static_cast<float*>(typedArrayData(env, argv[4], napi_float32_array, &bLength, "b"));
  if (b == nullptr || !expectLength(env, bLength, bSize, "b")) return nullptr;
  auto* out = static_cast<float*>(typedArrayData(env, argv[5], napi_float32_array, &outLength, "out"));
  if (out == nullptr || !expectLength(env, outLength, outSize, "out")) return nullptr;

  bool usedBlocked = false;
  try {
    usedBlocked = fedseg::conv3d(kind, p, static_cast<fedseg::ConvMode>(modeValue), a, b, out);
  } catch (const dnnl::error& e) {
    napi_throw_error(env, "FEDSEG_NATIVE_DNNL", (std::string("oneDNN: ") + e.what()).c_str());
    return nullptr;
  } catch (const std::exception& e) {
    napi_throw_error(env, "FEDSEG_NATIVE_FAILED", e.what());
    return nullptr;
  }
  napi_value result;
  napi_get_boolean(env, usedBlocked, &result);
  return result;
}

// info(): { onednn: "2.6.3", cachedPlans: number }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value result, version, plans;
  const dnnl_version_t* v = dnnl_version();
  const std::string text = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  if (!check(env, napi_create_object(env, &result), "info")) return nullptr;
  if (!check(env, napi_create_string_utf8(env, text.c_str(), text.size(), &version), "info")) return nullptr;
  if (!check(env, napi_create_uint32(env, static_cast<uint32_t>(fedseg::conv3dCachedPlans()), &plans), "info")) {
    return nullptr;
  }
  napi_set_named_property(env, result, "onednn", version);
  napi_set_named_property(env, result, "cachedPlans", plans);
  return result;
}

// plans(reset?: boolean): [{ kind, mode, shape: number[24], impl, blocked, calls, ms }] for every cached
// convolution plan; with reset, zeroes the counters afterwards (profiling: reset, run a step, read).
napi_value Plans(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (!check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "arguments")) return nullptr;
  bool reset = false;
  if (argc >= 1) {
    napi_valuetype type;
    napi_typeof(env, argv[0], &type);
    if (type == napi_boolean) napi_get_value_bool(env, argv[0], &reset);
  }
  const std::vector<fedseg::PlanReport> reports = fedseg::conv3dPlanReports();
  napi_value list;
  if (!check(env, napi_create_array_with_length(env, reports.size(), &list), "plans")) return nullptr;
  for (size_t i = 0; i < reports.size(); ++i) {
    const fedseg::PlanReport& r = reports[i];
    napi_value item, kind, mode, shape, impl, blocked, calls, ms;
    napi_create_object(env, &item);
    napi_create_int32(env, r.kind, &kind);
    napi_create_int32(env, r.mode, &mode);
    napi_create_array_with_length(env, r.shape.size(), &shape);
    for (size_t j = 0; j < r.shape.size(); ++j) {
      napi_value v;
      napi_create_int64(env, r.shape[j], &v);
      napi_set_element(env, shape, j, v);
    }
    napi_create_string_utf8(env, r.impl.c_str(), r.impl.size(), &impl);
    napi_get_boolean(env, r.blocked, &blocked);
    napi_create_int64(env, r.calls, &calls);
    napi_create_double(env, r.seconds * 1000.0, &ms);
    napi_set_named_property(env, item, "kind", kind);
    napi_set_named_property(env, item, "mode", mode);
    napi_set_named_property(env, item, "shape", shape);
    napi_set_named_property(env, item, "impl", impl);
    napi_set_named_property(env, item, "blocked", blocked);
    napi_set_named_property(env, item, "calls", calls);
    napi_set_named_property(env, item, "ms", ms);
    napi_set_element(env, list, i, item);
  }
  if (reset) fedseg::conv3dResetCounters();
  return list;
}

// Reads argument `index` as a Float32Array of exactly `expected` elements (JS exception otherwise).
float* floatArg(napi_env env, napi_value* argv, size_t index, long expected, const char* name) {
  size_t length = 0;
  auto* data = static_cast<float*>(typedArrayData(env, argv[index], napi_float32_array, &length, name));
  if (data == nullptr || !expectLength(env, length, expected, name)) return nullptr;
  return data;
}

// Reads argument `index` as an Int32Array of `count` positive dimensions.
bool dimsArg(napi_env env, napi_value* argv, size_t index, size_t count, long* dims) {
  size_t length = 0;
  auto* raw = static_cast<int32_t*>(typedArrayData(env, argv[index], napi_int32_array, &length, "dims"));
  if (raw == nullptr || !expectLength(env, length, static_cast<long>(count), "dims")) return false;
  for (size_t i = 0; i < count; ++i) {
    if (raw[i] <= 0) {
      napi_throw_range_error(env, "FEDSEG_NATIVE_ARGS", "dims must be positive");
      return false;
    }
    dims[i] = raw[i];
  }
  return true;
}

bool argsOf(napi_env env, napi_callback_info info, size_t expected, napi_value* argv, const char* name) {
  size_t argc = expected;
  if (!check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "arguments")) return false;
  if (argc != expected) {
    napi_throw_type_error(env, "FEDSEG_NATIVE_ARGS", (std::string(name) + " takes " + std::to_string(expected) + " arguments").c_str());
    return false;
  }
  return true;
}

// instanceNormForward(x, gamma, beta, dims: Int32Array [n, s, c], epsilon, y, stats [n * c * 2]): void
napi_value InstanceNormForward(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!argsOf(env, info, 7, argv, "instanceNormForward")) return nullptr;
  long d[3];
  if (!dimsArg(env, argv, 3, 3, d)) return nullptr;
  const long size = d[0] * d[1] * d[2];
  double epsilon = 0;
  if (!check(env, napi_get_value_double(env, argv[4], &epsilon), "epsilon must be a number")) return nullptr;
  const float* x = floatArg(env, argv, 0, size, "x");
  const float* gamma = x ? floatArg(env, argv, 1, d[2], "gamma") : nullptr;
  const float* beta = gamma ? floatArg(env, argv, 2, d[2], "beta") : nullptr;
  float* y = beta ? floatArg(env, argv, 5, size, "y") : nullptr;
  float* stats = y ? floatArg(env, argv, 6, d[0] * d[2] * 2, "stats") : nullptr;
  if (stats == nullptr) return nullptr;
  fedseg::instanceNormForward(x, gamma, beta, d[0], d[1], d[2], epsilon, y, stats);
  return nullptr;
}

// instanceNormBackward(dy, x, gamma, stats, dims [n, s, c], dx, dGamma, dBeta): void
napi_value InstanceNormBackward(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!argsOf(env, info, 8, argv, "instanceNormBackward")) return nullptr;
  long d[3];
  if (!dimsArg(env, argv, 4, 3, d)) return nullptr;
  const long size = d[0] * d[1] * d[2];
  const float* dy = floatArg(env, argv, 0, size, "dy");
  const float* x = dy ? floatArg(env, argv, 1, size, "x") : nullptr;
  const float* gamma = x ? floatArg(env, argv, 2, d[2], "gamma") : nullptr;
  const float* stats = gamma ? floatArg(env, argv, 3, d[0] * d[2] * 2, "stats") : nullptr;
  float* dx = stats ? floatArg(env, argv, 5, size, "dx") : nullptr;
  float* dGamma = dx ? floatArg(env, argv, 6, d[2], "dGamma") : nullptr;
  float* dBeta = dGamma ? floatArg(env, argv, 7, d[2], "dBeta") : nullptr;
  if (dBeta == nullptr) return nullptr;
  fedseg::instanceNormBackward(dy, x, gamma, stats, d[0], d[1], d[2], dx, dGamma, dBeta);
  return nullptr;
}

// sumBlock(x, dims [outer, reduce, inner], scale, out [outer * inner]): void
napi_value SumBlock(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!argsOf(env, info, 4, argv, "sumBlock")) return nullptr;
  long d[3];
  if (!dimsArg(env, argv, 1, 3, d)) return nullptr;
  double scale = 1;
  if (!check(env, napi_get_value_double(env, argv[2], &scale), "scale must be a number")) return nullptr;
  const float* x = floatArg(env, argv, 0, d[0] * d[1] * d[2], "x");
  float* out = x ? floatArg(env, argv, 3, d[0] * d[2], "out") : nullptr;
  if (out == nullptr) return nullptr;
  fedseg::sumBlock(x, d[0], d[1], d[2], scale, out);
  return nullptr;
}

constexpr size_t kPoolParamCount = 17;

// maxPool3dForward(x, params Int32Array(17), y) / maxPool3dBackward(dy, x, params, dx): see elementwise.h.
napi_value MaxPool3d(napi_env env, napi_callback_info info, bool backward) {
  napi_value argv[4];
  const size_t argc = backward ? 4 : 3;
  if (!argsOf(env, info, argc, argv, backward ? "maxPool3dBackward" : "maxPool3dForward")) return nullptr;
  long p[kPoolParamCount];
  const size_t paramsAt = backward ? 2 : 1;
  size_t length = 0;
  auto* raw = static_cast<int32_t*>(typedArrayData(env, argv[paramsAt], napi_int32_array, &length, "params"));
  if (raw == nullptr || !expectLength(env, length, kPoolParamCount, "params")) return nullptr;
  for (size_t i = 0; i < kPoolParamCount; ++i) p[i] = raw[i];
  const long xSize = p[0] * p[1] * p[2] * p[3] * p[4];
  const long ySize = p[0] * p[5] * p[6] * p[7] * p[4];
  if (!backward) {
    const float* x = floatArg(env, argv, 0, xSize, "x");
    float* y = x ? floatArg(env, argv, 2, ySize, "y") : nullptr;
    if (y == nullptr) return nullptr;
    fedseg::maxPool3dForward(x, p, y);
    return nullptr;
  }
  const float* dy = floatArg(env, argv, 0, ySize, "dy");
  const float* x = dy ? floatArg(env, argv, 1, xSize, "x") : nullptr;
  float* dx = x ? floatArg(env, argv, 3, xSize, "dx") : nullptr;
  if (dx == nullptr) return nullptr;
  fedseg::maxPool3dBackward(dy, x, p, dx);
  return nullptr;
}

napi_value MaxPool3dForward(napi_env env, napi_callback_info info) { return MaxPool3d(env, info, false); }
napi_value MaxPool3dBackward(napi_env env, napi_callback_info info) { return MaxPool3d(env, info, true); }

// copyRows(src, dst, layout Int32Array [srcOffset, srcStride, dstOffset, dstStride, rows, length]): void
napi_value CopyRows(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!argsOf(env, info, 3, argv, "copyRows")) return nullptr;
  size_t length = 0;
  auto* raw = static_cast<int32_t*>(typedArrayData(env, argv[2], napi_int32_array, &length, "layout"));
  if (raw == nullptr || !expectLength(env, length, 6, "layout")) return nullptr;
  const long srcOffset = raw[0], srcStride = raw[1], dstOffset = raw[2], dstStride = raw[3], rows = raw[4],
             rowLength = raw[5];
  size_t srcLength = 0, dstLength = 0;
  auto* src = static_cast<float*>(typedArrayData(env, argv[0], napi_float32_array, &srcLength, "src"));
  if (src == nullptr) return nullptr;
  auto* dst = static_cast<float*>(typedArrayData(env, argv[1], napi_float32_array, &dstLength, "dst"));
  if (dst == nullptr) return nullptr;
  const bool inBounds = rows >= 0 && rowLength >= 0 && srcOffset >= 0 && dstOffset >= 0 &&
                        (rows == 0 || (srcOffset + (rows - 1) * srcStride + rowLength <= static_cast<long>(srcLength) &&
                                       dstOffset + (rows - 1) * dstStride + rowLength <= static_cast<long>(dstLength)));
  if (!inBounds) {
    napi_throw_range_error(env, "FEDSEG_NATIVE_ARGS", "copyRows: layout reaches outside src or dst");
    return nullptr;
  }
  fedseg::copyRows(src, srcOffset, srcStride, dst, dstOffset, dstStride, rows, rowLength);
  return nullptr;
}

// broadcastBinary(op 0 add | 1 multiply, a, b, out): out = a op b with b.length dividing a.length.
napi_value BroadcastBinary(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!argsOf(env, info, 4, argv, "broadcastBinary")) return nullptr;
  int32_t op = 0;
  if (!check(env, napi_get_value_int32(env, argv[0], &op), "op must be a number")) return nullptr;
  if (op != 0 && op != 1) {
    napi_throw_range_error(env, "FEDSEG_NATIVE_ARGS", "op must be 0 (add) or 1 (multiply)");
    return nullptr;
  }
  size_t aLength = 0, bLength = 0, outLength = 0;
  auto* a = static_cast<float*>(typedArrayData(env, argv[1], napi_float32_array, &aLength, "a"));
  if (a == nullptr) return nullptr;
  auto* b = static_cast<float*>(typedArrayData(env, argv[2], napi_float32_array, &bLength, "b"));
  if (b == nullptr) return nullptr;
  auto* out = static_cast<float*>(typedArrayData(env, argv[3], napi_float32_array, &outLength, "out"));
  if (out == nullptr) return nullptr;
  if (bLength == 0 || aLength % bLength != 0 || outLength != aLength) {
    napi_throw_range_error(env, "FEDSEG_NATIVE_ARGS", "broadcastBinary: b must tile a and out must match a");
    return nullptr;
  }
  fedseg::broadcastBinary(op, a, static_cast<long>(aLength), b, static_cast<long>(bLength), out);
  return nullptr;
}

// reluBackward(dy, x, dx): dx = dy * step(x), all the same length.
napi_value ReluBackward(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!argsOf(env, info, 3, argv, "reluBackward")) return nullptr;
  size_t length = 0, xLength = 0, dxLength = 0;
  auto* dy = static_cast<float*>(typedArrayData(env, argv[0], napi_float32_array, &length, "dy"));
  if (dy == nullptr) return nullptr;
  auto* x = static_cast<float*>(typedArrayData(env, argv[1], napi_float32_array, &xLength, "x"));
  if (x == nullptr || !expectLength(env, xLength, static_cast<long>(length), "x")) return nullptr;
  auto* dx = static_cast<float*>(typedArrayData(env, argv[2], napi_float32_array, &dxLength, "dx"));
  if (dx == nullptr || !expectLength(env, dxLength, static_cast<long>(length), "dx")) return nullptr;
  fedseg::reluBackward(dy, x, static_cast<long>(length), dx);
  return nullptr;
}

// diceCeLoss(logits, oneHot, classes, flags Int32Array [dice, ce, weighted], smooth, weights Float64Array(classes),
//            grad): number (the loss; grad gets dLoss/dLogits). See elementwise.h.
napi_value DiceCeLoss(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!argsOf(env, info, 7, argv, "diceCeLoss")) return nullptr;
  int32_t classes = 0;
  if (!check(env, napi_get_value_int32(env, argv[2], &classes), "classes must be a number")) return nullptr;
  size_t length = 0, labelLength = 0, flagLength = 0, weightLength = 0, gradLength = 0;
  auto* logits = static_cast<float*>(typedArrayData(env, argv[0], napi_float32_array, &length, "logits"));
  if (logits == nullptr) return nullptr;
  if (classes <= 0 || length % static_cast<size_t>(classes) != 0) {
    napi_throw_range_error(env, "FEDSEG_NATIVE_ARGS", "diceCeLoss: classes must divide the logits' length");
    return nullptr;
  }
  auto* oneHot = static_cast<float*>(typedArrayData(env, argv[1], napi_float32_array, &labelLength, "oneHot"));
  if (oneHot == nullptr || !expectLength(env, labelLength, static_cast<long>(length), "oneHot")) return nullptr;
  auto* flags = static_cast<int32_t*>(typedArrayData(env, argv[3], napi_int32_array, &flagLength, "flags"));
  if (flags == nullptr || !expectLength(env, flagLength, 3, "flags")) return nullptr;
  double smooth = 0;
  if (!check(env, napi_get_value_double(env, argv[4], &smooth), "smooth must be a number")) return nullptr;
  auto* weights = static_cast<double*>(typedArrayData(env, argv[5], napi_float64_array, &weightLength, "weights"));
  if (weights == nullptr || !expectLength(env, weightLength, classes, "weights")) return nullptr;
  auto* grad = static_cast<float*>(typedArrayData(env, argv[6], napi_float32_array, &gradLength, "grad"));
  if (grad == nullptr || !expectLength(env, gradLength, static_cast<long>(length), "grad")) return nullptr;
  const double loss = fedseg::diceCeLoss(logits, oneHot, static_cast<long>(length) / classes, classes, flags[0] != 0,
                                         flags[1] != 0, smooth, weights, flags[2] != 0, grad);
  napi_value result;
  napi_create_double(env, loss, &result);
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"conv3d", nullptr, Conv3d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"plans", nullptr, Plans, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"instanceNormForward", nullptr, InstanceNormForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"instanceNormBackward", nullptr, InstanceNormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumBlock", nullptr, SumBlock, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool3dForward", nullptr, MaxPool3dForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool3dBackward", nullptr, MaxPool3dBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copyRows", nullptr, CopyRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"broadcastBinary", nullptr, BroadcastBinary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reluBackward", nullptr, ReluBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"diceCeLoss", nullptr, DiceCeLoss, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
