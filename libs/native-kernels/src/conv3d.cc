// 3D convolution (forward, backward-data, backward-weights) on oneDNN 2.x CPU primitives, operating in
// place on the caller's float32 buffers. Tensor layouts are tfjs's: activations NDHWC, filters
// [kD, kH, kW, inC, outC] (oneDNN's `dhwio`).
//
// Two execution modes:
//  - plain: oneDNN runs directly on NDHWC/dhwio (about 35-145 GFLOP/s on 2 cores, no extra copies);
//  - blocked: oneDNN picks its own layout (format `any`, channel blocks of 8/16), and we reorder into and
//    out of it around the primitive. Faster convolutions at the cost of the reorders; which wins depends
//    on the shape, so mode `Auto` measures both on the first call of a shape and keeps the faster.
// Primitives, reorders and blocked scratch buffers are cached per shape: a training loop repeats the same
// few shapes every step.
#include "conv3d.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace fedseg {
namespace {

using dnnl::algorithm;
using dnnl::engine;
using dnnl::memory;
using dnnl::prop_kind;
using dnnl::stream;
using tag = memory::format_tag;
using dt = memory::data_type;

engine& cpuEngine() {
  static engine eng(engine::kind::cpu, 0);
  return eng;
}

stream& cpuStream() {
  static stream strm(cpuEngine());
  return strm;
}

// One operand of a primitive: the user's plain layout, the layout the primitive wants, and (when they
// differ) a persistent buffer in the primitive's layout plus the reorder between them.
struct Operand {
  memory::desc user;
  memory::desc wanted;
  bool needsReorder = false;
  memory staged;           // owns its buffer, in `wanted` layout; empty when no reorder is needed
  dnnl::reorder toWanted;  // user -> wanted (inputs)
  dnnl::reorder toUser;    // wanted -> user (the output)

  void prepare(const memory::desc& userDesc, const memory::desc& wantedDesc, bool isOutput) {
    user = userDesc;
    wanted = wantedDesc;
    needsReorder = !(user == wanted);
    if (!needsReorder) return;
    staged = memory(wanted, cpuEngine());
    if (isOutput) {
      toUser = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), wanted, cpuEngine(), user));
    } else {
      toWanted = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), user, cpuEngine(), wanted));
    }
  }
};

struct Plan {
  dnnl::primitive prim;
  Operand a;
  Operand b;
  Operand out;
  int argA = 0;
  int argB = 0;
  int argOut = 0;
  bool blocked = false;
};

struct Dims {
  memory::dims src, wei, dst, strides, dilates, padL, padR;
};

Dims dimsOf(const Conv3dParams& p) {
  Dims d;
  // oneDNN's logical dimension order is always N C D H W / O I D H W; the format tag gives the layout.
  d.src = {p.batch, p.inC, p.inD, p.inH, p.inW};
  d.wei = {p.outC, p.inC, p.kD, p.kH, p.kW};
  d.dst = {p.batch, p.outC, p.outD, p.outH, p.outW};
  d.strides = {p.sD, p.sH, p.sW};
  // tfjs counts dilation from 1 (1 = dense); oneDNN from 0.
  d.dilates = {p.dD - 1, p.dH - 1, p.dW - 1};
  d.padL = {p.padFront, p.padTop, p.padLeft};
  d.padR = {p.padBack, p.padBottom, p.padRight};
  return d;
}

std::unique_ptr<Plan> makePlan(Conv3dKind kind, const Conv3dParams& p, bool blocked) {
  const Dims d = dimsOf(p);
  const memory::desc srcUser(d.src, dt::f32, tag::ndhwc);
  const memory::desc weiUser(d.wei, dt::f32, tag::dhwio);
  const memory::desc dstUser(d.dst, dt::f32, tag::ndhwc);
  const memory::desc srcAny(d.src, dt::f32, blocked ? tag::any : tag::ndhwc);
  const memory::desc weiAny(d.wei, dt::f32, blocked ? tag::any : tag::dhwio);
  const memory::desc dstAny(d.dst, dt::f32, blocked ? tag::any : tag::ndhwc);

  dnnl::convolution_forward::desc fwdDesc(prop_kind::forward_training, algorithm::convolution_direct, srcAny,
                                          weiAny, dstAny, d.strides, d.dilates, d.padL, d.padR);
  dnnl::convolution_forward::primitive_desc fwdPd(fwdDesc, cpuEngine());

  auto plan = std::make_unique<Plan>();
  switch (kind) {
    case Conv3dKind::Forward: {
      plan->prim = dnnl::convolution_forward(fwdPd);
      plan->a.prepare(srcUser, fwdPd.src_desc(), false);
      plan->b.prepare(weiUser, fwdPd.weights_desc(), false);
      plan->out.prepare(dstUser, fwdPd.dst_desc(), true);
      plan->argA = DNNL_ARG_SRC;
      plan->argB = DNNL_ARG_WEIGHTS;
      plan->argOut = DNNL_ARG_DST;
      break;
    }
    case Conv3dKind::BackwardData: {
      dnnl::convolution_backward_data::desc bd(algorithm::convolution_direct, srcAny, weiAny, dstAny, d.strides,
                                               d.dilates, d.padL, d.padR);
      dnnl::convolution_backward_data::primitive_desc pd(bd, cpuEngine(), fwdPd);
      plan->prim = dnnl::convolution_backward_data(pd);
      plan->a.prepare(dstUser, pd.diff_dst_desc(), false);
      plan->b.prepare(weiUser, pd.weights_desc(), false);
      plan->out.prepare(srcUser, pd.diff_src_desc(), true);
      plan->argA = DNNL_ARG_DIFF_DST;
      plan->argB = DNNL_ARG_WEIGHTS;
      plan->argOut = DNNL_ARG_DIFF_SRC;
      break;
    }
    case Conv3dKind::BackwardWeights: {
      dnnl::convolution_backward_weights::desc bw(algorithm::convolution_direct, srcAny, weiAny, dstAny,
                                                  d.strides, d.dilates, d.padL, d.padR);
      dnnl::convolution_backward_weights::primitive_desc pd(bw, cpuEngine(), fwdPd);
      plan->prim = dnnl::convolution_backward_weights(pd);
      plan->a.prepare(srcUser, pd.src_desc(), false);
      plan->b.prepare(dstUser, pd.diff_dst_desc(), false);
      plan->out.prepare(weiUser, pd.diff_weights_desc(), true);
      plan->argA = DNNL_ARG_SRC;
      plan->argB = DNNL_ARG_DIFF_DST;
      plan->argOut = DNNL_ARG_DIFF_WEIGHTS;
      break;
    }
  }
  return plan;
}

