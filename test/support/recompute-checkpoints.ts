import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { PrismaClient } from '@prisma/client';
import {
  addFixedPoint,
  createAggregator,
  decodeFixedPoint,
  decodeStrategyState,
  decodeUpdate,
  StreamingAggregator,
} from '@fedseg/aggregation';
import { StudyConfig, decodeTensors, decodeWeights } from '@fedseg/protocol';
import { z } from 'zod';

/** An update a site was told the coordinator had: its log said so (agent-client's `... accepted`). */
export interface AckedUpdate {
  site: string;
  round: number;
}

export interface CheckpointAudit {
  /** Committed rounds recomputed (round 0, the initial model, is not a recomputation). */
  rounds: number;
  /** Updates counted into those checkpoints. */
  aggregated: number;
  /** Rounds whose committed weights differ from the recomputation, with the first differing weight. */
  mismatches: Array<{ round: number; index: number; committed: number; recomputed: number }>;
  /**
   * Work that the coordinator accepted but no checkpoint holds: an update still `received` in a committed
   * round, an update marked aggregated in a round with no checkpoint, an acked update with no row.
   */
  lost: string[];
  /** An update counted twice: the same bytes or the same nonce aggregated more than once. */
  duplicates: string[];
  /** Updates of rounds still open (not lost: the round may still count them). */
  pending: string[];
  /** Blobs under checkpoints/<study>/ that no checkpoint row names, and checkpoint rows of failed rounds. */
  partial: string[];
}

const StateRef = z.object({ storageKey: z.string(), sha256: z.string() });

