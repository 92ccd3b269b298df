/**
 * The simulated sites of `npm run bench -- round`: enrolled sites on authenticated sockets that approve the
 * plan, check each task's signature and answer each training task at once with a small random delta (no
 * training), sealed and signed like a real agent's, and each evaluation with fixed metrics. They run on a
 * worker thread of their own (`startSitesThread`), as real sites run on machines of their own: their sealing
 * and signing is not charged to the coordinator's event loop. `runSites` runs them on the calling thread.
 */
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Socket } from 'socket.io-client';
import { SecAggSite, encodeUpdate } from '@fedseg/aggregation';
import {
  connectTestSite,
  fetchOfferedModel,
  helloFor,
  sendWithAck,
  type TestSite,
} from '../apps/coordinator/src/testing/test-site';
import {
  AgentEvents,
  MASKED_UPDATE_TENSOR,
  SECURE_AGGREGATION_CODEC,
  SignatureDomains,
  SignedSecAggRequest,
  SignedTask,
  decodeWeights,
  encodeTensors,
  sealUpdate,
  signPlanApproval,
  verifyMessage,
} from '@fedseg/protocol';

/** What one site did over a study: bytes each way, and its own handling time per round. */
export interface SiteStats {
  downBytes: number;
  upBytes: number;
  /** [round, ms] pairs (a Map does not cross a thread as such). */
  handlingMs: Array<[number, number]>;
}

interface LiveStats {
  downBytes: number;
  upBytes: number;
  handlingMs: Map<number, number>;
}

async function simulatedSite(url: string, site: TestSite, stats: LiveStats): Promise<Socket> {
  const socket = await connectTestSite(url, site);
  // Secure aggregation: the site's secrets of the current round, answered like a real agent (SecAggSite).
  let secure: SecAggSite | undefined;
  socket.on(AgentEvents.secAggRequest, (payload: unknown) => {
    const started = performance.now();
    const { request, signature } = SignedSecAggRequest.parse(payload);
    if (!verifyMessage(SignatureDomains.secAggRequest, request, signature, site.coordinator.signingPublicKey))
      throw new Error('secure-aggregation request signature does not verify');
    if (request.phase === 'advertise')
      secure = new SecAggSite({
        studyId: request.studyId,
        round: request.round,
        siteId: site.siteId,
        threshold: request.threshold,
        signingSecretKey: site.keys.signingSecretKey,
      });
    const reply =
      request.phase === 'advertise'
        ? secure!.advertise()
        : request.phase === 'share'
          ? secure!.share(request)
          : secure!.unmask(request);
    stats.upBytes += JSON.stringify(reply).length;
    stats.handlingMs.set(
      request.round,
      (stats.handlingMs.get(request.round) ?? 0) + performance.now() - started,
    );
    socket.emit(AgentEvents.secAggReply, reply, () => undefined);
  });
  socket.on(AgentEvents.task, async (payload: unknown, offer: unknown) => {
    const started = performance.now();
    const { task, signature } = SignedTask.parse(payload);
    if (!verifyMessage(SignatureDomains.task, task, signature, site.coordinator.signingPublicKey))
      throw new Error('task signature does not verify');
    if (task.kind === 'train') {
      // An evaluation needs no weights here; a training task pulls the model like an agent without a cache.
      const blob = await fetchOfferedModel(socket, offer);
      stats.downBytes += blob.byteLength;
      const global = decodeWeights(blob);
      const delta = new Float32Array(global.data.length);
      for (let i = 0; i < delta.length; i++) delta[i] = (Math.random() - 0.5) * 1e-3;
      const masking = task.secureAggregation;
      const ring = masking ? secure!.mask(masking, delta, 4) : null;
      const update = ring
        ? encodeTensors([{ name: MASKED_UPDATE_TENSOR, shape: [ring.length], dtype: 'uint32', data: ring }])
        : encodeTensors(
            encodeUpdate(task.plan.compression, delta, null, { manifest: global.manifest }).tensors,
          );
      const sealed = sealUpdate(
        {
          taskId: task.taskId,
          studyId: task.studyId,
          round: task.round,
          siteId: site.siteId,
          samples: 4,
          trainLoss: 1,
          steps: 1,
          codec: ring ? SECURE_AGGREGATION_CODEC : task.plan.compression.codec,
        },
        update,
        {
          coordinatorAgreementPublicKey: site.coordinator.agreementPublicKey,
          siteSigningSecretKey: site.keys.signingSecretKey,
        },
      );
      stats.upBytes += sealed.chunks.reduce((n, c) => n + c.byteLength, 0);
      stats.handlingMs.set(task.round, (stats.handlingMs.get(task.round) ?? 0) + performance.now() - started);
      socket.emit(AgentEvents.updateBegin, sealed.begin, () => {
        sealed.chunks.forEach((chunk, index) =>
          socket.emit(
            AgentEvents.updateChunk,
            { nonce: sealed.begin.header.nonce, index },
            Buffer.from(chunk),
            () => undefined,
          ),
        );
      });
    } else {
      socket.emit(
        AgentEvents.metricsReport,
        {
          taskId: task.taskId,
          studyId: task.studyId,
          round: task.round,
          split: 'val',
          samples: 1,
          metrics: { dice: 0.5 },
        },
        () => undefined,
      );
    }
  });
  const reply = await sendWithAck(socket, AgentEvents.hello, { ...helloFor(site), maxConcurrentStudies: 1 });
  if (!reply.ok) throw new Error(`hello refused: ${JSON.stringify(reply)}`);
  return socket;
}

