import { z } from 'zod';
import { PublicKey32, Signature64 } from './site-identity';

/**
 * Secure aggregation (Bonawitz et al., CCS 2017): every site masks its update so that the coordinator can
 * recover only the sum over the sites that finished, even when some drop out after masking. The round runs
 * four phases: advertise (each site's fresh per-round keys), share (Shamir shares of each site's secrets,
 * encrypted site-to-site and relayed by the coordinator), masked input (the training task), unmask (the
 * survivors' shares that let the coordinator remove the masks). Every message is signed and names its
 * (study, round, phase), so one cannot be replayed as another.
 */
export const SecureAggregationConfig = z.strictObject({
  /**
   * Shamir threshold t: the round needs t sites alive at unmasking, and t colluding parties (the
   * coordinator counting as one) could unmask a single site. A round selects at most 2t - 1 sites so that
   * any two groups of t overlap (an honest majority of the round's sites is needed to unmask anyone).
   */
  threshold: z.int().min(2).max(255),
  /** Deadline of each key phase (advertise, share, unmask); training keeps the study's roundDeadlineMs. */
  phaseDeadlineMs: z
    .int()
    .min(1_000)
    .max(24 * 3_600_000)
    .default(120_000),
});
export type SecureAggregationConfig = z.infer<typeof SecureAggregationConfig>;

/** Strategies that only need the (weighted) mean of the updates, which is all secure aggregation reveals. */
export const MEAN_BASED_STRATEGIES = ['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad'] as const;

/** At most 255 sites: shares are evaluations of polynomials over GF(2^8) at x = 1..255. */
export const MAX_SECURE_AGGREGATION_SITES = 255;

export const SecAggPhase = z.enum(['advertise', 'share', 'unmask']);
export type SecAggPhase = z.infer<typeof SecAggPhase>;

const RoundRef = { studyId: z.uuid(), round: z.int().min(1) };
const SiteId = z.uuid();
const Base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64')
  .max(1_000_000);

/** agent -> coordinator, phase 1: the site's fresh X25519 keys for this round (one to encrypt shares, one to mask). */
export const AdvertiseKeys = z.strictObject({
  ...RoundRef,
  phase: z.literal('advertise'),
  siteId: SiteId,
  cipherPublicKey: PublicKey32,
  maskPublicKey: PublicKey32,
});
export type AdvertiseKeys = z.infer<typeof AdvertiseKeys>;

/** One share pair (mask key share, self-mask seed share) encrypted by one site for another. */
export const EncryptedShare = z.strictObject({
  from: SiteId,
  to: SiteId,
  nonce: z.string().regex(/^[A-Za-z0-9+/]{16}$/, 'a 12-byte nonce in base64'),
  ciphertext: Base64,
});
export type EncryptedShare = z.infer<typeof EncryptedShare>;

/** agent -> coordinator, phase 2: the site's encrypted shares, one per roster member, and a commitment to its self-mask seed. */
export const ShareKeys = z.strictObject({
  ...RoundRef,
  phase: z.literal('share'),
  siteId: SiteId,
  /** sha256 of the self-mask seed in context: lets the coordinator check the seed it reconstructs. */
  selfMaskCommitment: z.string().regex(/^[0-9a-f]{64}$/),
  shares: z.array(EncryptedShare).max(MAX_SECURE_AGGREGATION_SITES),
});
export type ShareKeys = z.infer<typeof ShareKeys>;

export const RevealedShare = z.strictObject({
  of: SiteId,
  share: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a 32-byte share in base64'),
});
export type RevealedShare = z.infer<typeof RevealedShare>;

/**
 * agent -> coordinator, phase 4: shares of the survivors' self-mask seeds and of the dropped sites' mask
 * keys; never both kinds for one site (that would unmask its update).
 */
export const UnmaskShares = z.strictObject({
  ...RoundRef,
  phase: z.literal('unmask'),
  siteId: SiteId,
  selfMaskShares: z.array(RevealedShare).max(MAX_SECURE_AGGREGATION_SITES),
  maskKeyShares: z.array(RevealedShare).max(MAX_SECURE_AGGREGATION_SITES),
});
export type UnmaskShares = z.infer<typeof UnmaskShares>;

export const SecAggReply = z.discriminatedUnion('phase', [AdvertiseKeys, ShareKeys, UnmaskShares]);
export type SecAggReply = z.infer<typeof SecAggReply>;
/** agent -> coordinator: every reply is signed with the site's enrolled Ed25519 key. */
export const SignedSecAggReply = z.strictObject({ reply: SecAggReply, signature: Signature64 });
export type SignedSecAggReply = z.infer<typeof SignedSecAggReply>;

/** A roster member as relayed by the coordinator: the signed advertisement and the key that signed it. */
export const RosterEntry = z.strictObject({
  signingPublicKey: PublicKey32,
  keys: AdvertiseKeys,
  signature: Signature64,
});
export type RosterEntry = z.infer<typeof RosterEntry>;

export const AdvertiseRequest = z.strictObject({
  ...RoundRef,
  phase: z.literal('advertise'),
  threshold: z.int().min(2).max(MAX_SECURE_AGGREGATION_SITES),
  deadlineAt: z.iso.datetime(),
});
export const ShareRequest = z.strictObject({
  ...RoundRef,
  phase: z.literal('share'),
  threshold: z.int().min(2).max(MAX_SECURE_AGGREGATION_SITES),
  deadlineAt: z.iso.datetime(),
  roster: z.array(RosterEntry).min(2).max(MAX_SECURE_AGGREGATION_SITES),
});
export const UnmaskRequest = z.strictObject({
  ...RoundRef,
  phase: z.literal('unmask'),
  deadlineAt: z.iso.datetime(),
  survivors: z.array(SiteId).max(MAX_SECURE_AGGREGATION_SITES),
  dropped: z.array(SiteId).max(MAX_SECURE_AGGREGATION_SITES),
});
export type UnmaskRequest = z.infer<typeof UnmaskRequest>;

export const SecAggRequest = z.discriminatedUnion('phase', [AdvertiseRequest, ShareRequest, UnmaskRequest]);
export type SecAggRequest = z.infer<typeof SecAggRequest>;
/** coordinator -> agent: signed with the coordinator's key the site pinned at enrollment. */
export const SignedSecAggRequest = z.strictObject({ request: SecAggRequest, signature: Signature64 });
export type SignedSecAggRequest = z.infer<typeof SignedSecAggRequest>;

/**
 * Part of a secure-aggregation training task: who masks together this round (the sites whose shares were
 * delivered) and the shares other sites encrypted for this one.
 */
export const MaskingContext = z.strictObject({
  threshold: z.int().min(2).max(MAX_SECURE_AGGREGATION_SITES),
  maskers: z.array(SiteId).min(2).max(MAX_SECURE_AGGREGATION_SITES),
  incoming: z.array(EncryptedShare).max(MAX_SECURE_AGGREGATION_SITES),
});
export type MaskingContext = z.infer<typeof MaskingContext>;

/** The update codec name and tensor of a masked update: a vector in Z_2^64, little-endian 32-bit limbs. */
export const SECURE_AGGREGATION_CODEC = 'secagg-ring64';
export const MASKED_UPDATE_TENSOR = 'update.ring64';

/** agent -> coordinator: the site will not take part in this phase (refused request, lost state); the round goes on without it. */
export const SecAggDeclined = z.strictObject({
  ...RoundRef,
  phase: z.enum(['advertise', 'share', 'mask', 'unmask']),
  reason: z.string().min(1).max(1000),
});
export type SecAggDeclined = z.infer<typeof SecAggDeclined>;
