/**
 * What the compiled addon exports (src/addon.cc's property table), the one statement of it: libs/models'
 * kernels/native-addon.ts loads the addon at run time and checks these functions are present. Members
 * marked optional are absent in addons built from older sources.
 */
export interface NativeKernels {
  /**
   * 3D convolution on oneDNN, in place on the caller's arrays. kind 0: (x, filter) -> y; 1: (dy, filter) ->
   * dx; 2: (x, dy) -> dFilter. params: the 24 numbers of src/conv3d.h's Conv3dParams (libs/models'
   * `conv3dParams`). mode 0: plain NDHWC, 1: oneDNN's blocked layout, 2: time every implementation oneDNN
   * offers in both layouts (and the direct backward-weights loops) once per shape and keep the fastest;
   * 3: the direct loops only (backward-weights, stride 1, 8 output channels; tests). Returns whether the
   * blocked layout ran; throws when refused.
   */
  conv3d(
    kind: 0 | 1 | 2,
    params: Int32Array,
    mode: 0 | 1 | 2 | 3,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
  ): boolean;
  info(): { onednn: string; cachedPlans: number };
  /**
   * Every cached convolution plan with the oneDNN implementation chosen and its calls and ms since chosen
   * (or since the last reset); `reset` zeroes the counters after reading. Absent in addons built before it.
   */
  plans?(reset?: boolean): NativeConvPlan[];
  /** Fused instance norm over NDHWC seen as [n, s, c]; stats gets mean and invStd per (n, c). */
  instanceNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    dims: Int32Array,
    epsilon: number,
    y: Float32Array,
    stats: Float32Array,
  ): void;
  instanceNormBackward(
    dy: Float32Array,
    x: Float32Array,
    gamma: Float32Array,
    stats: Float32Array,
    dims: Int32Array,
    dx: Float32Array,
    dGamma: Float32Array,
    dBeta: Float32Array,
  ): void;
  /** out[o, i] = scale * sum_r x[o, r, i] over dims [outer, reduce, inner]. */
  sumBlock(x: Float32Array, dims: Int32Array, scale: number, out: Float32Array): void;
  /** params from `pool3dParams`. */
  maxPool3dForward(x: Float32Array, params: Int32Array, y: Float32Array): void;
  /** dx is zeroed by the addon; ties go to the last maximum (tfjs's rule). */
  maxPool3dBackward(dy: Float32Array, x: Float32Array, params: Int32Array, dx: Float32Array): void;
  /** Row copies; layout [srcOffset, srcStride, dstOffset, dstStride, rows, rowLength]. */
  copyRows(src: Float32Array, dst: Float32Array, layout: Int32Array): void;
  /** dx = dy * step(x) (ReLU's gradient, NaN where x is NaN). Absent in addons built before it. */
  reluBackward?(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /**
   * The segmentation loss and its gradient (kernels/fedseg-dice-ce.ts's formulas): flags [dice, ce,
   * weighted], one weight per class. Absent in addons built before it.
   */
  diceCeLoss?(
    logits: Float32Array,
    oneHot: Float32Array,
    classes: number,
    flags: Int32Array,
    smooth: number,
    weights: Float64Array,
    grad: Float32Array,
  ): number;
  /** out = a + b (op 0) or a * b (op 1), b tiling a (b.length divides a.length). */
  broadcastBinary(op: 0 | 1, a: Float32Array, b: Float32Array, out: Float32Array): void;
}

/** One cached convolution plan of the addon (src/conv3d.h's PlanReport). */
export interface NativeConvPlan {
  /** 0 forward, 1 backward-data, 2 backward-weights. */
  kind: number;
  mode: number;
  /** The 24 numbers of `conv3dParams`. */
  shape: number[];
  /** oneDNN's implementation name, e.g. jit:avx2. */
  impl: string;
  blocked: boolean;
  calls: number;
  ms: number;
}

/** The addon, or null with the reason it is absent. */
export declare const binding: NativeKernels | null;
export declare const reason: string;
export declare const addonPath: string;
