/**
 * Importance map for stitching sliding-window predictions (nnU-Net, Isensee et al., 2021): a separable
 * Gaussian centred on the window with sigma = size * sigmaScale per axis (nnU-Net: 1/8), scaled to max 1 and
 * floored at its smallest positive value so border voxels still count where only one window covers them.
 * Layout matches the window: [pz, py, px], x fastest.
 */
export function gaussianImportance(
  window: readonly [number, number, number],
  sigmaScale = 1 / 8,
): Float32Array {
  const axes = window.map((size) => {
    const sigma = Math.max(size * sigmaScale, 1e-6);
    const centre = (size - 1) / 2;
    return Float64Array.from({ length: size }, (_, i) =>
      Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma)),
    );
  });
  const [gx, gy, gz] = axes as [Float64Array, Float64Array, Float64Array];
  const [px, py, pz] = window;
  const out = new Float32Array(px * py * pz);
  let max = 0;
  let i = 0;
  for (let z = 0; z < pz; z++)
    for (let y = 0; y < py; y++)
      for (let x = 0; x < px; x++, i++) {
        out[i] = gz[z]! * gy[y]! * gx[x]!;
        if (out[i]! > max) max = out[i]!;
      }
  let minPositive = Infinity;
  for (let j = 0; j < out.length; j++) {
    out[j] = out[j]! / max;
    if (out[j]! > 0 && out[j]! < minPositive) minPositive = out[j]!;
  }
  for (let j = 0; j < out.length; j++) if (out[j] === 0) out[j] = minPositive;
  return out;
}
