/** One point per round; null where the round has no validation Dice yet (not drawn). */
export interface ChartPoint {
  round: number;
  value: number | null;
}

/** The smallest of 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1 at or above v. */
function niceCeiling(v: number): number {
  for (const c of [0.01, 0.02, 0.05, 0.1, 0.2, 0.5]) if (v <= c) return c;
  return 1;
}

const W = 560;
const H = 220;
const PAD = { left: 44, right: 16, top: 14, bottom: 34 };

/**
 * Validation Dice per round as a plain SVG line chart. Small on
 * purpose: one series, a few dozen rounds; a chart library would weigh more than the whole page.
 */
export function DiceChart({ points, label }: { points: readonly ChartPoint[]; label: string }) {
  const drawn = points.filter((p): p is { round: number; value: number } => p.value !== null);
  const maxRound = Math.max(1, ...points.map((p) => p.round));
  const x = (round: number) =>
    PAD.left + ((round - (maxRound > 1 ? 1 : 0)) / Math.max(1, maxRound - 1)) * (W - PAD.left - PAD.right);
  // Dice is in [0, 1]; early rounds sit near 0, so the axis ends at the next of 0.01, 0.02, 0.05, 0.1, … 1.
  const yMax = niceCeiling(Math.max(0, ...drawn.map((p) => p.value)));
  const y = (v: number) => PAD.top + (1 - Math.min(1, Math.max(0, v / yMax))) * (H - PAD.top - PAD.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => t * yMax);
  const last = drawn[drawn.length - 1];
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${label}: ${drawn.map((p) => `round ${p.round} ${p.value.toFixed(3)}`).join(', ') || 'no points yet'}`}
        data-points={drawn.length}
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="grid" />
            <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" className="tick">
              {t.toFixed(yMax <= 0.02 ? 4 : yMax <= 0.5 ? 3 : 2)}
            </text>
          </g>
        ))}
        {points.map((p) => (
          <text key={p.round} x={x(p.round)} y={H - PAD.bottom + 16} textAnchor="middle" className="tick">
            {p.round}
          </text>
        ))}
        <text x={(W + PAD.left) / 2} y={H - 4} textAnchor="middle" className="axis">
          round
        </text>
        {drawn.length > 1 && (
          <polyline className="line" points={drawn.map((p) => `${x(p.round)},${y(p.value)}`).join(' ')} />
        )}
        {drawn.map((p) => (
          <circle key={p.round} className="dot" cx={x(p.round)} cy={y(p.value)} r={4}>
            <title>{`round ${p.round}: ${p.value.toFixed(4)}`}</title>
          </circle>
        ))}
      </svg>
      <figcaption>
        {label}
        {last ? ` — latest ${last.value.toFixed(3)} (round ${last.round})` : ' — no rounds evaluated yet'}
      </figcaption>
    </figure>
  );
}
