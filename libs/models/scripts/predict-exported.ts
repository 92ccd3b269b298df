/**
 * Fresh-process check for exports (used by export-model.spec.ts): loads an exported model with tfjs's loader
 * on the wasm backend, segments one raw volume and writes the label map.
 * usage: predict-exported.ts <modelDir> <image.f32> <nx> <ny> <nz> <channels> <labels.u8>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { initBackend, loadExportedModel, predictLabels } from '@fedseg/models';

async function main(): Promise<void> {
  const [dir, imagePath, nx, ny, nz, channels, outPath] = process.argv.slice(2);
  if (!dir || !imagePath || !outPath) throw new Error('usage: predict-exported.ts <modelDir> <image.f32> <nx> <ny> <nz> <channels> <labels.u8>');
  await initBackend('wasm');
  const model = await loadExportedModel(dir);
  const bytes = readFileSync(imagePath);
  const image = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const labels = predictLabels(model, image, [Number(nx), Number(ny), Number(nz)], Number(channels));
  writeFileSync(outPath, labels);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
