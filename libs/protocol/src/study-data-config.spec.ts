import type { DataPlan } from './fingerprint';
import { StudyConfig, withDataPlan } from './study-config';
import { planHash, type StudyPlan } from './study-plan';

const plan: DataPlan = {
  targetSpacingMm: [5, 5, 5],
  patchSize: [32, 32, 32],
  batchSize: 2,
  depth: 3,
  baseFilters: 16,
  normalization: [{ scheme: 'zscore' }],
  foregroundOversampling: 0.33,
};

describe("a study's data plan (issue 18)", () => {
  it('plans from the fingerprint by default, with a 10-minute phase deadline', () => {
    const c = StudyConfig.parse({ name: 'brain', rounds: 1, data: {} });
    expect(c.data).toEqual({ fingerprint: true, fingerprintDeadlineMs: 600_000 });
  });

  it('refuses the fingerprint turned off without a plan given in full', () => {
    const r = StudyConfig.safeParse({ name: 'brain', rounds: 1, data: { fingerprint: false } });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain('data.plan');
  });

  it("refuses a plan whose network or patch differs from the model's and training's", () => {
    const r = StudyConfig.safeParse({ name: 'brain', rounds: 1, data: { fingerprint: false, plan } });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain('data.plan');
  });

  it('withDataPlan copies the plan into model and training, and the result parses', () => {
    const base = StudyConfig.parse({ name: 'brain', rounds: 1, data: {} });
    const c = StudyConfig.parse(withDataPlan(base, plan));
    expect(c.model).toMatchObject({ depth: 3, baseFilters: 16 });
    expect(c.training).toMatchObject({ patchSize: [32, 32, 32], batchSize: 2 });
    expect(c.data?.plan).toEqual(plan);
  });

  it('changes the plan hash when the data plan is added or changed', () => {
    const base: StudyPlan = {
      studyId: '0b8f0a3e-8a1f-4c55-9d8a-0f5d2b6b7c11',
      name: 'brain',
      ...(({ model, training, strategy, privacy, compression, requirements }) => ({
        model,
        training,
        strategy,
        privacy,
        compression,
        requirements,
      }))(StudyConfig.parse({ name: 'brain', rounds: 1 })),
    };
    const withPlan = { ...base, data: plan };
    const changed = { ...base, data: { ...plan, targetSpacingMm: [4, 4, 4] as [number, number, number] } };
    expect(new Set([planHash(base), planHash(withPlan), planHash(changed)]).size).toBe(3);
  });
});
