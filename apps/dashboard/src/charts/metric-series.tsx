import type { MetricList } from '@fedseg/protocol/web';
import type { Series } from './line-chart';

/** The study page's charts: which stored metric each shows (names as the agents report them). */
export const STUDY_CHARTS = [
  { split: 'train', name: 'loss', title: 'Train loss', digits: 4 },
  { split: 'val', name: 'dice', title: 'Validation Dice', digits: 3 },
  { split: 'val', name: 'hd95', title: 'Validation HD95', unit: 'mm', digits: 2 },
  { split: 'val', name: 'assd', title: 'Validation ASSD', unit: 'mm', digits: 2 },
] as const;

export const GLOBAL_SERIES = 'global';

/**
 * One series for the study-level figure (siteId null: the coordinator's sample-weighted mean) and one per
 * site that reported it, sites by name (so a site keeps its colour from chart to chart). What a caller may see was decided by the server
 * (a site-admin receives only its own site's rows); null values (an empty mask's Dice) are skipped.
 */
export function metricSeries(
  rows: MetricList,
  split: string,
  name: string,
  siteLabel: (siteId: string) => string,
): Series[] {
  const bySite = new Map<string | null, Array<{ round: number; value: number }>>([[null, []]]);
  for (const r of rows) {
    if (r.split !== split || r.name !== name || r.value === null) continue;
    let points = bySite.get(r.siteId);
    if (!points) bySite.set(r.siteId, (points = []));
    points.push({ round: r.roundIndex, value: r.value });
  }
  const series = [...bySite].map(([siteId, points]) => ({
    key: siteId ?? GLOBAL_SERIES,
    label: siteId === null ? 'all sites' : siteLabel(siteId),
    points: points.sort((a, b) => a.round - b.round),
    emphasis: siteId === null,
  }));
  return [series[0]!, ...series.slice(1).sort((a, b) => a.label.localeCompare(b.label))];
}
