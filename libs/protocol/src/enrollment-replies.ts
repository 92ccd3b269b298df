import { z } from 'zod';

/**
 * Site names, token formats, and the enrollment-token routes' bodies and replies. Browser-safe (no node:
 * imports): the dashboard's admins issue and list enrollment tokens. A token's secret is in the issue reply
 * only; the coordinator keeps its hash, so a listing never shows it.
 */
export const SiteName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'letters, digits, dot, dash and underscore only');

/** An enrollment token as issued: `fset_` and 43 base64url characters (256 random bits). */
export const EnrollmentTokenText = z
  .string()
  .regex(/^fset_[A-Za-z0-9_-]{43}$/, 'an enrollment token (fset_…)');
/** An API token as issued: `fsat_` and 43 base64url characters (256 random bits). */
export const ApiTokenText = z.string().regex(/^fsat_[A-Za-z0-9_-]{43}$/, 'an API token (fsat_…)');

/** admin -> coordinator: POST /enrollment-tokens */
export const EnrollmentTokenRequest = z.strictObject({
  siteName: SiteName,
  /** How long the token may be used; one day by default, at most thirty. */
  ttlMs: z
    .int()
    .min(60_000)
    .max(30 * 24 * 3_600_000)
    .default(24 * 3_600_000),
});
export type EnrollmentTokenRequest = z.infer<typeof EnrollmentTokenRequest>;

export const EnrollmentTokenIssued = z.object({
  token: EnrollmentTokenText,
  siteName: SiteName,
  expiresAt: z.iso.datetime(),
});
export type EnrollmentTokenIssued = z.infer<typeof EnrollmentTokenIssued>;

/** A token's state: `pending` (usable), `used` (enrolled a site), `expired` (never used, now past expiry). */
export const EnrollmentTokenState = z.enum(['pending', 'used', 'expired']);
export type EnrollmentTokenState = z.infer<typeof EnrollmentTokenState>;

/** One row of GET /enrollment-tokens: never the token itself. */
export const EnrollmentTokenView = z.object({
  id: z.uuid(),
  siteName: SiteName,
  state: EnrollmentTokenState,
  issuedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  usedAt: z.iso.datetime().nullable(),
});
export type EnrollmentTokenView = z.infer<typeof EnrollmentTokenView>;

export const EnrollmentTokenList = z.array(EnrollmentTokenView);
export type EnrollmentTokenList = z.infer<typeof EnrollmentTokenList>;
