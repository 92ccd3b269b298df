import { voxelCount } from './volume';

/**
 * Boundary voxels of the mask `labelMap == label`: voxels of the mask with at least one 6-connected neighbour
 * outside it. The volume's outside counts as outside the mask, so a mask touching the border has its border
 * voxels on the surface (the convention of MONAI's get_mask_edges with an eroded mask, and of the SciPy idiom
 * mask ^ binary_erosion(mask, border_value=0)). Returns a 0/1 map.
 */
export function surfaceVoxels(
  labelMap: ArrayLike<number>,
  shape: readonly [number, number, number],
  label = 1,
): Uint8Array {
  const [nx, ny, nz] = shape;
  const out = new Uint8Array(voxelCount(shape));
  const inMask = (i: number): boolean => labelMap[i] === label;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const i = x + nx * (y + ny * z);
        if (!inMask(i)) continue;
        const edge =
          x === 0 ||
          x === nx - 1 ||
          y === 0 ||
          y === ny - 1 ||
          z === 0 ||
          z === nz - 1 ||
          !inMask(i - 1) ||
          !inMask(i + 1) ||
          !inMask(i - nx) ||
          !inMask(i + nx) ||
          !inMask(i - nx * ny) ||
          !inMask(i + nx * ny);
        if (edge) out[i] = 1;
      }
    }
  }
  return out;
}
