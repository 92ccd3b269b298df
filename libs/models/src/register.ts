import * as tf from '@tensorflow/tfjs-core';
// Loaded first so its stock kernels are registered before the corrections below replace two of them.
import '@tensorflow/tfjs-backend-wasm';
import {
  conv3dBackpropFilterV2WasmConfig,
  conv3dBackpropInputV2WasmConfig,
} from './corrections/conv3d-backprop-wasm';
import { conv3dBackpropInputV2GradConfig } from './gradients/conv3d-backprop-input-v2.grad';
import { AttentionGate3D } from './layers/attention-gate';
import { BatchNormalization3D } from './layers/batch-normalization';
import { GroupNormalization3D } from './layers/group-normalization';
import { InstanceNormalization3D } from './layers/instance-normalization';

/**
 * The one list of what this library adds to tfjs: gradients tfjs lacks, corrected kernels where a stock one
 * computes wrong values, and the custom layers an exported model needs to deserialize. Idempotent, so
 * importing it from several entry points is harmless. Optional fast kernels (libs/models/src/kernels) are
 * registered later by initBackend, on top of these.
 */
const CORRECTED_KERNELS: readonly tf.KernelConfig[] = [
  conv3dBackpropInputV2WasmConfig,
  conv3dBackpropFilterV2WasmConfig,
];

let registered = false;

export function registerModelsExtensions(): void {
  if (registered) return;
  registered = true;
  if (!tf.getGradient(conv3dBackpropInputV2GradConfig.kernelName))
    tf.registerGradient(conv3dBackpropInputV2GradConfig);
  for (const kernel of CORRECTED_KERNELS) {
    if (tf.getKernel(kernel.kernelName, kernel.backendName))
      tf.unregisterKernel(kernel.kernelName, kernel.backendName);
    tf.registerKernel(kernel);
  }
  tf.serialization.registerClass(InstanceNormalization3D);
  tf.serialization.registerClass(GroupNormalization3D);
  tf.serialization.registerClass(BatchNormalization3D);
  tf.serialization.registerClass(AttentionGate3D);
}

registerModelsExtensions();
