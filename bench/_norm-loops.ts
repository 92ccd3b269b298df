import { instanceNormBackward, instanceNormForward } from '../libs/models/src/kernels/instance-norm-loops';
import { sumBlock } from '../libs/models/src/kernels/reduce-axes';
import { median } from './bench-util';
const n = 2, s = 48 ** 3, c = 8;
const x = new Float32Array(n * s * c).map(() => Math.random());
const y = new Float32Array(x.length), dx = new Float32Array(x.length), stats = new Float32Array(n * c * 2);
const g = new Float32Array(c).fill(1), b = new Float32Array(c), dg = new Float32Array(c), db = new Float32Array(c);
const out = new Float32Array(16);
for (const [name, f] of [
  ['forward', () => instanceNormForward(x, g, b, n, s, c, 1e-5, y, stats)],
  ['backward', () => instanceNormBackward(x, y, g, stats, n, s, c, dx, dg, db)],
  ['sum [1,2,3]', () => sumBlock(x, { outer: n, reduce: s, inner: c, outShape: [] }, 1, out)],
  ['copy', () => y.set(x)],
] as const) {
  const t: number[] = [];
  for (let i = 0; i < 9; i++) { const t0 = performance.now(); f(); t.push(performance.now() - t0); }
  console.log(name, median(t).toFixed(2), 'ms');
}
