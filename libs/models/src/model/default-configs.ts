import type { Architecture, ModelConfig } from '@fedseg/protocol';

export type ComputeTarget = 'cpu' | 'gpu';

/**
 * Default sizes. CPU: base 8, depth 3 (8/16/32 filters), which is bench-unet3d, about 1 s per step per
 * 48^3 patch pair on a 2-core machine with fast kernels. GPU: base 32, depth 4 (32..256 filters), nnU-Net's
 * width for 3D full-resolution networks, one level shallower to suit 64-96^3 patches.
 * Parameter counts are in libs/models/README.md and checked in default-configs.spec.ts.
 */
export function defaultModelConfig(
  architecture: Architecture = 'unet3d',
  target: ComputeTarget = 'cpu',
): ModelConfig {
  return {
    architecture,
    inChannels: 1,
    numClasses: 2,
    baseFilters: target === 'gpu' ? 32 : 8,
    depth: target === 'gpu' ? 4 : 3,
    normalization: 'instance',
    groupNormGroups: 4,
  };
}
