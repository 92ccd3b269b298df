/**
 * `npm run bench -- sliding-window [--shape 160,190,176] [--patch 32] [--batch 4] [--filters 8] [--depth 3]
 * [--plan-spacing 1.5]`: sliding-window inference (libs/models predictProbabilities, overlap 0.5, Gaussian
 * blending) of one whole 1 mm volume, as a site scores a validation case. With --plan-spacing the site path of
 * issue 18 is timed instead: crop to the body and resample to the plan's spacing (toPlanGrid), infer there,
 * argmax, and bring the labels back to the native grid (labelToNativeGrid). The volume is a synthetic
 * head-sized ellipsoid with zero air (the network is untrained: timing and memory do not depend on what it
 * predicts). Figures: wall and CPU seconds, windows, voxels/s and the process's peak RSS (getrusage maxrss, so
 * run one configuration per process). Issue 18's case, on the portable path:
 * `FEDSEG_NATIVE=0 npm run bench -- sliding-window --plan-spacing 1.5`.
 */
import { labelToNativeGrid, toPlanGrid } from '@fedseg/imaging';
import { ModelConfig } from '@fedseg/protocol';
import { createSegmentationModel, initBackend, predictLabels, predictProbabilities } from '@fedseg/models';

type Vec3 = [number, number, number];

function ellipsoid(shape: Vec3): Float32Array {
  const [nx, ny, nz] = shape;
  const out = new Float32Array(nx * ny * nz);
  let seed = 12345;
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        const r =
          ((x - nx / 2) / (nx * 0.4)) ** 2 +
          ((y - ny / 2) / (ny * 0.4)) ** 2 +
          ((z - nz / 2) / (nz * 0.4)) ** 2;
        seed = (seed * 1103515245 + 12345) >>> 0;
        // Air is exactly zero, as in skull-stripped or masked scans, so the body crop has something to find.
        out[i] = r < 1 ? 1 + 0.1 * (seed / 2 ** 32 - 0.5) : 0;
      }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const opt = (name: string, fallback: string): string => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
  };
  const shape = opt('shape', '160,190,176').split(',').map(Number) as Vec3;
  const patch = Number(opt('patch', '32'));
  const batch = Number(opt('batch', '0'));
  const planSpacing = Number(opt('plan-spacing', '0'));
  const backend = await initBackend('auto');
  const model = createSegmentationModel(
    ModelConfig.parse({ baseFilters: Number(opt('filters', '8')), depth: Number(opt('depth', '3')) }),
    1,
  );
  const image = ellipsoid(shape);
  const rssBeforeMb = process.resourceUsage().maxRSS / 1024;
  let windows = 0;
  const options: Record<string, unknown> = { patchSize: [patch, patch, patch], overlap: 0.5 };
  if (batch > 0) options['batchSize'] = batch;
  options['onProgress'] = (p: { done: number; total: number }): void => {
    windows = p.total;
  };
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let outputValues: number;
  if (planSpacing > 0) {
    const target: Vec3 = [planSpacing, planSpacing, planSpacing];
    const planCase = toPlanGrid({ data: image, shape, spacingMm: [1, 1, 1], channels: 1 }, undefined, target);
    const labels = await predictLabels(model, planCase.image.data, planCase.image.shape, 1, options);
    outputValues = labelToNativeGrid(labels, planCase.image.shape, target, planCase.native).length;
  } else {
    outputValues = (await predictProbabilities(model, image, shape, 1, options)).length;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const voxels = shape[0] * shape[1] * shape[2];
  const row = {
    backend: backend.name,
    shape: shape.join('x'),
    patch,
    batch: batch || 'default',
    planSpacingMm: planSpacing || 'native',
    windows: windows || 'n/a',
    seconds: Number(seconds.toFixed(1)),
    // CPU time of this process: less sensitive than wall time to other jobs on a shared machine.
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
    voxelsPerS: Math.round(voxels / seconds),
    rssBeforeInferenceMb: Math.round(rssBeforeMb),
    peakRssMb: Math.round(peakRssMb),
    outputValues,
  };
  console.table([row]);
  console.log(JSON.stringify({ bench: 'sliding-window', ...row }));
  model.dispose();
}
