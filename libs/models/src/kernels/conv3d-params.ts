import { backend_util } from '@tensorflow/tfjs-core';

/** The 24 numbers the addon's Conv3dParams holds (libs/native-kernels/src/conv3d.h), in that order. */
export function conv3dParams(info: backend_util.Conv3DInfo): Int32Array {
  const { padInfo } = info;
  return Int32Array.from([
    info.batchSize,
    info.inDepth,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outDepth,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterDepth,
    info.filterHeight,
    info.filterWidth,
    info.strideDepth,
    info.strideHeight,
    info.strideWidth,
    info.dilationDepth,
    info.dilationHeight,
    info.dilationWidth,
    padInfo.front,
    padInfo.top,
    padInfo.left,
    padInfo.back,
    padInfo.bottom,
    padInfo.right,
  ]);
}

/** Multiply-adds x 2 of one 3D convolution (the same count for forward and both backprops). */
export function conv3dFlops(info: backend_util.Conv3DInfo): number {
  return (
    2 *
    info.batchSize *
    info.outDepth *
    info.outHeight *
    info.outWidth *
    info.outChannels *
    info.filterDepth *
    info.filterHeight *
    info.filterWidth *
    info.inChannels
  );
}

/** Mode 2: the addon times its plain and blocked layouts on the first call of a shape and keeps the faster. */
export const NATIVE_CONV_MODE = 2;
