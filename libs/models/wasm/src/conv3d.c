/*
 * 3D convolution kernels for tfjs's cpu and wasm backends, in C for wasm32 + SIMD128.
 *
 * Layouts are tfjs's: activations NDHWC, filters [kD, kH, kW, inC, outC]. Every function works on byte
 * offsets into the module's one (imported) memory and uses no static data and no libc, so the module can
 * run on tfjs-wasm's own heap (zero copies) or on a memory of its own, in Node or in a browser.
 *
 * All three kernels are "gather" convolutions over a zero-padded copy of their main input: for each output
 * row (fixed n, d, h) and block of 4 output pixels x 8 output channels, 8 f32x4 accumulators sum, over the
 * taps and input channels, a broadcast input value times a vector of packed weights. Accumulators stay in
 * registers across all taps, so each output element is written once. The padded copy removes every bounds
 * test from the inner loops; stride s is a pixel step of s in the source row.
 *
 *  - forward:        y[o]  = sum_k,ci xpad[o*s + k*dil][ci] * W[k][ci][co]
 *  - backprop input: dx[i] = sum over taps k with (i + pad - k) % s == 0 of dypad[(i + pad - k)/s] . W[k]^T,
 *                    computed per residue class of i modulo s (each class sees a fixed subset of taps, and
 *                    consecutive pixels of a class read consecutive dy pixels)
 *  - backprop filter: dW[k][ci][co] = sum_o xpad[o*s + k][ci] * dy[o][co], 4 input x 8 output channels in
 *                    registers over one output row, then added to a float32 accumulator
 *
 * Scratch: the caller passes `scratch`, of at least conv3d_scratch_bytes(kind, params) bytes, 16-aligned.
 * Threads: see conv3d_prepare / conv3d_rows_run / conv3d_finish below.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

/* The 24 int32 numbers of libs/models/src/kernels/conv3d-params.ts, in that order. */
typedef struct {
  int32_t n, inD, inH, inW, inC, outD, outH, outW, outC;
  int32_t kD, kH, kW, sD, sH, sW, dilD, dilH, dilW;
  int32_t padFront, padTop, padLeft, padBack, padBottom, padRight;
} ConvParams;

/* Taps of one kernel call: at most 7 x 7 x 7 (larger filters are refused by conv3d_supported). */
#define MAX_TAPS 343

