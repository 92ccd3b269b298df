// 3D convolution (forward, backward-data, backward-weights) on oneDNN 2.x CPU primitives, operating in
// place on the caller's float32 buffers. Tensor layouts are tfjs's: activations NDHWC, filters
// [kD, kH, kW, inC, outC] (oneDNN's `dhwio`).
//
// Three execution modes:
//  - plain: oneDNN runs directly on NDHWC/dhwio (about 35-145 GFLOP/s on 2 cores, no extra copies);
//  - blocked: oneDNN picks its own layout (format `any`, channel blocks of 8/16), and we reorder into and
//    out of it around the primitive. Faster convolutions at the cost of the reorders;
//  - auto: on the first call of a shape, every implementation oneDNN offers for either layout (its
//    primitive-descriptor iterator: jit:avx512_core, jit:avx2, gemm, ...; never the reference loops) is
//    timed, reorders included, and the fastest kept. The first implementation is not always the best:
//    on 2 AVX-512 cores, jit:avx2 ran backward-data of bench-unet3d's 48^3 8 -> 8 layer in 8 ms against
//    jit:avx512_core's 34 ms (measured with every implementation in one process).
// A layout oneDNN wants is often byte-for-byte NDHWC already (channel blocks of 8 with 8 channels, 16 with
// 16: nCdhw8c is NDHWC when C = 8), so those operands run in place with no reorder at all: activations stay
// in the primitives' layout between layers without any tensor changing its tfjs layout.
// Primitives, reorders and blocked scratch buffers are cached per shape: a training loop repeats the same
// few shapes every step.
#include "conv3d.h"

#include "conv3d-direct.h"
#include "plan-store.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
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
  static engine eng = [] {
    // Our plan cache keeps every primitive we run, so oneDNN's own primitive cache only duplicates it, and
    // it breaks the implementation search: with it on, next_impl() on a fresh primitive descriptor kept
    // returning the implementation already cached for that convolution (oneDNN 2.6.3), so only oneDNN's
    // first choice was ever timed.
    dnnl::set_primitive_cache_capacity(0);
    return engine(engine::kind::cpu, 0);
  }();
  return eng;
}

stream& cpuStream() {
  static stream strm(cpuEngine());
  return strm;
}

// Offset (in elements) of logical index `idx` in a blocked memory desc, following oneDNN's blocking rule:
// each dimension's index splits into an outer part (times its stride) and inner-block digits, the last
// inner block varying fastest. The offset is a sum of one term per dimension.
long offsetOf(const dnnl_memory_desc_t& d, int dim, long index) {
  const dnnl_blocking_desc_t& b = d.format_desc.blocking;
  long block = 1;
  for (int k = 0; k < b.inner_nblks; ++k) {
    if (b.inner_idxs[k] == dim) block *= b.inner_blks[k];
  }
  long offset = (index / block) * b.strides[dim];
  long rest = index % block;
  long multiplier = 1;
  for (int k = b.inner_nblks - 1; k >= 0; --k) {
    if (b.inner_idxs[k] == dim) {
      offset += (rest % b.inner_blks[k]) * multiplier;
      rest /= b.inner_blks[k];
    }
    multiplier *= b.inner_blks[k];
  }
  return offset;
}

