import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { encodeUpdate } from '@fedseg/aggregation';
import { generateConsortium } from '@fedseg/imaging';
import {
  AgentEvents,
  SignatureDomains,
  SignedTask,
  connectAuth,
  decodeWeights,
  encodeTensors,
  enrollRequest,
  generateIdentity,
  planHash,
  sealUpdate,
  signMessage,
  signPlanApproval,
  type SealedUpdate,
  type StudyConfigInput,
  type Task,
} from '@fedseg/protocol';
import {
  connectTestSite,
  enrollTestSite,
  fetchOfferedModel,
  helloFor,
  issueEnrollmentToken,
  type TestSite,
} from '@fedseg/coordinator';
import { startFederation, type Federation } from '../support/federation';
import { request, waitFor } from '../support/http';
import { ack, flipBit, randomUuid, unchanged } from './security-harness';

/**
 * The security suite: a federation on real PostgreSQL with two honest agents as child processes and an
 * "insider" site driven from this test with real keys. While round 1 waits for the insider, every attack
 * below is tried; each must be refused with a clear error and change no row. At the end the insider
 * behaves, and the study completes: nothing an attacker did cost the honest sites their rounds.
 */
const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');
const ROUNDS = 2;

interface Received {
  task: Task;
  blob: Uint8Array;
}

