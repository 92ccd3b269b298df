import { Mean } from '@tensorflow/tfjs-core';
import type { FastKernel } from './kernel-context';
import { blockReductionKernel } from './sum';

/** Mean of float32 over a contiguous block of axes in one pass (instance-norm statistics); see sum.ts. */
export const meanKernel: FastKernel = blockReductionKernel(Mean, (reduce) => 1 / reduce);
