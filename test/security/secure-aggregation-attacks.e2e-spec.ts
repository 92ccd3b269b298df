import type { Socket } from 'socket.io-client';
import { SecAggSite } from '@fedseg/aggregation';
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
  signMessage,
  signPlanApproval,
  verifyMessage,
  type SecAggRequest,
  type ShareKeys,
  type StudyConfigInput,
  type Task,
} from '@fedseg/protocol';
import {
  RoundEvents,
  connectTestSite,
  enrollTestSite,
  fetchOfferedModel,
  helloFor,
  type TestSite,
} from '@fedseg/coordinator';
import { startFederation, type Federation } from '../support/federation';
import { waitFor } from '../support/http';
import { ack, unchanged } from './security-harness';

/**
 * Secure aggregation against sites that misbehave, on PostgreSQL: three sites driven from this test with
 * real keys answer each phase with the real SecAggSite, and before each honest answer the phase is attacked
 * (forged and misattributed signatures, wrong phase, incomplete shares, plain or malformed updates,
 * unmasking by a dropped site). Each attack is refused with its code and changes no row; then the round
 * completes and commits exactly the FedAvg of the two sites that sent masked updates.
 */
describe('attacks on secure aggregation (PostgreSQL)', () => {
  let fed: Federation;
  let studyId: string;
  const sites: TestSite[] = [];
  const sockets: Socket[] = [];
  const requests = new Map<string, SecAggRequest[]>(); // site name -> requests received
  const tasks = new Map<string, { task: Task; blob: Uint8Array }>();
  const state = new Map<string, SecAggSite>();
  const SAMPLES = [3, 5, 4];
  const phases: string[] = [];

  const study: StudyConfigInput = {
    name: 'secure aggregation attacks',
    model: { architecture: 'unet3d', numClasses: 3, baseFilters: 2, depth: 2 },
    training: { epochs: 1, batchSize: 2, patchSize: [16, 16, 16], seed: 1 },
    secureAggregation: { threshold: 2, phaseDeadlineMs: 600_000 },
    rounds: 1,
    minSites: 2,
    sites: ['sa-1', 'sa-2', 'sa-3'],
    roundDeadlineMs: 600_000,
    siteWaitMs: 120_000,
  };

  const refused = (code: string) =>
    expect.objectContaining({ ok: false, error: expect.objectContaining({ code }) });

  async function nextRequest(i: number, phase: SecAggRequest['phase']): Promise<SecAggRequest> {
    return waitFor(
      `a ${phase} request`,
      async () => requests.get(sites[i]!.name)?.find((r) => r.phase === phase),
      60_000,
      20,
    );
  }

  const reply = (i: number, signed: unknown) => ack(sockets[i]!, AgentEvents.secAggReply, signed);

  function maskedUpdate(i: number, task: Task, ring: Uint32Array, codec = SECURE_AGGREGATION_CODEC) {
    const site = sites[i]!;
    return sealUpdate(
      {
        taskId: task.taskId,
        studyId,
        round: 1,
        siteId: site.siteId,
        samples: SAMPLES[i]!,
        trainLoss: 1,
        steps: 1,
        codec,
      },
      encodeTensors([{ name: MASKED_UPDATE_TENSOR, shape: [ring.length], dtype: 'uint32', data: ring }]),
      {
        coordinatorAgreementPublicKey: site.coordinator.agreementPublicKey,
        siteSigningSecretKey: site.keys.signingSecretKey,
      },
    );
  }

  async function send(socket: Socket, sealed: ReturnType<typeof sealUpdate>) {
    const begun = await ack(socket, AgentEvents.updateBegin, sealed.begin);
    if (!begun.ok) return begun;
    let last = begun;
    for (let index = 0; index < sealed.chunks.length; index++) {
      last = await ack(
        socket,
        AgentEvents.updateChunk,
        { nonce: sealed.begin.header.nonce, index },
        Buffer.from(sealed.chunks[index]!),
      );
      if (!last.ok) return last;
    }
    return last;
  }

  beforeAll(async () => {
    fed = await startFederation({ postgres: true, prefix: 'fedseg-secagg-attacks' });
    studyId = await fed.createStudy(study);
    for (const name of study.sites!) {
      const site = await enrollTestSite(fed.url, fed.adminToken, name);
      const socket = await connectTestSite(fed.url, site);
      socket.on(AgentEvents.secAggRequest, (signed: unknown) => {
        const parsed = SignedSecAggRequest.parse(signed);
        // what an agent checks first: the pinned coordinator signed it
        expect(
          verifyMessage(
            SignatureDomains.secAggRequest,
            parsed.request,
            parsed.signature,
            site.coordinator.signingPublicKey,
          ),
        ).toBe(true);
        requests.set(name, [...(requests.get(name) ?? []), parsed.request]);
      });
      socket.on(AgentEvents.task, async (signed: unknown, offer: unknown) => {
        const task = SignedTask.parse(signed).task;
        tasks.set(name, { task, blob: await fetchOfferedModel(socket, offer) });
      });
      expect((await ack(socket, AgentEvents.hello, helloFor(site))).ok).toBe(true);
      const plan = (await ack(socket, AgentEvents.planGet, { studyId })) as unknown as { planHash: string };
      const approval = {
        studyId,
        siteId: site.siteId,
        planHash: plan.planHash,
        approvedAt: new Date().toISOString(),
      };
      expect(
        (await ack(socket, AgentEvents.planApprove, signPlanApproval(approval, site.keys.signingSecretKey)))
          .ok,
      ).toBe(true);
      sites.push(site);
      sockets.push(socket);
    }
    fed.coordinator.app.get(RoundEvents).subscribe((e) => {
      if (e.type === 'round-phase' && e.studyId === studyId) phases.push(e.phase);
    });
    await fed.startStudy(studyId);
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    await fed?.close();
  });

  it('advertise: refuses forged, misattributed and out-of-phase messages, then takes the honest ones', async () => {
    const first = await nextRequest(0, 'advertise');
    for (const site of sites)
      state.set(
        site.name,
        new SecAggSite({
          studyId,
          round: 1,
          siteId: site.siteId,
          threshold: 2,
          signingSecretKey: site.keys.signingSecretKey,
        }),
      );
    const honest = state.get('sa-1')!.advertise();
    // signed by another site's key
    const forged = {
      reply: honest.reply,
      signature: signMessage(SignatureDomains.secAggReply, honest.reply, sites[1]!.keys.signingSecretKey),
    };
    expect(await unchanged(fed.prisma, () => reply(0, forged))).toEqual(refused('BAD_SIGNATURE'));
    // another site's message, sent on this site's connection
    const other = state.get('sa-2')!.advertise();
    expect(await unchanged(fed.prisma, () => reply(0, other))).toEqual(refused('SITE_MISMATCH'));
    // a share message while the round collects keys
    const early = {
      reply: {
        studyId,
        round: 1,
        phase: 'share',
        siteId: sites[0]!.siteId,
        selfMaskCommitment: '0'.repeat(64),
        shares: [],
      },
    };
    const earlySigned = {
      ...early,
      signature: signMessage(SignatureDomains.secAggReply, early.reply, sites[0]!.keys.signingSecretKey),
    };
    expect(await unchanged(fed.prisma, () => reply(0, earlySigned))).toEqual(refused('PHASE_CLOSED'));
    expect(first.phase).toBe('advertise');

    expect(await reply(0, honest)).toEqual({ ok: true });
    expect(await unchanged(fed.prisma, () => reply(0, honest))).toEqual({ ok: true }); // a re-send is idempotent
    expect(await reply(1, other)).toEqual({ ok: true });
    expect(await reply(2, state.get('sa-3')!.advertise())).toEqual({ ok: true });
  });

  it('share: refuses shares that skip a roster site and new keys, then takes the honest ones', async () => {
    const request = await nextRequest(0, 'share');
    if (request.phase !== 'share') throw new Error('expected a share request');
    expect(request.roster.map((r) => r.keys.siteId).sort()).toEqual(sites.map((s) => s.siteId).sort());
    const honest = sites.map((s) => state.get(s.name)!.share(request));
    const partial = { ...(honest[0]!.reply as ShareKeys) };
    partial.shares = partial.shares.slice(1);
    const partialSigned = {
      reply: partial,
      signature: signMessage(SignatureDomains.secAggReply, partial, sites[0]!.keys.signingSecretKey),
    };
    expect(await unchanged(fed.prisma, () => reply(0, partialSigned))).toEqual(refused('SECAGG_BAD_SHARES'));
    // new keys once the roster is out: refused (a re-send of the same keys is only acknowledged)
    const rekeyed = new SecAggSite({
      studyId,
      round: 1,
      siteId: sites[0]!.siteId,
      threshold: 2,
      signingSecretKey: sites[0]!.keys.signingSecretKey,
    }).advertise();
    expect(await unchanged(fed.prisma, () => reply(0, rekeyed))).toEqual(refused('DUPLICATE_SECAGG'));
    expect(await unchanged(fed.prisma, () => reply(0, state.get('sa-1')!.advertise()))).toEqual({ ok: true });
    for (const i of [0, 1, 2]) expect(await reply(i, honest[i])).toEqual({ ok: true });
  });

  it('masked training: refuses plain and malformed updates; two sites mask, the third drops out', async () => {
    const received = await waitFor(
      '3 training tasks',
      async () => (tasks.size === 3 ? tasks : undefined),
      60_000,
      20,
    );
    const global = decodeWeights(received.get('sa-1')!.blob).data;
    const task0 = received.get('sa-1')!.task;
    expect(task0.kind === 'train' && task0.secureAggregation?.maskers.length).toBe(3);
    // a plain update to a masked study
    const plain = maskedUpdate(0, task0, new Uint32Array(global.length * 2), 'none');
    expect(await unchanged(fed.prisma, () => send(sockets[0]!, plain))).toEqual(refused('CODEC_MISMATCH'));
    // a masked update of the wrong length
    const short = maskedUpdate(0, task0, new Uint32Array(global.length));
    expect(await unchanged(fed.prisma, () => send(sockets[0]!, short))).toEqual(refused('MANIFEST_MISMATCH'));
    // honest: sa-1 and sa-2 send delta = (site index + 1) * 1e-3 on every weight, masked
    for (const i of [0, 1]) {
      const { task } = received.get(sites[i]!.name)!;
      if (task.kind !== 'train' || !task.secureAggregation)
        throw new Error('expected a masked training task');
      const delta = new Float32Array(global.length).fill((i + 1) * 1e-3);
      const ring = state.get(sites[i]!.name)!.mask(task.secureAggregation, delta, SAMPLES[i]!);
      expect((await send(sockets[i]!, maskedUpdate(i, task, ring))).ok).toBe(true);
    }
    expect(
      await ack(sockets[2]!, AgentEvents.secAggDeclined, {
        studyId,
        round: 1,
        phase: 'mask',
        reason: 'test: drops out',
      }),
    ).toEqual({ ok: true });
  });

  it("unmask: refuses incomplete shares and a dropped site's shares; the survivors unmask and FedAvg is exact", async () => {
    const request = await nextRequest(0, 'unmask');
    if (request.phase !== 'unmask') throw new Error('expected an unmask request');
    expect(request.survivors.sort()).toEqual([sites[0]!.siteId, sites[1]!.siteId].sort());
    expect(request.dropped).toEqual([sites[2]!.siteId]);
    const honest = state.get('sa-1')!.unmask(request);
    const incomplete = { ...honest.reply, maskKeyShares: [] } as typeof honest.reply;
    const incompleteSigned = {
      reply: incomplete,
      signature: signMessage(SignatureDomains.secAggReply, incomplete, sites[0]!.keys.signingSecretKey),
    };
    expect(await unchanged(fed.prisma, () => reply(0, incompleteSigned))).toEqual(
      refused('SECAGG_BAD_SHARES'),
    );
    // the dropped site never masked, so its own SecAggSite refuses; a hand-made message is refused by the coordinator
    expect(() => state.get('sa-3')!.unmask(request)).toThrow(/sent no masked update/);
    const fromDropped = { ...honest.reply, siteId: sites[2]!.siteId };
    const fromDroppedSigned = {
      reply: fromDropped,
      signature: signMessage(SignatureDomains.secAggReply, fromDropped, sites[2]!.keys.signingSecretKey),
    };
    expect(await unchanged(fed.prisma, () => reply(2, fromDroppedSigned))).toEqual(
      refused('SECAGG_NOT_PARTICIPANT'),
    );

    expect(await reply(0, honest)).toEqual({ ok: true });
    expect(await reply(1, state.get('sa-2')!.unmask(request))).toEqual({ ok: true });
    // evaluation: every site reports, so the round completes
    const evals = await waitFor(
      '3 evaluation tasks',
      async () =>
        [...tasks.values()].filter((t) => t.task.kind === 'evaluate').length === 3 ? tasks : undefined,
      60_000,
      20,
    );
    for (const [i, site] of sites.entries()) {
      const { task } = evals.get(site.name)!;
      const report = {
        taskId: task.taskId,
        studyId,
        round: 1,
        split: 'val',
        samples: 1,
        metrics: { dice: 0.5 },
      };
      expect((await ack(sockets[i]!, AgentEvents.metricsReport, report)).ok).toBe(true);
    }
    await fed.waitForCompletion(studyId, 60_000);
    const [before, after] = [await fed.model(studyId, 0), await fed.model(studyId, 1)];
    // FedAvg of the two survivors, by hand: (3 * d1 + 5 * d2) / 8 with the float32 deltas they masked
    const step =
      (SAMPLES[0]! * Math.fround(1e-3) + SAMPLES[1]! * Math.fround(2e-3)) / (SAMPLES[0]! + SAMPLES[1]!);
    let maxError = 0;
    for (let i = 0; i < before.length; i++)
      maxError = Math.max(maxError, Math.abs(after[i]! - (before[i]! + step)));
    expect(maxError).toBeLessThan(1e-6);
    expect(step).toBeGreaterThan(1e-3); // so an unchanged model could not pass
    // the live view heard every phase change, in order
    expect(phases).toEqual(['sharing', 'training', 'unmasking', 'aggregating']);
  });
});
