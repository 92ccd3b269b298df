# Reference for libs/imaging/src/resample.spec.ts: trilinear resampling by scipy.ndimage.map_coordinates.
import numpy as np
from scipy.ndimage import map_coordinates
nx, ny, nz = 5, 4, 3
frm = [1.0, 1.5, 2.0]; to = [0.7, 2.0, 1.3]
# x fastest: value at (x,y,z) = ((x + nx*(y + ny*z)) * 37 % 17) / 4
vol = np.zeros((nx, ny, nz))
for z in range(nz):
    for y in range(ny):
        for x in range(nx):
            vol[x, y, z] = ((x + nx*(y + ny*z)) * 37 % 17) / 4
out = [max(1, round(n*f/t)) for n, f, t in zip((nx, ny, nz), frm, to)]
print(out)
g = np.meshgrid(*[np.arange(o) * t / f for o, f, t in zip(out, frm, to)], indexing='ij')
r = map_coordinates(vol, g, order=1, mode='nearest')
# flatten x fastest
print(','.join('%.6f' % v for v in r.transpose(2, 1, 0).ravel()))