static inline int32_t max_i(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t round4(int32_t c) { return (c + 3) & ~3; }
static inline uint32_t align16(uint32_t bytes) { return (bytes + 15u) & ~15u; }
/* Floor division for a possibly negative numerator and a positive divisor. */
static inline int32_t floor_div(int32_t a, int32_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static inline int32_t floor_mod(int32_t a, int32_t b) { return a - floor_div(a, b) * b; }

static void zero_floats(float *p, uint32_t count) {
  uint32_t i = 0;
  v128_t z = wasm_f32x4_splat(0.0f);
  for (; i + 4 <= count; i += 4) wasm_v128_store(p + i, z);
  for (; i < count; i++) p[i] = 0.0f;
}

static void copy_floats(float *dst, const float *src, uint32_t count) {
  uint32_t i = 0;
  for (; i + 4 <= count; i += 4) wasm_v128_store(dst + i, wasm_v128_load(src + i));
  for (; i < count; i++) dst[i] = src[i];
}

/* A zero-padded copy geometry: `lo` leading and enough trailing zeros that every index read is inside. */
typedef struct {
  int32_t d, h, w;       /* padded extents */
  int32_t loD, loH, loW; /* leading zeros */
} Padded;

/*
 * Copies t [n, d, h, w, c] into dst [n, p.d, p.h, p.w, c] at offset (loD, loH, loW), zeros elsewhere. A
 * negative offset drops leading elements (tfjs's 'same' padding is -1 where stride > filter size).
 */
static void pad_copy(float *dst, const float *t, int32_t n, int32_t d, int32_t h, int32_t w, int32_t c,
                     const Padded *p) {
  zero_floats(dst, (uint32_t)n * p->d * p->h * p->w * c);
  const int32_t x0 = max_i(0, -p->loW), x1 = w < p->w - p->loW ? w : p->w - p->loW;
  if (x1 <= x0) return;
  for (int32_t b = 0; b < n; b++)
    for (int32_t z = max_i(0, -p->loD); z < d && z + p->loD < p->d; z++)
      for (int32_t y = max_i(0, -p->loH); y < h && y + p->loH < p->h; y++) {
        const float *src = t + ((((int64_t)b * d + z) * h + y) * w + x0) * c;
        float *out = dst + ((((int64_t)b * p->d + z + p->loD) * p->h + y + p->loH) * p->w + x0 + p->loW) * c;
        copy_floats(out, src, (uint32_t)(x1 - x0) * c);
      }
}

/* Forward and backprop-filter read x through this padding. */
static Padded forward_padding(const ConvParams *q) {
  Padded p;
  p.loD = q->padFront;
  p.loH = q->padTop;
  p.loW = q->padLeft;
  p.d = max_i(q->inD + q->padFront + q->padBack, (q->outD - 1) * q->sD + (q->kD - 1) * q->dilD + 1);
  p.h = max_i(q->inH + q->padTop + q->padBottom, (q->outH - 1) * q->sH + (q->kH - 1) * q->dilH + 1);
  p.w = max_i(q->inW + q->padLeft + q->padRight, (q->outW - 1) * q->sW + (q->kW - 1) * q->dilW + 1);
  return p;
}

/* Backprop input reads dy at (i + pad - k)/s for i in [0, in), k in [0, kernel): pad dy to cover it. */
static void dy_extent(int32_t in, int32_t out, int32_t k, int32_t s, int32_t pad, int32_t *lo, int32_t *ext) {
  int32_t first = floor_div(pad - (k - 1), s); /* smallest dy index read */
  int32_t last = floor_div(in - 1 + pad, s);   /* largest */
  *lo = max_i(0, -first);
  *ext = *lo + max_i(out, last + 1);
}

static Padded input_grad_padding(const ConvParams *q) {
  Padded p;
  dy_extent(q->inD, q->outD, q->kD, q->sD, q->padFront, &p.loD, &p.d);
  dy_extent(q->inH, q->outH, q->kH, q->sH, q->padTop, &p.loH, &p.h);
  dy_extent(q->inW, q->outW, q->kW, q->sW, q->padLeft, &p.loW, &p.w);
  return p;
}

/*
 * out[p][c] (pixel stride cop floats, p < count) = sum over taps t and source channels ci of
 * src[p * sstep + off[t] + ci] * w[(t * cs + ci) * cop + c], for c < cop (a multiple of 4).
 */
static void gather_row(float *out, int32_t count, const float *src, int32_t sstep, const int32_t *off,
                       int32_t ntaps, const float *w, int32_t cs, int32_t cop) {
  const int32_t tapStride = cs * cop;
  int32_t p = 0;
  for (; p + 4 <= count; p += 4) {
    const float *s0 = src + p * sstep;
    float *o = out + p * cop;
    int32_t c = 0;
    for (; c + 8 <= cop; c += 8) {
      v128_t a00 = wasm_f32x4_splat(0.0f), a01 = a00, a10 = a00, a11 = a00;
      v128_t a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      for (int32_t t = 0; t < ntaps; t++) {
        const float *x0 = s0 + off[t];
        const float *x1 = x0 + sstep, *x2 = x1 + sstep, *x3 = x2 + sstep;
        const float *wp = w + t * tapStride + c;
        for (int32_t ci = 0; ci < cs; ci++, wp += cop) {
          v128_t w0 = wasm_v128_load(wp), w1 = wasm_v128_load(wp + 4);
          v128_t v0 = wasm_v128_load32_splat(x0 + ci), v1 = wasm_v128_load32_splat(x1 + ci);
          v128_t v2 = wasm_v128_load32_splat(x2 + ci), v3 = wasm_v128_load32_splat(x3 + ci);
          a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(v0, w0));
          a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(v0, w1));
          a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(v1, w0));
          a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(v1, w1));
          a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(v2, w0));
          a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(v2, w1));
          a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(v3, w0));
          a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(v3, w1));
        }
      }
      wasm_v128_store(o + c, a00);
      wasm_v128_store(o + c + 4, a01);
      wasm_v128_store(o + cop + c, a10);
      wasm_v128_store(o + cop + c + 4, a11);
      wasm_v128_store(o + 2 * cop + c, a20);
      wasm_v128_store(o + 2 * cop + c + 4, a21);
      wasm_v128_store(o + 3 * cop + c, a30);
      wasm_v128_store(o + 3 * cop + c + 4, a31);
    }
    if (c < cop) { /* 4 channels left */
      v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
      for (int32_t t = 0; t < ntaps; t++) {
        const float *x0 = s0 + off[t];
        const float *x1 = x0 + sstep, *x2 = x1 + sstep, *x3 = x2 + sstep;
        const float *wp = w + t * tapStride + c;
        for (int32_t ci = 0; ci < cs; ci++, wp += cop) {
          v128_t w0 = wasm_v128_load(wp);
          a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load32_splat(x0 + ci), w0));
          a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load32_splat(x1 + ci), w0));
          a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load32_splat(x2 + ci), w0));
          a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load32_splat(x3 + ci), w0));
        }
      }
      wasm_v128_store(o + c, a0);
      wasm_v128_store(o + cop + c, a1);
      wasm_v128_store(o + 2 * cop + c, a2);
      wasm_v128_store(o + 3 * cop + c, a3);
    }
  }
  for (; p < count; p++) { /* 1-3 pixels left: one at a time, 8 then 4 channels */
    const float *s0 = src + p * sstep;
    float *o = out + p * cop;
    int32_t c = 0;
    for (; c + 8 <= cop; c += 8) {
      v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
      for (int32_t t = 0; t < ntaps; t++) {
        const float *x0 = s0 + off[t];
        const float *wp = w + t * tapStride + c;
        for (int32_t ci = 0; ci < cs; ci++, wp += cop) {
          v128_t v = wasm_v128_load32_splat(x0 + ci);
          a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(v, wasm_v128_load(wp)));
          a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(v, wasm_v128_load(wp + 4)));
        }
      }
      wasm_v128_store(o + c, a0);
      wasm_v128_store(o + c + 4, a1);
    }
    if (c < cop) {
      v128_t a0 = wasm_f32x4_splat(0.0f);
      for (int32_t t = 0; t < ntaps; t++) {
        const float *x0 = s0 + off[t];
        const float *wp = w + t * tapStride + c;
        for (int32_t ci = 0; ci < cs; ci++, wp += cop)
          a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load32_splat(x0 + ci), wasm_v128_load(wp)));
      }
      wasm_v128_store(o + c, a0);
    }
  }
}

