import * as tf from '@tensorflow/tfjs-core';
import { ModelConfig } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import { patchBatch } from '../data/patch-batch';
import { segmentationLoss } from '../losses/segmentation-loss';
import { createSegmentationModel } from '../model/segmentation-model';
import { centralDifference, relativeError } from '../testing/finite-difference';
import { spherePhantom } from '../testing/sphere-phantom';
import { seededRandom } from '../util/seeded-random';

/**
 * Backpropagation through a whole tiny network (every op of the U-Net family: conv3d, instance/group norm,
 * ReLU, max-pool, conv3dTranspose, concat, attention gate, residual add, softmax Dice + CE) against central
 * finite differences of the loss, on 4 sampled entries of every weight tensor, batch of 2 (so batch norm
 * differs from instance norm). Float32 rounding of the loss limits FD accuracy: h = 1e-3 balances truncation
 * and ReLU/max-pool kinks (both shrink with h; h = 1e-2 gave 1-3% here) against rounding (eps32 |L| / h,
 * about 2e-4); the check is the relative error of the whole sampled gradient vector, ||g - g_fd|| / ||g_fd||.
 */
const architectures = [
  { architecture: 'unet3d', normalization: 'instance' },
  { architecture: 'attention-unet3d', normalization: 'group' },
  { architecture: 'res-unet3d', normalization: 'batch' },
] as const;

jest.setTimeout(120_000);

describe.each(['wasm', 'cpu'] as const)('whole-network gradient on %s', (backend) => {
  beforeAll(async () => {
    // Stock tfjs kernels: this checks our graph and gradients, not the optional fast kernels.
    expect((await initBackend(backend, { fastKernels: false })).name).toBe(backend);
  });

  it.each(architectures)(
    '$architecture ($normalization norm) matches central finite differences',
    ({ architecture, normalization }) => {
      const config = ModelConfig.parse({
        architecture,
        normalization,
        baseFilters: 2,
        depth: 2,
        groupNormGroups: 2,
        numClasses: 3,
      });
      const model = createSegmentationModel(config, 7);
      const samples = [5, 6].map((seed) =>
        spherePhantom({ shape: [4, 4, 4], radius: 1.6, innerRadius: 0.8, noise: 0.3, seed }),
      );
      const { images, labels } = patchBatch(
        samples,
        [
          [0, 0, 0],
          [0, 0, 0],
        ],
        [4, 4, 4],
        3,
      );
      const variables = model.network.trainableWeights.map((w) => w.read() as tf.Variable);
      const loss = (): tf.Scalar =>
        segmentationLoss(model.network.apply(images, { training: true }) as tf.Tensor5D, labels, {
          kind: 'dice-ce',
          diceSmooth: 1,
        });
      const { value, grads } = tf.variableGrads(loss, variables);
      value.dispose();
      const rng = seededRandom(11);
      const analytic: number[] = [];
      const numeric: number[] = [];
      for (const v of variables) {
        const g = grads[v.name]!.dataSync();
        const x0 = v.dataSync() as Float32Array;
        const indices = Array.from({ length: Math.min(4, v.size) }, () => rng.int(v.size));
        const f = (x: Float32Array): number =>
          tf.tidy(() => {
            v.assign(tf.tensor(x, v.shape));
            return loss().dataSync()[0]!;
          });
        numeric.push(...centralDifference(f, x0, 1e-3, indices));
        tf.tidy(() => v.assign(tf.tensor(x0, v.shape)));
        analytic.push(...indices.map((i) => g[i]!));
      }
      tf.dispose([images, labels, ...Object.values(grads)]);
      model.dispose();
      const error = relativeError(analytic, numeric);
      if (process.env['FEDSEG_PRINT_FIGURES'])
        console.log(
          `network gradient ${backend} ${architecture}/${normalization}: rel err ${error.toExponential(2)} over ${numeric.length} entries`,
        );
      expect(error).toBeLessThan(1e-2);
    },
  );
});
