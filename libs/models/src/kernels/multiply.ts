import { Multiply } from '@tensorflow/tfjs-core';
import { broadcastBinaryKernel } from './broadcast-binary';
import type { FastKernel } from './kernel-context';

/** Multiply where one operand tiles the other (ReLU gradients, per-channel scales), in the addon. */
export const multiplyKernel: FastKernel = {
  kernelName: Multiply,
  make: (ctx) => broadcastBinaryKernel(Multiply, 1, ctx),
};
