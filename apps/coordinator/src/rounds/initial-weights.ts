import { createSegmentationModel, getFlatWeights, initBackend } from '@fedseg/models';
import type { FlatWeights, ModelConfig } from '@fedseg/protocol';

/**
 * Round 0's global model. Built once by the coordinator (on the plain cpu backend: initialisation is
 * cheap) so every site starts from the same weights whatever its own backend.
 */
export async function createInitialWeights(
  model: ModelConfig,
  seed: number,
  options: { fedBn: boolean },
): Promise<FlatWeights> {
  await initBackend('cpu');
  const net = createSegmentationModel(model, seed);
  try {
    // FedBN: normalization parameters never enter the global model; each site keeps its own.
    return getFlatWeights(net, { excludeNormalization: options.fedBn });
  } finally {
    net.dispose();
  }
}
