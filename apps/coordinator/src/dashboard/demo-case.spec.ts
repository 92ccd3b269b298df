import { decodeNifti, diceScore } from '@fedseg/imaging';
import { DemoCaseView, StudyView } from '@fedseg/protocol';
import { startTestCoordinator } from '../testing/test-coordinator';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

describe("the viewer's demo case", () => {
  let coordinator: Coordinator;
  let studyId: string;
  const get = (path: string) =>
    fetch(`${coordinator.url}${path}`, { headers: { authorization: `Bearer ${coordinator.adminToken}` } });

  beforeAll(async () => {
    coordinator = await startTestCoordinator();
    const created = await fetch(`${coordinator.url}/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${coordinator.adminToken}` },
      body: JSON.stringify({
        name: 'demo case',
        rounds: 1,
        siteWaitMs: 60_000,
        model: { numClasses: 3, baseFilters: 2, depth: 2 },
        training: { patchSize: [16, 16, 16] },
      }),
    });
    studyId = StudyView.parse(await created.json()).id;
  }, 60_000);
  afterAll(async () => {
    await coordinator.close();
  });

  it('answers 409 before the study has a checkpoint', async () => {
    const res = await get(`/studies/${studyId}/demo-case`);
    expect(res.status).toBe(409);
  });

  it("segments the coordinator's phantom with round 0's model; the files agree with the Dice it reports", async () => {
    // Starting commits round 0 (the initial model) before any site is asked to train; none is connected.
    await fetch(`${coordinator.url}/studies/${studyId}/start`, {
      method: 'POST',
      headers: { authorization: `Bearer ${coordinator.adminToken}` },
    });
    const until = Date.now() + 20_000;
    while (!(await coordinator.prisma.checkpoint.count({ where: { studyId } })) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    // The inference runs in a child process (demo-case-child.ts); coordinator-process.spec.ts checks that
    // the coordinator's own process loads no tfjs while serving it.
    const res = await get(`/studies/${studyId}/demo-case?round=0`);
    expect(res.status).toBe(200);
    const view = DemoCaseView.parse(await res.json());
    const checkpoint = await coordinator.prisma.checkpoint.findFirstOrThrow({
      where: { studyId, roundIndex: 0 },
    });
    expect(view).toMatchObject({ round: 0, checkpointSha256: checkpoint.sha256, shape: [16, 16, 16] });
    expect(view.labels.map((l) => l.name)).toEqual(['organ', 'lesion']);

    const file = async (name: string) => {
      const r = await get(`/studies/${studyId}/demo-case/${name}?round=0`);
      expect(r.status).toBe(200);
      return decodeNifti(new Uint8Array(await r.arrayBuffer()), name);
    };
    const [image, label, prediction] = await Promise.all([
      file('image.nii'),
      file('label.nii'),
      file('prediction.nii'),
    ]);
    for (const v of [image, label, prediction]) expect(v.shape).toEqual([16, 16, 16]);
    expect(label.datatype).toBe('uint8');
    // The demo phantom shows every class: organ (1) and lesion (2) voxels both exist.
    expect(new Set(label.data)).toEqual(new Set([0, 1, 2]));
    for (const l of view.labels) {
      const dice = diceScore(prediction.data, label.data, l.value);
      expect(l.dice).toEqual(Number.isNaN(dice) ? null : dice);
    }
    expect((await get(`/studies/${studyId}/demo-case/other.nii?round=0`)).status).toBe(400);
  });
});
