import * as tf from '@tensorflow/tfjs-core';
import { broadcastBinaryWebGpuConfigs } from './binary-op-broadcast';
import { castWebGpuConfig } from './cast';
import { padV2WebGpuConfig } from './pad-v2';
import { rememberStockKernel } from './stock-kernels';

/**
 * The one list of WebGPU kernels this library adds to or corrects in tfjs-backend-webgpu (one file per
 * kernel beside this one). Registered by startWebGpuBackend before the backend is activated; idempotent.
 */
export const WEBGPU_KERNELS: readonly tf.KernelConfig[] = [
  padV2WebGpuConfig,
  castWebGpuConfig,
  ...broadcastBinaryWebGpuConfigs,
];

let registered = false;

export function registerWebGpuKernels(): void {
  if (registered) return;
  registered = true;
  for (const kernel of WEBGPU_KERNELS) {
    const original = tf.getKernel(kernel.kernelName, kernel.backendName);
    if (original) {
      rememberStockKernel(original);
      tf.unregisterKernel(kernel.kernelName, kernel.backendName);
    }
    tf.registerKernel(kernel);
  }
}
