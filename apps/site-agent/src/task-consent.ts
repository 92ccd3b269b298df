import { SignatureDomains, SignedTask, planHash, verifyMessage, type Task } from '@fedseg/protocol';
import { z } from 'zod';

/**
 * What the agent checks before it runs anything: the task parses, is signed by the coordinator key pinned at
 * enrollment, matches its own plan hash (recomputed here), and that plan was approved by this site's admin.
 */
export type TaskCheck = { ok: true; task: Task } | { ok: false; reason: string; task?: Task };

export function checkTask(
  payload: unknown,
  pinnedCoordinatorKey: string,
  isApproved: (studyId: string, planHash: string) => boolean,
): TaskCheck {
  const parsed = SignedTask.safeParse(payload);
  if (!parsed.success) return { ok: false, reason: `malformed task: ${z.prettifyError(parsed.error)}` };
  const { task, signature } = parsed.data;
  if (!verifyMessage(SignatureDomains.task, task, signature, pinnedCoordinatorKey))
    return { ok: false, reason: 'the task is not signed by the coordinator key pinned at enrollment' };
  const hash = planHash(task.plan);
  if (hash !== task.planHash || task.plan.studyId !== task.studyId)
    return { ok: false, reason: 'the task does not match its own plan hash', task };
  if (!isApproved(task.studyId, hash))
    return {
      ok: false,
      reason: `plan ${hash.slice(0, 12)}… of study ${task.studyId} is not approved at this site; the site admin reviews it with fedseg-agent approve --study ${task.studyId}`,
      task,
    };
  return { ok: true, task };
}
