import { z } from 'zod';

/**
 * Which segmentation network a study trains. Lives in the protocol because the coordinator validates it
 * inside a study config and sends it to every site; libs/models builds the network from it.
 */
export const Architecture = z.enum(['unet3d', 'attention-unet3d', 'res-unet3d', 'tiny-convnet']);
export type Architecture = z.infer<typeof Architecture>;

export const Normalization = z.enum(['instance', 'batch', 'group', 'none']);
export type Normalization = z.infer<typeof Normalization>;

export const ModelConfig = z.object({
  architecture: Architecture.default('unet3d'),
  /** Modalities stacked as channels (early fusion). */
  inChannels: z.int().min(1).max(16).default(1),
  /** Including background. */
  numClasses: z.int().min(2).max(32).default(2),
  baseFilters: z.int().min(1).max(512).default(8),
  /** Encoder levels, counting the bottleneck. */
  depth: z.int().min(1).max(6).default(3),
  normalization: Normalization.default('instance'),
  groupNormGroups: z.int().min(1).default(4),
});
export type ModelConfig = z.infer<typeof ModelConfig>;
