/**
 * Otsu's threshold (Otsu, IEEE Trans. SMC 9(1), 1979): the cut maximising between-class variance over a
 * 256-bin histogram. Used to find the body (foreground) in MRI, whose air background has no fixed value.
 * `stride`/`offset` read one channel of a channels-last buffer.
 */
export function otsuThreshold(data: Float32Array, stride = 1, offset = 0): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = offset; i < data.length; i += stride) {
    const x = data[i];
    if (!Number.isFinite(x)) continue;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!(hi > lo)) return lo;
  const bins = 256;
  const hist = new Float64Array(bins);
  const width = (hi - lo) / bins;
  let total = 0;
  for (let i = offset; i < data.length; i += stride) {
    const x = data[i];
    if (!Number.isFinite(x)) continue;
    hist[Math.min(bins - 1, Math.floor((x - lo) / width))]++;
    total++;
  }
  let sumAll = 0;
  for (let b = 0; b < bins; b++) sumAll += b * hist[b];
  let wB = 0;
  let sumB = 0;
  let best = 0;
  let bestVar = -1;
  for (let b = 0; b < bins; b++) {
    wB += hist[b];
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += b * hist[b];
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > bestVar) {
      bestVar = between;
      best = b;
    }
  }
  return lo + (best + 1) * width;
}
