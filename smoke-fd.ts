import * as tf from '@tensorflow/tfjs-core';
import { ModelConfig } from '@fedseg/protocol';
import { initBackend } from './libs/models/src/backend/init-backend';
import { patchBatch } from './libs/models/src/data/patch-batch';
import { segmentationLoss } from './libs/models/src/losses/segmentation-loss';
import { createSegmentationModel } from './libs/models/src/model/segmentation-model';
import { centralDifference, relativeError } from './libs/models/src/testing/finite-difference';
import { spherePhantom } from './libs/models/src/testing/sphere-phantom';
import { seededRandom } from './libs/models/src/util/seeded-random';
(async () => {
  await initBackend('wasm');
  const config = ModelConfig.parse({ architecture: process.argv[2], normalization: process.argv[4], baseFilters: 2, depth: 2, groupNormGroups: 2, numClasses: 3 });
  const model = createSegmentationModel(config, 7);
  const sample = spherePhantom({ shape: [4, 4, 4], radius: 1.6, innerRadius: 0.8, noise: 0.3, seed: 5 });
  const { images, labels } = patchBatch([sample], [[0, 0, 0]], [4, 4, 4], 3);
  const variables = model.network.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss = (): tf.Scalar => segmentationLoss(model.network.apply(images, { training: true }) as tf.Tensor5D, labels, { kind: process.argv[3] as 'ce', diceSmooth: 1 });
  const { value, grads } = tf.variableGrads(loss, variables);
  console.log('loss', value.dataSync()[0]);
  for (const h of [1e-3, 5e-4]) {
    const rng = seededRandom(11);
    const analytic: number[] = []; const numeric: number[] = []; const names: string[] = [];
    for (const v of variables) {
      const g = grads[v.name]!.dataSync();
      const x0 = v.dataSync() as Float32Array;
      const indices = Array.from({ length: Math.min(4, v.size) }, () => rng.int(v.size));
      const f = (x: Float32Array): number => tf.tidy(() => { v.assign(tf.tensor(x, v.shape)); return loss().dataSync()[0]!; });
      numeric.push(...centralDifference(f, x0, h, indices));
      tf.tidy(() => v.assign(tf.tensor(x0, v.shape)));
      analytic.push(...indices.map((i) => g[i]!)); names.push(...indices.map(()=>v.name));
    }
    console.log('h', h, relativeError(analytic, numeric));
    const worst = analytic.map((a, i) => [Math.abs(a - numeric[i]!), a, numeric[i]!, names[i]] as const).sort((p, q) => q[0] - p[0]).slice(0, 4);
    
  }
})();
