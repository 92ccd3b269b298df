import {
  ModelConfig,
  SignatureDomains,
  StudyRequirements,
  TrainingConfig,
  generateIdentity,
  planHash,
  signMessage,
  type StudyPlan,
  type Task,
} from '@fedseg/protocol';
import { checkTask } from './task-consent';

const coordinator = generateIdentity();
const studyId = '1f0c3c4e-8d9b-4c1a-9c55-0a1b2c3d4e5f';
const plan: StudyPlan = {
  studyId,
  name: 'unit',
  model: ModelConfig.parse({}),
  training: TrainingConfig.parse({}),
  strategy: { name: 'fedavg' },
  privacy: { mode: 'none' },
  compression: { codec: 'none' },
  requirements: StudyRequirements.parse({}),
};
const task: Task = {
  kind: 'train',
  taskId: '8f0c3c4e-8d9b-4c1a-9c55-0a1b2c3d4e5f',
  studyId,
  round: 1,
  plan,
  planHash: planHash(plan),
  globalSha256: 'a'.repeat(64),
  deadlineAt: new Date().toISOString(),
  excludeNormalization: false,
};
const signed = (t: Task, key = coordinator.signingSecretKey) => ({
  task: t,
  signature: signMessage(SignatureDomains.task, t, key),
});
const approvedOnly = (hash: string) => (id: string, h: string) => id === studyId && h === hash;

describe('what the agent runs', () => {
  it('runs a task signed by the pinned coordinator for a plan this site approved', () => {
    expect(checkTask(signed(task), coordinator.signingPublicKey, approvedOnly(planHash(plan)))).toEqual({
      ok: true,
      task,
    });
  });

  it('refuses a task signed by any other key, and says why', () => {
    const check = checkTask(
      signed(task, generateIdentity().signingSecretKey),
      coordinator.signingPublicKey,
      () => true,
    );
    expect(check).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not signed by the coordinator key pinned/),
    });
  });

  it('refuses a task edited after signing (more epochs than signed)', () => {
    const s = signed(task);
    const edited = {
      ...s,
      task: { ...task, plan: { ...plan, training: { ...plan.training, epochs: 500 } } },
    };
    expect(checkTask(edited, coordinator.signingPublicKey, () => true)).toMatchObject({ ok: false });
  });

  it('refuses a plan this site has not approved, naming the command that approves it', () => {
    const check = checkTask(signed(task), coordinator.signingPublicKey, () => false);
    expect(check).toMatchObject({ ok: false, reason: expect.stringMatching(/fedseg-agent approve --study/) });
  });

  it('refuses a plan that changed after approval (the approved hash is the old one)', () => {
    const changed = { ...plan, training: { ...plan.training, epochs: 9 } };
    const t = { ...task, plan: changed, planHash: planHash(changed) };
    expect(checkTask(signed(t), coordinator.signingPublicKey, approvedOnly(planHash(plan)))).toMatchObject({
      ok: false,
    });
  });

  it('refuses a signed task whose plan hash does not match its plan', () => {
    const t = { ...task, planHash: 'b'.repeat(64) };
    expect(checkTask(signed(t), coordinator.signingPublicKey, () => true)).toMatchObject({
      ok: false,
      reason: 'the task does not match its own plan hash',
    });
  });
});