using Key = std::vector<long>;

Key keyOf(Conv3dKind kind, const Conv3dParams& p, ConvMode mode) {
  return {static_cast<long>(kind), static_cast<long>(mode), p.batch, p.inD, p.inH, p.inW, p.inC, p.outD, p.outH, p.outW,
          p.outC, p.kD, p.kH, p.kW, p.sD, p.sH, p.sW, p.dD, p.dH, p.dW, p.padFront, p.padTop, p.padLeft,
          p.padBack, p.padBottom, p.padRight};
}

std::mutex cacheMutex;
std::map<Key, std::unique_ptr<Plan>> cache;

// Plans hold scratch buffers in the blocked layout (megabytes for large volumes). Training repeats a few
// dozen shapes; sliding-window inference over many volume sizes could add more without bound, so past
// this many the cache starts over.
constexpr size_t kMaxCachedPlans = 256;

void makeRoom() {
  if (cache.size() >= kMaxCachedPlans) cache.clear();
}

// Feeds one input operand: straight from the user's buffer, or reordered into the staged buffer.
memory feed(Operand& op, const float* data, stream& strm) {
  memory userMem(op.user, cpuEngine(), const_cast<float*>(data));
  if (!op.needsReorder) return userMem;
  op.toWanted.execute(strm, userMem, op.staged);
  return op.staged;
}

void run(Plan& plan, const float* a, const float* b, float* out) {
  stream& strm = cpuStream();
  memory aMem = feed(plan.a, a, strm);
  memory bMem = feed(plan.b, b, strm);
  memory outUser(plan.out.user, cpuEngine(), out);
  memory outMem = plan.out.needsReorder ? plan.out.staged : outUser;
  plan.prim.execute(strm, {{plan.argA, aMem}, {plan.argB, bMem}, {plan.argOut, outMem}});
  if (plan.out.needsReorder) plan.out.toUser.execute(strm, plan.out.staged, outUser);
  strm.wait();
}

double secondsFor(Plan& plan, const float* a, const float* b, float* out) {
  const auto start = std::chrono::steady_clock::now();
  run(plan, a, b, out);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Neither layout wins everywhere (on 2 AVX-512 cores, blocked is 2-3x faster for most bench-unet3d layers
// but slower for backward-weights with 8 input channels), so the first call of a shape runs both twice
// and keeps the faster. Every run overwrites `out` completely, so the caller gets a correct result.
Plan& autoPlan(Conv3dKind kind, const Conv3dParams& p, const float* a, const float* b, float* out) {
  const Key key = keyOf(kind, p, ConvMode::Auto);
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  makeRoom();
  std::unique_ptr<Plan> plain = makePlan(kind, p, false);
  std::unique_ptr<Plan> blocked = makePlan(kind, p, true);
  double plainSeconds = 1e30, blockedSeconds = 1e30;
  for (int round = 0; round < 2; ++round) {
    plainSeconds = std::min(plainSeconds, secondsFor(*plain, a, b, out));
    blockedSeconds = std::min(blockedSeconds, secondsFor(*blocked, a, b, out));
  }
  std::unique_ptr<Plan>& winner = blockedSeconds < plainSeconds ? blocked : plain;
  winner->blocked = blockedSeconds < plainSeconds;
  return *cache.emplace(key, std::move(winner)).first->second;
}

}  // namespace

bool conv3d(Conv3dKind kind, const Conv3dParams& p, ConvMode mode, const float* a, const float* b, float* out) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  if (mode == ConvMode::Auto) {
    const bool known = cache.count(keyOf(kind, p, ConvMode::Auto)) > 0;
    Plan& plan = autoPlan(kind, p, a, b, out);
    if (known) run(plan, a, b, out);
    return plan.blocked;
  }
  const Key key = keyOf(kind, p, mode);
  auto it = cache.find(key);
  if (it == cache.end()) {
    makeRoom();
    it = cache.emplace(key, makePlan(kind, p, mode == ConvMode::Blocked)).first;
  }
  run(*it->second, a, b, out);
  return mode == ConvMode::Blocked;
}

size_t conv3dCachedPlans() {
  std::lock_guard<std::mutex> lock(cacheMutex);
  return cache.size();
}

}  // namespace fedseg