function sha256(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

function sameBits(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** The acked updates of one study in an agent's log (the first 8 characters of the study id name it). */
export function acksFromAgentLog(site: string, log: string, studyId: string): AckedUpdate[] {
  const acks: AckedUpdate[] = [];
  const pattern = /update for study ([0-9a-f]{8}) round (\d+)(?: accepted|: the coordinator already had it)/g;
  for (const m of log.matchAll(pattern))
    if (m[1] === studyId.slice(0, 8)) acks.push({ site, round: Number(m[2]) });
  return acks;
}

/**
 * Recomputes every committed checkpoint of a study from what the database says went into it, and nothing
 * else: the previous checkpoint's blob plus exactly the updates marked aggregated in that round, each read
 * back from the coordinator's blob store (<homeDir>/blobs) and checked against its recorded sha256, summed in
 * the 64-bit fixed point the coordinator uses (weight = samples, so the sum is exact and order-free), then the
 * study's strategy step. The committed weights must equal it bit for bit. Plain (unmasked) studies with
 * mean-based strategies and no clipping or central noise, which is what makes a recomputation exact.
 */
export async function recomputeCheckpoints(
  prisma: PrismaClient,
  homeDir: string,
  studyId: string,
  acks: readonly AckedUpdate[] = [],
): Promise<CheckpointAudit> {
  const blobRoot = path.join(homeDir, 'blobs');
  const readBlob = (key: string, digest: string, what: string) => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(blobRoot, key)));
    if (sha256(bytes) !== digest)
      throw new Error(`${what}: the blob ${key} does not match its recorded sha256`);
    return bytes;
  };
  const study = await prisma.study.findUniqueOrThrow({ where: { id: studyId } });
  const config = StudyConfig.parse(study.config);
  const { strategy, privacy } = config;
  const bound = 'updateNormBound' in strategy ? strategy.updateNormBound : undefined;
  if (config.secureAggregation || privacy.mode === 'central' || bound !== undefined)
    throw new Error('recomputeCheckpoints checks plain studies without clipping or central noise');
  const sites = new Map((await prisma.site.findMany()).map((s) => [s.id, s.name]));
  const rounds = await prisma.round.findMany({
    where: { studyId },
    include: { updates: true },
    orderBy: { index: 'asc' },
  });
  const checkpoints = await prisma.checkpoint.findMany({
    where: { studyId },
    orderBy: { roundIndex: 'asc' },
  });
  const audit: CheckpointAudit = {
    rounds: 0,
    aggregated: 0,
    mismatches: [],
    lost: [],
    duplicates: [],
    pending: [],
    partial: [],
  };
  const label = (u: { siteId: string }, round: number) => `${sites.get(u.siteId) ?? u.siteId} round ${round}`;

  checkpoints.forEach((c, i) => {
    if (c.roundIndex !== i) throw new Error(`checkpoints are not consecutive: ${i} is round ${c.roundIndex}`);
  });
  const roundByIndex = new Map(rounds.map((r) => [r.index, r]));
  const seenDigests = new Map<string, string>();
  const seenNonces = new Map<string, string>();

  for (const checkpoint of checkpoints.slice(1)) {
    const round = roundByIndex.get(checkpoint.roundIndex);
    if (!round || round.id !== checkpoint.roundId) {
      audit.partial.push(`checkpoint ${checkpoint.roundIndex} names no round of that index`);
      continue;
    }
    if (round.status === 'failed') audit.partial.push(`round ${round.index} failed but has a checkpoint`);
    const previous = checkpoints[checkpoint.roundIndex - 1]!;
    const global = decodeWeights(
      readBlob(previous.storageKey, previous.sha256, `checkpoint ${previous.roundIndex}`),
    );
    const ref = previous.strategyState === null ? null : StateRef.parse(previous.strategyState);
    const state = ref ? decodeStrategyState(readBlob(ref.storageKey, ref.sha256, 'strategy state')) : null;

    const accepted = round.updates
      .filter((u) => u.status === 'aggregated')
      .sort((a, b) => (a.siteId < b.siteId ? -1 : a.siteId > b.siteId ? 1 : 0));
    const sum = new Uint32Array(global.data.length * 2);
    let totalWeight = 0;
    for (const u of accepted) {
      const bytes = readBlob(u.storageKey, u.sha256, `update of ${label(u, round.index)}`);
      addFixedPoint(sum, decodeUpdate(decodeTensors(bytes)), u.samples);
      totalWeight += u.samples;
      const other = seenDigests.get(u.sha256);
      if (other) audit.duplicates.push(`${label(u, round.index)} has the same bytes as ${other}`);
      seenDigests.set(u.sha256, label(u, round.index));
      if (u.nonce) {
        const again = seenNonces.get(u.nonce);
        if (again) audit.duplicates.push(`${label(u, round.index)} has the nonce of ${again}`);
        seenNonces.set(u.nonce, label(u, round.index));
      }
    }
    for (const u of round.updates.filter((x) => x.status === 'received'))
      audit.lost.push(`${label(u, round.index)}: received but not in the committed checkpoint`);

    const aggregator = createAggregator(strategy, {
      global: global.data,
      state,
      expectedSites: accepted.length,
      privacy,
    });
    if (!(aggregator instanceof StreamingAggregator))
      throw new Error(`recomputeCheckpoints checks mean-based strategies, not ${strategy.name}`);
    aggregator.addSecureSum({
      deltaSum: decodeFixedPoint(sum),
      totalWeight,
      siteIds: accepted.map((u) => u.siteId),
    });
    const recomputed = aggregator.finish().weights;
    const committed = decodeWeights(
      readBlob(checkpoint.storageKey, checkpoint.sha256, `checkpoint ${checkpoint.roundIndex}`),
    ).data;
    const at = sameBits(committed, recomputed);
    if (at >= 0)
      audit.mismatches.push({
        round: round.index,
        index: at,
        committed: committed[at] ?? Number.NaN,
        recomputed: recomputed[at] ?? Number.NaN,
      });
    audit.rounds += 1;
    audit.aggregated += accepted.length;
  }

  const committedRounds = new Set(checkpoints.map((c) => c.roundIndex));
  for (const round of rounds) {
    if (committedRounds.has(round.index)) continue;
    const open = round.status !== 'failed' && round.status !== 'completed' && round.status !== 'evaluating';
    for (const u of round.updates) {
      if (u.status === 'aggregated')
        audit.lost.push(
          `${label(u, round.index)}: marked aggregated, but round ${round.index} has no checkpoint`,
        );
      else if (open && u.status === 'received') audit.pending.push(label(u, round.index));
    }
    if ((round.status === 'completed' || round.status === 'evaluating') && !committedRounds.has(round.index))
      audit.lost.push(`round ${round.index} is ${round.status} without a checkpoint`);
  }
  for (const ack of acks) {
    const round = rounds.find((r) => r.index === ack.round);
    const row = round?.updates.find((u) => sites.get(u.siteId) === ack.site);
    if (!round || !row) audit.lost.push(`${ack.site} round ${ack.round}: acked, but no update row`);
    else if (row.status === 'rejected')
      audit.lost.push(`${ack.site} round ${ack.round}: acked, then rejected`);
  }

  const named = new Set(
    checkpoints.flatMap((c) => {
      const ref = c.strategyState === null ? null : StateRef.parse(c.strategyState);
      return ref ? [c.storageKey, ref.storageKey] : [c.storageKey];
    }),
  );
  const dir = path.join(blobRoot, 'checkpoints', studyId);
  // A temporary file is what a kill mid-write leaves; the store never reads it (blob-store.ts renames into place).
  for (const file of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (file.endsWith('.tmp')) continue;
    const key = `checkpoints/${studyId}/${file}`;
    if (!named.has(key)) audit.partial.push(`${key}: a checkpoint blob no row names`);
  }
  return audit;
}
