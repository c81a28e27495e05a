"""The linear kernels' SIMD paths: every row width and every alignment of the data.

The kernels compute a row in blocks of vectors that start where the first
source is aligned, with single vectors (overlapping their neighbours) before
and after, and one value at a time for rows shorter than a vector; results
must not depend on where a row starts in memory or on how its width splits
into these pieces.
"""
import numpy as np
import pytest
import scipy.ndimage as ndi
from numpy.testing import assert_allclose, assert_array_equal

from cvcore import filters as F

# around the vector lengths (4 doubles / 8 floats with AVX2, 8 / 16 with AVX-512) and blocks of 8 vectors
WIDTHS = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 127, 128, 129, 131, 255, 257]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_row_width_matches_scipy(rng, dtype):
    k = rng.standard_normal((3, 4))
    kx, ky = rng.standard_normal(5), rng.standard_normal(3)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for w in WIDTHS:
        img = rng.random((7, w)).astype(dtype)
        assert_allclose(F.correlate(img, k, mode="nearest"), ndi.correlate(img.astype(float), k, mode="nearest"),
                        **tol, err_msg=f"correlate, width {w}")
        assert_allclose(F.sepfilter(img, kx, ky, mode="wrap"),
                        ndi.correlate(img.astype(float), np.outer(ky, kx), mode="wrap"), **tol,
                        err_msg=f"sepfilter, width {w}")
        assert_allclose(F.laplacian(img, mode="mirror"), ndi.laplace(img.astype(float), mode="mirror"), **tol,
                        err_msg=f"laplacian, width {w}")


def _at_offset(img, offset):
    """``img`` copied into memory starting ``offset`` bytes past a 64-byte boundary."""
    buf = np.empty(img.nbytes + 128, np.uint8)
    start = (-buf.ctypes.data) % 64 + offset
    out = buf[start:start + img.nbytes].view(img.dtype).reshape(img.shape)
    out[...] = img
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
@pytest.mark.parametrize("width", [64, 70])  # rows a multiple of 64 bytes (every row aligned alike) or not
def test_results_do_not_depend_on_alignment(rng, dtype, width):
    img = rng.random((9, width, 2)) * 100
    img = img.astype(dtype)
    calls = [
        lambda a: F.gaussian(a, (1.0, 2.5)),
        lambda a: F.sobel(a, 1, mode="constant", cval=2),
        lambda a: F.box(a, 5),
        lambda a: F.correlate(a, np.arange(15.0).reshape(3, 5) - 7, mode="wrap"),
        lambda a: F.laplacian(a),
    ]
    item = np.dtype(dtype).itemsize
    for call in calls:
        expected = call(_at_offset(img, 0))
        for offset in range(item, 64, item):
            assert_array_equal(call(_at_offset(img, offset)), expected, err_msg=f"offset {offset}")