/* Writes `count` pixels of `c` channels from rows of `cop` floats to dst with a pixel stride of `dstep`. */
static void scatter_row(float *dst, int32_t dstep, const float *row, int32_t count, int32_t c, int32_t cop) {
  for (int32_t p = 0; p < count; p++)
    for (int32_t k = 0; k < c; k++) dst[p * dstep + k] = row[p * cop + k];
}

static int32_t tap_count(const ConvParams *q) { return q->kD * q->kH * q->kW; }

/*
 * Each kernel runs in phases so threads can share one call: `prepare` (padded copy, packed weights, tap
 * tables; one thread), `rows` over a range of output rows (any number of threads, each with its own index
 * < MAX_THREADS for its row buffer and, for the filter gradient, its accumulator), and for the filter
 * gradient `finish` (sums the threads' accumulators). The single-call exports run all phases on one thread.
 *
 * Scratch layout: header (tap tables) | padded input | packed weights or accumulators | per-thread buffers.
 */
#define MAX_THREADS 4

typedef struct {
  int32_t off[MAX_TAPS];
  int32_t start[65], nW[64], wStart[64]; /* backprop input: per residue class */
  int32_t ntaps, cs;                     /* forward: merged taps and their channel run */
} Header;

typedef struct {
  Header *h;
  float *padded;  /* padded input (x, or dy for backprop input) */
  float *packed;  /* packed weights; for the filter gradient MAX_THREADS accumulators */
  float *perThread; /* MAX_THREADS row buffers of `rowFloats` */
  uint32_t rowFloats;
} Layout;

