import { Injectable } from '@nestjs/common';
import {
  FedsegError,
  PlanApprove,
  SignatureDomains,
  parseOrThrow,
  planHash,
  verifyMessage,
  type PlanReply,
  type StudyConfig,
  type StudyPlan,
} from '@fedseg/protocol';
import { AuditRepository } from '../audit/audit.repository';
import { Transactions } from '../database/transactions';
import type { StudiesRepository, StudyRecord } from '../studies/studies.repository';
import { ApprovalsRepository } from './approvals.repository';

/** The plan a site approves: everything that decides what runs on its data and what leaves it. */
export function studyPlanOf(studyId: string, config: StudyConfig): StudyPlan {
  return {
    studyId,
    name: config.name,
    model: config.model,
    training: config.training,
    strategy: config.strategy,
    privacy: config.privacy,
    compression: config.compression,
    requirements: config.requirements,
    ...(config.secureAggregation ? { secureAggregation: config.secureAggregation } : {}),
    // Issue 18: once planned, the data plan is part of what sites approve (absent before: hash unchanged).
    ...(config.data?.plan ? { data: config.data.plan } : {}),
    ...(config.data?.fingerprint ? { fingerprint: true as const } : {}),
  };
}

export class PlanNotApprovedError extends FedsegError {}

export interface ApprovingSite {
  siteId: string;
  name: string;
  signingPublicKey: string;
}

/**
 * Site consent: a site trains for a study only after its admin approved the study's current plan (by hash),
 * signed with the site's key. A changed plan has a new hash, so earlier approvals no longer count.
 */
@Injectable()
export class ConsentService {
  constructor(
    private readonly approvals: ApprovalsRepository,
    private readonly audit: AuditRepository,
    private readonly transactions: Transactions,
  ) {}

  planOf(study: StudyRecord): PlanReply {
    const plan = studyPlanOf(study.id, study.config);
    return { plan, planHash: planHash(plan), status: study.status };
  }

  /** Invited: named in the study's `sites`, or any site when the study names none. */
  assertInvited(study: StudyRecord, site: { name: string }): void {
    if (study.config.sites && !study.config.sites.includes(site.name))
      throw new FedsegError('SITE_NOT_INVITED', `Site ${site.name} is not invited to study ${study.id}.`);
  }

  async approve(
    studies: StudiesRepository,
    site: ApprovingSite,
    input: unknown,
  ): Promise<{ planHash: string; approvedAt: string }> {
    const msg = parseOrThrow(PlanApprove, input, 'plan approval');
    const a = msg.approval;
    if (a.siteId !== site.siteId)
      throw new FedsegError(
        'SITE_MISMATCH',
        `This connection is site ${site.name}; it cannot approve for another site.`,
      );
    if (!verifyMessage(SignatureDomains.planApproval, a, msg.signature, site.signingPublicKey))
      throw new FedsegError(
        'BAD_SIGNATURE',
        "The approval's signature does not verify with this site's key.",
      );
    const study = await studies.get(a.studyId);
    this.assertInvited(study, site);
    const current = this.planOf(study).planHash;
    if (a.planHash !== current)
      throw new PlanNotApprovedError(
        'PLAN_CHANGED',
        `Study ${study.id}'s plan is now ${current.slice(0, 12)}…, not the one approved; fetch it again and review the change.`,
        { planHash: current },
      );
    const existing = await this.approvals.find(study.id, site.siteId, a.planHash);
    if (existing) return { planHash: existing.planHash, approvedAt: existing.approvedAt.toISOString() };
    await this.transactions.run(async (tx) => {
      await this.approvals.create(
        {
          studyId: study.id,
          siteId: site.siteId,
          planHash: a.planHash,
          signature: msg.signature,
          approvedAt: new Date(a.approvedAt),
        },
        tx,
      );
      await this.audit.record(
        {
          actor: `site:${site.name}`,
          action: 'plan.approved',
          subject: study.id,
          details: { planHash: a.planHash },
        },
        tx,
      );
    });
    return { planHash: a.planHash, approvedAt: a.approvedAt };
  }

  /**
   * Sites a round may select, among `candidates`: those that approved the current plan; none at all under
   * the `all-invited` policy until every invited site approved it.
   */
  async consenting(study: StudyRecord, candidates: readonly string[]): Promise<string[]> {
    const current = this.planOf(study).planHash;
    const rows = (await this.approvals.ofStudy(study.id)).filter((r) => r.planHash === current);
    if (study.config.consent.policy === 'all-invited') {
      const approvedNames = new Set(rows.map((r) => r.site.name));
      if (!(study.config.sites ?? []).every((name) => approvedNames.has(name))) return [];
    }
    const approvedIds = new Set(rows.map((r) => r.siteId));
    return candidates.filter((id) => approvedIds.has(id));
  }

  async listFor(study: StudyRecord) {
    const current = this.planOf(study).planHash;
    return {
      planHash: current,
      policy: study.config.consent.policy,
      approvals: (await this.approvals.ofStudy(study.id)).map((r) => ({
        site: r.site.name,
        planHash: r.planHash,
        current: r.planHash === current,
        approvedAt: r.approvedAt.toISOString(),
      })),
    };
  }
}