// Whether two descs of the same logical tensor put every element at the same place (no padding either).
bool sameBytes(const memory::desc& a, const memory::desc& b) {
  const dnnl_memory_desc_t& x = a.data;
  const dnnl_memory_desc_t& y = b.data;
  if (x.format_kind != dnnl_blocked || y.format_kind != dnnl_blocked || x.ndims != y.ndims) return false;
  if (x.data_type != y.data_type || x.offset0 != y.offset0 || a.get_size() != b.get_size()) return false;
  for (int i = 0; i < x.ndims; ++i) {
    if (x.dims[i] != y.dims[i] || x.padded_dims[i] != x.dims[i] || y.padded_dims[i] != y.dims[i]) return false;
  }
  // The offset is separable per dimension, so comparing each dimension's range alone covers every element.
  for (int i = 0; i < x.ndims; ++i) {
    for (long j = 0; j < x.dims[i]; ++j) {
      if (offsetOf(x, i, j) != offsetOf(y, i, j)) return false;
    }
  }
  return true;
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
    // Same bytes under another name (nCdhw8c with 8 channels is NDHWC): run on the user's buffer as is.
    if (sameBytes(user, wanted)) user = wanted;
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
  // oneDNN's name for the implementation (jit:avx2, x64:gemm:jit, ...), for DNNL_VERBOSE-free profiling.
  std::string impl;
  // Where in oneDNN's list of implementations for its layout it sits (plan-store.cc remembers it).
  int skip = 0;
  // Our direct loops (conv3d-direct.cc) instead of a oneDNN primitive, with the shape they need.
  bool direct = false;
  Conv3dParams params{};
  // Calls and seconds spent since the plan was chosen (tuning runs excluded): `info()` reports them.
  long calls = 0;
  double seconds = 0;
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

// Skips the first `skip` implementations oneDNN offers for this convolution and layout (its own order:
// fastest first by its heuristics); nullptr when there are no more.
template <typename PrimitiveDesc>
bool advance(PrimitiveDesc& pd, int skip) {
  for (int i = 0; i < skip; ++i) {
    if (!pd.next_impl()) return false;
  }
  return true;
}

std::unique_ptr<Plan> makePlan(Conv3dKind kind, const Conv3dParams& p, bool blocked, int skip = 0) {
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
      if (!advance(fwdPd, skip)) return nullptr;
      plan->impl = fwdPd.impl_info_str();
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
      if (!advance(pd, skip)) return nullptr;
      plan->impl = pd.impl_info_str();
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
      if (!advance(pd, skip)) return nullptr;
      plan->impl = pd.impl_info_str();
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
  if (plan.direct) {
    backwardWeightsDirect(plan.params, a, b, out);
    return;
  }
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

// Neither a layout nor oneDNN's first-choice implementation wins everywhere (on 2 AVX-512 cores blocked is
// 2-3x faster for most bench-unet3d layers, but slower for backward-weights with 8 input channels, and
// jit:avx2 beats jit:avx512_core on several 8- and 16-channel shapes), so the first call of a shape times
// every implementation in both layouts and keeps the fastest. The reference implementations (ref:any, 100x
// slower) are never timed. Each candidate runs twice (the first run untimed); the two best run twice more,
// and the better minimum wins, so one unlucky run on a shared machine does not decide. Every run overwrites
// `out` completely, so the caller gets a correct result.
constexpr int kMaxImplsPerLayout = 8;

// FEDSEG_NATIVE_TUNE_LOG=1 prints every timed candidate to stderr (why a shape got its implementation).
bool tuneLog() {
  static const bool on = [] {
    const char* value = std::getenv("FEDSEG_NATIVE_TUNE_LOG");
    return value != nullptr && std::strcmp(value, "1") == 0;
  }();
  return on;
}

std::unique_ptr<Plan> directPlan(const Conv3dParams& p) {
  auto plan = std::make_unique<Plan>();
  plan->direct = true;
  plan->params = p;
  plan->impl = "fedseg:direct_avx2";
  return plan;
}

// What a search result depends on besides the convolution: oneDNN's version, the ISA it dispatches to and
// the thread count.
std::string storeKeyOf(Conv3dKind kind, const Conv3dParams& p) {
  const dnnl_version_t* v = dnnl_version();
  std::string key = "onednn" + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                    std::to_string(v->patch) + "/isa" + std::to_string(static_cast<int>(dnnl::get_effective_cpu_isa())) +
                    "/threads" + std::to_string(omp_get_max_threads()) + "/kind" + std::to_string(static_cast<int>(kind));
  for (const long value : keyOf(kind, p, ConvMode::Auto)) key += "," + std::to_string(value);
  return key;
}

// A choice stored by an earlier process, rebuilt; null when absent or when oneDNN no longer offers it.
std::unique_ptr<Plan> storedPlan(Conv3dKind kind, const Conv3dParams& p, const std::string& storeKey) {
  const std::optional<StoredChoice> stored = loadChoice(storeKey);
  if (!stored) return nullptr;
  std::unique_ptr<Plan> plan;
  if (stored->layout == 2) {
    if (kind == Conv3dKind::BackwardWeights && backwardWeightsDirectFits(p)) plan = directPlan(p);
  } else {
    plan = makePlan(kind, p, stored->layout == 1, stored->skip);
  }
  if (!plan || plan->impl != stored->impl) return nullptr;
  plan->blocked = stored->layout == 1;
  plan->skip = stored->skip;
  return plan;
}

// `searched` tells the caller whether the search ran (and so already wrote `out`).
Plan& autoPlan(Conv3dKind kind, const Conv3dParams& p, const float* a, const float* b, float* out, bool& searched) {
  searched = false;
  const Key key = keyOf(kind, p, ConvMode::Auto);
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  makeRoom();
  const std::string storeKey = storeKeyOf(kind, p);
  if (std::unique_ptr<Plan> plan = storedPlan(kind, p, storeKey)) {
    return *cache.emplace(key, std::move(plan)).first->second;
  }
  searched = true;
  struct Candidate {
    std::unique_ptr<Plan> plan;
    double seconds;
  };
  std::vector<Candidate> candidates;
  double best = 1e30;
  for (const bool blocked : {false, true}) {
    for (int skip = 0; skip < kMaxImplsPerLayout; ++skip) {
      std::unique_ptr<Plan> plan = makePlan(kind, p, blocked, skip);
      if (!plan) break;
      if (plan->impl.rfind("ref", 0) == 0) continue;
      plan->blocked = blocked;
      plan->skip = skip;
      // The first run pays for page faults in fresh scratch and staging buffers; time the second, unless
      // the first was already 3x slower than the best so far (gemm paths at 100-400 ms on the largest
      // layers), which keeps the search to about twice a step's convolutions.
      const double firstSeconds = secondsFor(*plan, a, b, out);
      if (firstSeconds > 3 * best) continue;
      const double seconds = secondsFor(*plan, a, b, out);
      best = std::min(best, seconds);
      candidates.push_back({std::move(plan), seconds});
    }
  }
  if (kind == Conv3dKind::BackwardWeights && backwardWeightsDirectFits(p)) {
    std::unique_ptr<Plan> plan = directPlan(p);
    const double firstSeconds = secondsFor(*plan, a, b, out);
    if (firstSeconds <= 3 * best) {
      const double seconds = secondsFor(*plan, a, b, out);
      candidates.push_back({std::move(plan), seconds});
    }
  }
  if (candidates.empty()) {
    // Only reference implementations: use oneDNN's first choice in the plain layout (not run yet).
    searched = false;
    std::unique_ptr<Plan> plan = makePlan(kind, p, false);
    return *cache.emplace(key, std::move(plan)).first->second;
  }
  if (tuneLog()) {
    for (const Candidate& c : candidates) {
      std::fprintf(stderr, "[fedseg native] conv3d kind %d %ldx%ld^3x%ld -> %ld: %s %s %.2f ms\n",
                   static_cast<int>(kind), p.batch, p.inD, p.inC, p.outC, c.plan->impl.c_str(),
                   c.plan->blocked ? "blocked" : "plain", c.seconds * 1e3);
    }
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& x, const Candidate& y) { return x.seconds < y.seconds; });
  const size_t finalists = std::min<size_t>(2, candidates.size());
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < finalists; ++i) {
      candidates[i].seconds = std::min(candidates[i].seconds, secondsFor(*candidates[i].plan, a, b, out));
    }
  }
  const size_t winner = finalists == 2 && candidates[1].seconds < candidates[0].seconds ? 1 : 0;
  const Plan& chosen = *candidates[winner].plan;
  saveChoice(storeKey, StoredChoice{chosen.direct ? 2 : chosen.blocked ? 1 : 0, chosen.skip, chosen.impl});
  return *cache.emplace(key, std::move(candidates[winner].plan)).first->second;
}

}  // namespace

