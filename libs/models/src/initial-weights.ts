/**
 * @fedseg/models/initial-weights: round 0's weight vector and its manifest for a ModelConfig and seed, the
 * same bits as createSegmentationModel + getFlatWeights, from a module graph that loads no tfjs. The
 * coordinator imports this entry only (its process never loads tfjs); sites use the main entry.
 */
export { initialFlatWeights, modelWeightManifest, type ModelPlanOptions } from './plan/model-plan';
