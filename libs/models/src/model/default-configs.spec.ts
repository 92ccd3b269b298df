import { ModelConfig } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import { getFlatWeights } from '../weights/flat-weights';
import { defaultModelConfig } from './default-configs';
import { createSegmentationModel } from './segmentation-model';

/**
 * Parameter counts counted by hand, independently of the model code: a k^3 conv from cin to cout has
 * k^3 * cin * cout + cout parameters; instance/group norm 2 per channel (gamma, beta); batch norm 4
 * (plus running mean and variance). The CPU U-Net is BENCHMARKS.md's bench-unet3d ("85k parameters").
 */
const conv = (k: number, cin: number, cout: number): number => k ** 3 * cin * cout + cout;

function byHand(
  architecture: string,
  inC: number,
  classes: number,
  base: number,
  depth: number,
  normPerChannel = 2,
): number {
  const f = (level: number): number => base * 2 ** level;
  const unit = (cin: number, c: number): number => conv(3, cin, c) + normPerChannel * c;
  const block = (cin: number, c: number): number =>
    unit(cin, c) +
    unit(c, c) +
    (architecture === 'res-unet3d' && cin !== c ? conv(1, cin, c) + normPerChannel * c : 0);
  let total = 0;
  for (let level = 0; level < depth; level++) total += block(level === 0 ? inC : f(level - 1), f(level));
  for (let level = depth - 2; level >= 0; level--) {
    total += conv(2, f(level + 1), f(level)); // transposed conv up
    if (architecture === 'attention-unet3d') {
      const inter = Math.floor(f(level) / 2);
      total += 2 * f(level) * inter + inter + inter + 1; // W_x, W_g, bias, psi, psi bias
    }
    total += block(2 * f(level), f(level));
  }
  return total + conv(1, f(0), classes);
}

describe('default model configs', () => {
  beforeAll(async () => {
    await initBackend('cpu', { fastKernels: false });
  });

  it('the CPU 3D U-Net is bench-unet3d: 85,346 parameters, worked out level by level', () => {
    const encoder =
      conv(3, 1, 8) +
      16 +
      conv(3, 8, 8) +
      16 +
      conv(3, 8, 16) +
      32 +
      conv(3, 16, 16) +
      32 +
      conv(3, 16, 32) +
      64 +
      conv(3, 32, 32) +
      64;
    const decoder =
      conv(2, 32, 16) +
      conv(3, 32, 16) +
      32 +
      conv(3, 16, 16) +
      32 +
      conv(2, 16, 8) +
      conv(3, 16, 8) +
      16 +
      conv(3, 8, 8) +
      16;
    expect(encoder + decoder + conv(1, 8, 2)).toBe(85_346);
    const model = createSegmentationModel(defaultModelConfig('unet3d', 'cpu'), 0);
    expect(getFlatWeights(model).data.length).toBe(85_346);
    model.dispose();
  });

  it.each([
    ['unet3d', 'cpu', 85_346],
    ['attention-unet3d', 'cpu', 85_692], // + gates 2*16*8+8+8+1 = 273 and 2*8*4+4+4+1 = 73
    ['res-unet3d', 'cpu', 86_874], // + 1x1x1 shortcuts with norm where channels change: 1,528
    ['unet3d', 'gpu', 5_602_562],
    ['attention-unet3d', 'gpu', 5_624_293],
    ['res-unet3d', 'gpu', 5_690_722],
  ] as const)('%s (%s default) has %i parameters, as counted by hand', (architecture, target, count) => {
    const config = defaultModelConfig(architecture, target);
    expect(byHand(architecture, config.inChannels, config.numClasses, config.baseFilters, config.depth)).toBe(
      count,
    );
    const model = createSegmentationModel(config, 0);
    expect(getFlatWeights(model).data.length).toBe(count);
    model.dispose();
  });

  it('counts batch norm running statistics and extra input channels and classes', () => {
    const config = ModelConfig.parse({
      architecture: 'res-unet3d',
      normalization: 'batch',
      inChannels: 4,
      numClasses: 3,
      baseFilters: 4,
      depth: 3,
    });
    const model = createSegmentationModel(config, 0);
    expect(getFlatWeights(model).data.length).toBe(byHand('res-unet3d', 4, 3, 4, 3, 4));
    model.dispose();
  });
});