describe('attacks on a running federation (PostgreSQL)', () => {
  let fed: Federation;
  let studyId: string;
  let insider: TestSite;
  let outsider: TestSite;
  let bystander: TestSite;
  let insiderSocket: Socket;
  let outsiderSocket: Socket;
  let trainTask: Received;
  let honestSeal: SealedUpdate;
  let autoTrain = false;
  const extraSockets: Socket[] = [];

  const study: StudyConfigInput = {
    name: 'security suite',
    model: { architecture: 'unet3d', numClasses: 3, baseFilters: 2, depth: 2 },
    training: { epochs: 1, batchSize: 2, patchSize: [16, 16, 16], seed: 1 },
    rounds: ROUNDS,
    minSites: 3,
    sites: ['honest-1', 'honest-2', 'insider'],
    roundDeadlineMs: 600_000,
    siteWaitMs: 120_000,
  };

  /** What an honest site sends: an uncompressed zero delta for this task's global model. */
  function honestPlaintext(received: Received, mutate?: (delta: Float32Array) => void): Uint8Array {
    const global = decodeWeights(received.blob);
    const delta = new Float32Array(global.data.length);
    mutate?.(delta);
    return encodeTensors(encodeUpdate({ codec: 'none' }, delta, null, { manifest: global.manifest }).tensors);
  }

  function seal(
    site: TestSite,
    task: Task,
    plaintext: Uint8Array,
    fields: Record<string, unknown> = {},
  ): SealedUpdate {
    return sealUpdate(
      {
        taskId: task.taskId,
        studyId: task.studyId,
        round: task.round,
        siteId: site.siteId,
        samples: 3,
        trainLoss: 0.5,
        steps: 1,
        codec: 'none',
        ...fields,
      },
      plaintext,
      {
        coordinatorAgreementPublicKey: site.coordinator.agreementPublicKey,
        siteSigningSecretKey: site.keys.signingSecretKey,
      },
      1024,
    );
  }

  async function send(socket: Socket, sealed: SealedUpdate, chunks = sealed.chunks) {
    const begun = await ack(socket, AgentEvents.updateBegin, sealed.begin);
    if (!begun.ok) return begun;
    let last = begun;
    for (let i = 0; i < chunks.length; i++) {
      last = await ack(
        socket,
        AgentEvents.updateChunk,
        { nonce: sealed.begin.header.nonce, index: i },
        Buffer.from(chunks[i]!),
      );
      if (!last.ok) return last;
    }
    return last;
  }

  async function connectAs(site: TestSite): Promise<Socket> {
    const socket = await connectTestSite(fed.url, site);
    extraSockets.push(socket);
    const hello = await ack(socket, AgentEvents.hello, helloFor(site));
    if (!hello.ok) throw new Error(`hello refused: ${JSON.stringify(hello)}`);
    return socket;
  }

  async function approveOverSocket(socket: Socket, site: TestSite, id: string): Promise<void> {
    const plan = (await ack(socket, AgentEvents.planGet, { studyId: id })) as unknown as { planHash: string };
    const approved = await ack(
      socket,
      AgentEvents.planApprove,
      signPlanApproval(
        { studyId: id, siteId: site.siteId, planHash: plan.planHash, approvedAt: new Date().toISOString() },
        site.keys.signingSecretKey,
      ),
    );
    if (!approved.ok) throw new Error(`approval refused: ${JSON.stringify(approved)}`);
  }

  const refused = (code: string) =>
    expect.objectContaining({ ok: false, error: expect.objectContaining({ code }) });

  beforeAll(async () => {
    fed = await startFederation({
      postgres: true,
      prefix: 'fedseg_security',
      config: { authAttemptsPerMinute: 10_000, connectAttemptsPerMinute: 10_000 },
    });
    const { siteDirs } = await generateConsortium({
      outDir: path.join(fed.work, 'sites'),
      sites: 2,
      casesPerSite: 3,
      shape: [16, 16, 16],
      seed: 21,
    });
    await fed.enroll(['honest-1', 'honest-2']);
    insider = await enrollTestSite(fed.url, fed.adminToken, 'insider');
    outsider = await enrollTestSite(fed.url, fed.adminToken, 'outsider');
    // A site's newer session replaces its older one: tests that need a throwaway connection use this site.
    bystander = await enrollTestSite(fed.url, fed.adminToken, 'bystander');
    studyId = await fed.createStudy(study);
    await fed.approve(studyId, ['honest-1', 'honest-2']);

    insiderSocket = await connectAs(insider);
    outsiderSocket = await connectAs(outsider);
    await approveOverSocket(insiderSocket, insider, studyId);
    const firstTrain = new Promise<Received>((resolve) => {
      insiderSocket.on(AgentEvents.task, async (payload: unknown, offer: unknown) => {
        const { task } = SignedTask.parse(payload);
        if (task.kind === 'evaluate') {
          void ack(insiderSocket, AgentEvents.metricsReport, {
            taskId: task.taskId,
            studyId: task.studyId,
            round: task.round,
            split: 'val',
            samples: 1,
            metrics: { dice: 0.5 },
          });
          return;
        }
        const received = { task, blob: await fetchOfferedModel(insiderSocket, offer) };
        if (autoTrain) {
          void send(insiderSocket, seal(insider, task, honestPlaintext(received)));
        } else resolve(received);
      });
    });
    await fed.startStudy(studyId);
    siteDirs.forEach((dir, i) => fed.spawn(`honest-${i + 1}`, dir, ['--backend', 'cpu']));
    trainTask = await firstTrain;
    honestSeal = seal(insider, trainTask.task, honestPlaintext(trainTask));
    // Attack while the honest updates are in and the round waits for the insider alone.
    await waitFor(
      'the honest updates of round 1',
      async () => ((await fed.prisma.siteUpdate.count()) === 2 ? true : undefined),
      180_000,
      200,
    );
  }, 300_000);

  afterAll(async () => {
    for (const s of [...extraSockets, insiderSocket, outsiderSocket]) s?.close();
    await fed?.close();
  });

  describe('the socket handshake', () => {
    const refusedConnect = (site: TestSite | null, auth?: (nonce: string) => unknown) =>
      unchanged(fed.prisma, () =>
        connectTestSite(fed.url, site, { auth }).then(
          (s) => (s.close(), 'connected'),
          (e: { code?: string }) => e.code,
        ),
      );

    it('refuses a connection without credentials', async () => {
      expect(await refusedConnect(null)).toBe('UNAUTHENTICATED');
    });

    it('refuses an unknown key (a site id nobody enrolled)', async () => {
      const stranger = { ...insider, siteId: randomUuid(), keys: generateIdentity() };
      expect(await refusedConnect(stranger)).toBe('UNKNOWN_SITE');
    });

    it("refuses the insider's site id signed with a wrong key", async () => {
      expect(await refusedConnect({ ...insider, keys: generateIdentity() })).toBe('BAD_SIGNATURE');
    });

    it('refuses a signature bound to another coordinator key', async () => {
      const other = generateIdentity().signingPublicKey;
      expect(
        await refusedConnect(insider, (nonce) =>
          connectAuth(
            { siteId: insider.siteId, signingSecretKey: insider.keys.signingSecretKey },
            nonce,
            other,
          ),
        ),
      ).toBe('BAD_SIGNATURE');
    });

    it('refuses a nonce the coordinator never issued', async () => {
      const forged = Buffer.alloc(32, 7).toString('base64');
      expect(
        await refusedConnect(insider, () =>
          connectAuth(
            { siteId: insider.siteId, signingSecretKey: insider.keys.signingSecretKey },
            forged,
            insider.coordinator.signingPublicKey,
          ),
        ),
      ).toBe('CHALLENGE_INVALID');
    });

    it('refuses a replayed handshake (a challenge already used)', async () => {
      let used = '';
      const s = await connectTestSite(fed.url, insider, { auth: (nonce) => ((used = nonce), undefined) });
      s.close();
      expect(
        await refusedConnect(insider, () =>
          connectAuth(
            { siteId: insider.siteId, signingSecretKey: insider.keys.signingSecretKey },
            used,
            insider.coordinator.signingPublicKey,
          ),
        ),
      ).toBe('CHALLENGE_INVALID');
    });

    it("refuses a hello that claims another site's name", async () => {
      const socket = await connectTestSite(fed.url, outsider);
      extraSockets.push(socket);
      expect(
        await unchanged(fed.prisma, () => ack(socket, AgentEvents.hello, helloFor({ name: 'honest-1' }))),
      ).toEqual(refused('SITE_MISMATCH'));
    });

    it('disconnects a revoked site at once and refuses it from then on', async () => {
      const victim = await enrollTestSite(fed.url, fed.adminToken, 'victim');
      const socket = await connectAs(victim);
      const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      const revoked = await fed.post(`/sites/${victim.siteId}/revoke`, {});
      expect(revoked.status).toBe(200);
      expect(await closed).toBe('io server disconnect');
      expect(await refusedConnect(victim)).toBe('SITE_REVOKED');
      // Revoking one site touches no other: the insider's connection and keys still work.
      expect(insiderSocket.connected).toBe(true);
    });

    it('refuses a revoked site that comes back through connection-state recovery', async () => {
      const victim = await enrollTestSite(fed.url, fed.adminToken, 'victim-2');
      const socket = await connectTestSite(fed.url, victim, { reconnection: true });
      extraSockets.push(socket);
      await ack(socket, AgentEvents.hello, helloFor(victim));
      const refusal = new Promise<string | undefined>((resolve) =>
        socket.once('connect_error', (e: Error & { data?: { code?: string } }) => resolve(e.data?.code)),
      );
      socket.io.engine.close(); // the network drops; socket.io will try to recover the session
      expect((await fed.post(`/sites/${victim.siteId}/revoke`, {})).status).toBe(200);
      expect(await unchanged(fed.prisma, () => refusal)).toBe('SITE_REVOKED');
      socket.close();
    });

    it('closes only the socket whose frame is too large, and keeps serving the others', async () => {
      const socket = await connectAs(bystander);
      const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      await unchanged(fed.prisma, async () => {
        socket.emit(
          AgentEvents.updateChunk,
          { nonce: 'A'.repeat(22) + '==', index: 0 },
          Buffer.alloc(3 * 1024 * 1024),
        );
        expect(await closed).toMatch(/transport (close|error)/);
      });
      expect(insiderSocket.connected).toBe(true);
      expect((await fed.get('/health')).status).toBe(200);
    });

    it('closes a socket that sends malformed JSON, and nothing changes', async () => {
      const ws = new WebSocket(`${fed.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
      const closed = new Promise<number>((resolve) => ws.once('close', resolve));
      const opened = new Promise((resolve) => ws.once('message', resolve)); // engine.io open packet
      await unchanged(fed.prisma, async () => {
        await opened;
        ws.send('40/agent,{"siteId": not json');
        expect(typeof (await closed)).toBe('number');
      });
      expect((await fed.get('/health')).status).toBe(200);
    });
  });

  describe('updates', () => {
    it('refuses a flipped bit in the ciphertext', async () => {
      const s = seal(insider, trainTask.task, honestPlaintext(trainTask));
      const chunks = [...s.chunks];
      chunks[0] = flipBit(chunks[0]!, 40);
      expect(await unchanged(fed.prisma, () => send(insiderSocket, s, chunks))).toEqual(
        refused('DECRYPT_FAILED'),
      );
    });

    it('refuses a flipped bit in the header signature', async () => {
      const s = seal(insider, trainTask.task, honestPlaintext(trainTask));
      const sig = Buffer.from(s.begin.signature, 'base64');
      sig[10]! ^= 0x04;
      const bad = { ...s, begin: { ...s.begin, signature: sig.toString('base64') } };
      expect(await unchanged(fed.prisma, () => send(insiderSocket, bad))).toEqual(refused('BAD_SIGNATURE'));
    });

    it('refuses a header edited after signing (inflated sample count)', async () => {
      const s = seal(insider, trainTask.task, honestPlaintext(trainTask));
      const bad = { ...s, begin: { ...s.begin, header: { ...s.begin.header, samples: 10_000 } } };
      expect(await unchanged(fed.prisma, () => send(insiderSocket, bad))).toEqual(refused('BAD_SIGNATURE'));
    });

    it('refuses truncated ciphertext', async () => {
      const s = seal(insider, trainTask.task, honestPlaintext(trainTask));
      const chunks = [...s.chunks];
      chunks[chunks.length - 1] = chunks[chunks.length - 1]!.subarray(0, 20);
      expect(await unchanged(fed.prisma, () => send(insiderSocket, s, chunks))).toEqual(
        refused('TRUNCATED_CHUNK'),
      );
    });

    it('refuses a chunk taken from another update', async () => {
      const a = seal(insider, trainTask.task, honestPlaintext(trainTask));
      const b = seal(insider, trainTask.task, honestPlaintext(trainTask));
      expect(
        await unchanged(fed.prisma, () => send(insiderSocket, a, [b.chunks[0]!, ...a.chunks.slice(1)])),
      ).toEqual(refused('DECRYPT_FAILED'));
    });

    it('refuses an update signed for another site', async () => {
      const honest1 = await fed.prisma.site.findUniqueOrThrow({ where: { name: 'honest-1' } });
      const s = seal(insider, trainTask.task, honestPlaintext(trainTask), { siteId: honest1.id });
      expect(await unchanged(fed.prisma, () => send(insiderSocket, s))).toEqual(refused('SITE_MISMATCH'));
    });

    it('refuses an update for another round', async () => {
      const s = seal(insider, { ...trainTask.task, round: 2 }, honestPlaintext(trainTask));
      expect(await unchanged(fed.prisma, () => send(insiderSocket, s))).toEqual(refused('ROUND_NOT_FOUND'));
    });

    it('refuses an update for another study', async () => {
      const s = seal(insider, { ...trainTask.task, studyId: randomUuid() }, honestPlaintext(trainTask));
      expect(await unchanged(fed.prisma, () => send(insiderSocket, s))).toEqual(refused('STUDY_NOT_FOUND'));
    });

    it("refuses an update under another site's task id", async () => {
      const s = seal(insider, { ...trainTask.task, taskId: randomUuid() }, honestPlaintext(trainTask));
      expect(await unchanged(fed.prisma, () => send(insiderSocket, s))).toEqual(refused('TASK_MISMATCH'));
    });

    it('refuses an update from a site the round did not select', async () => {
      const s = seal(outsider, trainTask.task, honestPlaintext(trainTask));
      expect(await unchanged(fed.prisma, () => send(outsiderSocket, s))).toEqual(
        refused('SITE_NOT_SELECTED'),
      );
    });

    it('refuses an update whose codec is not the study’s', async () => {
      const s = seal(insider, trainTask.task, honestPlaintext(trainTask), { codec: 'int8' });
      expect(await unchanged(fed.prisma, () => send(insiderSocket, s))).toEqual(refused('CODEC_MISMATCH'));
    });

    it('refuses NaN weights', async () => {
      const s = seal(
        insider,
        trainTask.task,
        honestPlaintext(trainTask, (d) => (d[3] = Number.NaN)),
      );
      expect(await unchanged(fed.prisma, () => send(insiderSocket, s))).toEqual(refused('NON_FINITE_UPDATE'));
    });

    it('refuses infinite weights', async () => {
      const s = seal(
        insider,
        trainTask.task,
        honestPlaintext(trainTask, (d) => (d[0] = Number.POSITIVE_INFINITY)),
      );
      expect(await unchanged(fed.prisma, () => send(insiderSocket, s))).toEqual(refused('NON_FINITE_UPDATE'));
    });

    it('refuses an update of the wrong shape', async () => {
      const global = decodeWeights(trainTask.blob);
      const short = encodeTensors([
        {
          name: 'update.f32',
          dtype: 'float32',
          shape: [global.data.length - 5],
          data: new Float32Array(global.data.length - 5),
        },
      ]);
      expect(
        await unchanged(fed.prisma, () => send(insiderSocket, seal(insider, trainTask.task, short))),
      ).toEqual(refused('MANIFEST_MISMATCH'));
    });

    it('refuses an update of the wrong dtype', async () => {
      const global = decodeWeights(trainTask.blob);
      const ints = encodeTensors([
        {
          name: 'update.f32',
          dtype: 'int32',
          shape: [global.data.length],
          data: new Int32Array(global.data.length),
        },
      ]);
      expect(
        await unchanged(fed.prisma, () => send(insiderSocket, seal(insider, trainTask.task, ints))),
      ).toEqual(refused('BAD_UPDATE'));
      const halves = encodeTensors([
        {
          name: 'update.f16',
          dtype: 'float16',
          shape: [global.data.length],
          data: new Uint16Array(global.data.length),
        },
      ]);
      expect(
        await unchanged(fed.prisma, () => send(insiderSocket, seal(insider, trainTask.task, halves))),
      ).toEqual(refused('BAD_UPDATE'));
    });

    it('refuses bytes that are not an update at all', async () => {
      const junk = new Uint8Array(4096).fill(0x41);
      expect(
        await unchanged(fed.prisma, () => send(insiderSocket, seal(insider, trainTask.task, junk))),
      ).toEqual(refused('BAD_UPDATE'));
    });

    it('refuses a second transfer under a nonce already in flight', async () => {
      const s = seal(insider, trainTask.task, honestPlaintext(trainTask));
      expect((await ack(insiderSocket, AgentEvents.updateBegin, s.begin)).ok).toBe(true);
      expect(await unchanged(fed.prisma, () => ack(insiderSocket, AgentEvents.updateBegin, s.begin))).toEqual(
        refused('NONCE_REUSED'),
      );
    });
  });

  describe('enrollment', () => {
    const enroll = async (token: string, siteName: string, keys = generateIdentity(), proofKeys = keys) => {
      const body = {
        ...enrollRequest(token, siteName, proofKeys),
        signingPublicKey: keys.signingPublicKey,
        agreementPublicKey: keys.agreementPublicKey,
      };
      return request('POST', `${fed.url}/enroll`, undefined, body);
    };
    const code = (r: { json: unknown }) => (r.json as { error: { code: string } }).error.code;

    it('refuses a forged token', async () => {
      const r = await unchanged(fed.prisma, () => enroll(`fset_${'A'.repeat(43)}`, 'mallory'));
      expect([r.status, code(r)]).toEqual([401, 'ENROLLMENT_TOKEN_INVALID']);
    });

    it('refuses a token issued for another site name', async () => {
      const token = await issueEnrollmentToken(fed.url, fed.adminToken, 'hospital-z');
      const r = await unchanged(fed.prisma, () => enroll(token, 'mallory'));
      expect([r.status, code(r)]).toEqual([401, 'ENROLLMENT_TOKEN_INVALID']);
    });

    it('refuses an expired token', async () => {
      const token = await issueEnrollmentToken(fed.url, fed.adminToken, 'late-site');
      await fed.prisma.enrollmentToken.updateMany({
        where: { siteName: 'late-site' },
        data: { expiresAt: new Date(Date.now() - 1000) },
      });
      const r = await unchanged(fed.prisma, () => enroll(token, 'late-site'));
      expect([r.status, code(r)]).toEqual([401, 'ENROLLMENT_TOKEN_EXPIRED']);
    });

    it('refuses a token used before', async () => {
      const token = await issueEnrollmentToken(fed.url, fed.adminToken, 'once-site');
      expect((await enroll(token, 'once-site')).status).toBe(201);
      const r = await unchanged(fed.prisma, () => enroll(token, 'once-site'));
      expect([r.status, code(r)]).toEqual([401, 'ENROLLMENT_TOKEN_USED']);
    });

    it('refuses a proof signed by another key than the one registered', async () => {
      const token = await issueEnrollmentToken(fed.url, fed.adminToken, 'proof-site');
      const r = await unchanged(fed.prisma, () =>
        enroll(token, 'proof-site', generateIdentity(), generateIdentity()),
      );
      expect([r.status, code(r)]).toEqual([401, 'BAD_SIGNATURE']);
    });
  });

  describe('REST authentication', () => {
    const code = (r: { json: unknown }) => (r.json as { error: { code: string } }).error.code;

    it('refuses a request without an API token', async () => {
      const r = await unchanged(fed.prisma, () =>
        request('POST', `${fed.url}/studies`, undefined, { name: 'x', rounds: 1 }),
      );
      expect([r.status, code(r)]).toEqual([401, 'UNAUTHENTICATED']);
    });

    it('refuses a forged API token', async () => {
      const r = await unchanged(fed.prisma, () =>
        request('POST', `${fed.url}/studies`, `fsat_${'B'.repeat(43)}`, { name: 'x', rounds: 1 }),
      );
      expect([r.status, code(r)]).toEqual([401, 'UNAUTHENTICATED']);
    });

    it('refuses a revoked API token', async () => {
      const created = (await fed.post('/users', { name: 'temp-researcher', role: 'researcher' })).json as {
        token: string;
        tokenId: string;
      };
      expect((await fed.post(`/tokens/${created.tokenId}/revoke`, {})).status).toBe(200);
      const r = await unchanged(fed.prisma, () =>
        request('POST', `${fed.url}/studies`, created.token, { name: 'x', rounds: 1 }),
      );
      expect([r.status, code(r)]).toEqual([401, 'UNAUTHENTICATED']);
      expect((r.json as { error: { message: string } }).error.message).toMatch(/revoked/);
    });

    it('refuses a malformed Authorization header', async () => {
      const res = await unchanged(fed.prisma, () =>
        fetch(`${fed.url}/studies`, { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } }),
      );
      expect(res.status).toBe(401);
    });

    it('refuses a researcher revoking a site, and a site-admin creating a study', async () => {
      const researcher = (await fed.post('/users', { name: 'res-1', role: 'researcher' })).json as {
        token: string;
      };
      const siteAdmin = (
        await fed.post('/users', { name: 'insider-admin', role: 'site_admin', siteName: 'insider' })
      ).json as { token: string };
      const r1 = await unchanged(fed.prisma, () =>
        request('POST', `${fed.url}/sites/${insider.siteId}/revoke`, researcher.token, {}),
      );
      expect([r1.status, code(r1)]).toEqual([403, 'FORBIDDEN']);
      const r2 = await unchanged(fed.prisma, () =>
        request('POST', `${fed.url}/studies`, siteAdmin.token, { name: 'x', rounds: 1 }),
      );
      expect([r2.status, code(r2)]).toEqual([403, 'FORBIDDEN']);
    });
  });

  describe('consent', () => {
    it('refuses an approval signed with another key, or for another site', async () => {
      const draft = await fed.createStudy({ ...study, name: 'consent draft' });
      const plan = (await ack(outsiderSocket, AgentEvents.planGet, { studyId: draft })) as unknown as {
        ok: boolean;
      };
      expect(plan).toEqual(refused('SITE_NOT_INVITED'));
      const hash = (
        (await ack(insiderSocket, AgentEvents.planGet, { studyId: draft })) as unknown as { planHash: string }
      ).planHash;
      const approval = {
        studyId: draft,
        siteId: insider.siteId,
        planHash: hash,
        approvedAt: new Date().toISOString(),
      };
      expect(
        await unchanged(fed.prisma, () =>
          ack(
            insiderSocket,
            AgentEvents.planApprove,
            signPlanApproval(approval, generateIdentity().signingSecretKey),
          ),
        ),
      ).toEqual(refused('BAD_SIGNATURE'));
      const forOther = { ...approval, siteId: outsider.siteId };
      expect(
        await unchanged(fed.prisma, () =>
          ack(
            insiderSocket,
            AgentEvents.planApprove,
            signPlanApproval(forOther, insider.keys.signingSecretKey),
          ),
        ),
      ).toEqual(refused('SITE_MISMATCH'));
    });

    it('voids an approval when the plan changes, and refuses the stale approval', async () => {
      const draft = await fed.createStudy({ ...study, name: 'consent change' });
      const before = (await ack(insiderSocket, AgentEvents.planGet, { studyId: draft })) as unknown as {
        planHash: string;
        plan: Task['plan'];
      };
      expect(before.planHash).toBe(planHash(before.plan));
      await approveOverSocket(insiderSocket, insider, draft);
      const changed = await request('PATCH', `${fed.url}/studies/${draft}`, fed.adminToken, {
        ...study,
        name: 'consent change',
        training: { ...study.training, epochs: 50 },
      });
      expect(changed.status).toBe(200);
      const approvals = (await fed.get(`/studies/${draft}/approvals`)).json as {
        planHash: string;
        approvals: Array<{ site: string; current: boolean }>;
      };
      expect(approvals.planHash).not.toBe(before.planHash);
      expect(approvals.approvals).toEqual([expect.objectContaining({ site: 'insider', current: false })]);
      const stale = {
        studyId: draft,
        siteId: insider.siteId,
        planHash: before.planHash,
        approvedAt: new Date().toISOString(),
      };
      expect(
        await unchanged(fed.prisma, () =>
          ack(insiderSocket, AgentEvents.planApprove, signPlanApproval(stale, insider.keys.signingSecretKey)),
        ),
      ).toEqual(refused('PLAN_CHANGED'));
    });

    it('never selects a site that has not approved: the study waits, then pauses saying why', async () => {
      const lonely = await fed.createStudy({
        ...study,
        name: 'no approvals',
        minSites: 1,
        sites: ['outsider'],
        siteWaitMs: 1_000,
      });
      await fed.startStudy(lonely);
      const paused = await waitFor(
        'the unapproved study to pause',
        async () => {
          const s = (await fed.get(`/studies/${lonely}`)).json as {
            status: string;
            statusReason: string | null;
          };
          return s.status === 'paused' ? s : undefined;
        },
        30_000,
      );
      expect(paused.statusReason).toMatch(/approved the current plan/);
      expect(await fed.prisma.round.count({ where: { studyId: lonely } })).toBe(0);
    });
  });

  describe('the audit log', () => {
    it.each([
      'UPDATE audit_event SET actor = $$mallory$$',
      'DELETE FROM audit_event',
      'TRUNCATE audit_event',
    ])('is refused by the database itself: %s', async (sql) => {
      const before = await fed.prisma.auditEvent.findMany({ orderBy: { seq: 'asc' } });
      await expect(fed.prisma.$executeRawUnsafe(sql)).rejects.toThrow(/append-only/);
      const after = await fed.prisma.auditEvent.findMany({
        where: { seq: { lte: before[before.length - 1]!.seq! } },
        orderBy: { seq: 'asc' },
      });
      expect(after).toEqual(before);
    });

    it('exports a chain that verifies offline, and names the first broken link of a tampered copy', async () => {
      const file = path.join(fed.work, 'audit.json');
      const cli = (args: string[]) =>
        run(process.execPath, [path.join(REPO, 'apps/coordinator/bin/fedseg.js'), ...args], {
          env: { ...process.env, FEDSEG_TOKEN: fed.adminToken, FEDSEG_COORDINATOR: fed.url },
        }).then(
          (r) => ({ code: 0, out: r.stdout + r.stderr }),
          (e: { code: number; stdout: string; stderr: string }) => ({
            code: e.code,
            out: e.stdout + e.stderr,
          }),
        );
      expect((await cli(['audit', 'export', '--out', file])).code).toBe(0);
      const ok = await cli(['audit', 'verify', file]);
      expect(ok).toMatchObject({ code: 0 });
      expect(ok.out).toMatch(/OK: \d+ entries/);
      const exported = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        entries: Array<{ seq: number; actor: string }>;
      };
      const target = exported.entries[4]!;
      target.actor = 'user:someone-else';
      fs.writeFileSync(file, JSON.stringify(exported));
      const broken = await cli(['audit', 'verify', file]);
      expect(broken.code).toBe(1);
      expect(broken.out).toMatch(new RegExp(`BROKEN at entry ${target.seq}: .*edited`));
      // The refusals above are in the log too, with who, what and from where.
      const refusals = await fed.prisma.auditEvent.count({
        where: {
          action: {
            in: [
              'agent.message-refused',
              'agent.connect-refused',
              'auth.refused',
              'enrollment.refused',
              'access.refused',
            ],
          },
        },
      });
      expect(refusals).toBeGreaterThanOrEqual(20);
    });
  });

  describe('after the attacks', () => {
    it("accepts the insider's honest update and completes every round, counting each update exactly once", async () => {
      expect(await send(insiderSocket, honestSeal)).toMatchObject({ ok: true });
      autoTrain = true; // from here the insider behaves
      const final = await fed.waitForCompletion(studyId, 240_000);
      expect(final.roundsDone).toBe(ROUNDS);
      const rounds = await fed.prisma.round.findMany({
        where: { studyId },
        include: { updates: true },
        orderBy: { index: 'asc' },
      });
      expect(rounds.map((r) => [r.index, r.status, r.updates.length])).toEqual([
        [1, 'completed', 3],
        [2, 'completed', 3],
      ]);
      expect(rounds.every((r) => r.updates.every((u) => u.status === 'aggregated' && u.nonce !== null))).toBe(
        true,
      );
    }, 300_000);

    it('refuses a replay of the accepted update, and a new update that reuses its nonce', async () => {
      expect(await unchanged(fed.prisma, () => send(insiderSocket, honestSeal))).toEqual(
        refused('ROUND_CLOSED'),
      );
      const reuse = seal(insider, trainTask.task, honestPlaintext(trainTask));
      const sameNonce = {
        ...reuse.begin.header,
        round: 2,
        taskId: trainTask.task.taskId,
        nonce: honestSeal.begin.header.nonce,
      };
      const begin = {
        header: sameNonce,
        signature: signMessage(SignatureDomains.updateHeader, sameNonce, insider.keys.signingSecretKey),
      };
      const reply = await unchanged(fed.prisma, () => ack(insiderSocket, AgentEvents.updateBegin, begin));
      expect(reply.ok).toBe(false);
    });

    it("shows a site-admin its own site's metrics and never another site's", async () => {
      await waitFor(
        'round 1 metrics',
        async () =>
          (await fed.prisma.metric.count({ where: { studyId, siteId: { not: null } } })) >= 3
            ? true
            : undefined,
        120_000,
        250,
      );
      const siteAdmin = (
        await fed.post('/users', { name: 'insider-admin-2', role: 'site_admin', siteName: 'insider' })
      ).json as { token: string };
      const rows = (await request('GET', `${fed.url}/studies/${studyId}/metrics`, siteAdmin.token))
        .json as Array<{ siteId: string | null }>;
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((m) => m.siteId === null || m.siteId === insider.siteId)).toBe(true);
      const all = (await fed.get(`/studies/${studyId}/metrics`)).json as Array<{ siteId: string | null }>;
      expect(all.some((m) => m.siteId !== null && m.siteId !== insider.siteId)).toBe(true);
    });
  });
});
