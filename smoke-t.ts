import * as tf from '@tensorflow/tfjs-core';
import { ModelConfig } from '@fedseg/protocol';
import { initBackend } from './libs/models/src/backend/init-backend';
import { createSegmentationModel } from './libs/models/src/model/segmentation-model';
import { restoreOriginalKernels } from './libs/models/src/kernels';
(async () => {
  await initBackend(process.argv[2] as 'cpu'); if (process.argv[3]) console.log(restoreOriginalKernels(process.argv[2]!));
  const model = createSegmentationModel(ModelConfig.parse({ architecture: 'unet3d', baseFilters: 2, depth: 2, numClasses: 3 }), 7);
  const x = tf.randomNormal([2, 4, 4, 4, 1]);
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    for (let j = 0; j < 20; j++) tf.tidy(() => (model.network.apply(x, { training: true }) as tf.Tensor).dataSync());
    console.log('fwd ms', (performance.now() - t0) / 20);
  }
  const p = await tf.profile(() => tf.tidy(() => (model.network.apply(x, { training: true }) as tf.Tensor).dataSync()));
  const byName = new Map<string, number>();
  for (const k of p.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  console.log([...byName].sort((a, b) => b[1] - a[1]).slice(0, 8));
})();
