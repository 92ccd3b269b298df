/**
 * Picks `count` of the eligible site ids; all of them when count is absent or not smaller. Seeded by
 * (study seed, round) so a restarted coordinator picks the same sites for the same round.
 */
export function selectSites(
  eligibleIds: readonly string[],
  count: number | undefined,
  seed: number,
): string[] {
  const sorted = [...eligibleIds].sort();
  if (count === undefined || count >= sorted.length) return sorted;
  let state = (seed >>> 0) ^ 0x9e3779b9;
  const next = () => {
    // mulberry32: small, well-distributed, deterministic.
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = sorted.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [sorted[i], sorted[j]] = [sorted[j]!, sorted[i]!];
  }
  return sorted.slice(0, count).sort();
}
