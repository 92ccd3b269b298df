import { ImagingArgumentError } from './imaging-errors';

/**
 * Dice similarity coefficient of class `label`: 2|P ∩ R| / (|P| + |R|) (Dice, Ecology 1945), voxel counts,
 * so spacing does not matter.
 *
 * Empty masks follow MONAI's DiceMetric with its default `ignore_empty=True` (monai/metrics/meandice.py,
 * DiceHelper.compute_channel): NaN whenever the reference lacks the class, whatever the prediction holds (the
 * case is undefined for this class: excluded from means and counted); 0 when only the prediction lacks it.
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
  return r === 0 ? NaN : (2 * both) / (p + r);
}
