/** What the compiled addon exports (src/addon.cc). */
export interface NativeKernelsBinding {
  /**
   * 3D convolution on oneDNN, in place on the caller's arrays. kind 0: (x, filter) -> y;
   * 1: (dy, filter) -> dx; 2: (x, dy) -> dFilter. params: the 24 numbers of src/conv3d.h's Conv3dParams.
   * mode 0: plain NDHWC, 1: oneDNN's blocked layout, 2: time every implementation oneDNN offers in both
   * layouts once per shape and keep the fastest.
   * Returns whether the blocked layout ran.
   */
  conv3d(
    kind: 0 | 1 | 2,
    params: Int32Array,
    mode: 0 | 1 | 2,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
  ): boolean;
  info(): { onednn: string; cachedPlans: number };
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
