import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { describeKernels, initBackend } from '@fedseg/models';
import type { AgentLog } from '../console-log';
import { loadSiteData, type SiteData } from '../site-data';
import { TaskExecutor } from '../task-executor';
import { TaskRefusedError } from '../task-result';
import { movable, type ComputeReply, type ComputeRequest } from './compute-messages';

/**
 * The agent's compute thread (issue 18): tfjs, the site's volumes, local training and sliding-window evaluation
 * live here, so hours of work never hold up the socket thread's heartbeats, progress events and acks. The
 * socket thread (compute-thread.ts) owns the connection and every key; this thread never sees a key, and asks
 * the socket thread to mask an update under secure aggregation.
 *
 * Test-only knob: FEDSEG_TEST_EVALUATION_DELAY_MS blocks this thread for that long (Atomics.wait, the way a
 * long CPU-bound evaluation would block it) before each evaluation, so an end-to-end test can show that the
 * connection survives a slow evaluation without computing for minutes. Read only here; never set it in
 * production. FEDSEG_TEST_TRAINING_DELAY_MS does the same before each local training (`npm run soak:long-local`).
 *
 * Test-only knob: FEDSEG_TEST_COMPUTE_EXIT=train|evaluate|fingerprint makes the agent's first compute thread exit
 * (code 70, as a crash would end it) when that request arrives, so a test can show the socket thread declines
 * the task and restarts the thread; a restarted thread ignores it. Never set it in production.
 */
const port = parentPort;
if (!port) throw new Error('compute-worker.ts runs only as a worker thread (see compute-thread.ts)');

// Structured clone copies typed arrays; `transfer` moves buffers instead (the update: see movable).
const post = (reply: ComputeReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);
const log: AgentLog = {
  info: (line) => post({ type: 'log', level: 'info', line }),
  warn: (line) => post({ type: 'log', level: 'warn', line }),
  error: (line) => post({ type: 'log', level: 'warn', line }),
  // Progress travels as typed messages (train-progress, evaluate-progress) instead.
  progress: () => undefined,
};

let executor: TaskExecutor | undefined;
let siteData: SiteData | undefined;
const pendingMasks = new Map<number, { resolve(ring: Uint32Array): void; reject(err: Error): void }>();

const TestComputeExit = z.enum(['train', 'evaluate', 'fingerprint']).optional();
const testExitAt = ((): z.infer<typeof TestComputeExit> => {
  const raw = process.env.FEDSEG_TEST_COMPUTE_EXIT || undefined;
  const parsed = TestComputeExit.safeParse(raw);
  if (!parsed.success)
    throw new Error(`FEDSEG_TEST_COMPUTE_EXIT=${raw} is not one of train, evaluate, fingerprint (test only)`);
  const restarts = z.object({ restarts: z.int().min(0) }).parse(workerData).restarts;
  return restarts === 0 ? parsed.data : undefined;
})();

function testEvaluationDelayMs(): number {
  const ms = Number(process.env.FEDSEG_TEST_EVALUATION_DELAY_MS ?? 0);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

async function handle(request: ComputeRequest): Promise<void> {
  if (testExitAt !== undefined && request.type === testExitAt) {
    log.warn(`FEDSEG_TEST_COMPUTE_EXIT: the compute thread exits on ${request.type} (test only)`);
    process.exit(70);
  }
  switch (request.type) {
    case 'init': {
      try {
        const o = request.options;
        const backend = await initBackend(o.backend);
        const data = await loadSiteData(o.data, { valFraction: o.valFraction, seed: o.seed });
        siteData = data;
        executor = new TaskExecutor(data, log, { site: o.site, dumpUpdates: o.dumpUpdates });
        post({
          type: 'ready',
          backend: { name: backend.name, adapter: backend.adapter, skipped: backend.skipped },
          kernels: describeKernels(),
          trainCases: data.trainCases,
          valCases: data.valCases,
        });
      } catch (err) {
        post({ type: 'init-failed', message: (err as Error).message });
      }
      return;
    }
    case 'masked':
      pendingMasks.get(request.id)?.resolve(request.ring);
      pendingMasks.delete(request.id);
      return;
    case 'mask-failed':
      pendingMasks.get(request.id)?.reject(new TaskRefusedError(request.message));
      pendingMasks.delete(request.id);
      return;
    case 'train':
    case 'evaluate':
      await runTask(request);
      return;
    case 'fingerprint':
      try {
        if (!siteData) throw new Error('the compute thread has not loaded the site data');
        const fingerprint = await siteData.fingerprint({ memoryMb: request.memoryMb });
        post({ type: 'fingerprinted', id: request.id, fingerprint });
      } catch (err) {
        post({ type: 'failed', id: request.id, refused: false, message: (err as Error).message });
      }
      return;
  }
}

async function runTask(request: Extract<ComputeRequest, { type: 'train' | 'evaluate' }>): Promise<void> {
  const { id } = request;
  try {
    if (!executor) throw new Error('the compute thread has not loaded the site data');
    if (request.type === 'train') {
      const trainDelayMs = Number(process.env.FEDSEG_TEST_TRAINING_DELAY_MS ?? 0);
      if (Number.isFinite(trainDelayMs) && trainDelayMs > 0) {
        log.warn(
          `FEDSEG_TEST_TRAINING_DELAY_MS: blocking the compute thread for ${trainDelayMs} ms (test only)`,
        );
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, trainDelayMs);
      }
      const mask = request.masked
        ? (delta: Float32Array, weight: number) =>
            new Promise<Uint32Array>((resolve, reject) => {
              pendingMasks.set(id, { resolve, reject });
              post({ type: 'mask', id, delta, weight });
            })
        : undefined;
      const result = await executor.train(
        request.task,
        request.weights,
        (progress) => post({ type: 'train-progress', id, progress }),
        mask,
      );
      post(
        { type: 'trained', id, meta: result.meta, blob: result.blob, codec: result.codec },
        movable(result.blob),
      );
    } else {
      const delayMs = testEvaluationDelayMs();
      if (delayMs > 0) {
        log.warn(
          `FEDSEG_TEST_EVALUATION_DELAY_MS: blocking the compute thread for ${delayMs} ms (test only)`,
        );
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delayMs);
      }
      const report = await executor.evaluate(request.task, request.weights, (p) =>
        post({ type: 'evaluate-progress', id, ...p }),
      );
      post({ type: 'evaluated', id, report });
    }
  } catch (err) {
    post({ type: 'failed', id, refused: err instanceof TaskRefusedError, message: (err as Error).message });
  }
}

// One task at a time, in arrival order (the socket thread queues them too); mask answers bypass the queue, since
// the task waiting for one holds it.
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: ComputeRequest) => {
  if (request.type === 'masked' || request.type === 'mask-failed') void handle(request);
  else queue = queue.then(() => handle(request));
});
