/**
 * An axis from 0 to the smallest "nice" number (1, 2 or 5 times a power of ten) at or above `maxValue`,
 * with 4 or 5 evenly spaced ticks. 0 (or nothing yet) gives 0..1.
 */
export function niceScale(maxValue: number): { max: number; ticks: number[] } {
  if (!(maxValue > 0) || !Number.isFinite(maxValue)) return { max: 1, ticks: [0, 0.25, 0.5, 0.75, 1] };
  const power = 10 ** Math.floor(Math.log10(maxValue));
  const max = [1, 2, 5, 10].map((m) => m * power).find((c) => c >= maxValue * (1 - 1e-12))!;
  const parts = max / power === 2 ? 4 : max / power === 5 || max / power === 10 ? 5 : 4;
  return { max, ticks: Array.from({ length: parts + 1 }, (_, i) => (max * i) / parts) };
}