static Layout layout(int32_t kind, const ConvParams *q, uint8_t *scratch, uint32_t *total) {
  const uint32_t taps = (uint32_t)tap_count(q);
  Layout l;
  uint32_t paddedFloats, packedFloats;
  if (kind == 1) {
    Padded p = input_grad_padding(q);
    paddedFloats = (uint32_t)q->n * p.d * p.h * p.w * q->outC;
    packedFloats = taps * q->outC * round4(q->inC);
    l.rowFloats = (uint32_t)q->inW * round4(q->inC);
  } else {
    Padded p = forward_padding(q);
    paddedFloats = (uint32_t)q->n * p.d * p.h * p.w * q->inC;
    packedFloats = taps * q->inC * round4(q->outC) * (kind == 2 ? MAX_THREADS : 1);
    l.rowFloats = (uint32_t)q->outW * round4(q->outC);
  }
  uint32_t at = align16(sizeof(Header));
  l.h = (Header *)scratch;
  l.padded = (float *)(scratch + at);
  at += align16(4u * paddedFloats);
  l.packed = (float *)(scratch + at);
  at += align16(4u * packedFloats);
  l.perThread = (float *)(scratch + at);
  l.rowFloats = align16(4u * l.rowFloats) / 4;
  at += 4u * l.rowFloats * MAX_THREADS;
  if (total) *total = at;
  return l;
}

/* 1 when these kernels handle the shape; 0 sends the caller to another implementation. */
EXPORT(conv3d_supported)
int32_t conv3d_supported(int32_t kind, const ConvParams *q) {
  if (q->n < 1 || q->inC < 1 || q->outC < 1 || q->outD < 1 || q->outH < 1 || q->outW < 1) return 0;
  if (tap_count(q) > MAX_TAPS || q->sD < 1 || q->sH < 1 || q->sW < 1) return 0;
  /* tfjs never passes dilations to the backprops; they are only implemented for dilation 1. */
  if (kind != 0 && (q->dilD != 1 || q->dilH != 1 || q->dilW != 1)) return 0;
  /* Backprop input keeps one tap list per residue class of the strides, at most 64 classes. */
  if (kind == 1 && q->sD * q->sH * q->sW > 64) return 0;
  return 1;
}

/* Bytes of scratch memory kernel `kind` (0 forward, 1 backprop input, 2 backprop filter) needs. */
EXPORT(conv3d_scratch_bytes)
uint32_t conv3d_scratch_bytes(int32_t kind, const ConvParams *q) {
  uint32_t total;
  layout(kind, q, 0, &total);
  return total;
}

/* Rows of kernel `kind`: n * outD * outH output rows (forward, filter gradient) or n * inD * inH (input). */
EXPORT(conv3d_rows)
int32_t conv3d_rows(int32_t kind, const ConvParams *q) {
  return kind == 1 ? q->n * q->inD * q->inH : q->n * q->outD * q->outH;
}

/* ---- forward: y [n, outD, outH, outW, outC] = conv3d(x [n, inD, inH, inW, inC], w [kD, kH, kW, inC, outC]) */

