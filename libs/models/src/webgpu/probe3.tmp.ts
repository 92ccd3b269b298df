import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelConfig } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import { patchBatch } from '../data/patch-batch';
import { createSegmentationModel } from '../model/segmentation-model';
import { spherePhantom } from '../testing/sphere-phantom';

async function run(backend: 'cpu' | 'webgpu'): Promise<Map<string, Float32Array>> {
  await initBackend(backend, { fastKernels: false });
  const config = ModelConfig.parse({ architecture: 'unet3d', normalization: 'instance', baseFilters: 4, depth: 3, groupNormGroups: 2, numClasses: 3 });
  const model = createSegmentationModel(config, 7);
  const out = new Map<string, Float32Array>();
  for (const w of model.network.weights) out.set('W ' + w.originalName, (await w.read().data()) as Float32Array);
  const samples = [3, 4].map((seed) => spherePhantom({ shape: [8, 8, 8], radius: 3, innerRadius: 1.5, noise: 0.3, seed }));
  const { images } = patchBatch(samples, [[0, 0, 0], [0, 0, 0]], [8, 8, 8], 3);
  out.set('images', (await images.data()) as Float32Array);
  const net = model.network;
  const probe = tfl.model({ inputs: net.inputs, outputs: net.layers.slice(1).map((l) => l.output as tfl.SymbolicTensor) });
  const outs = probe.apply(images, { training: true }) as tf.Tensor[];
  for (let i = 0; i < outs.length; i++) out.set(`L${i} ${net.layers[i + 1]!.name}`, (await outs[i]!.data()) as Float32Array);
  return out;
}
async function main(): Promise<void> {
  const c = await run('cpu');
  const g = await run('webgpu');
  for (const [k, a] of c) {
    const b = g.get(k)!;
    let d = 0, s = 0;
    for (let i = 0; i < a.length; i++) { d += (a[i]! - b[i]!) ** 2; s += a[i]! ** 2; }
    console.log(k.padEnd(40), (Math.sqrt(d / s)).toExponential(2), a.length, b.length);
  }
}
void main();
