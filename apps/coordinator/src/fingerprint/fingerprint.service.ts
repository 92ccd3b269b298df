import { Injectable } from '@nestjs/common';
import {
  FedsegError,
  FingerprintDeclined,
  SignatureDomains,
  SignedFingerprintReport,
  assertSigned,
  parseOrThrow,
} from '@fedseg/protocol';
import { AuditRepository } from '../audit/audit.repository';
import { StudiesRepository } from '../studies/studies.repository';
import { FingerprintRepository } from './fingerprint.repository';
import { FingerprintWaiters } from './fingerprint-waiters';

export interface FingerprintSender {
  siteId: string;
  name: string;
  signingPublicKey: string;
}

export class FingerprintRefusedError extends FedsegError {}

/**
 * Takes the sites' signed fingerprint reports (issue 18). A report is accepted only for a study that plans its
 * data from the fingerprint and has no plan yet, only with the site's valid signature, and once per site; the
 * strict schema refuses any key beyond the documented statistics. Nothing is stored for a refused report.
 */
@Injectable()
export class FingerprintService {
  constructor(
    private readonly fingerprints: FingerprintRepository,
    private readonly studies: StudiesRepository,
    private readonly audit: AuditRepository,
    private readonly waiters: FingerprintWaiters,
  ) {}

  async accept(site: FingerprintSender, payload: unknown): Promise<Record<string, unknown>> {
    const signed = parseOrThrow(SignedFingerprintReport, payload, 'fingerprint report');
    const { report } = signed;
    assertSigned(
      SignatureDomains.fingerprintReport,
      report,
      signed.signature,
      site.signingPublicKey,
      'the fingerprint report',
    );
    const study = await this.studies.get(report.studyId);
    if (!study.config.data?.fingerprint || study.config.data.plan)
      throw new FingerprintRefusedError(
        'FINGERPRINT_NOT_REQUESTED',
        `Study ${study.id} is not collecting fingerprints (turned off, or its data plan is already made).`,
      );
    if (report.fingerprint.modalities.length !== study.config.model.inChannels)
      throw new FingerprintRefusedError(
        'FINGERPRINT_MISMATCH',
        `The fingerprint has ${report.fingerprint.modalities.length} modalities; the study's model takes ${study.config.model.inChannels} channel(s).`,
      );
    const added = await this.fingerprints.add({
      studyId: study.id,
      siteId: site.siteId,
      fingerprint: report.fingerprint,
      signature: signed.signature,
    });
    if (!added)
      throw new FingerprintRefusedError(
        'DUPLICATE_FINGERPRINT',
        `Site ${site.name} already sent its fingerprint for study ${study.id}.`,
      );
    await this.audit.record({
      actor: `site:${site.name}`,
      action: 'fingerprint.received',
      subject: study.id,
      details: { cases: report.fingerprint.cases.length },
    });
    this.waiters.answered(study.id, site.siteId);
    return {};
  }

  async declined(site: FingerprintSender, payload: unknown): Promise<Record<string, unknown>> {
    const d = parseOrThrow(FingerprintDeclined, payload, 'fingerprint decline');
    await this.audit.record({
      actor: `site:${site.name}`,
      action: 'fingerprint.declined',
      subject: d.studyId,
      details: { reason: d.reason },
    });
    this.waiters.answered(d.studyId, site.siteId, true);
    return {};
  }
}
