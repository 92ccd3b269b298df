import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type PrismaClient } from '@prisma/client';
import {
  SiteFingerprint,
  type CombinedFingerprint,
  type DataPlan,
  type SiteFingerprint as SiteFingerprintType,
} from '@fedseg/protocol';
import type { Db } from '../audit/audit.repository';
import { PRISMA } from '../core/tokens';

/** The fingerprint phase's rows (site_fingerprint, study_data_plan); the only Prisma user for them. */
@Injectable()
export class FingerprintRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /** Stores a site's fingerprint once; false when the site had already sent one (the unique key refuses it). */
  async add(
    data: { studyId: string; siteId: string; fingerprint: SiteFingerprintType; signature: string },
    db: Db = this.prisma,
  ): Promise<boolean> {
    try {
      await db.siteFingerprint.create({
        data: { ...data, fingerprint: data.fingerprint as unknown as Prisma.InputJsonValue },
      });
      return true;
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return false;
      throw err;
    }
  }

  async ofStudy(studyId: string): Promise<Array<{ siteId: string; fingerprint: SiteFingerprintType }>> {
    const rows = await this.prisma.siteFingerprint.findMany({
      where: { studyId },
      orderBy: { receivedAt: 'asc' },
    });
    return rows.map((r) => ({ siteId: r.siteId, fingerprint: SiteFingerprint.parse(r.fingerprint) }));
  }

  async savePlan(
    data: {
      studyId: string;
      combined: CombinedFingerprint;
      plan: DataPlan;
      reasons: string[];
      sites: number;
    },
    db: Db,
  ): Promise<void> {
    const json = (v: unknown) => v as Prisma.InputJsonValue;
    await db.studyDataPlan.upsert({
      where: { studyId: data.studyId },
      create: { ...data, combined: json(data.combined), plan: json(data.plan), reasons: json(data.reasons) },
      update: {
        combined: json(data.combined),
        plan: json(data.plan),
        reasons: json(data.reasons),
        sites: data.sites,
      },
    });
  }
}
