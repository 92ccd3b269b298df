/** What the compiled addon exports (src/addon.cc). */
export interface NativeKernelsBinding {
  /**
   * 3D convolution on oneDNN, in place on the caller's arrays. kind 0: (x, filter) -> y;
   * 1: (dy, filter) -> dx; 2: (x, dy) -> dFilter. params: the 24 numbers of src/conv3d.h's Conv3dParams.
   * mode 0: plain NDHWC, 1: oneDNN's blocked layout, 2: time every implementation oneDNN offers in both
   * layouts (and the addon's direct backward-weights loops) once per shape and keep the fastest; 3: the
   * direct loops only (backward-weights, stride 1, 8 output channels).
   * Returns whether the blocked layout ran.
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
  /** dx = dy * step(x) (ReLU's gradient; NaN where x is NaN), all three the same length. */
  reluBackward(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /**
   * Soft Dice and/or cross-entropy from logits [voxels, classes] and one-hot labels, returning the loss and
   * writing dLoss/dLogits to grad. flags: [dice 0|1, ce 0|1, weighted 0|1]; weights: one per class.
   */
  diceCeLoss(
    logits: Float32Array,
    oneHot: Float32Array,
    classes: number,
    flags: Int32Array,
    smooth: number,
    weights: Float64Array,
    grad: Float32Array,
  ): number;
  /**
   * Every cached convolution plan: kind, mode, the 24 params, oneDNN's implementation name (jit:avx2, ...),
   * whether the blocked layout runs, and calls and ms since chosen or since the last `plans(true)`.
   */
  plans(reset?: boolean): {
    kind: number;
    mode: number;
    shape: number[];
    impl: string;
    blocked: boolean;
    calls: number;
    ms: number;
  }[];
}

/** The addon, or null with the reason it is absent. */
export declare const binding: NativeKernelsBinding | null;
export declare const reason: string;
export declare const addonPath: string;
