import { encodePng, type Raster } from './png-encoder';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './pixel-font';

export type Rgb = readonly [number, number, number];

/** Colour-blind-safe palette (Okabe & Ito, 2008). */
export const PALETTE: readonly Rgb[] = [
  [0, 0, 0],
  [0, 114, 178],
  [213, 94, 0],
  [0, 158, 115],
  [204, 121, 167],
  [230, 159, 0],
  [86, 180, 233],
  [240, 228, 66],
];

const GRID: Rgb = [225, 225, 225];
const AXIS: Rgb = [60, 60, 60];

class Canvas implements Raster {
  readonly rgb: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgb = new Uint8Array(width * height * 3).fill(255);
  }

  set(x: number, y: number, c: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.rgb.set(c, (y * this.width + x) * 3);
  }

  rect(x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
    for (let y = Math.round(Math.min(y0, y1)); y <= Math.round(Math.max(y0, y1)); y++)
      for (let x = Math.round(Math.min(x0, x1)); x <= Math.round(Math.max(x0, x1)); x++) this.set(x, y, c);
  }

  /** A line `thickness` pixels wide (square brush), sampled at half-pixel steps. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thickness = 1): void {
    const steps = Math.max(1, Math.ceil(2 * Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const r = (thickness - 1) / 2;
    for (let i = 0; i <= steps; i++) {
      const x = x0 + ((x1 - x0) * i) / steps;
      const y = y0 + ((y1 - y0) * i) / steps;
      this.rect(x - r, y - r, x + r, y + r, c);
    }
  }

  /** Text from the top-left corner at `scale` pixels a font pixel; returns the width drawn. */
  text(x: number, y: number, s: string, c: Rgb, scale = 2): number {
    let cx = x;
    for (const ch of s) {
      const rows = glyph(ch);
      for (let r = 0; r < GLYPH_HEIGHT; r++)
        for (let b = 0; b < GLYPH_WIDTH; b++)
          if ((rows[r]! >> (GLYPH_WIDTH - 1 - b)) & 1)
            this.rect(cx + b * scale, y + r * scale, cx + (b + 1) * scale - 1, y + (r + 1) * scale - 1, c);
      cx += (GLYPH_WIDTH + 1) * scale;
    }
    return cx - x;
  }
}

export function textWidth(s: string, scale = 2): number {
  return s.length * (GLYPH_WIDTH + 1) * scale;
}

export interface Series {
  name: string;
  color: Rgb;
  /** [x, y] points; y NaN breaks the line. */
  points: ReadonlyArray<readonly [number, number]>;
}

export interface ChartFrame {
  title: string;
  xLabel: string;
  yLabel: string;
  yMin: number;
  yMax: number;
  width?: number;
  height?: number;
}

const MARGIN = { left: 64, right: 16, top: 36, bottom: 52 };

function frame(canvas: Canvas, f: ChartFrame, legend: readonly { name: string; color: Rgb }[]) {
  const plot = {
    x0: MARGIN.left,
    y0: MARGIN.top,
    x1: canvas.width - MARGIN.right - 150,
    y1: canvas.height - MARGIN.bottom,
  };
  const yOf = (v: number): number => plot.y1 - ((v - f.yMin) / (f.yMax - f.yMin)) * (plot.y1 - plot.y0);
  for (let i = 0; i <= 5; i++) {
    const v = f.yMin + ((f.yMax - f.yMin) * i) / 5;
    const y = yOf(v);
    canvas.line(plot.x0, y, plot.x1, y, GRID);
    const label = v.toFixed(f.yMax - f.yMin < 2 ? 2 : 0);
    canvas.text(plot.x0 - 8 - textWidth(label), y - 5, label, AXIS);
  }
  canvas.line(plot.x0, plot.y0, plot.x0, plot.y1, AXIS);
  canvas.line(plot.x0, plot.y1, plot.x1, plot.y1, AXIS);
  canvas.text(MARGIN.left, 10, f.title, AXIS);
  canvas.text((plot.x0 + plot.x1) / 2 - textWidth(f.xLabel) / 2, canvas.height - 18, f.xLabel, AXIS);
  canvas.text(4, MARGIN.top - 16, f.yLabel, AXIS);
  legend.forEach((s, i) => {
    const y = plot.y0 + 4 + i * 18;
    canvas.rect(plot.x1 + 14, y, plot.x1 + 26, y + 9, s.color);
    canvas.text(plot.x1 + 32, y, s.name, AXIS);
  });
  return { plot, yOf };
}

/** Line chart, one line per series, with a legend on the right. */
export function lineChartPng(f: ChartFrame, series: readonly Series[]): Buffer {
  const canvas = new Canvas(f.width ?? 760, f.height ?? 420);
  const { plot, yOf } = frame(canvas, f, series);
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1);
  const xOf = (v: number): number => plot.x0 + ((v - xMin) / (xMax - xMin)) * (plot.x1 - plot.x0);
  // A tick at every x that has data when there are few, else 10 evenly spaced.
  const distinct = [...new Set(xs)].sort((a, b) => a - b);
  const ticks =
    distinct.length <= 12
      ? distinct
      : Array.from({ length: 11 }, (_, i) => Math.round(xMin + ((xMax - xMin) * i) / 10));
  for (const v of ticks) {
    const label = String(v);
    canvas.line(xOf(v), plot.y1, xOf(v), plot.y1 + 4, AXIS);
    canvas.text(xOf(v) - textWidth(label) / 2, plot.y1 + 10, label, AXIS);
  }
  for (const s of series) {
    let prev: readonly [number, number] | undefined;
    for (const p of s.points) {
      if (!Number.isFinite(p[1])) {
        prev = undefined;
        continue;
      }
      if (prev) canvas.line(xOf(prev[0]), yOf(prev[1]), xOf(p[0]), yOf(p[1]), s.color, 2);
      canvas.rect(xOf(p[0]) - 2, yOf(p[1]) - 2, xOf(p[0]) + 2, yOf(p[1]) + 2, s.color);
      prev = p;
    }
  }
  return encodePng(canvas);
}

export interface BarSeries {
  name: string;
  color: Rgb;
  /** One value per group; NaN draws nothing. */
  values: readonly number[];
}

/** Grouped bar chart: one group per entry of `groups`, one bar per series in each. */
export function barChartPng(f: ChartFrame, groups: readonly string[], series: readonly BarSeries[]): Buffer {
  const canvas = new Canvas(f.width ?? 760, f.height ?? 420);
  const { plot, yOf } = frame(canvas, f, series);
  const groupWidth = (plot.x1 - plot.x0) / groups.length;
  const barWidth = (groupWidth * 0.8) / series.length;
  groups.forEach((g, gi) => {
    const gx = plot.x0 + gi * groupWidth + groupWidth * 0.1;
    series.forEach((s, si) => {
      const v = s.values[gi]!;
      if (!Number.isFinite(v)) return;
      const clamped = Math.min(Math.max(v, f.yMin), f.yMax);
      canvas.rect(gx + si * barWidth + 1, yOf(clamped), gx + (si + 1) * barWidth - 1, plot.y1 - 1, s.color);
    });
    canvas.text(plot.x0 + (gi + 0.5) * groupWidth - textWidth(g) / 2, plot.y1 + 10, g, AXIS);
  });
  return encodePng(canvas);
}
