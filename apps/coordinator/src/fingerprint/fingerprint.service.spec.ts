import {
  SignatureDomains,
  generateIdentity,
  signMessage,
  type FingerprintReport,
  type SiteFingerprint,
  type StudyConfig,
} from '@fedseg/protocol';
import type { AuditRepository } from '../audit/audit.repository';
import type { StudiesRepository, StudyRecord } from '../studies/studies.repository';
import type { FingerprintRepository } from './fingerprint.repository';
import { FingerprintService } from './fingerprint.service';
import { FingerprintWaiters } from './fingerprint-waiters';

const STUDY = '0b8f0a3e-8a1f-4c55-9d8a-0f5d2b6b7c11';
const fingerprint: SiteFingerprint = {
  version: 1,
  cases: [{ spacingMm: [1, 1, 1], shape: [10, 8, 6], bodyShape: [9, 8, 6] }],
  modalities: [{ modality: 'T1', lo: 0, hi: 100, counts: [1, 2, 3], mean: 50, std: 10, voxels: 6 }],
  numClasses: 2,
  classVolumeFractions: [0.9, 0.1],
};

function setup(data: StudyConfig['data'] = { fingerprint: true, fingerprintDeadlineMs: 60_000 }) {
  const keys = generateIdentity();
  const site = { siteId: 'site-id-1', name: 'site-1', signingPublicKey: keys.signingPublicKey };
  const stored: unknown[] = [];
  const study = { id: STUDY, config: { model: { inChannels: 1 }, data } } as unknown as StudyRecord;
  const service = new FingerprintService(
    {
      add: (row: { fingerprint: unknown }) => {
        const fresh = stored.length === 0;
        if (fresh) stored.push(row.fingerprint);
        return Promise.resolve(fresh);
      },
    } as unknown as FingerprintRepository,
    { get: () => Promise.resolve(study) } as unknown as StudiesRepository,
    { record: () => Promise.resolve() } as unknown as AuditRepository,
    new FingerprintWaiters(),
  );
  const sign = (report: unknown) => ({
    report,
    signature: signMessage(SignatureDomains.fingerprintReport, report, keys.signingSecretKey),
  });
  return { service, site, stored, sign };
}

describe('FingerprintService.accept', () => {
  it('stores exactly the signed fingerprint once, and refuses the second copy as a duplicate', async () => {
    const { service, site, stored, sign } = setup();
    const report: FingerprintReport = { studyId: STUDY, fingerprint };
    await expect(service.accept(site, sign(report))).resolves.toEqual({});
    expect(stored).toEqual([fingerprint]);
    await expect(service.accept(site, sign(report))).rejects.toMatchObject({ code: 'DUPLICATE_FINGERPRINT' });
    expect(stored).toHaveLength(1);
  });

  it.each([
    ['a file name beside the statistics', { ...fingerprint, fileNames: ['case_001.nii.gz'] }],
    ['a case id', { ...fingerprint, cases: [{ ...fingerprint.cases[0], id: 'case_001' }] }],
    [
      'voxels in a modality',
      { ...fingerprint, modalities: [{ ...fingerprint.modalities[0], data: [1, 2] }] },
    ],
  ])('refuses a report carrying %s and stores nothing', async (_what, extra) => {
    const { service, site, stored, sign } = setup();
    await expect(service.accept(site, sign({ studyId: STUDY, fingerprint: extra }))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(stored).toEqual([]);
  });

  it("refuses a report whose signature is not the site's and stores nothing", async () => {
    const { service, site, stored } = setup();
    const other = generateIdentity();
    const report = { studyId: STUDY, fingerprint };
    const signature = signMessage(SignatureDomains.fingerprintReport, report, other.signingSecretKey);
    await expect(service.accept(site, { report, signature })).rejects.toThrow(/does not verify/);
    expect(stored).toEqual([]);
  });

  it('refuses a report for a study that does not collect fingerprints', async () => {
    const plan = {
      targetSpacingMm: [1, 1, 1] as [number, number, number],
      patchSize: [8, 8, 8] as [number, number, number],
      batchSize: 2,
      depth: 2,
      baseFilters: 4,
      normalization: [{ scheme: 'zscore' as const }],
      foregroundOversampling: 0.33,
    };
    const { service, site, stored, sign } = setup({
      fingerprint: false,
      fingerprintDeadlineMs: 60_000,
      plan,
    });
    await expect(service.accept(site, sign({ studyId: STUDY, fingerprint }))).rejects.toMatchObject({
      code: 'FINGERPRINT_NOT_REQUESTED',
    });
    expect(stored).toEqual([]);
  });
});
