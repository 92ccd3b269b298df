import { describe, expect, it } from '@jest/globals';
import type { MetricRow } from '@fedseg/protocol/web';
import { metricSeries } from './metric-series';
import { niceScale } from './nice-scale';

const STUDY = '11111111-1111-4111-8111-111111111111';
const A = '22222222-2222-4222-8222-222222222222';
const B = '33333333-3333-4333-8333-333333333333';
let n = 0;
const row = (roundIndex: number, siteId: string | null, name: string, value: number | null): MetricRow => ({
  id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  studyId: STUDY,
  roundIndex,
  siteId,
  split: name === 'loss' ? 'train' : 'val',
  name,
  value,
  samples: 4,
  createdAt: '2026-01-01T00:00:00.000Z',
});

describe('chart scales', () => {
  it('ends the axis at the next 1-2-5 step with even ticks', () => {
    expect(niceScale(0.83)).toEqual({ max: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] });
    expect(niceScale(13.2)).toEqual({ max: 20, ticks: [0, 5, 10, 15, 20] });
    expect(niceScale(0.0042).max).toBeCloseTo(0.005, 12);
    expect(niceScale(5).max).toBe(5);
    expect(niceScale(0).max).toBe(1);
  });
});

describe('metric series', () => {
  it('draws the study-level line first, then each site by name, rounds in order, skipping nulls', () => {
    const rows = [
      row(2, B, 'dice', 0.7),
      row(2, A, 'dice', 0.6),
      row(1, A, 'dice', 0.4),
      row(1, null, 'dice', 0.45),
      row(1, B, 'dice', null),
      row(1, A, 'hd95', 12),
    ];
    const series = metricSeries(rows, 'val', 'dice', (id) => (id === A ? 'site-a' : 'site-b'));
    expect(series.map((s) => [s.label, s.points.map((p) => `${p.round}:${p.value}`)])).toEqual([
      ['all sites', ['1:0.45']],
      ['site-a', ['1:0.4', '2:0.6']],
      ['site-b', ['2:0.7']],
    ]);
    expect(series[0]!.emphasis).toBe(true);
  });
});