/** The sites of one study, connected and consenting to its plan; `finish` disconnects them and returns their stats. */
export interface RunningSites {
  finish(): Promise<SiteStats[]>;
}

export async function runSites(
  url: string,
  sites: readonly TestSite[],
  studyId: string,
): Promise<RunningSites> {
  const stats = sites.map((): LiveStats => ({ downBytes: 0, upBytes: 0, handlingMs: new Map() }));
  const sockets = await Promise.all(sites.map((site, i) => simulatedSite(url, site, stats[i]!)));
  const plan = (await sendWithAck(sockets[0]!, AgentEvents.planGet, { studyId })) as unknown as {
    planHash: string;
  };
  await Promise.all(
    sockets.map((socket, i) =>
      sendWithAck(
        socket,
        AgentEvents.planApprove,
        signPlanApproval(
          {
            studyId,
            siteId: sites[i]!.siteId,
            planHash: plan.planHash,
            approvedAt: new Date().toISOString(),
          },
          sites[i]!.keys.signingSecretKey,
        ),
      ),
    ),
  );
  return {
    finish: async () => {
      for (const socket of sockets) socket.close();
      return stats.map((s) => ({
        downBytes: s.downBytes,
        upBytes: s.upBytes,
        handlingMs: [...s.handlingMs],
      }));
    },
  };
}

type ToSites = { type: 'finish' };
type FromSites =
  { type: 'ready' } | { type: 'stats'; stats: SiteStats[] } | { type: 'failed'; message: string };

/** `runSites` on a worker thread of its own. */
export async function startSitesThread(
  url: string,
  sites: readonly TestSite[],
  studyId: string,
): Promise<RunningSites> {
  const bootstrap = `require('@swc-node/register'); require(${JSON.stringify(path.join(__dirname, 'round-sites.ts'))});`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { roundSites: { url, sites, studyId } } });
  const next = () =>
    new Promise<FromSites>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  const ready = await next();
  if (ready.type === 'failed') throw new Error(`simulated sites: ${ready.message}`);
  return {
    finish: async () => {
      const reply = next();
      worker.postMessage({ type: 'finish' } satisfies ToSites);
      const answer = await reply;
      await worker.terminate();
      if (answer.type !== 'stats') throw new Error(`simulated sites: ${JSON.stringify(answer)}`);
      return answer.stats;
    },
  };
}

if (!isMainThread && (workerData as { roundSites?: unknown } | null)?.roundSites) {
  const { url, sites, studyId } = (
    workerData as { roundSites: { url: string; sites: TestSite[]; studyId: string } }
  ).roundSites;
  const port = parentPort!;
  runSites(url, sites, studyId).then(
    (running) => {
      port.once('message', (message: ToSites) => {
        if (message.type === 'finish')
          void running
            .finish()
            .then((stats) => port.postMessage({ type: 'stats', stats } satisfies FromSites));
      });
      port.postMessage({ type: 'ready' } satisfies FromSites);
    },
    (err: unknown) => port.postMessage({ type: 'failed', message: String(err) } satisfies FromSites),
  );
}
