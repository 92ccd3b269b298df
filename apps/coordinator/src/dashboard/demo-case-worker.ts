import { parentPort } from 'node:worker_threads';
import { renderDemoCase, type DemoCaseInput } from './demo-case-render';

/**
 * The demo case's inference in a worker thread (demo-case.service.ts starts one per render): tfjs on the
 * cpu backend runs synchronously for seconds, which on the coordinator's own thread would stall every socket.
 */
parentPort!.once('message', (input: DemoCaseInput) => {
  renderDemoCase(input).then(
    (out) =>
      parentPort!.postMessage(
        { ok: true, out },
        // encodeNifti allocates each file in a buffer of its own: moved, not copied.
        [out.image, out.label, out.prediction].map((bytes) => bytes.buffer as ArrayBuffer),
      ),
    (err: unknown) =>
      parentPort!.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) }),
  );
});
