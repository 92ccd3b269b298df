import { SampleShapeError } from '../errors';

/**
 * One volume or patch. Layout is NIfTI order with x fastest; shape = [nx, ny, nz]; the image is
 * channels-last (index ((z*ny + y)*nx + x)*channels + c), i.e. the tfjs tensor [nz, ny, nx, channels] with
 * no copy; label holds class ids, one per voxel.
 */
export interface TrainingSample {
  image: Float32Array;
  label: Uint8Array;
  shape: [number, number, number];
  channels: number;
}

/** Refuses a sample whose arrays, channels or labels do not fit a model with these channels/classes. */
export function assertSampleFits(
  sample: TrainingSample,
  index: number,
  inChannels: number,
  numClasses: number,
): void {
  const [nx, ny, nz] = sample.shape;
  const voxels = nx * ny * nz;
  if (![nx, ny, nz].every((d) => Number.isInteger(d) && d > 0)) {
    throw new SampleShapeError(
      `Sample ${index}: shape ${sample.shape.join('x')} must be three positive integers.`,
      { index },
    );
  }
  if (sample.channels !== inChannels) {
    throw new SampleShapeError(
      `Sample ${index} has ${sample.channels} channel(s) but the model takes ${inChannels}; stack the same modalities at every site.`,
      { index },
    );
  }
  if (sample.image.length !== voxels * sample.channels) {
    throw new SampleShapeError(
      `Sample ${index}: image holds ${sample.image.length} values, shape ${sample.shape.join('x')} x ${sample.channels} channel(s) needs ${voxels * sample.channels}.`,
      { index },
    );
  }
  if (sample.label.length !== voxels) {
    throw new SampleShapeError(
      `Sample ${index}: label holds ${sample.label.length} voxels, the image ${voxels}.`,
      { index },
    );
  }
  for (let i = 0; i < sample.label.length; i++) {
    if (sample.label[i]! >= numClasses) {
      throw new SampleShapeError(
        `Sample ${index}: label ${sample.label[i]} at voxel ${i} but the model has ${numClasses} classes (0..${numClasses - 1}).`,
        { index },
      );
    }
  }
}
