import { niceScale } from './nice-scale';

/** One line: a value per round (rounds without one are skipped, not drawn as zero). */
export interface Series {
  /** Stable key, used in data attributes the browser tests read. */
  key: string;
  label: string;
  points: ReadonlyArray<{ round: number; value: number }>;
  /** The study-level line is drawn thicker and first in the legend. */
  emphasis?: boolean;
}

const W = 560;
const H = 230;
const PAD = { left: 48, right: 14, top: 14, bottom: 34 };
/** Okabe-Ito, distinguishable with the common colour-vision deficiencies; the global line is near-black. */
const PALETTE = ['#e69f00', '#56b4e9', '#009e73', '#cc79a7', '#0072b2', '#d55e00', '#f0e442', '#999999'];

/**
 * Several series per round as a plain SVG line chart. A few lines of a few dozen rounds each: a chart
 * library would weigh more than the whole page. The y axis starts at 0 (Dice, losses and distances are
 * non-negative) and ends at a 1-2-5 step above the largest value.
 */
export function LineChart({
  title,
  unit,
  series,
  rounds,
  digits = 3,
}: {
  title: string;
  unit?: string;
  series: readonly Series[];
  /** How many rounds the x axis spans (planned or done so far). */
  rounds: number;
  digits?: number;
}) {
  const all = series.flatMap((s) => s.points.map((p) => p.value));
  const { max: yMax, ticks } = niceScale(Math.max(0, ...all));
  const maxRound = Math.max(1, rounds, ...series.flatMap((s) => s.points.map((p) => p.round)));
  const x = (round: number) =>
    PAD.left + ((round - 1) / Math.max(1, maxRound - 1)) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - Math.min(1, Math.max(0, v / yMax))) * (H - PAD.top - PAD.bottom);
  const roundTicks = roundLabels(maxRound);
  const colour = (i: number, s: Series) => (s.emphasis ? '#1b2330' : PALETTE[i % PALETTE.length]!);
  const describe = series
    .map(
      (s) => `${s.label}: ${s.points.map((p) => `round ${p.round} ${p.value.toFixed(digits)}`).join(', ')}`,
    )
    .join('; ');
  const empty = all.length === 0;
  return (
    <figure className="chart" data-chart={title}>
      <figcaption>
        <strong>{title}</strong>
        {unit && <span className="reason"> ({unit})</span>}
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${title}: ${empty ? 'no points yet' : describe}`}
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="grid" />
            <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" className="tick">
              {formatTick(t, yMax)}
            </text>
          </g>
        ))}
        {roundTicks.map((r) => (
          <text key={r} x={x(r)} y={H - PAD.bottom + 16} textAnchor="middle" className="tick">
            {r}
          </text>
        ))}
        <text x={(W + PAD.left) / 2} y={H - 4} textAnchor="middle" className="axis">
          round
        </text>
        {empty && (
          <text x={(W + PAD.left) / 2} y={H / 2} textAnchor="middle" className="axis">
            no rounds evaluated yet
          </text>
        )}
        {series.map((s, i) => (
          <g
            key={s.key}
            data-series={s.key}
            data-points={s.points.length}
            stroke={colour(i, s)}
            fill={colour(i, s)}
          >
            {s.points.length > 1 && (
              <polyline
                className={s.emphasis ? 'line emphasis' : 'line'}
                points={s.points.map((p) => `${x(p.round)},${y(p.value)}`).join(' ')}
              />
            )}
            {s.points.map((p) => (
              <circle key={p.round} cx={x(p.round)} cy={y(p.value)} r={s.emphasis ? 4 : 3}>
                <title>{`${s.label}, round ${p.round}: ${p.value.toFixed(digits + 1)}`}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
      <ul className="legend">
        {series.map((s, i) => {
          const last = s.points[s.points.length - 1];
          return (
            <li key={s.key}>
              <span className="swatch" style={{ background: colour(i, s) }} aria-hidden="true" />
              {s.label}
              {last && (
                <span className="reason">
                  {' '}
                  {last.value.toFixed(digits)} (round {last.round})
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </figure>
  );
}

/** At most ~12 round labels: every round, or every 2nd, 5th, 10th, … */
function roundLabels(maxRound: number): number[] {
  const step = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].find((s) => maxRound / s <= 12) ?? 1000;
  const out = [1];
  for (let r = step; r <= maxRound; r += step) if (r !== 1) out.push(r);
  return out;
}

function formatTick(t: number, max: number): string {
  if (max >= 10) return t.toFixed(0);
  const decimals = Math.max(0, Math.ceil(-Math.log10(max)) + 1);
  return t.toFixed(Math.min(4, decimals));
}
