import crypto from 'node:crypto';
import { z } from 'zod';
import {
  PublicIdentity,
  PublicKey32,
  Signature64,
  SignatureDomains,
  signMessage,
  type SecretIdentity,
} from './site-identity';
import { PlanHash, StudyPlan } from './study-plan';
import { EnrollmentTokenText, SiteName } from './enrollment-replies';

/** Contracts of enrollment, connection authentication and consent. Secrets travel only in request bodies. */
// Names, token formats and the token routes' bodies live in browser-safe enrollment-replies.ts (the
// dashboard issues enrollment tokens); re-exported here, so @fedseg/protocol's index carries them.
export * from './enrollment-replies';

/** What the site signs at enrollment: proof that it holds the secret half of the key it registers. */
export const EnrollmentProof = z.strictObject({
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
  siteName: SiteName,
  signingPublicKey: PublicKey32,
  agreementPublicKey: PublicKey32,
});
export type EnrollmentProof = z.infer<typeof EnrollmentProof>;

/** agent -> coordinator: POST /enroll */
export const EnrollRequest = z.strictObject({
  token: EnrollmentTokenText,
  siteName: SiteName,
  signingPublicKey: PublicKey32,
  agreementPublicKey: PublicKey32,
  proof: Signature64,
});
export type EnrollRequest = z.infer<typeof EnrollRequest>;

export const EnrollReply = z.object({
  siteId: z.uuid(),
  siteName: SiteName,
  coordinator: PublicIdentity,
  coordinatorFingerprint: z.string(),
});
export type EnrollReply = z.infer<typeof EnrollReply>;

/** coordinator -> agent: POST /agent/challenge; a single-use nonce, valid for a minute. */
export const ConnectChallenge = z.object({
  nonce: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
  expiresAt: z.iso.datetime(),
});
export type ConnectChallenge = z.infer<typeof ConnectChallenge>;

/** What a site signs to open a socket: the challenge, its own id and the coordinator it means to reach. */
export const ConnectProof = z.strictObject({
  siteId: z.uuid(),
  nonce: ConnectChallenge.shape.nonce,
  coordinatorSigningPublicKey: PublicKey32,
});
export type ConnectProof = z.infer<typeof ConnectProof>;

/** agent -> coordinator: socket.io handshake `auth` (never the URL or query string). */
export const ConnectAuth = z.strictObject({
  siteId: z.uuid(),
  nonce: ConnectChallenge.shape.nonce,
  signature: Signature64,
  /** Added by socket.io's connection-state recovery on a reconnect; the signature is still checked afresh. */
  pid: z.string().max(64).optional(),
  offset: z.string().max(64).optional(),
});
export type ConnectAuth = z.infer<typeof ConnectAuth>;

/** agent -> coordinator: `plan:get` */
export const PlanRequest = z.strictObject({ studyId: z.uuid() });
export const PlanReply = z.object({ plan: StudyPlan, planHash: PlanHash, status: z.string() });
export type PlanReply = z.infer<typeof PlanReply>;

/** What a site signs to approve a plan. */
export const PlanApproval = z.strictObject({
  studyId: z.uuid(),
  siteId: z.uuid(),
  planHash: PlanHash,
  approvedAt: z.iso.datetime(),
});
export type PlanApproval = z.infer<typeof PlanApproval>;

/** agent -> coordinator: `plan:approve` */
export const PlanApprove = z.strictObject({ approval: PlanApproval, signature: Signature64 });
export type PlanApprove = z.infer<typeof PlanApprove>;

/** The site's side of the handshake: signs the challenge for this site and this coordinator. */
export function connectAuth(
  site: { siteId: string; signingSecretKey: string },
  nonce: string,
  coordinatorSigningPublicKey: string,
): ConnectAuth {
  const proof: ConnectProof = { siteId: site.siteId, nonce, coordinatorSigningPublicKey };
  return {
    siteId: site.siteId,
    nonce,
    signature: signMessage(SignatureDomains.connect, proof, site.signingSecretKey),
  };
}

/** The site's enrollment request: the token, its public keys, and proof it holds the secret halves. */
export function enrollRequest(token: string, siteName: string, keys: SecretIdentity): EnrollRequest {
  const proof: EnrollmentProof = {
    tokenSha256: crypto.createHash('sha256').update(token).digest('hex'),
    siteName,
    signingPublicKey: keys.signingPublicKey,
    agreementPublicKey: keys.agreementPublicKey,
  };
  return {
    token,
    siteName,
    signingPublicKey: keys.signingPublicKey,
    agreementPublicKey: keys.agreementPublicKey,
    proof: signMessage(SignatureDomains.enroll, proof, keys.signingSecretKey),
  };
}

/** The site's signed approval of one plan hash. */
export function signPlanApproval(approval: PlanApproval, signingSecretKey: string): PlanApprove {
  return { approval, signature: signMessage(SignatureDomains.planApproval, approval, signingSecretKey) };
}
