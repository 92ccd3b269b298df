import { Injectable } from '@nestjs/common';
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
import { decodeWeights, type DemoCaseView, type DemoCaseVolume } from '@fedseg/protocol';
import { StudyStateError } from '../common/errors';
import { GlobalModelService } from '../rounds/global-model.service';
import { RoundsRepository } from '../rounds/rounds.repository';
import { StudiesRepository } from '../studies/studies.repository';

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
/** Results kept per (study, round); a few volumes of tens of kilobytes each. */
const CACHE_ENTRIES = 16;

interface RenderedCase {
  view: DemoCaseView;
  volumes: Record<DemoCaseVolume, Uint8Array>;
}

/**
 * The dashboard's viewer case: a synthetic phantom the coordinator draws itself (REFERENCE_SITE scanner, the
 * study's patch size as its shape, so one window covers it as in training), z-score normalized as agents do,
 * segmented by a checkpoint on the coordinator's cpu backend. No site data is involved, by design: the
 * coordinator holds none. With FedBN the checkpoint carries no normalization parameters, so the network's
 * initial ones are used, and the prediction is worse than the sites' own.
 */
@Injectable()
export class DemoCaseService {
  private readonly cache = new Map<string, Promise<RenderedCase>>();

  constructor(
    private readonly studies: StudiesRepository,
    private readonly rounds: RoundsRepository,
    private readonly globalModels: GlobalModelService,
  ) {}

  async view(studyId: string, round?: number): Promise<DemoCaseView> {
    return (await this.render(studyId, round)).view;
  }

  async volume(studyId: string, volume: DemoCaseVolume, round?: number): Promise<Uint8Array> {
    return (await this.render(studyId, round)).volumes[volume];
  }

  private async render(studyId: string, round?: number): Promise<RenderedCase> {
    const study = await this.studies.get(studyId);
    const index = round ?? (await this.rounds.latestCheckpoint(studyId))?.roundIndex;
    if (index === undefined)
      throw new StudyStateError(`Study ${studyId} has no checkpoint yet; start it first.`);
    const key = `${studyId}:${index}`;
    let rendered = this.cache.get(key);
    if (!rendered) {
      rendered = this.compute(study, index);
      // A failed render is not kept: the next request tries again.
      rendered.catch(() => this.cache.delete(key));
      this.cache.set(key, rendered);
      if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    }
    return rendered;
  }

  private async compute(
    study: Awaited<ReturnType<StudiesRepository['get']>>,
    round: number,
  ): Promise<RenderedCase> {
    const found = await this.globalModels.blobOf(study.id, round);
    if (!found) throw new StudyStateError(`Study ${study.id} has no checkpoint for round ${round}.`);
    const { model: modelConfig, training } = study.config;
    const shape = [...training.patchSize] as [number, number, number];
    const { image, label } = demoPhantom(shape, modelConfig.inChannels, modelConfig.numClasses);
    const input = zScoreNormalize(image);
    const started = performance.now();
    await initBackend('cpu');
    const net = createSegmentationModel(modelConfig, 0);
    let predicted: Uint8Array;
    try {
      setFlatWeights(net, decodeWeights(found.blob), { excludeNormalization: training.fedBn });
      predicted = await predictLabels(net, input.data, shape, input.channels, {
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
      view: {
        round,
        checkpointSha256: found.sha256,
        shape,
        spacingMm: image.spacingMm,
        labels,
        inferenceMs,
      },
      volumes: {
        'image.nii': encodeNifti(image, 'image.nii'),
        'label.nii': encodeNifti(asVolume(label), 'label.nii', { datatype: 'uint8' }),
        'prediction.nii': encodeNifti(asVolume(predicted), 'prediction.nii', { datatype: 'uint8' }),
      },
    };
  }
}
