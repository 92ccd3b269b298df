import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** What libs/models' tfjs-free entry (@fedseg/models/initial-weights) loads, and nothing else of libs/models. */
const TFJS_FREE_MODELS_FILES = [
  'libs/models/package.json',
  'libs/models/src/errors.ts',
  'libs/models/src/initial-weights.ts',
  'libs/models/src/plan/model-plan.ts',
  'libs/models/src/util/seeded-random.ts',
  'libs/models/src/weights/initial-values.ts',
].map((f) => f.split('/').join(path.sep));

const ProbeReport = z.object({
  afterBoot: z.array(z.string()),
  afterDemoCase: z.array(z.string()),
  demoCaseStatus: z.number(),
  demoCaseLabels: z.array(z.string()),
});

describe("the coordinator's process (issue 19: a lean coordinator)", () => {
  it('loads no tfjs: not at boot, not for round 0, not while serving the demo case (a child renders it)', async () => {
    // A process of its own: under jest every module lives in jest's registry, not in require.cache.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        path.join(REPO_ROOT, 'scripts', 'run-ts.js'),
        path.join(__dirname, 'testing', 'lean-process-probe.ts'),
      ],
      { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 1 << 20 },
    );
    const report = ProbeReport.parse(JSON.parse(stdout.trim().split('\n').at(-1)!));
    // The viewer's demo case was really segmented (tfjs ran), only not here.
    expect(report.demoCaseStatus).toBe(200);
    expect(report.demoCaseLabels).toEqual(['organ', 'lesion']);
    for (const loaded of [report.afterBoot, report.afterDemoCase]) {
      expect(loaded.filter((f) => f.includes('@tensorflow'))).toEqual([]);
      expect(loaded.filter((f) => !TFJS_FREE_MODELS_FILES.includes(f))).toEqual([]);
    }
    // Round 0's weights came from the tfjs-free entry, in this process.
    expect(report.afterBoot).toContain(path.join('libs', 'models', 'src', 'plan', 'model-plan.ts'));
  }, 180_000);
});
