import {
  planHash,
  type MaskingContext,
  type SignedSecAggRequest,
  type SignedTask,
  type Task,
} from '@fedseg/protocol';
import { studyPlanOf } from '../consent/consent.service';
import { faultPoint } from '../ops/fault-points';
import type { SiteRegistry } from '../sites/site-registry.service';
import type { StudyRecord } from '../studies/studies.repository';
import type { GlobalModel } from './global-model.service';
import type { RoundRecord } from './rounds.repository';
import { taskIdFor } from './task-id';

/**
 * Sends a round's tasks and secure-aggregation requests, each at most once per connection: a site that
 * reconnected gets it again (agents answer idempotently), a site still on the same connection does not.
 */
export class TaskDispatch {
  /** `${kind}:${siteId}` -> the connection it was sent on. */
  private sentOn = new Map<string, string>();

  constructor(private readonly deps: { registry: SiteRegistry; signTask(task: Task): SignedTask }) {}

  /** A new round: nothing of it was sent yet. */
  reset(): void {
    this.sentOn = new Map();
  }

  async sendTasks(
    study: StudyRecord,
    round: RoundRecord,
    siteIds: Iterable<string>,
    kind: 'train' | 'evaluate',
    global: GlobalModel,
    deadlineAt: Date,
    masking?: (siteId: string) => Promise<MaskingContext>,
  ): Promise<void> {
    const plan = studyPlanOf(study.id, study.config);
    const hash = planHash(plan);
    for (const siteId of siteIds) {
      const connectionId = this.unsent(kind, siteId);
      if (!connectionId) continue;
      const secureAggregation = kind === 'train' && masking ? await masking(siteId) : undefined;
      const task: Task = {
        ...(secureAggregation ? { secureAggregation } : {}),
        kind,
        taskId: taskIdFor(study.id, round.index, siteId, kind),
        studyId: study.id,
        round: round.index,
        plan,
        planHash: hash,
        globalSha256: global.sha256,
        deadlineAt: deadlineAt.toISOString(),
        excludeNormalization: study.config.training.fedBn,
      };
      this.deps.registry.sendTask(siteId, this.deps.signTask(task), global.blob);
      this.sentOn.set(`${kind}:${siteId}`, connectionId);
      if (kind === 'train') faultPoint('dispatch');
    }
  }

  sendSecAgg(siteIds: Iterable<string>, phase: string, request: SignedSecAggRequest): void {
    for (const siteId of siteIds) {
      const connectionId = this.unsent(phase, siteId);
      if (!connectionId) continue;
      this.deps.registry.sendSecAgg(siteId, request);
      this.sentOn.set(`${phase}:${siteId}`, connectionId);
    }
  }

  /** The site's current connection when it is online and has not had this kind of message on it. */
  private unsent(kind: string, siteId: string): string | null {
    const online = this.deps.registry.get(siteId);
    if (!online || this.sentOn.get(`${kind}:${siteId}`) === online.connection.connectionId) return null;
    return online.connection.connectionId;
  }
}
