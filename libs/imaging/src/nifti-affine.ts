/**
 * Voxel -> world (RAS+, mm) affines of NIfTI headers, as 4x4 row-major arrays of 16 numbers.
 * Methods from nifti1.h ("3 different methods"): sform (srow_*) when sform_code > 0, else qform (quaternion +
 * qoffset + pixdim, qfac = pixdim[0]) when qform_code > 0, else the ANALYZE fallback diag(pixdim).
 */
export type Affine = number[];

/** nifti1.h method 2: R from the unit quaternion (a, b, c, d), a = sqrt(1 - b^2 - c^2 - d^2). */
export function quaternToAffine(
  b: number,
  c: number,
  d: number,
  offset: readonly [number, number, number],
  pixdim: readonly [number, number, number],
  qfac: number,
): Affine {
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const scale = [pixdim[0], pixdim[1], (qfac < 0 ? -1 : 1) * pixdim[2]];
  const out: Affine = [];
  for (let i = 0; i < 3; i++) {
    out.push(r[i][0] * scale[0], r[i][1] * scale[1], r[i][2] * scale[2], offset[i]);
  }
  out.push(0, 0, 0, 1);
  return out;
}

/**
 * Inverse of quaternToAffine for an affine whose 3x3 part is orthogonal up to column scales (nifti_io's
 * nifti_mat44_to_quatern, simplified): columns normalised give R and pixdim; det(R) < 0 flips the third
 * column and sets qfac = -1; the quaternion comes from the trace (Shepperd's method).
 * Returns undefined for a shear/oblique-non-orthogonal affine, which only sform can represent.
 */
export function affineToQuatern(affine: Affine):
  | {
      b: number;
      c: number;
      d: number;
      qfac: number;
      pixdim: [number, number, number];
      offset: [number, number, number];
    }
  | undefined {
  const col = (j: number): number[] => [affine[j], affine[4 + j], affine[8 + j]];
  const cols = [col(0), col(1), col(2)];
  const pixdim = cols.map((v) => Math.hypot(v[0], v[1], v[2])) as [number, number, number];
  if (pixdim.some((p) => p === 0)) return undefined;
  const r = cols.map((v, j) => v.map((x) => x / pixdim[j]));
  const dot = (u: number[], v: number[]): number => u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
  if (
    Math.abs(dot(r[0], r[1])) > 1e-4 ||
    Math.abs(dot(r[0], r[2])) > 1e-4 ||
    Math.abs(dot(r[1], r[2])) > 1e-4
  ) {
    return undefined;
  }
  const det =
    r[0][0] * (r[1][1] * r[2][2] - r[2][1] * r[1][2]) -
    r[1][0] * (r[0][1] * r[2][2] - r[2][1] * r[0][2]) +
    r[2][0] * (r[0][1] * r[1][2] - r[1][1] * r[0][2]);
  let qfac = 1;
  if (det < 0) {
    qfac = -1;
    r[2] = r[2].map((x) => -x);
  }
  // m[i][j] = row i, column j of the rotation; r holds columns.
  const m = (i: number, j: number): number => r[j][i];
  const trace = m(0, 0) + m(1, 1) + m(2, 2);
  let a: number, b: number, c: number, d: number;
  if (trace > 0) {
    const s = Math.sqrt(trace + 1) * 2;
    a = 0.25 * s;
    b = (m(2, 1) - m(1, 2)) / s;
    c = (m(0, 2) - m(2, 0)) / s;
    d = (m(1, 0) - m(0, 1)) / s;
  } else if (m(0, 0) > m(1, 1) && m(0, 0) > m(2, 2)) {
    const s = Math.sqrt(1 + m(0, 0) - m(1, 1) - m(2, 2)) * 2;
    a = (m(2, 1) - m(1, 2)) / s;
    b = 0.25 * s;
    c = (m(0, 1) + m(1, 0)) / s;
    d = (m(0, 2) + m(2, 0)) / s;
  } else if (m(1, 1) > m(2, 2)) {
    const s = Math.sqrt(1 + m(1, 1) - m(0, 0) - m(2, 2)) * 2;
    a = (m(0, 2) - m(2, 0)) / s;
    b = (m(0, 1) + m(1, 0)) / s;
    c = 0.25 * s;
    d = (m(1, 2) + m(2, 1)) / s;
  } else {
    const s = Math.sqrt(1 + m(2, 2) - m(0, 0) - m(1, 1)) * 2;
    a = (m(1, 0) - m(0, 1)) / s;
    b = (m(0, 2) + m(2, 0)) / s;
    c = (m(1, 2) + m(2, 1)) / s;
    d = 0.25 * s;
  }
  // nifti1.h requires a >= 0 (the quaternion and its negative are the same rotation).
  if (a < 0) {
    b = -b;
    c = -c;
    d = -d;
  }
  return { b, c, d, qfac, pixdim, offset: [affine[3], affine[7], affine[11]] };
}

/** diag(spacing) with origin 0: the affine of a volume nobody positioned in a scanner (our phantoms). */
export function spacingAffine(spacingMm: readonly [number, number, number]): Affine {
  return [spacingMm[0], 0, 0, 0, 0, spacingMm[1], 0, 0, 0, 0, spacingMm[2], 0, 0, 0, 0, 1];
}

/**
 * Axis codes in the nibabel aff2axcodes sense: for each voxel axis, the world axis its column points along
 * most, labelled by the direction of increase (R/L, A/P, S/I). 'RAS' is the NIfTI world convention itself,
 * 'LPS' is DICOM's. Greedy assignment by largest absolute component, each world axis used once.
 */
export function orientationCodes(affine: Affine): string {
  const used = new Set<number>();
  const names = [
    ['L', 'R'],
    ['P', 'A'],
    ['I', 'S'],
  ];
  let out = '';
  for (let j = 0; j < 3; j++) {
    let best = -1;
    let bestAbs = -1;
    for (let i = 0; i < 3; i++) {
      const v = Math.abs(affine[i * 4 + j]);
      if (!used.has(i) && v > bestAbs) {
        best = i;
        bestAbs = v;
      }
    }
    used.add(best);
    out += names[best][affine[best * 4 + j] >= 0 ? 1 : 0];
  }
  return out;
}
