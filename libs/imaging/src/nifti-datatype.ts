/**
 * NIfTI datatype codes we decode (nifti1.h, DT_* constants) with their byte sizes. Complex and RGB codes
 * (32, 128, 1536, 1792, 2048, 2304) are refused: segmentation inputs are scalar.
 */
export const NIFTI_DATATYPES = {
  uint8: { code: 2, bytes: 1 },
  int16: { code: 4, bytes: 2 },
  int32: { code: 8, bytes: 4 },
  float32: { code: 16, bytes: 4 },
  float64: { code: 64, bytes: 8 },
  int8: { code: 256, bytes: 1 },
  uint16: { code: 512, bytes: 2 },
  uint32: { code: 768, bytes: 4 },
  int64: { code: 1024, bytes: 8 },
  uint64: { code: 1280, bytes: 8 },
} as const;

export type NiftiDatatype = keyof typeof NIFTI_DATATYPES;

export function datatypeFromCode(code: number): NiftiDatatype | undefined {
  for (const [name, info] of Object.entries(NIFTI_DATATYPES)) {
    if (info.code === code) return name as NiftiDatatype;
  }
  return undefined;
}

/** Inclusive value range of integer datatypes; used by the writer to refuse values that would wrap. */
export function integerRange(dtype: NiftiDatatype): [number, number] | undefined {
  switch (dtype) {
    case 'uint8':
      return [0, 255];
    case 'int8':
      return [-128, 127];
    case 'int16':
      return [-32768, 32767];
    case 'uint16':
      return [0, 65535];
    case 'int32':
      return [-2147483648, 2147483647];
    case 'uint32':
      return [0, 4294967295];
    case 'int64':
    case 'uint64':
      return [dtype === 'int64' ? -Number.MAX_SAFE_INTEGER : 0, Number.MAX_SAFE_INTEGER];
    default:
      return undefined;
  }
}