static void forward_prepare(const ConvParams *q, const float *x, const float *w, uint8_t *scratch) {
  const int32_t ci = q->inC, co = q->outC, cop = round4(co), taps = tap_count(q);
  Padded p = forward_padding(q);
  Layout l = layout(0, q, scratch, 0);
  pad_copy(l.padded, x, q->n, q->inD, q->inH, q->inW, ci, &p);
  /* Packed weights [tap][ci][cop], zeros in the padding channels. */
  for (int32_t t = 0; t < taps; t++)
    for (int32_t c = 0; c < ci; c++) {
      float *dst = l.packed + (t * ci + c) * cop;
      const float *src = w + (t * ci + c) * co;
      for (int32_t k = 0; k < cop; k++) dst[k] = k < co ? src[k] : 0.0f;
    }
  /*
   * Without dilation along W, the kW taps of one (kd, kh) read kW * inC consecutive floats and their packed
   * weights are consecutive too: one tap of kW * inC channels, so the inner loop runs longer per tap.
   */
  const int32_t mergeW = q->dilW == 1;
  l.h->ntaps = mergeW ? q->kD * q->kH : taps;
  l.h->cs = mergeW ? q->kW * ci : ci;
  int32_t t = 0;
  for (int32_t kd = 0; kd < q->kD; kd++)
    for (int32_t kh = 0; kh < q->kH; kh++)
      for (int32_t kw = 0; kw < (mergeW ? 1 : q->kW); kw++)
        l.h->off[t++] = ((kd * q->dilD * p.h + kh * q->dilH) * p.w + kw * q->dilW) * ci;
}

static void forward_rows(const ConvParams *q, float *y, uint8_t *scratch, int32_t r0, int32_t r1, int32_t thread) {
  const int32_t ci = q->inC, co = q->outC, cop = round4(co);
  Padded p = forward_padding(q);
  Layout l = layout(0, q, scratch, 0);
  float *row = l.perThread + thread * l.rowFloats;
  const int32_t direct = cop == co;
  for (int32_t r = r0; r < r1; r++) {
    const int32_t oh = r % q->outH, od = (r / q->outH) % q->outD, b = r / (q->outH * q->outD);
    const float *src = l.padded + (((int64_t)b * p.d + od * q->sD) * p.h + oh * q->sH) * p.w * ci;
    float *dst = y + (int64_t)r * q->outW * co;
    gather_row(direct ? dst : row, q->outW, src, q->sW * ci, l.h->off, l.h->ntaps, l.packed, l.h->cs, cop);
    if (!direct) scatter_row(dst, co, row, q->outW, co, cop);
  }
}

/* ---- backprop input: dx [n, inD, inH, inW, inC] from dy and w */

static void input_prepare(const ConvParams *q, const float *dy, const float *w, uint8_t *scratch) {
  const int32_t ci = q->inC, co = q->outC, cip = round4(ci);
  const int32_t sD = q->sD, sH = q->sH, sW = q->sW;
  Padded p = input_grad_padding(q);
  Layout l = layout(1, q, scratch, 0);
  Header *h = l.h;
  pad_copy(l.padded, dy, q->n, q->outD, q->outH, q->outW, co, &p);
  /*
   * Taps grouped by residue class (rd, rh, rw) = (k mod s) per axis. Within a class, tap k reads dy at
   * base - (k - r)/s along each axis, so its kW taps of one (kd, kh) read consecutive dy pixels, in reverse:
   * packed with kw descending they form one merged tap of nW * outC channels starting nW - 1 pixels back.
   * Class c's merged taps are [start[c], start[c + 1]), weights [tap][kw desc][co][cip] (w transposed),
   * its merged width nW[c], its weights at packed + wStart[c].
   */
  int32_t t = 0;
  float *pack = l.packed;
  for (int32_t rd = 0; rd < sD; rd++)
    for (int32_t rh = 0; rh < sH; rh++)
      for (int32_t rw = 0; rw < sW; rw++) {
        const int32_t cls = (rd * sH + rh) * sW + rw;
        const int32_t n = rw < q->kW ? (q->kW - 1 - rw) / sW + 1 : 0;
        h->start[cls] = t;
        h->nW[cls] = n;
        h->wStart[cls] = (int32_t)(pack - l.packed);
        if (n == 0) continue;
        for (int32_t kd = rd; kd < q->kD; kd += sD)
          for (int32_t kh = rh; kh < q->kH; kh += sH) {
            h->off[t++] = -((((kd - rd) / sD) * p.h + (kh - rh) / sH) * p.w + (n - 1)) * co;
            for (int32_t j = n - 1; j >= 0; j--) {
              const int32_t kw = rw + j * sW;
              const float *src = w + ((kd * q->kH + kh) * q->kW + kw) * ci * co;
              for (int32_t o = 0; o < co; o++, pack += cip)
                for (int32_t k = 0; k < cip; k++) pack[k] = k < ci ? src[k * co + o] : 0.0f;
            }
          }
      }
  h->start[sD * sH * sW] = t;
}

