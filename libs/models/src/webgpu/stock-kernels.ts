import type * as tf from '@tensorflow/tfjs-core';

/**
 * tfjs-backend-webgpu's own kernels that a fedseg kernel replaced, by kernel name: a replacement that fixes
 * only some shapes or dtypes hands the rest back to the stock kernel, which stays correct there.
 */
const stock = new Map<string, tf.KernelConfig>();

export function rememberStockKernel(config: tf.KernelConfig): void {
  if (!stock.has(config.kernelName)) stock.set(config.kernelName, config);
}

export function stockKernel(kernelName: string): tf.KernelConfig | undefined {
  return stock.get(kernelName);
}
