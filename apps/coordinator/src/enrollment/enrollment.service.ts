import { Inject, Injectable } from '@nestjs/common';
import {
  EnrollRequest,
  EnrollmentTokenRequest,
  FedsegError,
  SignatureDomains,
  parseOrThrow,
  verifyMessage,
  type EnrollReply,
  type EnrollmentProof,
  type EnrollmentTokenIssued,
  type EnrollmentTokenList,
} from '@fedseg/protocol';
import { AuditRepository } from '../audit/audit.repository';
import { newSecretToken, tokenHash } from '../auth/api-token';
import { EnrollmentRefusedError } from '../auth/auth.errors';
import { Transactions } from '../database/transactions';
import { COORDINATOR_IDENTITY } from '../identity/identity.tokens';
import type { CoordinatorIdentity } from '../identity/coordinator-identity';
import { SitesRepository } from '../sites/sites.repository';
import { EnrollmentRepository } from './enrollment.repository';

/**
 * A site joins with a one-time, expiring token an admin issued for its name: it registers the public halves
 * of keys it made itself and proves it holds the secret halves. Adding a site touches no other site.
 */
@Injectable()
export class EnrollmentService {
  constructor(
    private readonly tokens: EnrollmentRepository,
    private readonly transactions: Transactions,
    private readonly sites: SitesRepository,
    private readonly audit: AuditRepository,
    @Inject(COORDINATOR_IDENTITY) private readonly identity: CoordinatorIdentity,
  ) {}

  async issueToken(input: unknown, actor: string): Promise<EnrollmentTokenIssued> {
    const req = parseOrThrow(EnrollmentTokenRequest, input, 'enrollment token request');
    const existing = await this.sites.byName(req.siteName);
    if (existing?.publicKey && !existing.revokedAt)
      throw new FedsegError(
        'SITE_CONFLICT',
        `Site ${req.siteName} is enrolled already; revoke it first to enroll new keys under its name.`,
      );
    const token = newSecretToken('fset');
    const expiresAt = new Date(Date.now() + req.ttlMs);
    await this.transactions.run(async (tx) => {
      await this.tokens.create({ tokenHash: tokenHash(token), siteName: req.siteName, expiresAt }, tx);
      await this.audit.record(
        {
          actor,
          action: 'enrollment.token-issued',
          details: { siteName: req.siteName, expiresAt: expiresAt.toISOString() },
        },
        tx,
      );
    });
    return { token, siteName: req.siteName, expiresAt: expiresAt.toISOString() };
  }

  /** Issued tokens with their state; the coordinator holds only their hashes, so none can be shown again. */
  async listTokens(now = new Date()): Promise<EnrollmentTokenList> {
    const rows = await this.tokens.list();
    return rows.map((r) => ({
      id: r.id,
      siteName: r.siteName,
      state: r.usedAt ? 'used' : r.expiresAt <= now ? 'expired' : 'pending',
      issuedAt: r.createdAt.toISOString(),
      expiresAt: r.expiresAt.toISOString(),
      usedAt: r.usedAt?.toISOString() ?? null,
    }));
  }

  async enroll(input: unknown, source: string | undefined): Promise<EnrollReply> {
    const req = parseOrThrow(EnrollRequest, input, 'enrollment request');
    const hash = tokenHash(req.token);
    try {
      const row = await this.tokens.byHash(hash);
      if (!row || row.siteName !== req.siteName)
        throw new EnrollmentRefusedError(
          'ENROLLMENT_TOKEN_INVALID',
          `This enrollment token is not valid for site ${req.siteName}; ask the coordinator's admin for one.`,
        );
      if (row.usedAt)
        throw new EnrollmentRefusedError(
          'ENROLLMENT_TOKEN_USED',
          'This enrollment token was used already; each token enrolls one site once. Ask for a new one.',
        );
      if (row.expiresAt.getTime() <= Date.now())
        throw new EnrollmentRefusedError(
          'ENROLLMENT_TOKEN_EXPIRED',
          `This enrollment token expired at ${row.expiresAt.toISOString()}; ask for a new one.`,
        );
      const proof: EnrollmentProof = {
        tokenSha256: hash,
        siteName: req.siteName,
        signingPublicKey: req.signingPublicKey,
        agreementPublicKey: req.agreementPublicKey,
      };
      if (!verifyMessage(SignatureDomains.enroll, proof, req.proof, req.signingPublicKey))
        throw new EnrollmentRefusedError(
          'BAD_SIGNATURE',
          'The enrollment proof does not verify with the key it registers.',
        );
      const site = await this.transactions.run(async (tx) => {
        if (!(await this.tokens.claim(row.id, tx)))
          throw new EnrollmentRefusedError(
            'ENROLLMENT_TOKEN_USED',
            'This enrollment token was used already; ask for a new one.',
          );
        const existing = await this.sites.byName(req.siteName, tx);
        if (existing?.publicKey && !existing.revokedAt)
          throw new FedsegError('SITE_CONFLICT', `Site ${req.siteName} is enrolled already.`);
        const enrolled = await this.sites.enroll(
          {
            name: req.siteName,
            signingPublicKey: req.signingPublicKey,
            agreementPublicKey: req.agreementPublicKey,
          },
          tx,
        );
        await this.tokens.attachSite(row.id, enrolled.id, tx);
        await this.audit.record(
          { actor: `site:${req.siteName}`, action: 'site.enrolled', subject: enrolled.id, source },
          tx,
        );
        return enrolled;
      });
      return {
        siteId: site.id,
        siteName: site.name,
        coordinator: this.identity.public,
        coordinatorFingerprint: this.identity.fingerprint,
      };
    } catch (err) {
      if (err instanceof FedsegError)
        await this.audit.refused({
          actor: 'anonymous',
          action: 'enrollment.refused',
          details: { siteName: req.siteName, code: err.code },
          source,
        });
      throw err;
    }
  }
}