static void input_rows(const ConvParams *q, float *dx, uint8_t *scratch, int32_t r0, int32_t r1, int32_t thread) {
  const int32_t ci = q->inC, co = q->outC, cip = round4(ci);
  const int32_t sD = q->sD, sH = q->sH, sW = q->sW;
  Padded p = input_grad_padding(q);
  Layout l = layout(1, q, scratch, 0);
  const Header *h = l.h;
  float *row = l.perThread + thread * l.rowFloats;
  for (int32_t r = r0; r < r1; r++) {
    const int32_t ih = r % q->inH, id = (r / q->inH) % q->inD, b = r / (q->inH * q->inD);
    const int32_t rd = floor_mod(id + q->padFront, sD), qd = floor_div(id + q->padFront, sD) + p.loD;
    const int32_t rh = floor_mod(ih + q->padTop, sH), qh = floor_div(ih + q->padTop, sH) + p.loH;
    float *dxRow = dx + (int64_t)r * q->inW * ci;
    const float *dyRow = l.padded + (((int64_t)b * p.d + qd) * p.h + qh) * p.w * co;
    for (int32_t rw = 0; rw < sW; rw++) {
      /* First iw with (iw + padLeft) % sW == rw, then every sW-th pixel. */
      const int32_t iw0 = floor_mod(rw - q->padLeft, sW);
      if (iw0 >= q->inW) continue;
      const int32_t count = (q->inW - 1 - iw0) / sW + 1;
      const int32_t cls = (rd * sH + rh) * sW + rw;
      const int32_t first = h->start[cls], ntaps = h->start[cls + 1] - first, cs = h->nW[cls] * co;
      float *dst = dxRow + iw0 * ci;
      if (ntaps == 0) {
        for (int32_t k = 0; k < count; k++) zero_floats(dst + k * sW * ci, (uint32_t)ci);
        continue;
      }
      const float *src = dyRow + (floor_div(iw0 + q->padLeft, sW) + p.loW) * co;
      const int32_t direct = cip == ci && sW == 1;
      gather_row(direct ? dst : row, count, src, co, h->off + first, ntaps, l.packed + h->wStart[cls], cs, cip);
      if (!direct) scatter_row(dst, sW * ci, row, count, ci, cip);
    }
  }
}

/* ---- backprop filter: dw [kD, kH, kW, inC, outC] from x and dy */

