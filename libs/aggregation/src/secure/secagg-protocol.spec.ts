import crypto from 'node:crypto';
import { generateIdentity, type AdvertiseKeys, type RosterEntry, type ShareKeys } from '@fedseg/protocol';
import { PrivacyConfig, StrategyConfig } from '@fedseg/protocol';
import { seededRng } from '../rng';
import { addFixedPoint, decodeFixedPoint } from './ring64';
import { StreamingAggregator } from '../streaming-aggregator';
import { SecAggSite } from './secagg-site';
import { simulateSecureAggregation } from './secagg-simulation';

function randomUpdates(sites: number, length: number, seed: number): Float32Array[] {
  const rng = seededRng(seed);
  return Array.from({ length: sites }, () =>
    Float32Array.from({ length }, () => (rng.nextUint32() / 2 ** 32 - 0.5) * 0.2),
  );
}

/** The weighted plaintext sum over `sites`, in float64: what masking must reproduce. */
function plainSum(updates: Float32Array[], weights: number[], sites: number[]): Float64Array {
  const out = new Float64Array(updates[0]!.length);
  for (const s of sites) for (let i = 0; i < out.length; i++) out[i]! += updates[s]![i]! * weights[s]!;
  return out;
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** One fixed-point rounding per site: |error| <= sites * 2^-33. */
const precision = (sites: number) => sites * 2 ** -33;

describe('secure aggregation, end to end in one process', () => {
  it('5 sites: the coordinator recovers the weighted sum to fixed-point precision', () => {
    const updates = randomUpdates(5, 3001, 1);
    const weights = [10, 3, 7, 1, 25];
    const result = simulateSecureAggregation({ updates, weights, threshold: 3 });
    expect(maxAbsDiff(result.sum, plainSum(updates, weights, [0, 1, 2, 3, 4]))).toBeLessThanOrEqual(
      precision(5),
    );
  });

  it("1 of 5 dropping after masking keys were shared: the survivors' exact sum", () => {
    const updates = randomUpdates(5, 1000, 2);
    const weights = [1, 2, 3, 4, 5];
    const result = simulateSecureAggregation({ updates, weights, threshold: 3, dropAfterSharing: [2] });
    expect(result.survivors).toEqual([0, 1, 3, 4]);
    expect(maxAbsDiff(result.sum, plainSum(updates, weights, [0, 1, 3, 4]))).toBeLessThanOrEqual(
      precision(4),
    );
  });

  it("n = 10, t = 6: 4 dropouts still give the survivors' sum; 5 dropouts cannot be unmasked", () => {
    const updates = randomUpdates(10, 500, 3);
    const weights = updates.map(() => 1);
    const four = simulateSecureAggregation({
      updates,
      weights,
      threshold: 6,
      dropAfterSharing: [0, 3, 5, 9],
    });
    expect(maxAbsDiff(four.sum, plainSum(updates, weights, [1, 2, 4, 6, 7, 8]))).toBeLessThanOrEqual(
      precision(6),
    );
    expect(() =>
      simulateSecureAggregation({ updates, weights, threshold: 6, dropAfterSharing: [0, 1, 3, 5, 9] }),
    ).toThrow(/fewer than the threshold 6/);
  });

  it('a masked update is indistinguishable from uniform bytes, even for an all-zero update (chi-square)', () => {
    const updates = [0, 1, 2].map(() => new Float32Array(65536));
    const { maskedSample } = simulateSecureAggregation({ updates, threshold: 2 });
    const bytes = new Uint8Array(maskedSample.buffer, maskedSample.byteOffset, maskedSample.byteLength);
    const counts = new Float64Array(256);
    for (const b of bytes) counts[b]! += 1;
    const expected = bytes.length / 256;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 255 degrees of freedom: P(chi2 > 341) ~ 2.6e-4 for uniform bytes; an unmasked zero update scores ~1e8.
    expect(chi2).toBeLessThan(341);
    // and the high limbs, which hold the sign of small values, carry no bias either
    let highBitSet = 0;
    for (let i = 1; i < maskedSample.length; i += 2) highBitSet += maskedSample[i]! >>> 31;
    const n = maskedSample.length / 2;
    expect(Math.abs(highBitSet - n / 2)).toBeLessThan(4 * Math.sqrt(n / 4));
  });
});

describe('a site refuses requests that would reveal it', () => {
  const studyId = crypto.randomUUID();
  function setup(n: number, threshold: number) {
    const ids = Array.from({ length: n }, () => crypto.randomUUID());
    const identities = ids.map(() => generateIdentity());
    const sites = ids.map(
      (siteId, i) =>
        new SecAggSite({
          studyId,
          round: 1,
          siteId,
          threshold,
          signingSecretKey: identities[i]!.signingSecretKey,
        }),
    );
    const roster: RosterEntry[] = sites.map((s, i) => {
      const a = s.advertise();
      return {
        signingPublicKey: identities[i]!.signingPublicKey,
        keys: a.reply as AdvertiseKeys,
        signature: a.signature,
      };
    });
    return { ids, sites, roster, threshold };
  }
  function masked(n: number, threshold: number) {
    const s = setup(n, threshold);
    const shared = s.sites.map((site) => site.share({ roster: s.roster, threshold }).reply as ShareKeys);
    s.sites.forEach((site, i) =>
      site.mask(
        {
          threshold,
          maskers: s.ids,
          incoming: shared.flatMap((m) => m.shares.filter((x) => x.to === s.ids[i])),
        },
        new Float32Array(4),
        1,
      ),
    );
    return s;
  }

  it('refuses an unmask request that names a site as both survivor and dropped', () => {
    const { ids, sites } = masked(3, 2);
    expect(() => sites[0]!.unmask({ survivors: ids, dropped: [ids[1]!] })).toThrow(
      expect.objectContaining({ code: 'SECAGG_BOTH_SHARES' }),
    );
  });

  it('refuses a second, different unmask request for the round (the two would reveal both shares)', () => {
    const { ids, sites } = masked(3, 2);
    const first = sites[0]!.unmask({ survivors: [ids[0]!, ids[1]!], dropped: [ids[2]!] });
    expect(first.reply.phase).toBe('unmask');
    // asked again the same way: the same answer, nothing new
    expect(sites[0]!.unmask({ survivors: [ids[1]!, ids[0]!], dropped: [ids[2]!] })).toEqual(first);
    expect(() => sites[0]!.unmask({ survivors: [ids[0]!, ids[2]!], dropped: [ids[1]!] })).toThrow(
      expect.objectContaining({ code: 'SECAGG_BOTH_SHARES' }),
    );
  });

  it('refuses to unmask with fewer survivors than the threshold', () => {
    const { ids, sites } = masked(3, 3);
    expect(() => sites[0]!.unmask({ survivors: [ids[0]!, ids[1]!], dropped: [ids[2]!] })).toThrow(
      /fewer than the threshold/,
    );
  });

  it('refuses a roster with a forged signature, a foreign round, or 2t sites', () => {
    const { sites, roster, threshold } = setup(3, 2);
    const forged = roster.map((r, i) => (i === 1 ? { ...r, signature: roster[2]!.signature } : r));
    expect(() => sites[0]!.share({ roster: forged, threshold })).toThrow(/not signed/);
    const big = setup(4, 2);
    expect(() => big.sites[0]!.share({ roster: big.roster, threshold: 2 })).toThrow(/at most 3/);
    const foreign = roster.map((r, i) => (i === 2 ? { ...r, keys: { ...r.keys, round: 2 } } : r));
    expect(() => sites[0]!.share({ roster: foreign, threshold })).toThrow(/another study or round/);
  });

  it('refuses to mask with a tampered share, and with a share missing', () => {
    const { ids, sites, roster, threshold } = setup(3, 2);
    const shared = sites.map((site) => site.share({ roster, threshold }).reply as ShareKeys);
    const incoming = shared.flatMap((m) => m.shares.filter((x) => x.to === ids[0]));
    const tampered = incoming.map((x, i) =>
      i === 1
        ? {
            ...x,
            ciphertext: Buffer.from(
              Buffer.from(x.ciphertext, 'base64').map((b, j) => (j === 0 ? b ^ 1 : b)),
            ).toString('base64'),
          }
        : x,
    );
    expect(() =>
      sites[0]!.mask({ threshold, maskers: ids, incoming: tampered }, new Float32Array(2), 1),
    ).toThrow(/does not decrypt/);
    expect(() =>
      sites[0]!.mask({ threshold, maskers: ids, incoming: incoming.slice(0, 2) }, new Float32Array(2), 1),
    ).toThrow(/No share from masker/);
  });
});

describe('StreamingAggregator.addSecureSum', () => {
  it('gives the same FedAvg and FedAdam result as one add() per site', () => {
    const global = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const updates = randomUpdates(3, 50, 9);
    const samples = [4, 1, 7];
    for (const name of ['fedavg', 'fedadam'] as const) {
      const strategy = StrategyConfig.parse({ name }) as ConstructorParameters<typeof StreamingAggregator>[0];
      const plain = new StreamingAggregator(strategy, { global, expectedSites: 3, state: null });
      updates.forEach((d, k) =>
        plain.add({ siteId: `s${k}`, samples: samples[k]!, weights: global.map((g, i) => g + d[i]!) }),
      );
      const secure = new StreamingAggregator(strategy, { global, expectedSites: 3, state: null });
      secure.addSecureSum({
        deltaSum: plainSum(updates, samples, [0, 1, 2]),
        totalWeight: 12,
        siteIds: ['s0', 's1', 's2'],
      });
      const a = plain.finish().weights;
      const b = secure.finish().weights;
      for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 6);
    }
  });

  it('takes the sum still in fixed point and gives the same weights, bit for bit, as the decoded sum', () => {
    const global = Float32Array.from({ length: 40 }, (_, i) => Math.cos(i));
    const updates = randomUpdates(3, 40, 4);
    const ring = new Uint32Array(80);
    updates.forEach((d, k) => addFixedPoint(ring, d, [2, 5, 3][k]!));
    const strategy = StrategyConfig.parse({ name: 'fedavg' }) as ConstructorParameters<
      typeof StreamingAggregator
    >[0];
    const fromRing = new StreamingAggregator(strategy, { global, expectedSites: 3, state: null });
    fromRing.addSecureSum({ deltaSum: { ring }, totalWeight: 10, siteIds: ['a', 'b', 'c'] });
    const decoded = new StreamingAggregator(strategy, { global, expectedSites: 3, state: null });
    decoded.addSecureSum({ deltaSum: decodeFixedPoint(ring), totalWeight: 10, siteIds: ['a', 'b', 'c'] });
    expect(Buffer.from(fromRing.finish().weights.buffer)).toEqual(
      Buffer.from(decoded.finish().weights.buffer),
    );
    expect(() =>
      new StreamingAggregator(strategy, { global, expectedSites: 3, state: null }).addSecureSum({
        deltaSum: { ring: new Uint32Array(78) },
        totalWeight: 10,
        siteIds: ['a'],
      }),
    ).toThrow(/39 values; the global model has 40/);
  });

  it('central DP: each site weighs 1 and the noise is calibrated to the number of sites, as with add()', () => {
    const privacy = PrivacyConfig.parse({
      mode: 'central',
      clipNorm: 10,
      noiseMultiplier: 1,
      epsilonBudget: 100,
    });
    const global = Float32Array.from({ length: 40 }, (_, i) => Math.cos(i));
    const updates = randomUpdates(4, 40, 21); // norms well under the clip, as the sites clipped them
    const strategy = StrategyConfig.parse({ name: 'fedavg' }) as ConstructorParameters<
      typeof StreamingAggregator
    >[0];
    const plain = new StreamingAggregator(strategy, {
      global,
      expectedSites: 4,
      state: null,
      privacy,
      rng: seededRng(5),
    });
    updates.forEach((d, k) =>
      plain.add({ siteId: `s${k}`, samples: 10 + k, weights: global.map((g, i) => g + d[i]!) }),
    );
    const secure = new StreamingAggregator(strategy, {
      global,
      expectedSites: 4,
      state: null,
      privacy,
      rng: seededRng(5),
    });
    const ids = ['s0', 's1', 's2', 's3'];
    expect(() =>
      secure.addSecureSum({
        deltaSum: plainSum(updates, [10, 11, 12, 13], [0, 1, 2, 3]),
        totalWeight: 46,
        siteIds: ids,
      }),
    ).toThrow(/every site weighs 1/);
    secure.addSecureSum({
      deltaSum: plainSum(updates, [1, 1, 1, 1], [0, 1, 2, 3]),
      totalWeight: 4,
      siteIds: ids,
    });
    const a = plain.finish().weights;
    const b = secure.finish().weights;
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 5);
    expect(a.some((v, i) => Math.abs(v - global[i]!) > 0.5)).toBe(true); // the noise (std 10/4) is there
  });
});
