import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Correct replacements for tfjs-backend-wasm 4.22's Conv3DBackpropInputV2 and Conv3DBackpropFilterV2, which
 * return wrong values (checked against the cpu backend and finite differences in the spec):
 * - backprop-input bounds its depth loop by floor(filterDepth / stride) without the window corner (rows and
 *   columns include it), and rounds the upper bound down where it must round up for stride > 1;
 * - backprop-filter's ceil-division truncates toward zero for negative numerators and also rounds its
 *   upper bound down, so every stride-2 case is wrong.
 * The first breaks the input gradient of every 3x3x3 conv on volumes deeper than 3 and the forward pass of
 * conv3dTranspose; the second breaks the transposed conv's weight gradient. Both are written here as
 * plain loops over the backend's heap, in scatter form (every output voxel times every filter tap), which is
 * right for any stride and padding. Shapes NDHWC, filter [fd, fh, fw, inC, outC], dilation 1.
 */
interface Geometry {
  batch: number;
  in: [number, number, number];
  out: [number, number, number];
  filter: [number, number, number];
  stride: [number, number, number];
  pad: [number, number, number];
  inChannels: number;
  outChannels: number;
}

function geometry(
  inShape: number[],
  filterShape: number[],
  strides: [number, number, number] | number,
  pad: 'valid' | 'same',
): Geometry {
  const info = tf.backend_util.computeConv3DInfo(
    inShape as [number, number, number, number, number],
    filterShape as [number, number, number, number, number],
    strides,
    1,
    pad,
  );
  return {
    batch: info.batchSize,
    in: [info.inDepth, info.inHeight, info.inWidth],
    out: [info.outDepth, info.outHeight, info.outWidth],
    filter: [info.filterDepth, info.filterHeight, info.filterWidth],
    stride: [info.strideDepth, info.strideHeight, info.strideWidth],
    pad: [info.padInfo.front, info.padInfo.top, info.padInfo.left],
    inChannels: info.inChannels,
    outChannels: info.outChannels,
  };
}

/**
 * Visits every (output voxel, filter tap) pair whose input voxel lies inside the volume, passing the flat
 * offsets of the dy row, the x row and the filter block.
 */
function forEachTap(g: Geometry, visit: (dyOffset: number, xOffset: number, wOffset: number) => void): void {
  const [id, ih, iw] = g.in;
  const [od, oh, ow] = g.out;
  const [fd, fh, fw] = g.filter;
  const [sd, sh, sw] = g.stride;
  const [pd, ph, pw] = g.pad;
  const ic = g.inChannels;
  const oc = g.outChannels;
  for (let b = 0; b < g.batch; b++) {
    for (let yd = 0; yd < od; yd++) {
      for (let yh = 0; yh < oh; yh++) {
        for (let yw = 0; yw < ow; yw++) {
          const dyOffset = (((b * od + yd) * oh + yh) * ow + yw) * oc;
          for (let kd = 0; kd < fd; kd++) {
            const xd = yd * sd + kd - pd;
            if (xd < 0 || xd >= id) continue;
            for (let kh = 0; kh < fh; kh++) {
              const xh = yh * sh + kh - ph;
              if (xh < 0 || xh >= ih) continue;
              for (let kw = 0; kw < fw; kw++) {
                const xw = yw * sw + kw - pw;
                if (xw < 0 || xw >= iw) continue;
                visit(
                  dyOffset,
                  (((b * id + xd) * ih + xh) * iw + xw) * ic,
                  ((kd * fh + kh) * fw + kw) * ic * oc,
                );
              }
            }
          }
        }
      }
    }
  }
}

interface BackpropInputAttrs {
  strides: [number, number, number] | number;
  pad: 'valid' | 'same';
  inputShape: [number, number, number, number, number];
}

interface BackpropFilterAttrs {
  strides: [number, number, number] | number;
  pad: 'valid' | 'same';
  filterShape: [number, number, number, number, number];
}

export const conv3dBackpropInputV2WasmConfig: tf.KernelConfig = {
  kernelName: 'Conv3DBackpropInputV2',
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const wasm = backend as BackendWasm;
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const { inputShape, strides, pad } = attrs as unknown as BackpropInputAttrs;
    const g = geometry(inputShape, filter.shape, strides, pad);
    const out = wasm.makeOutput([...inputShape], 'float32');
    // Views are taken after makeOutput: allocating can grow the heap and detach earlier views.
    const dx = wasm.typedArrayFromHeap(out) as Float32Array;
    const dyValues = wasm.typedArrayFromHeap(dy) as Float32Array;
    const w = wasm.typedArrayFromHeap(filter) as Float32Array;
    dx.fill(0);
    const ic = g.inChannels;
    const oc = g.outChannels;
    forEachTap(g, (dyOffset, xOffset, wOffset) => {
      for (let c = 0; c < ic; c++) {
        const row = wOffset + c * oc;
        let sum = 0;
        for (let k = 0; k < oc; k++) sum += w[row + k]! * dyValues[dyOffset + k]!;
        dx[xOffset + c] += sum;
      }
    });
    return out;
  },
};

export const conv3dBackpropFilterV2WasmConfig: tf.KernelConfig = {
  kernelName: 'Conv3DBackpropFilterV2',
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const wasm = backend as BackendWasm;
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { filterShape, strides, pad } = attrs as unknown as BackpropFilterAttrs;
    const g = geometry(x.shape, filterShape, strides, pad);
    const out = wasm.makeOutput([...filterShape], 'float32');
    const dw = wasm.typedArrayFromHeap(out) as Float32Array;
    const xValues = wasm.typedArrayFromHeap(x) as Float32Array;
    const dyValues = wasm.typedArrayFromHeap(dy) as Float32Array;
    dw.fill(0);
    const ic = g.inChannels;
    const oc = g.outChannels;
    forEachTap(g, (dyOffset, xOffset, wOffset) => {
      for (let c = 0; c < ic; c++) {
        const xv = xValues[xOffset + c]!;
        if (xv === 0) continue;
        const row = wOffset + c * oc;
        for (let k = 0; k < oc; k++) dw[row + k] += xv * dyValues[dyOffset + k]!;
      }
    });
    return out;
  },
};