static void filter_prepare(const ConvParams *q, const float *x, uint8_t *scratch) {
  const int32_t ci = q->inC, cop = round4(q->outC), taps = tap_count(q);
  Padded p = forward_padding(q);
  Layout l = layout(2, q, scratch, 0);
  pad_copy(l.padded, x, q->n, q->inD, q->inH, q->inW, ci, &p);
  zero_floats(l.packed, (uint32_t)(taps * ci * cop * MAX_THREADS));
  int32_t t = 0;
  for (int32_t kd = 0; kd < q->kD; kd++)
    for (int32_t kh = 0; kh < q->kH; kh++)
      for (int32_t kw = 0; kw < q->kW; kw++) l.h->off[t++] = ((kd * p.h + kh) * p.w + kw) * ci;
}

#define ACC(ptr, v) wasm_v128_store((ptr), wasm_f32x4_add(wasm_v128_load(ptr), (v)))

static void filter_rows(const ConvParams *q, const float *dy, uint8_t *scratch, int32_t r0, int32_t r1,
                        int32_t thread) {
  const int32_t ci = q->inC, co = q->outC, cop = round4(co), taps = tap_count(q);
  const int32_t ow = q->outW, sstep = q->sW * ci;
  Padded p = forward_padding(q);
  Layout l = layout(2, q, scratch, 0);
  float *acc = l.packed + thread * taps * ci * cop;
  float *dyRow = l.perThread + thread * l.rowFloats;
  for (int32_t r = r0; r < r1; r++) {
    const int32_t oh = r % q->outH, od = (r / q->outH) % q->outD, b = r / (q->outH * q->outD);
    const float *xRow = l.padded + (((int64_t)b * p.d + od * q->sD) * p.h + oh * q->sH) * p.w * ci;
    const float *g = dy + (int64_t)r * ow * co;
    if (cop != co) { /* dy row with channels padded to a multiple of 4 */
      for (int32_t k = 0; k < ow; k++)
        for (int32_t c = 0; c < cop; c++) dyRow[k * cop + c] = c < co ? g[k * co + c] : 0.0f;
      g = dyRow;
    }
    for (int32_t t = 0; t < taps; t++) {
      const float *xs = xRow + l.h->off[t];
      float *a = acc + t * ci * cop;
      int32_t c = 0;
      for (; c + 4 <= ci; c += 4) {
        int32_t o = 0;
        for (; o + 8 <= cop; o += 8) {
          v128_t a00 = wasm_f32x4_splat(0.0f), a01 = a00, a10 = a00, a11 = a00;
          v128_t a20 = a00, a21 = a00, a30 = a00, a31 = a00;
          const float *xv = xs + c;
          const float *gv = g + o;
          for (int32_t k = 0; k < ow; k++, xv += sstep, gv += cop) {
            v128_t g0 = wasm_v128_load(gv), g1 = wasm_v128_load(gv + 4);
            v128_t v0 = wasm_v128_load32_splat(xv), v1 = wasm_v128_load32_splat(xv + 1);
            v128_t v2 = wasm_v128_load32_splat(xv + 2), v3 = wasm_v128_load32_splat(xv + 3);
            a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(v0, g0));
            a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(v0, g1));
            a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(v1, g0));
            a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(v1, g1));
            a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(v2, g0));
            a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(v2, g1));
            a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(v3, g0));
            a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(v3, g1));
          }
          float *rp = a + c * cop + o;
          ACC(rp, a00);
          ACC(rp + 4, a01);
          ACC(rp + cop, a10);
          ACC(rp + cop + 4, a11);
          ACC(rp + 2 * cop, a20);
          ACC(rp + 2 * cop + 4, a21);
          ACC(rp + 3 * cop, a30);
          ACC(rp + 3 * cop + 4, a31);
        }
        if (o < cop) {
          v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
          const float *xv = xs + c;
          const float *gv = g + o;
          for (int32_t k = 0; k < ow; k++, xv += sstep, gv += cop) {
            v128_t g0 = wasm_v128_load(gv);
            a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load32_splat(xv), g0));
            a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load32_splat(xv + 1), g0));
            a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load32_splat(xv + 2), g0));
            a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load32_splat(xv + 3), g0));
          }
          float *rp = a + c * cop + o;
          ACC(rp, a0);
          ACC(rp + cop, a1);
          ACC(rp + 2 * cop, a2);
          ACC(rp + 3 * cop, a3);
        }
      }
      for (; c < ci; c++) { /* 1-3 input channels left: two pixels at a time, two accumulators per vector */
        for (int32_t o = 0; o < cop; o += 4) {
          v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
          const float *xv = xs + c;
          const float *gv = g + o;
          int32_t k = 0;
          for (; k + 2 <= ow; k += 2, xv += 2 * sstep, gv += 2 * cop) {
            a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load32_splat(xv), wasm_v128_load(gv)));
            a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load32_splat(xv + sstep), wasm_v128_load(gv + cop)));
          }
          if (k < ow) a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load32_splat(xv), wasm_v128_load(gv)));
          ACC(a + c * cop + o, wasm_f32x4_add(a0, a1));
        }
      }
    }
  }
}
#undef ACC

