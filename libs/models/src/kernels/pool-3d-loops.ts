import type { backend_util } from '@tensorflow/tfjs-core';

/**
 * 3D max pooling and its gradient over NDHWC in plain TypeScript (the U-Net's 2x2x2 stride-2 pooling).
 * tfjs's own versions walk every window per channel with generic index arithmetic; here each window is
 * visited once for all channels in the forward pass. Padded taps are skipped, as tfjs does.
 */

/** Calls visit(inputOffset) for each in-bounds tap of output voxel (b, yd, yh, yw), in d, h, w order. */
function forEachTap(
  info: backend_util.Conv3DInfo,
  b: number,
  yd: number,
  yh: number,
  yw: number,
  visit: (inputOffset: number) => void,
): void {
  const { inDepth, inHeight, inWidth, inChannels, filterDepth, filterHeight, filterWidth } = info;
  const { strideDepth, strideHeight, strideWidth, dilationDepth, dilationHeight, dilationWidth } = info;
  const { front, top, left } = info.padInfo;
  for (let kd = 0; kd < filterDepth; kd++) {
    const xd = yd * strideDepth - front + kd * dilationDepth;
    if (xd < 0 || xd >= inDepth) continue;
    for (let kh = 0; kh < filterHeight; kh++) {
      const xh = yh * strideHeight - top + kh * dilationHeight;
      if (xh < 0 || xh >= inHeight) continue;
      for (let kw = 0; kw < filterWidth; kw++) {
        const xw = yw * strideWidth - left + kw * dilationWidth;
        if (xw < 0 || xw >= inWidth) continue;
        visit((((b * inDepth + xd) * inHeight + xh) * inWidth + xw) * inChannels);
      }
    }
  }
}

export function maxPool3dLoops(info: backend_util.Conv3DInfo, x: Float32Array, y: Float32Array): void {
  const { batchSize, outDepth, outHeight, outWidth, outChannels: c } = info;
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let yd = 0; yd < outDepth; yd++) {
      for (let yh = 0; yh < outHeight; yh++) {
        for (let yw = 0; yw < outWidth; yw++) {
          y.fill(-Infinity, o, o + c);
          const base = o;
          forEachTap(info, b, yd, yh, yw, (offset) => {
            for (let k = 0; k < c; k++) {
              const v = x[offset + k];
              if (v > y[base + k] || Number.isNaN(v)) y[base + k] = v;
            }
          });
          o += c;
        }
      }
    }
  }
}

/**
 * dx (zeroed by the caller) receives each dy at the position of its window's maximum. Ties (common after
 * ReLU) go to the last maximum in d, h, w order, the rule of tfjs's reference (cpu) implementation.
 */
export function maxPool3dGradLoops(
  info: backend_util.Conv3DInfo,
  dy: Float32Array,
  x: Float32Array,
  dx: Float32Array,
): void {
  const { batchSize, outDepth, outHeight, outWidth, outChannels: c } = info;
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let yd = 0; yd < outDepth; yd++) {
      for (let yh = 0; yh < outHeight; yh++) {
        for (let yw = 0; yw < outWidth; yw++) {
          best.fill(-Infinity);
          at.fill(-1);
          forEachTap(info, b, yd, yh, yw, (offset) => {
            for (let k = 0; k < c; k++) {
              const v = x[offset + k];
              if (v >= best[k]) {
                best[k] = v;
                at[k] = offset + k;
              }
            }
          });
          for (let k = 0; k < c; k++) if (at[k] >= 0) dx[at[k]] += dy[o + k];
          o += c;
        }
      }
    }
  }
}

/** The 17 numbers the addon's max pooling takes (libs/native-kernels/src/elementwise.h), in that order. */
export function pool3dParams(info: backend_util.Conv3DInfo): Int32Array {
  return Int32Array.of(
    info.batchSize,
    info.inDepth,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outDepth,
    info.outHeight,
    info.outWidth,
    info.filterDepth,
    info.filterHeight,
    info.filterWidth,
    info.strideDepth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.front,
    info.padInfo.top,
    info.padInfo.left,
  );
}
