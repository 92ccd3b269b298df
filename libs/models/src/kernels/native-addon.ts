import { createRequire } from 'node:module';

/**
 * The optional oneDNN addon (libs/native-kernels), typed here from what its src/addon.cc exports. It is
 * loaded at run time, not imported: `npm install` may have skipped building it, and then the portable
 * kernels are used instead.
 */
export interface NativeKernels {
  /**
   * kind 0: (x, filter) -> y; 1: (dy, filter) -> dx; 2: (x, dy) -> dFilter; params from `conv3dParams`;
   * mode 0 plain NDHWC, 1 oneDNN's blocked layout, 2 pick the fastest implementation per shape, 3 the
   * addon's direct loops (backward-weights, stride 1, 8 output channels; tests). Throws when refused.
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

export interface NativeLoad {
  kernels: NativeKernels | null;
  /** Why `kernels` is null; empty when loaded. */
  reason: string;
}

let cached: NativeLoad | undefined;

function isNativeKernels(value: unknown): value is NativeKernels {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  // An addon built from older sources lacks some functions: treat it as absent rather than half-present.
  return [
    'conv3d',
    'info',
    'instanceNormForward',
    'instanceNormBackward',
    'sumBlock',
    'maxPool3dForward',
    'maxPool3dBackward',
    'copyRows',
    'broadcastBinary',
  ].every((name) => typeof candidate[name] === 'function');
}

/** Loads the addon once per process; never throws. */
export function loadNativeKernels(): NativeLoad {
  if (cached) return cached;
  try {
    // oneDNN runs on OpenMP (libgomp), whose idle threads spin by default. On a machine shared with other
    // work (2 cores, load 6) spinning threads stall every barrier: the kernel training spec took 7.8 s on
    // cpu with spinning and 1.4 s with passive waiting. libgomp reads this once, when it loads.
    process.env['OMP_WAIT_POLICY'] ??= 'passive';
    const load = createRequire(__filename);
    const mod: unknown = load('@fedseg/native-kernels');
    const record = (typeof mod === 'object' && mod !== null ? mod : {}) as Record<string, unknown>;
    const binding = record['binding'];
    if (isNativeKernels(binding)) {
      binding.info();
      cached = { kernels: binding, reason: '' };
    } else {
      const reason =
        typeof record['reason'] === 'string' && record['reason'] !== ''
          ? record['reason']
          : 'its exports do not match these kernels (rebuild it: npm rebuild @fedseg/native-kernels)';
      cached = { kernels: null, reason: `@fedseg/native-kernels: ${reason}` };
    }
  } catch (err) {
    cached = {
      kernels: null,
      reason: `@fedseg/native-kernels unavailable: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  return cached;
}
