import type { Affine } from './nifti-affine';
import type { NiftiDatatype } from './nifti-datatype';
import type { Volume } from './volume';

/**
 * A decoded NIfTI file: the voxels as a Volume (scl_slope/scl_inter applied, dims 4.. folded into channels,
 * channels-last) plus the header facts a site admin or a writer needs again.
 */
export interface NiftiImage extends Volume {
  version: 1 | 2;
  /** On-disk datatype before scaling. */
  datatype: NiftiDatatype;
  /** Voxel -> world (RAS+, mm), 4x4 row-major; from sform, else qform, else diag(pixdim) (nifti1.h). */
  affine: Affine;
  /** Which header method produced `affine`. */
  affineSource: 'sform' | 'qform' | 'pixdim';
  /** Axis codes like 'RAS' or 'LPS' (see orientationCodes). */
  orientation: string;
  qformCode: number;
  sformCode: number;
  /** As stored; 0 means "no scaling" (nifti1.h). */
  sclSlope: number;
  sclInter: number;
  description: string;
  littleEndian: boolean;
}
