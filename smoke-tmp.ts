import * as tf from '@tensorflow/tfjs-core';
import { initBackend, createSegmentationModel, trainLocal, evaluateSegmentation, getFlatWeights } from '@fedseg/models';
import { spherePhantom } from './libs/models/src/testing/sphere-phantom';
import { ModelConfig, TrainingConfig } from '@fedseg/protocol';
(async () => {
  const info = await initBackend((process.argv[2] as 'wasm') ?? 'wasm');
  console.log(info);
  for (const arch of ['unet3d', 'attention-unet3d', 'res-unet3d'] as const) {
    const model = createSegmentationModel(ModelConfig.parse({ architecture: arch, baseFilters: 4, depth: 2 }), 1);
    console.log(arch, getFlatWeights(model).data.length);
    const sample = spherePhantom({ shape: [16, 16, 16], radius: 5, seed: 3 });
    const t0 = Date.now();
    const mem0 = tf.memory().numTensors;
    const r = await trainLocal(model, [sample], TrainingConfig.parse({ epochs: 40, batchSize: 1, learningRate: 0.01, patchSize: [16, 16, 16] }));
    console.log(r, Date.now() - t0, 'ms', tf.memory().numTensors - mem0);
    console.log(await evaluateSegmentation(model, [sample]));
    model.dispose();
  }
})();
