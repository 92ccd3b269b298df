import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { DemoCaseView, type DemoCaseVolume } from '@fedseg/protocol';
import { StudyStateError } from '../common/errors';
import { GlobalModelService } from '../rounds/global-model.service';
import { RoundsRepository } from '../rounds/rounds.repository';
import { StudiesRepository, type StudyRecord } from '../studies/studies.repository';
import type { DemoCaseInput } from './demo-case-render';

/** Results kept per (study, round); a few volumes of tens of kilobytes each. */
const CACHE_ENTRIES = 16;

/** Checked by tag, not instanceof: a structured clone may come from another realm (jest's vm sandbox). */
const Bytes = z.custom<Uint8Array>((v) => Object.prototype.toString.call(v) === '[object Uint8Array]', {
  message: 'expected a Uint8Array',
});

/** What demo-case-worker.ts posts back (a thread boundary: parsed like any other input). */
const WorkerReply = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    out: z.object({
      view: DemoCaseView.omit({ round: true, checkpointSha256: true }),
      image: Bytes,
      label: Bytes,
      prediction: Bytes,
    }),
  }),
  z.object({ ok: z.literal(false), message: z.string() }),
]);

interface RenderedCase {
  view: DemoCaseView;
  volumes: Record<DemoCaseVolume, Uint8Array>;
}

/**
 * Runs renderDemoCase in a fresh worker thread, so the coordinator's sockets keep flowing through seconds
 * of tfjs work. From a checkout the worker registers swc first (a worker does not inherit require hooks);
 * compiled JavaScript runs as it is (the site agent's compute thread does the same).
 */
function renderInWorker(input: DemoCaseInput): Promise<z.infer<typeof WorkerReply>> {
  const entry = path.join(__dirname, `demo-case-worker${path.extname(__filename)}`);
  const bootstrap = `
    const { workerData } = require('node:worker_threads');
    if (workerData.entry.endsWith('.ts')) require('@swc-node/register');
    require(workerData.entry);`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { entry } });
  return new Promise((resolve, reject) => {
    worker.once('message', (raw: unknown) => {
      const reply = WorkerReply.safeParse(raw);
      if (reply.success) resolve(reply.data);
      else reject(new Error(`the demo case worker answered off contract: ${reply.error.message}`));
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the demo case worker exited (code ${code})`)));
    worker.postMessage(input);
  });
}

/**
 * The dashboard viewer's demo case: a checkpoint's prediction on a synthetic phantom the coordinator draws
 * itself (demo-case-render.ts), never site data. Rendered once per (study, round), off the main thread.
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

  private async compute(study: StudyRecord, round: number): Promise<RenderedCase> {
    const found = await this.globalModels.blobOf(study.id, round);
    if (!found) throw new StudyStateError(`Study ${study.id} has no checkpoint for round ${round}.`);
    const reply = await renderInWorker({
      model: study.config.model,
      training: study.config.training,
      weights: found.blob,
    });
    if (!reply.ok) throw new Error(`the demo case could not be segmented: ${reply.message}`);
    const { view, image, label, prediction } = reply.out;
    return {
      view: { round, checkpointSha256: found.sha256, ...view },
      volumes: { 'image.nii': image, 'label.nii': label, 'prediction.nii': prediction },
    };
  }
}
