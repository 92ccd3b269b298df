import * as tf from '@tensorflow/tfjs-core';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExportedModelError } from '../errors';
import type { FlatWeights, ModelConfig } from '@fedseg/protocol';
import { createSegmentationModel, type SegmentationModel } from '../model/segmentation-model';
import { setFlatWeights } from '../weights/flat-weights';
import { quantizeUint8 } from './quantize-uint8';

export type ExportQuantization = 'none' | 'uint8';

/** A model in tfjs's layers-model format: model.json text and the one weights file it names. */
export interface ExportedModel {
  modelJson: string;
  weightsBin: Uint8Array;
  /** File name model.json refers to. */
  weightsFile: string;
}

export const EXPORT_METADATA_KEY = 'fedseg';

/**
 * Serializes a model so that plain tfjs loads it: `tf.loadLayersModel(url)` in a browser, or
 * `loadExportedModel(dir)` here, after registering the custom layers (importing @fedseg/models does;
 * elsewhere call registerModelsExtensions). The ModelConfig rides along in userDefinedMetadata.
 * 'uint8' stores every weight as 8-bit (see quantizeUint8): about 4x smaller.
 */
export async function exportModel(
  model: SegmentationModel,
  quantization: ExportQuantization = 'none',
): Promise<ExportedModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.network.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
  if (!artifacts?.weightSpecs || !artifacts.weightData)
    throw new ExportedModelError('tfjs returned no weights while saving the model.');
  const raw = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  const { specs, data } =
    quantization === 'uint8'
      ? quantizeUint8(artifacts.weightSpecs, raw)
      : { specs: artifacts.weightSpecs, data: new Uint8Array(raw) };
  const weightsFile = quantization === 'uint8' ? 'weights.uint8.bin' : 'weights.bin';
  const json: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: `fedseg ${quantization === 'uint8' ? 'uint8' : 'float32'}`,
    weightsManifest: [{ paths: [weightsFile], weights: specs }],
    userDefinedMetadata: { [EXPORT_METADATA_KEY]: { modelConfig: model.config, quantization } },
  };
  return { modelJson: JSON.stringify(json), weightsBin: data, weightsFile };
}

/** Writes model.json and its weights file into `dir` (created if needed); returns their byte sizes. */
export async function saveExportedModel(
  dir: string,
  exported: ExportedModel,
): Promise<{ modelJsonBytes: number; weightsBytes: number }> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.json'), exported.modelJson);
  await writeFile(join(dir, exported.weightsFile), exported.weightsBin);
  return {
    modelJsonBytes: Buffer.byteLength(exported.modelJson),
    weightsBytes: exported.weightsBin.byteLength,
  };
}

/**
 * Exports a model given only its config and flat weights (what the coordinator holds for a global model).
 * The weights may be the full vector or, in FedBN studies, the vector without normalization parameters;
 * those then keep their initial values (scale 1, shift 0), which is what a new site would start from.
 */
export async function exportFlatWeights(
  config: ModelConfig,
  weights: FlatWeights,
  quantization: ExportQuantization = 'none',
): Promise<ExportedModel> {
  const model = createSegmentationModel(config, 0);
  try {
    const withoutNormalization = weights.manifest.length < model.network.weights.length;
    setFlatWeights(model, weights, { excludeNormalization: withoutNormalization });
    return await exportModel(model, quantization);
  } finally {
    model.dispose();
  }
}
