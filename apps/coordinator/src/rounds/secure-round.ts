import {
  AggregationError,
  StreamingAggregator,
  addRing,
  createAggregator,
  decodeFixedPoint,
  removeMasks,
  type StrategyState,
} from '@fedseg/aggregation';
import {
  AdvertiseKeys,
  MASKED_UPDATE_TENSOR,
  ShareKeys,
  UnmaskShares,
  decodeTensors,
  type MaskingContext,
  type RosterEntry,
  type SecAggRequest,
  type SignedSecAggRequest,
} from '@fedseg/protocol';
import type { BlobStore } from '../storage/blob-store';
import { sha256Hex } from '../storage/blob-store';
import type { StudyRecord } from '../studies/studies.repository';
import type { GlobalModel } from './global-model.service';
import type { RoundRecord as Round, RoundsRepository, UpdateRecord as SiteUpdate } from './rounds.repository';
import { participantsOf, type Participants } from './secure-aggregation-phase';

export interface SecureRoundDeps {
  rounds: RoundsRepository;
  blobs: BlobStore;
  /** The enrolled Ed25519 keys of these sites: the roster carries them so sites can check each other's keys. */
  signingKeysOf(siteIds: readonly string[]): Promise<Map<string, string>>;
  signRequest(request: SecAggRequest): SignedSecAggRequest;
}

/** Reads and writes of a secure-aggregation round: participant sets, phase requests, masking context, unmasked sum. */
export class SecureRound {
  constructor(private readonly deps: SecureRoundDeps) {}

  async participants(round: Round): Promise<Participants> {
    const messages = await this.deps.rounds.secAggMessagesOf(round.id);
    const of = (phase: string) => messages.filter((m) => m.phase === phase).map((m) => m.siteId);
    const updates = await this.deps.rounds.updatesOf(round.id);
    return participantsOf({
      selected: round.selectedSiteIds,
      advertised: of('advertise'),
      maskers: of('share'),
      masked: updates.filter((u) => u.status !== 'rejected').map((u) => u.siteId),
      unmasked: of('unmask'),
    });
  }

  /** The signed request of a key phase, the same for every site of the phase (so re-sending is idempotent). */
  async request(
    study: StudyRecord,
    round: Round,
    phase: 'advertise' | 'share' | 'unmask',
    p: Participants,
  ): Promise<SignedSecAggRequest> {
    const cfg = study.config.secureAggregation!;
    const base = {
      studyId: study.id,
      round: round.index,
      deadlineAt: (round.phaseDeadlineAt ?? round.deadlineAt).toISOString(),
    };
    if (phase === 'advertise') return this.deps.signRequest({ ...base, phase, threshold: cfg.threshold });
    if (phase === 'unmask')
      return this.deps.signRequest({
        ...base,
        phase,
        survivors: [...p.masked],
        dropped: p.maskers.filter((id) => !p.masked.includes(id)),
      });
    const messages = await this.deps.rounds.secAggMessagesOf(round.id, 'advertise');
    const keys = await this.deps.signingKeysOf(p.advertised);
    const roster: RosterEntry[] = messages
      .filter((m) => p.advertised.includes(m.siteId))
      .map((m) => ({
        signingPublicKey: keys.get(m.siteId)!,
        keys: AdvertiseKeys.parse(m.payload),
        signature: m.signature,
      }));
    return this.deps.signRequest({ ...base, phase, threshold: cfg.threshold, roster });
  }

  /** What a masker's training task carries: the maskers and the shares addressed to it. */
  async maskingContext(
    study: StudyRecord,
    round: Round,
    siteId: string,
    p: Participants,
  ): Promise<MaskingContext> {
    const shares = await this.deps.rounds.secAggMessagesOf(round.id, 'share');
    return {
      threshold: study.config.secureAggregation!.threshold,
      maskers: [...p.maskers],
      incoming: shares
        .filter((m) => p.maskers.includes(m.siteId))
        .flatMap((m) => ShareKeys.parse(m.payload).shares.filter((s) => s.to === siteId)),
    };
  }

  /**
   * Sums the survivors' masked updates (one in memory at a time), removes the masks with the unmask shares,
   * and runs the study's strategy on the mean. Throws AggregationError when the shares cannot unmask.
   */
  async aggregate(
    study: StudyRecord,
    round: Round,
    global: GlobalModel,
    updates: readonly SiteUpdate[],
  ): Promise<{ weights: Float32Array; state: StrategyState | null }> {
    const cfg = study.config.secureAggregation!;
    const p = await this.participants(round);
    const messages = await this.deps.rounds.secAggMessagesOf(round.id);
    const payloads = (phase: string) => messages.filter((m) => m.phase === phase).map((m) => m.payload);
    const survivors = updates.map((u) => u.siteId);
    const sum = new Uint32Array(global.weights.data.length * 2);
    for (const update of updates) {
      const blob = await this.deps.blobs.get(update.storageKey);
      if (sha256Hex(blob) !== update.sha256)
        throw new Error(`stored update ${update.id} no longer matches its digest`);
      const [tensor] = decodeTensors(blob);
      if (!tensor || tensor.name !== MASKED_UPDATE_TENSOR || !(tensor.data instanceof Uint32Array))
        throw new AggregationError(`stored update ${update.id} is not a masked update`);
      addRing(sum, tensor.data);
    }
    removeMasks(sum, {
      ctx: { studyId: study.id, round: round.index },
      threshold: cfg.threshold,
      roster: payloads('advertise')
        .map((x) => AdvertiseKeys.parse(x))
        .filter((k) => p.advertised.includes(k.siteId)),
      commitments: new Map(
        payloads('share')
          .map((x) => ShareKeys.parse(x))
          .map((s) => [s.siteId, s.selfMaskCommitment] as const),
      ),
      maskers: p.maskers,
      survivors,
      replies: payloads('unmask')
        .map((x) => UnmaskShares.parse(x))
        .filter((r) => survivors.includes(r.siteId)),
    });
    const central = study.config.privacy.mode === 'central';
    const aggregator = createAggregator(study.config.strategy, {
      global: global.weights.data,
      state: global.state,
      expectedSites: updates.length,
      privacy: study.config.privacy,
    });
    if (!(aggregator instanceof StreamingAggregator))
      throw new AggregationError(`Strategy ${study.config.strategy.name} cannot aggregate a secure sum.`);
    aggregator.addSecureSum({
      deltaSum: decodeFixedPoint(sum),
      totalWeight: updates.reduce((w, u) => w + (central ? 1 : u.samples), 0),
      siteIds: survivors,
    });
    return aggregator.finish();
  }
}
