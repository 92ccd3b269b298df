import type { backend_util } from '@tensorflow/tfjs-core';

/**
 * dx = conv3d's input gradient in plain TypeScript, by scattering: every dy voxel adds W[k] . dy to the
 * input voxel that kernel tap k read in the forward pass. Used on wasm when the addon is missing, because
 * tfjs-wasm 4.22's own Conv3DBackpropInputV2 returns wrong values (conv3d.spec.ts shows it). Layouts:
 * dy NDHWC, filter [kD, kH, kW, inC, outC], dx NDHWC (zeroed by the caller).
 */
export function conv3dBackpropInputLoops(
  info: backend_util.Conv3DInfo,
  dy: Float32Array,
  filter: Float32Array,
  dx: Float32Array,
): void {
  const { batchSize, inDepth, inHeight, inWidth, inChannels, outDepth, outHeight, outWidth, outChannels } =
    info;
  const { filterDepth, filterHeight, filterWidth, strideDepth, strideHeight, strideWidth } = info;
  const { dilationDepth, dilationHeight, dilationWidth } = info;
  const { front, top, left } = info.padInfo;
  const tapSize = inChannels * outChannels;
  for (let b = 0; b < batchSize; b++) {
    for (let yd = 0; yd < outDepth; yd++) {
      for (let yh = 0; yh < outHeight; yh++) {
        for (let yw = 0; yw < outWidth; yw++) {
          const dyBase = (((b * outDepth + yd) * outHeight + yh) * outWidth + yw) * outChannels;
          for (let kd = 0; kd < filterDepth; kd++) {
            const xd = yd * strideDepth - front + kd * dilationDepth;
            if (xd < 0 || xd >= inDepth) continue;
            for (let kh = 0; kh < filterHeight; kh++) {
              const xh = yh * strideHeight - top + kh * dilationHeight;
              if (xh < 0 || xh >= inHeight) continue;
              for (let kw = 0; kw < filterWidth; kw++) {
                const xw = yw * strideWidth - left + kw * dilationWidth;
                if (xw < 0 || xw >= inWidth) continue;
                const dxBase = (((b * inDepth + xd) * inHeight + xh) * inWidth + xw) * inChannels;
                let w = ((kd * filterHeight + kh) * filterWidth + kw) * tapSize;
                for (let ci = 0; ci < inChannels; ci++) {
                  let acc = 0;
                  for (let co = 0; co < outChannels; co++) acc += filter[w + co] * dy[dyBase + co];
                  dx[dxBase + ci] += acc;
                  w += outChannels;
                }
              }
            }
          }
        }
      }
    }
  }
}

/**
 * dFilter = conv3d's filter gradient in plain TypeScript: dW[k, ci, co] = sum over output voxels of
 * x[tap k of that voxel, ci] * dy[voxel, co], accumulated in float64. Used on wasm without the addon:
 * tfjs-wasm 4.22's own Conv3DBackpropFilterV2 is wrong for strides > 1 (conv3d.spec.ts).
 */
export function conv3dBackpropFilterLoops(
  info: backend_util.Conv3DInfo,
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
): void {
  const { batchSize, inDepth, inHeight, inWidth, inChannels, outDepth, outHeight, outWidth, outChannels } =
    info;
  const { filterDepth, filterHeight, filterWidth, strideDepth, strideHeight, strideWidth } = info;
  const { dilationDepth, dilationHeight, dilationWidth } = info;
  const { front, top, left } = info.padInfo;
  const tapSize = inChannels * outChannels;
  const acc = new Float64Array(dw.length);
  for (let b = 0; b < batchSize; b++) {
    for (let yd = 0; yd < outDepth; yd++) {
      for (let yh = 0; yh < outHeight; yh++) {
        for (let yw = 0; yw < outWidth; yw++) {
          const dyBase = (((b * outDepth + yd) * outHeight + yh) * outWidth + yw) * outChannels;
          for (let kd = 0; kd < filterDepth; kd++) {
            const xd = yd * strideDepth - front + kd * dilationDepth;
            if (xd < 0 || xd >= inDepth) continue;
            for (let kh = 0; kh < filterHeight; kh++) {
              const xh = yh * strideHeight - top + kh * dilationHeight;
              if (xh < 0 || xh >= inHeight) continue;
              for (let kw = 0; kw < filterWidth; kw++) {
                const xw = yw * strideWidth - left + kw * dilationWidth;
                if (xw < 0 || xw >= inWidth) continue;
                const xBase = (((b * inDepth + xd) * inHeight + xh) * inWidth + xw) * inChannels;
                let w = ((kd * filterHeight + kh) * filterWidth + kw) * tapSize;
                for (let ci = 0; ci < inChannels; ci++) {
                  const xv = x[xBase + ci];
                  for (let co = 0; co < outChannels; co++) acc[w + co] += xv * dy[dyBase + co];
                  w += outChannels;
                }
              }
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < dw.length; i++) dw[i] = acc[i];
}
