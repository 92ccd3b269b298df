import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelConfig, parseOrThrow } from '@fedseg/protocol';
import { ExportedModelError } from '../errors';
import { wrapNetwork, type SegmentationModel } from '../model/segmentation-model';
import { registerModelsExtensions } from '../register';
import { EXPORT_METADATA_KEY } from './export-model';

/**
 * Loads a directory written by saveExportedModel with tfjs's own loader (tf.io.fromMemory +
 * tf.loadLayersModel), which dequantizes uint8 weights; the custom layers are registered first.
 */
export async function loadExportedModel(dir: string): Promise<SegmentationModel> {
  registerModelsExtensions();
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  } catch (error) {
    throw new ExportedModelError(
      `Cannot read ${join(dir, 'model.json')}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const specs = (json.weightsManifest ?? []).flatMap((group) => group.weights);
  const files = (json.weightsManifest ?? []).flatMap((group) => group.paths);
  let buffers: Buffer[];
  try {
    buffers = await Promise.all(files.map((f) => readFile(join(dir, f))));
  } catch (error) {
    throw new ExportedModelError(
      `Missing weights in ${dir}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const weightData = tf.io.concatenateArrayBuffers(
    buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
  );
  const metadata = (json.userDefinedMetadata?.[EXPORT_METADATA_KEY] ?? {}) as { modelConfig?: unknown };
  const config = parseOrThrow(ModelConfig, metadata.modelConfig ?? {}, 'exported model config');
  const network = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: specs,
      weightData,
      format: json.format,
    }),
  );
  return wrapNetwork(config, network);
}
