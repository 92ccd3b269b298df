import { fork } from 'node:child_process';
import path from 'node:path';
import { Injectable } from '@nestjs/common';
import type { DemoCaseView, DemoCaseVolume } from '@fedseg/protocol';
import { StudyStateError } from '../common/errors';
import { GlobalModelService } from '../rounds/global-model.service';
import { RoundsRepository } from '../rounds/rounds.repository';
import { StudiesRepository, type StudyRecord } from '../studies/studies.repository';
import { DemoCaseReply, type DemoCaseRequest } from './demo-case-contract';

/** Results kept per (study, round); a few volumes of tens of kilobytes each. */
const CACHE_ENTRIES = 16;

/** swc's settings for a child run from a checkout (the workspace's paths), as scripts/run-ts.js sets them. */
const WORKSPACE_TSCONFIG = path.resolve(__dirname, '..', '..', '..', '..', 'tsconfig.json');

/** The child's stderr kept for the error when it dies without answering. */
const STDERR_TAIL_BYTES = 4_096;

interface RenderedCase {
  view: DemoCaseView;
  volumes: Record<DemoCaseVolume, Uint8Array>;
}

/**
 * Runs renderDemoCase in a fresh child process (demo-case-child.ts), not in a worker thread: a worker would
 * load tfjs into the coordinator's own process (its memory for as long as the process lives), which issue 19
 * rules out; a child's memory is returned when it exits, and its seconds of cpu work never touch the
 * coordinator's event loop. From a checkout the child registers swc first; compiled JavaScript runs as it is.
 */
function renderInChild(input: DemoCaseRequest): Promise<DemoCaseReply> {
  const entry = path.join(__dirname, `demo-case-child${path.extname(__filename)}`);
  const child = fork(entry, [], {
    execArgv: entry.endsWith('.ts') ? ['--require', require.resolve('@swc-node/register')] : [],
    env: entry.endsWith('.ts')
      ? { ...process.env, TS_NODE_PROJECT: process.env['TS_NODE_PROJECT'] ?? WORKSPACE_TSCONFIG }
      : process.env,
    // Structured clone keeps the volumes and the checkpoint as bytes (JSON would inflate them).
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_BYTES);
  });
  return new Promise((resolve, reject) => {
    child.once('message', (raw: unknown) => {
      const reply = DemoCaseReply.safeParse(raw);
      if (reply.success) resolve(reply.data);
      else reject(new Error(`the demo case process answered off contract: ${reply.error.message}`));
      child.kill();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(
        new Error(`the demo case process exited (${signal ?? `code ${code}`}) without an answer: ${stderr}`),
      ),
    );
    child.send(input);
  });
}

/**
 * The dashboard viewer's demo case: a checkpoint's prediction on a synthetic phantom the coordinator draws
 * itself (demo-case-render.ts), never site data. Rendered once per (study, round), in a child process.
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
    const reply = await renderInChild({
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
