import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/init-backend';
import { seededRandom } from '../util/seeded-random';

function rand(shape: number[], seed: number): tf.Tensor {
  const r = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => 2 * r.next() - 1), shape);
}
const ms = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.mul(a, b));
type Case = [string, () => tf.Tensor];
const x = (s: number[], seed = 1) => rand(s, seed);
const cases: Case[] = [
  ['conv3d 1->4 8^3', () => tf.conv3d(x([2, 8, 8, 8, 1]) as tf.Tensor5D, x([3, 3, 3, 1, 4], 2) as tf.Tensor5D, 1, 'same')],
  ['conv3d 4->4 8^3', () => tf.conv3d(x([2, 8, 8, 8, 4]) as tf.Tensor5D, x([3, 3, 3, 4, 4], 2) as tf.Tensor5D, 1, 'same')],
  ['conv3d 8->16 4^3', () => tf.conv3d(x([2, 4, 4, 4, 8]) as tf.Tensor5D, x([3, 3, 3, 8, 16], 2) as tf.Tensor5D, 1, 'same')],
  ['conv3d 1x1 4->3', () => tf.conv3d(x([2, 8, 8, 8, 4]) as tf.Tensor5D, x([1, 1, 1, 4, 3], 2) as tf.Tensor5D, 1, 'same')],
  ['conv3dT s2 8->4', () => tf.conv3dTranspose(x([2, 4, 4, 4, 8]) as tf.Tensor5D, x([2, 2, 2, 4, 8], 2) as tf.Tensor5D, [2, 8, 8, 8, 4], 2, 'same')],
  ['convBI 4->4 8^3', () => tf.grad((a: tf.Tensor) => ms(tf.conv3d(a as tf.Tensor5D, x([3, 3, 3, 4, 4], 2) as tf.Tensor5D, 1, 'same'), x([2, 8, 8, 8, 4], 3)))(x([2, 8, 8, 8, 4]))],
  ['convBF 4->4 8^3', () => tf.grad((w: tf.Tensor) => ms(tf.conv3d(x([2, 8, 8, 8, 4]) as tf.Tensor5D, w as tf.Tensor5D, 1, 'same'), x([2, 8, 8, 8, 4], 3)))(x([3, 3, 3, 4, 4], 2))],
  ['convBF 1->4 8^3', () => tf.grad((w: tf.Tensor) => ms(tf.conv3d(x([2, 8, 8, 8, 1]) as tf.Tensor5D, w as tf.Tensor5D, 1, 'same'), x([2, 8, 8, 8, 4], 3)))(x([3, 3, 3, 1, 4], 2))],
  ['convT grad x', () => tf.grad((a: tf.Tensor) => ms(tf.conv3dTranspose(a as tf.Tensor5D, x([2, 2, 2, 4, 8], 2) as tf.Tensor5D, [2, 8, 8, 8, 4], 2, 'same'), x([2, 8, 8, 8, 4], 3)))(x([2, 4, 4, 4, 8]))],
  ['convT grad w', () => tf.grad((w: tf.Tensor) => ms(tf.conv3dTranspose(x([2, 4, 4, 4, 8]) as tf.Tensor5D, w as tf.Tensor5D, [2, 8, 8, 8, 4], 2, 'same'), x([2, 8, 8, 8, 4], 3)))(x([2, 2, 2, 4, 8], 2))],
  ['maxpool3d', () => tf.maxPool3d(x([2, 8, 8, 8, 4]) as tf.Tensor5D, 2, 2, 'valid')],
  ['maxpool3d grad', () => tf.grad((a: tf.Tensor) => ms(tf.maxPool3d(a as tf.Tensor5D, 2, 2, 'valid'), x([2, 4, 4, 4, 4], 3)))(x([2, 8, 8, 8, 4]))],
  ['mean 123 keep', () => tf.mean(x([2, 8, 8, 8, 4]), [1, 2, 3], true)],
  ['mean 0123 keep', () => tf.mean(x([2, 8, 8, 8, 4]), [0, 1, 2, 3], true)],
  ['sum 123', () => tf.sum(x([2, 8, 8, 8, 4]), [1, 2, 3], true)],
  ['sum all', () => tf.sum(x([2, 8, 8, 8, 4]))],
  ['sum 0', () => tf.sum(x([2, 8, 8, 8, 4]), 0)],
  ['max -1', () => tf.max(x([2, 8, 8, 8, 4]), -1, true)],
  ['softmax', () => tf.softmax(x([2, 8, 8, 8, 3]))],
  ['logsoftmax', () => tf.logSoftmax(x([2, 8, 8, 8, 3]))],
  ['concat 4', () => tf.concat([x([2, 8, 8, 8, 4]), x([2, 8, 8, 8, 2], 2)], 4)],
  ['split 4', () => tf.split(x([2, 8, 8, 8, 6]), [4, 2], 4)[1]!],
  ['slice', () => tf.slice(x([2, 8, 8, 8, 6]), [0, 0, 0, 0, 2], [2, 8, 8, 8, 2])],
  ['reshape group', () => tf.mean(tf.reshape(x([2, 8, 8, 8, 4]), [2, 8, 8, 8, 2, 2]), [1, 2, 3, 5], true)],
  ['transpose', () => tf.transpose(x([2, 8, 8, 8, 4]), [0, 4, 1, 2, 3])],
  ['pad', () => tf.pad(x([2, 4, 4, 4, 4]), [[0, 0], [1, 1], [1, 1], [1, 1], [0, 0]])],
  ['pad c', () => tf.pad(x([2, 4, 4, 4, 4]), [[0, 0], [0, 0], [0, 0], [0, 0], [2, 3]], 0.5)],
  ['pad 4d', () => tf.pad(x([4, 4, 4, 4]), [[1, 0], [0, 2], [0, 0], [2, 3]])],
  ['slice grad', () => tf.grad((a: tf.Tensor) => ms(tf.slice(a, [0, 1, 0, 0, 2], [2, 3, 4, 4, 2]), x([2, 3, 4, 4, 2], 5)))(x([2, 4, 4, 4, 6]))],
  ['rsqrt', () => tf.rsqrt(tf.add(tf.abs(x([2, 8, 8, 8, 4])), 1e-5))],
  ['sigmoid', () => tf.sigmoid(x([2, 8, 8, 8, 1]))],
  ['mul bcast', () => tf.mul(x([2, 8, 8, 8, 4]), x([2, 1, 1, 1, 4], 2))],
  ['sub bcast', () => tf.sub(x([2, 8, 8, 8, 4]), x([1, 1, 1, 1, 4], 2))],
];
async function main(): Promise<void> {
  const res: Record<string, Float32Array> = {};
  await initBackend('cpu', { fastKernels: false });
  for (const [n, f] of cases) res[n] = (await tf.tidy(f).data()) as Float32Array;
  await initBackend('webgpu', { fastKernels: false });
  for (const [n, f] of cases) {
    const g = (await tf.tidy(f).data()) as Float32Array;
    const c = res[n]!;
    let d = 0, s = 0;
    for (let i = 0; i < c.length; i++) { d += (g[i]! - c[i]!) ** 2; s += c[i]! ** 2; }
    console.log(n.padEnd(20), g.length === c.length ? (Math.sqrt(d / s)).toExponential(2) : `len ${g.length} vs ${c.length}`);
  }
}
void main();
