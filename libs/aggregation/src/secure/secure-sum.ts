import {
  agreeSecret,
  agreementPublicKeyOf,
  fromBase64,
  toBase64,
  type AdvertiseKeys,
  type UnmaskShares,
} from '@fedseg/protocol';
import { AggregationError } from '../aggregation-error';
import { applyMask, pairwiseMaskKey, selfMaskCommitment, selfMaskKey, type MaskContext } from './mask-stream';
import { sharePoints } from './secagg-site';
import { combineShares, type Share } from './shamir';

export interface UnmaskInput {
  ctx: MaskContext;
  threshold: number;
  /** Every site that advertised keys (the share roster); decides each site's Shamir point. */
  roster: readonly AdvertiseKeys[];
  /** Site id -> commitment to its self-mask seed, from its share message. */
  commitments: ReadonlyMap<string, string>;
  /** Sites whose shares were delivered: they masked with each other. */
  maskers: readonly string[];
  /** Maskers whose masked update arrived and is in the sum. */
  survivors: readonly string[];
  /** Signature-checked unmask replies of survivors. */
  replies: readonly UnmaskShares[];
}

function sharesOf(
  replies: readonly UnmaskShares[],
  points: Map<string, number>,
  site: string,
  kind: 'selfMaskShares' | 'maskKeyShares',
): Share[] {
  const out: Share[] = [];
  for (const reply of replies) {
    const found = reply[kind].filter((s) => s.of === site);
    if (found.length !== 1)
      throw new AggregationError(
        `Site ${reply.siteId}'s unmask reply has ${found.length} ${kind === 'selfMaskShares' ? 'self-mask' : 'mask-key'} share(s) of site ${site}, not 1.`,
        'SECAGG_BAD_REPLY',
      );
    out.push({ x: points.get(reply.siteId)!, y: fromBase64(found[0]!.share) });
  }
  return out;
}

/**
 * The coordinator's last step: `sum` holds the sum of the survivors' masked updates; this removes each
 * survivor's self mask (its seed rebuilt from t shares and checked against its commitment) and the pairwise
 * masks survivors added for maskers that dropped (their mask keys rebuilt and checked against their
 * advertised public keys). What is left is the plain sum of the survivors' fixed-point updates.
 */
export function removeMasks(sum: Uint32Array, input: UnmaskInput): void {
  const { ctx, threshold } = input;
  const points = sharePoints(input.roster.map((k) => k.siteId));
  const keysOf = new Map(input.roster.map((k) => [k.siteId, k]));
  const maskers = new Set(input.maskers);
  for (const id of maskers)
    if (!keysOf.has(id)) throw new AggregationError(`Masker ${id} is not in the roster.`, 'SECAGG_BAD_REPLY');
  const survivors = [...new Set(input.survivors)];
  for (const id of survivors)
    if (!maskers.has(id))
      throw new AggregationError(`Survivor ${id} did not mask this round.`, 'SECAGG_BAD_REPLY');
  const dropped = [...maskers].filter((id) => !survivors.includes(id));
  const replies = input.replies.filter((r) => survivors.includes(r.siteId));
  if (new Set(replies.map((r) => r.siteId)).size !== replies.length)
    throw new AggregationError('Two unmask replies from one site.', 'SECAGG_BAD_REPLY');
  if (replies.length < threshold)
    throw new AggregationError(
      `${replies.length} site(s) sent unmask shares; threshold ${threshold} are needed to remove the masks.`,
      'TOO_FEW_SHARES',
    );
  for (const u of survivors) {
    const seed = combineShares(sharesOf(replies, points, u, 'selfMaskShares'), threshold);
    if (selfMaskCommitment(seed, ctx, u) !== input.commitments.get(u))
      throw new AggregationError(
        `The self-mask seed rebuilt for site ${u} does not match its commitment: a share was wrong.`,
        'INCONSISTENT_SHARES',
      );
    applyMask(sum, selfMaskKey(seed, ctx, u), -1);
  }
  for (const v of dropped) {
    const secret = toBase64(combineShares(sharesOf(replies, points, v, 'maskKeyShares'), threshold));
    if (agreementPublicKeyOf(secret) !== keysOf.get(v)!.maskPublicKey)
      throw new AggregationError(
        `The mask key rebuilt for dropped site ${v} does not match its advertised key: a share was wrong.`,
        'INCONSISTENT_SHARES',
      );
    for (const u of survivors) {
      const key = pairwiseMaskKey(agreeSecret(secret, keysOf.get(u)!.maskPublicKey), ctx, u, v);
      applyMask(sum, key, u < v ? -1 : 1); // undo what survivor u added for v
    }
  }
}
