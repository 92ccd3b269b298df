import crypto from 'node:crypto';
import {
  generateIdentity,
  type AdvertiseKeys,
  type EncryptedShare,
  type RosterEntry,
  type ShareKeys,
  type UnmaskShares,
} from '@fedseg/protocol';
import { removeMasks } from './secure-sum';
import { addRing, decodeFixedPoint } from './ring64';
import { SecAggSite } from './secagg-site';

export interface SimulationOptions {
  /** Every site's update (one per site, all the same length). */
  updates: readonly Float32Array[];
  /** Each site's weight (FedAvg: its sample count). */
  weights?: readonly number[];
  threshold: number;
  /** Indices of sites that drop after sending shares, before their masked update arrives. */
  dropAfterSharing?: readonly number[];
  studyId?: string;
  round?: number;
}

export interface SimulationResult {
  /** The weighted sum over the surviving sites, as the coordinator recovers it. */
  sum: Float64Array;
  survivors: number[];
  /** One masked update as the coordinator receives (and stores) it. */
  maskedSample: Uint32Array;
  timings: { maskMsPerSite: number; unmaskMs: number };
}

/**
 * The whole protocol in one process, through the same objects the agent and the coordinator use, with real
 * keys and signatures: for tests and `npm run bench -- crypto`. Site ids are random uuids, as in a study.
 */
export function simulateSecureAggregation(options: SimulationOptions): SimulationResult {
  const n = options.updates.length;
  const studyId = options.studyId ?? crypto.randomUUID();
  const round = options.round ?? 1;
  const ids = options.updates.map(() => crypto.randomUUID());
  const identities = ids.map(() => generateIdentity());
  const sites = ids.map(
    (siteId, i) =>
      new SecAggSite({
        studyId,
        round,
        siteId,
        threshold: options.threshold,
        signingSecretKey: identities[i]!.signingSecretKey,
      }),
  );
  const advertised = sites.map((s) => s.advertise());
  const roster: RosterEntry[] = advertised.map((a, i) => ({
    signingPublicKey: identities[i]!.signingPublicKey,
    keys: a.reply as AdvertiseKeys,
    signature: a.signature,
  }));
  const shared = sites.map((s) => s.share({ roster, threshold: options.threshold }).reply as ShareKeys);
  const inbox = new Map<string, EncryptedShare[]>(ids.map((id) => [id, []]));
  for (const message of shared) for (const share of message.shares) inbox.get(share.to)!.push(share);
  const dropped = new Set(options.dropAfterSharing ?? []);
  const survivors = [...Array(n).keys()].filter((i) => !dropped.has(i));
  const sum = new Uint32Array(options.updates[0]!.length * 2);
  let maskedSample: Uint32Array = new Uint32Array(0);
  const maskStart = performance.now();
  for (const i of survivors) {
    const masked = sites[i]!.mask(
      { threshold: options.threshold, maskers: ids, incoming: inbox.get(ids[i]!)! },
      options.updates[i]!,
      options.weights?.[i] ?? 1,
    );
    if (maskedSample.length === 0) maskedSample = masked;
    addRing(sum, masked);
  }
  const maskMsPerSite = (performance.now() - maskStart) / Math.max(1, survivors.length);
  const survivorIds = survivors.map((i) => ids[i]!);
  const unmaskStart = performance.now();
  const replies = survivors.map(
    (i) =>
      sites[i]!.unmask({ survivors: survivorIds, dropped: ids.filter((id) => !survivorIds.includes(id)) })
        .reply as UnmaskShares,
  );
  removeMasks(sum, {
    ctx: { studyId, round },
    threshold: options.threshold,
    roster: roster.map((r) => r.keys),
    commitments: new Map(shared.map((s) => [s.siteId, s.selfMaskCommitment])),
    maskers: ids,
    survivors: survivorIds,
    replies,
  });
  return {
    sum: decodeFixedPoint(sum),
    survivors,
    maskedSample,
    timings: { maskMsPerSite, unmaskMs: performance.now() - unmaskStart },
  };
}
