import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadNativeKernels } from './native-addon';

/**
 * The addon remembers its per-shape choice in a file (libs/native-kernels/src/plan-store.cc): a second
 * process reuses it without searching and computes the same convolution; torn or foreign lines are
 * ignored. Each process is a fresh `node` with FEDSEG_NATIVE_PLAN_CACHE pointing at a temporary file.
 * Skipped where the addon is not built.
 */
const addon = path.resolve(__dirname, '..', '..', '..', 'native-kernels');

// Backward-data of a small 3x3x3 convolution (mode 2, the search), against the plain layout (mode 0).
const SCRIPT = `
const { binding } = require(${JSON.stringify(addon)});
const p = Int32Array.from([2, 6, 5, 7, 8, 6, 5, 7, 8, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
const dy = Float32Array.from({ length: 2 * 6 * 5 * 7 * 8 }, (_, i) => Math.sin(i));
const w = Float32Array.from({ length: 27 * 64 }, (_, i) => Math.cos(i));
const searched = new Float32Array(dy.length), plain = new Float32Array(dy.length);
binding.conv3d(1, p, 2, dy, w, searched);
binding.conv3d(1, p, 2, dy, w, searched);
binding.conv3d(1, p, 0, dy, w, plain);
let worst = 0;
for (let i = 0; i < plain.length; i++) worst = Math.max(worst, Math.abs(searched[i] - plain[i]));
console.log(JSON.stringify({ worst }));
`;

function runProcess(cacheFile: string): { worst: number } {
  const result = spawnSync(process.execPath, ['-e', SCRIPT], {
    encoding: 'utf8',
    env: { ...process.env, FEDSEG_NATIVE_PLAN_CACHE: cacheFile, OMP_WAIT_POLICY: 'passive' },
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as { worst: number };
}

const describeIfNative = loadNativeKernels().kernels ? describe : describe.skip;

describeIfNative('the addon remembers its convolution choices across processes', () => {
  it('writes one line per searched shape, reuses it, and ignores lines it cannot read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-plans-'));
    const file = path.join(dir, 'nested', 'plans.txt');
    try {
      expect(runProcess(file).worst).toBeLessThan(1e-4);
      const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(1);
      // key, layout (0 plain, 1 blocked, 2 direct), skip, implementation name
      expect(lines[0]).toMatch(/^onednn[\d.]+\/isa\d+\/threads\d+\/kind1,[\d,]+\t[012]\t\d+\t[\w:]+\t?$/);
      // A second process finds the shape: no search, nothing appended, the same convolution.
      expect(runProcess(file).worst).toBeLessThan(1e-4);
      expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
      // Garbage, and a choice naming an implementation oneDNN does not offer there: searched again.
      const key = lines[0]!.split('\t')[0]!;
      fs.writeFileSync(file, `not a line\n${key}\t1\t0\tno:such_impl\t\n`);
      expect(runProcess(file).worst).toBeLessThan(1e-4);
      expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
