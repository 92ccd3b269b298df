/**
 * Hard Dice of one class between two label maps: 2|P and T| / (|P| + |T|). NaN when the class is absent
 * from both (MONAI's convention: such cases are excluded from means, not counted as 0 or 1).
 */
export function diceScore(predicted: Uint8Array, truth: Uint8Array, classId: number): number {
  let both = 0;
  let p = 0;
  let t = 0;
  for (let i = 0; i < truth.length; i++) {
    const inP = predicted[i] === classId;
    const inT = truth[i] === classId;
    if (inP) p++;
    if (inT) t++;
    if (inP && inT) both++;
  }
  return p + t === 0 ? NaN : (2 * both) / (p + t);
}

/** Mean of the finite entries; NaN when there are none. */
export function nanMean(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
}
