/**
 * @fedseg/models: tfjs 3D segmentation networks (3D U-Net, Attention U-Net, Res-U-Net), losses, local
 * training, flat weight vectors, sliding-window inference, export. Load tfjs only through this library's
 * CommonJS requires (see DESIGN.md), so kernels and gradients registered here are the ones that run.
 */
import './register';

export {
  describeKernels,
  initBackend,
  type BackendPreference,
  type InitBackendOptions,
} from './backend/init-backend';
export { registerModelsExtensions } from './register';
export * from './errors';
export { createSegmentationModel, type SegmentationModel } from './model/segmentation-model';
export {
  getFlatWeights,
  readFlatWeights,
  setFlatWeights,
  weightManifest,
  type FlatWeightsOptions,
} from './weights/flat-weights';
export { initialFlatWeights, modelWeightManifest, type ModelPlanOptions } from './initial-weights';
export { applyWeightsDelta, weightsDelta, type WeightsDelta } from './weights/weights-delta';
export type { TrainingSample } from './data/training-sample';
export {
  trainLocal,
  type TrainLocalOptions,
  type TrainLocalResult,
  type TrainProgress,
} from './training/train-local';
export { adam, sgdMomentum, type Optimizer } from './training/optimizer';
export {
  evaluateSegmentation,
  type EvaluateSegmentationOptions,
  type EvaluationCase,
  type SegmentationEvaluation,
} from './inference/evaluate-segmentation';
export { evaluationMetrics, METRIC_NAME } from './inference/evaluation-metrics';
export {
  DEFAULT_BATCH_VOXELS,
  DEFAULT_MAX_WINDOW,
  argmaxLabels,
  predictLabels,
  predictProbabilities,
  windowStarts,
  type SlidingWindowOptions,
  type SlidingWindowProgress,
} from './inference/sliding-window';
export {
  segmentationLoss,
  type SegmentationLossKind,
  type SegmentationLossOptions,
} from './losses/segmentation-loss';
export { softDiceLoss } from './losses/soft-dice-loss';
export { crossEntropyLoss } from './losses/cross-entropy-loss';
export { defaultModelConfig, type ComputeTarget } from './model/default-configs';
export {
  exportFlatWeights,
  exportModel,
  saveExportedModel,
  type ExportedModel,
  type ExportQuantization,
} from './export/export-model';
export { loadExportedModel } from './export/load-exported-model';
