import { ImagingArgumentError } from './imaging-errors';

/**
 * Dice similarity coefficient of class `label`: 2|P ∩ R| / (|P| + |R|) (Dice, Ecology 1945), voxel counts,
 * so spacing does not matter. Empty masks: NaN when both prediction and reference lack the class (undefined;
 * excluded from means and counted, as MONAI's DiceMetric with ignore_empty); 0 when only one of them has it.
 */
export function diceScore(prediction: ArrayLike<number>, reference: ArrayLike<number>, label = 1): number {
  if (prediction.length !== reference.length) {
    throw new ImagingArgumentError(
      `dice: prediction has ${prediction.length} voxels, reference ${reference.length}`,
    );
  }
  let p = 0;
  let r = 0;
  let both = 0;
  for (let i = 0; i < prediction.length; i++) {
    const inP = prediction[i] === label;
    const inR = reference[i] === label;
    if (inP) p++;
    if (inR) r++;
    if (inP && inR) both++;
  }
  return p + r === 0 ? NaN : (2 * both) / (p + r);
}