static void filter_finish(const ConvParams *q, float *dw, uint8_t *scratch, int32_t threads) {
  const int32_t ci = q->inC, co = q->outC, cop = round4(co), taps = tap_count(q);
  Layout l = layout(2, q, scratch, 0);
  const int32_t size = taps * ci * cop;
  for (int32_t th = 1; th < threads; th++)
    for (int32_t i = 0; i < size; i++) l.packed[i] += l.packed[th * size + i];
  for (int32_t t = 0; t < taps * ci; t++)
    for (int32_t o = 0; o < co; o++) dw[t * co + o] = l.packed[t * cop + o];
}

/* ---- phases for threads: prepare once, rows on each thread, finish once */

/* a, b: (x, w) forward, (dy, w) backprop input, (x, unused) backprop filter. */
EXPORT(conv3d_prepare)
void conv3d_prepare(int32_t kind, const ConvParams *q, const float *a, const float *b, uint8_t *scratch) {
  if (kind == 0) forward_prepare(q, a, b, scratch);
  else if (kind == 1) input_prepare(q, a, b, scratch);
  else filter_prepare(q, a, scratch);
}

/* out: y, dx, or (backprop filter) dy, read. thread < MAX_THREADS. */
EXPORT(conv3d_rows_run)
void conv3d_rows_run(int32_t kind, const ConvParams *q, float *out, uint8_t *scratch, int32_t r0, int32_t r1,
                     int32_t thread) {
  if (kind == 0) forward_rows(q, out, scratch, r0, r1, thread);
  else if (kind == 1) input_rows(q, out, scratch, r0, r1, thread);
  else filter_rows(q, out, scratch, r0, r1, thread);
}

/* Backprop filter only: dw = the sum of `threads` accumulators. */
EXPORT(conv3d_finish)
void conv3d_finish(int32_t kind, const ConvParams *q, float *dw, uint8_t *scratch, int32_t threads) {
  if (kind == 2) filter_finish(q, dw, scratch, threads);
}

/* ---- single-thread calls */

EXPORT(conv3d_forward)
void conv3d_forward(const ConvParams *q, const float *x, const float *w, float *y, uint8_t *scratch) {
  forward_prepare(q, x, w, scratch);
  forward_rows(q, y, scratch, 0, conv3d_rows(0, q), 0);
}

EXPORT(conv3d_backprop_input)
void conv3d_backprop_input(const ConvParams *q, const float *dy, const float *w, float *dx, uint8_t *scratch) {
  input_prepare(q, dy, w, scratch);
  input_rows(q, dx, scratch, 0, conv3d_rows(1, q), 0);
}

EXPORT(conv3d_backprop_filter)
void conv3d_backprop_filter(const ConvParams *q, const float *x, const float *dy, float *dw, uint8_t *scratch) {
  filter_prepare(q, x, scratch);
  filter_rows(q, dy, scratch, 0, conv3d_rows(2, q), 0);
  filter_finish(q, dw, scratch, 1);
}
