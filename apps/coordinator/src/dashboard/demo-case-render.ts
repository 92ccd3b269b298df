import {
  PHANTOM_LABELS,
  REFERENCE_SITE,
  createRng,
  diceScore,
  encodeNifti,
  phantomCase,
  zScoreNormalize,
} from '@fedseg/imaging';
import { createSegmentationModel, initBackend, predictLabels, setFlatWeights } from '@fedseg/models';
import { decodeWeights } from '@fedseg/protocol';
import type { DemoCaseRendered, DemoCaseRequest } from './demo-case-contract';

/** Fixed, so every checkpoint of every study is shown on the same case. */
const DEMO_SEED = 20_260_101;

/**
 * The first phantom from DEMO_SEED on that has every foreground class (a case may draw no lesion: their
 * count is Poisson), so the viewer shows each class; deterministic for a given shape.
 */
function demoPhantom(shape: [number, number, number], channels: number, numClasses: number) {
  let drawn = phantomCase(REFERENCE_SITE, shape, channels, createRng(DEMO_SEED));
  for (let seed = DEMO_SEED + 1; seed < DEMO_SEED + 64; seed++) {
    const present = new Set(drawn.label);
    if (Array.from({ length: numClasses - 1 }, (_, i) => i + 1).every((c) => present.has(c))) break;
    drawn = phantomCase(REFERENCE_SITE, shape, channels, createRng(seed));
  }
  return drawn;
}

/**
 * A phantom the coordinator draws itself (REFERENCE_SITE scanner, the study's patch size as its shape, so one
 * window covers it as in training), z-score normalized as agents do, segmented by the checkpoint on the cpu
 * backend (in demo-case-child.ts's process, never the coordinator's); the three volumes as NIfTI-1. No site data is involved: the coordinator holds none. With FedBN the
 * checkpoint has no normalization parameters, so the network's initial ones are used.
 */
export async function renderDemoCase(input: DemoCaseRequest): Promise<DemoCaseRendered> {
  const { model: modelConfig, training } = input;
  const shape = [...training.patchSize] as [number, number, number];
  const { image, label } = demoPhantom(shape, modelConfig.inChannels, modelConfig.numClasses);
  const normalized = zScoreNormalize(image);
  const started = performance.now();
  await initBackend('cpu');
  const net = createSegmentationModel(modelConfig, 0);
  let predicted: Uint8Array;
  try {
    setFlatWeights(net, decodeWeights(input.weights), { excludeNormalization: training.fedBn });
    predicted = await predictLabels(net, normalized.data, shape, normalized.channels, {
      patchSize: training.patchSize,
    });
  } finally {
    net.dispose();
  }
  const inferenceMs = performance.now() - started;
  const names = Object.fromEntries(Object.entries(PHANTOM_LABELS).map(([name, value]) => [value, name]));
  const labels = Array.from({ length: modelConfig.numClasses - 1 }, (_, i) => {
    const dice = diceScore(predicted, label, i + 1);
    return { value: i + 1, name: names[i + 1] ?? `class ${i + 1}`, dice: Number.isNaN(dice) ? null : dice };
  });
  const asVolume = (data: Uint8Array) => ({ ...image, channels: 1, data: Float32Array.from(data) });
  return {
    view: { shape, spacingMm: image.spacingMm, labels, inferenceMs },
    image: encodeNifti(image, 'image.nii'),
    label: encodeNifti(asVolume(label), 'label.nii', { datatype: 'uint8' }),
    prediction: encodeNifti(asVolume(predicted), 'prediction.nii', { datatype: 'uint8' }),
  };
}
