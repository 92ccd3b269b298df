/** What the compiled addon exports (src/addon.cc). */
export interface NativeKernelsBinding {
  /**
   * 3D convolution on oneDNN, in place on the caller's arrays. kind 0: (x, filter) -> y;
   * 1: (dy, filter) -> dx; 2: (x, dy) -> dFilter. params: the 24 numbers of src/conv3d.h's Conv3dParams.
   * mode 0: plain NDHWC, 1: oneDNN's blocked layout, 2: time both once per shape and keep the faster.
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
}

/** The addon, or null with the reason it is absent. */
export declare const binding: NativeKernelsBinding | null;
export declare const reason: string;
export declare const addonPath: string;