bool conv3d(Conv3dKind kind, const Conv3dParams& p, ConvMode mode, const float* a, const float* b, float* out) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  if (mode == ConvMode::Auto) {
    bool searched = false;
    Plan& plan = autoPlan(kind, p, a, b, out, searched);
    if (!searched) {
      plan.seconds += secondsFor(plan, a, b, out);
      plan.calls += 1;
    }
    return plan.blocked;
  }
  const Key key = keyOf(kind, p, mode);
  auto it = cache.find(key);
  if (it == cache.end()) {
    makeRoom();
    if (mode == ConvMode::Direct) {
      if (kind != Conv3dKind::BackwardWeights || !backwardWeightsDirectFits(p)) {
        throw std::invalid_argument("the direct loops run only backward-weights, stride 1, 8 output channels");
      }
      it = cache.emplace(key, directPlan(p)).first;
    } else {
      it = cache.emplace(key, makePlan(kind, p, mode == ConvMode::Blocked)).first;
      it->second->blocked = mode == ConvMode::Blocked;
    }
  }
  Plan& plan = *it->second;
  plan.seconds += secondsFor(plan, a, b, out);
  plan.calls += 1;
  return plan.blocked;
}

std::vector<PlanReport> conv3dPlanReports() {
  std::lock_guard<std::mutex> lock(cacheMutex);
  std::vector<PlanReport> reports;
  for (const auto& [key, plan] : cache) {
    PlanReport r;
    r.kind = static_cast<int>(key[0]);
    r.mode = static_cast<int>(key[1]);
    r.shape.assign(key.begin() + 2, key.end());
    r.impl = plan->impl;
    r.blocked = plan->blocked;
    r.calls = plan->calls;
    r.seconds = plan->seconds;
    reports.push_back(std::move(r));
  }
  return reports;
}

void conv3dResetCounters() {
  std::lock_guard<std::mutex> lock(cacheMutex);
  for (auto& entry : cache) {
    entry.second->calls = 0;
    entry.second->seconds = 0;
  }
}

size_t conv3dCachedPlans() {
  std::lock_guard<std::mutex> lock(cacheMutex);
  return cache.size();
}

}  // namespace fedseg
