import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ModelConfig } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import { ModelConfigError } from '../errors';
import { createSegmentationModel } from '../model/segmentation-model';
import { getFlatWeights } from '../weights/flat-weights';
import { initialFlatWeights, modelWeightManifest } from './model-plan';

const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Every architecture at every depth the ModelConfig allows, every normalization, odd channel counts. */
const configs: ModelConfig[] = [];
for (const architecture of ModelConfig.shape.architecture.unwrap().options) {
  for (const depth of architecture === 'tiny-convnet' ? [1, 3] : [1, 2, 3, 4, 5, 6]) {
    // Every normalization up to depth 4; deeper, batch norm only (its statistics order last), for time.
    const norms = ['instance', 'batch', 'group', 'none'] as const;
    for (const normalization of depth <= 4 ? norms : (['batch'] as const)) {
      configs.push(
        ModelConfig.parse({
          architecture,
          depth,
          normalization,
          // Residual blocks take their 1x1 skip conv where the channel count changes: 3 -> 2 at enc0.
          inChannels: depth % 2 === 0 ? 3 : 1,
          numClasses: 3,
          // Group norm needs the group count to divide every level's channels; the gate's F_int of 1.
          baseFilters: normalization === 'group' ? 2 : depth <= 2 ? 1 : 2,
          groupNormGroups: 2,
        }),
      );
    }
  }
}

describe('the tfjs-free model plan', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it.each(configs.map((c) => [`${c.architecture} depth ${c.depth} ${c.normalization}`, c] as const))(
    'equals createSegmentationModel + getFlatWeights bit for bit, with and without FedBN: %s',
    (_name, config) => {
      const seed = 1000 + config.depth;
      const model = createSegmentationModel(config, seed);
      try {
        for (const excludeNormalization of [false, true]) {
          const reference = getFlatWeights(model, { excludeNormalization });
          const planned = initialFlatWeights(config, seed, { excludeNormalization });
          expect(planned.manifest).toEqual(reference.manifest);
          expect(modelWeightManifest(config, { excludeNormalization })).toEqual(reference.manifest);
          expect(planned.data.length).toBe(reference.data.length);
          expect(bytes(planned.data).equals(bytes(reference.data))).toBe(true);
        }
      } finally {
        model.dispose();
      }
    },
  );

  it('covers what the comparison needs: kernels drawn, scales 1, FedBN dropping norms and statistics', () => {
    const config = ModelConfig.parse({ architecture: 'res-unet3d', depth: 2, normalization: 'batch' });
    const all = initialFlatWeights(config, 7);
    const names = all.manifest.map((s) => s.name);
    expect(names).toContain('enc0_skip_conv/kernel');
    // Running statistics are non-trainable: after every trainable weight, as tfjs-layers orders them.
    expect(names.at(-1)).toMatch(/_norm\/moving_variance$/);
    expect(names.indexOf('head/bias')).toBeLessThan(names.findIndex((n) => n.endsWith('moving_mean')));
    const slice = (name: string) => {
      const i = names.indexOf(name);
      const offset = all.manifest.slice(0, i).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
      return Array.from(
        all.data.subarray(offset, offset + all.manifest[i]!.shape.reduce((a, b) => a * b, 1)),
      );
    };
    expect(new Set(slice('enc0_a_norm/gamma'))).toEqual(new Set([1]));
    expect(new Set(slice('enc0_a_norm/moving_variance'))).toEqual(new Set([1]));
    expect(new Set(slice('enc0_a_conv/bias'))).toEqual(new Set([0]));
    // He uniform over fan_in 27 x 1: inside +-sqrt(6 / 27), and not constant.
    const kernel = slice('enc0_a_conv/kernel');
    expect(Math.max(...kernel.map(Math.abs))).toBeLessThanOrEqual(Math.fround(Math.sqrt(6 / 27)));
    expect(new Set(kernel).size).toBe(kernel.length);
    const fedBn = modelWeightManifest(config, { excludeNormalization: true });
    expect(fedBn.some((s) => s.name.includes('_norm/'))).toBe(false);
    expect(fedBn.length).toBeLessThan(all.manifest.length);
    // Another seed, other kernels; the same seed, the same bits.
    expect(bytes(initialFlatWeights(config, 8).data).equals(bytes(all.data))).toBe(false);
    expect(bytes(initialFlatWeights(config, 7).data).equals(bytes(all.data))).toBe(true);
  });

  it('refuses a group count that does not divide a level, as the tfjs builder does', () => {
    const config = ModelConfig.parse({ normalization: 'group', baseFilters: 6, groupNormGroups: 4 });
    expect(() => initialFlatWeights(config, 1)).toThrow(ModelConfigError);
    expect(() => initialFlatWeights(config, 1)).toThrow(
      /groupNormGroups 4 does not divide 6 channels \(layer enc0_a_norm\)/,
    );
    expect(() => createSegmentationModel(config, 1)).toThrow(
      /groupNormGroups 4 does not divide 6 channels \(layer enc0_a_norm\)/,
    );
  });

  it('loads no @tensorflow module (a fresh process imports the entry and lists what it loaded)', () => {
    const root = path.resolve(__dirname, '..', '..', '..', '..');
    const script = `
      require(${JSON.stringify(path.join(root, 'libs/models/src/initial-weights.ts'))});
      const loaded = Object.keys(require.cache);
      console.log(JSON.stringify({ files: loaded.length, tf: loaded.filter((f) => f.includes('@tensorflow')) }));`;
    const out = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
      cwd: root,
      env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.json'), NODE_OPTIONS: '' },
      encoding: 'utf8',
    });
    const { files, tf } = JSON.parse(out.trim().split('\n').at(-1)!) as { files: number; tf: string[] };
    expect(files).toBeGreaterThan(3);
    expect(tf).toEqual([]);
  });
});
