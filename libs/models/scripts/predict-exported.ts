/**
 * Fresh-process check for exports (used by export-model.spec.ts): loads an exported model with tfjs's loader
 * on the wasm backend (FEDSEG_FAST_KERNELS=0 for tfjs's own kernels), segments one raw volume and writes the label map.
 * usage: predict-exported.ts <modelDir> <image.f32> <nx> <ny> <nz> <channels> <labels.u8> [wx,wy,wz]
 * (the optional last argument is the sliding window; default: the whole volume in one window)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { initBackend, loadExportedModel, predictLabels } from '../src';

async function main(): Promise<void> {
  const [dir, imagePath, nx, ny, nz, channels, outPath, window] = process.argv.slice(2);
  if (!dir || !imagePath || !outPath) {
    console.error(
      'usage: predict-exported.ts <modelDir> <image.f32> <nx> <ny> <nz> <channels> <labels.u8> [wx,wy,wz]',
    );
    process.exit(2);
  }
  await initBackend('wasm');
  const model = await loadExportedModel(dir);
  const bytes = readFileSync(imagePath);
  const image = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const windowSize = window ? (window.split(',').map(Number) as [number, number, number]) : undefined;
  const labels = await predictLabels(model, image, [Number(nx), Number(ny), Number(nz)], Number(channels), {
    windowSize,
  });
  writeFileSync(outPath, labels);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
