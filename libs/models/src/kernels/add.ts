import { Add } from '@tensorflow/tfjs-core';
import { broadcastBinaryKernel } from './broadcast-binary';
import type { FastKernel } from './kernel-context';

/** Add where one operand tiles the other (bias adds, gradient accumulation), in the addon. */
export const addKernel: FastKernel = {
  kernelName: Add,
  make: (ctx) => broadcastBinaryKernel(Add, 0, ctx),
};
