import { initialFlatWeights } from '@fedseg/models/initial-weights';
import type { FlatWeights, ModelConfig } from '@fedseg/protocol';

/**
 * Round 0's global model, the same bits createSegmentationModel + getFlatWeights give a site for this config
 * and seed, computed from libs/models' tfjs-free entry: the coordinator process never loads tfjs (its RSS and
 * start-up time stay those of a web server). Every site starts from these weights whatever its backend.
 */
export async function createInitialWeights(
  model: ModelConfig,
  seed: number,
  options: { fedBn: boolean },
): Promise<FlatWeights> {
  // FedBN: normalization parameters never enter the global model; each site keeps its own.
  return initialFlatWeights(model, seed, { excludeNormalization: options.fedBn });
}
