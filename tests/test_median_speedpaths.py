"""The fast paths of ``filters.median`` against SciPy and OpenCV, on the shapes
where they change method: the 3x3 networks' row groups (four rows from image
rows divisible by 4, pairs, a lone last row), their batched first and last
columns, rows shorter than one vector block; and the bit-identity of every path
whatever the thread count and band height (ties of -0.0 / 0.0 and NaN included).
"""
import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi
from numpy.testing import assert_array_equal

import cvcore
from cvcore import _filtering, filters as F

MODES = ["reflect", "mirror", "nearest", "wrap", "constant"]


def _noise(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return (rng.random(shape) * 10).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -500), min(info.max, 500), shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("height", [1, 2, 3, 5, 6, 7, 9, 11])
def test_median3_row_groups_and_short_rows_match_scipy(dtype, height, rng):
    # widths around one 64-byte block (the vector loop, its overlapping last block, the
    # scalar loop for shorter rows) and the 1- and 2-column images with no interior
    block = 64 // np.dtype(dtype).itemsize
    for width in (1, 2, 3, block + 1, block + 2, block + 3, 2 * block + 5):
        img = _noise(rng, (height, width), dtype)
        for mode in MODES:
            assert_array_equal(F.median(img, 3, mode=mode, cval=7), ndi.median_filter(img, 3, mode=mode, cval=7),
                               err_msg=f"{height}x{width} {mode}")


@pytest.mark.parametrize("nch", [1, 2, 3])
def test_median3_batched_edge_columns_match_scipy(nch, rng):
    # more four-row groups than one edge batch holds (32), with channels
    img = _noise(rng, (203, 37, nch), np.uint8)
    for mode in ("reflect", "constant", "wrap"):
        assert_array_equal(F.median(img, 3, mode=mode, cval=200),
                           ndi.median_filter(img, (3, 3, 1), mode=mode, cval=200), err_msg=mode)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32])
def test_median3_matches_opencv(dtype, rng):
    img = _noise(rng, (157, 301), dtype)
    assert_array_equal(F.median(img, 3, mode="nearest"), cv2.medianBlur(img, 3))


def _same_bits_for_every_split(fn, monkeypatch):
    monkeypatch.setattr(_filtering, "THREAD_WORK", 1)
    results = []
    for band in (1, 700, 3001, 1 << 24):
        monkeypatch.setattr(_filtering, "BAND_WORK", band)
        for n in (1, 2, 3):
            with cvcore.num_threads(n):
                results.append(fn().tobytes())
    assert all(r == results[0] for r in results[1:])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_median3_ties_and_nan_do_not_depend_on_the_split(dtype, monkeypatch, rng):
    # four-row groups and pairs compute each row with the same expression, so the zero
    # returned among tied -0.0 / 0.0 (or the value returned near NaN) never changes
    img = _noise(rng, (83, 70, 2), dtype)
    img[rng.random(img.shape) < 0.3] = 0.0
    img[rng.random(img.shape) < 0.3] = -0.0
    img[rng.random(img.shape) < 0.02] = np.nan
    _same_bits_for_every_split(lambda: F.median(img, 3, mode="mirror"), monkeypatch)


@pytest.mark.parametrize("mode", MODES)
def test_median_uint8_histograms_on_smooth_and_extreme_images(mode, rng):
    # the constant-time histogram (9+ rows): smooth gradients keep the median's coarse bin
    # for long runs (fine counts caught up column by column), noise and 0/255 extremes
    # switch it at every pixel (counts summed afresh); wide windows, channels
    y, x = np.mgrid[0:61, 0:83]
    smooth = ((x * 3 + y) % 256).astype(np.uint8)
    extremes = np.where(rng.random((61, 83)) < 0.5, 0, 255).astype(np.uint8)
    noise = rng.integers(0, 256, (61, 83), dtype=np.uint8)
    for img in (smooth, extremes, noise):
        for size in [(9, 9), (11, 41), (15, 15), (31, 7)]:
            assert_array_equal(F.median(img, size, mode=mode, cval=255),
                               ndi.median_filter(img, size, mode=mode, cval=255), err_msg=str(size))
    colour = np.stack([smooth, extremes, noise], axis=-1)
    assert_array_equal(F.median(colour, 13, mode=mode, cval=1), ndi.median_filter(colour, (13, 13, 1), mode=mode, cval=1))


def test_median_uint8_histogram_counts_near_their_limit(rng):
    # 255 x 255 = 65025 values per window: every uint16 count stays below 65536
    # (SciPy cannot allocate this window: a direct sort at sampled pixels instead)
    img = rng.integers(0, 256, (260, 270), dtype=np.uint8)
    img[:, :140] = 3
    got = F.median(img, 255, mode="nearest")
    padded = np.pad(img, 127, mode="edge")
    for y, x in rng.integers(0, 260, (40, 2)):
        window = padded[y:y + 255, x:x + 255].ravel()
        assert got[y, x] == np.partition(window, window.size // 2)[window.size // 2], (y, x)


@pytest.mark.parametrize("ksize", [11, 15, 31])
def test_median_uint8_histograms_match_opencv(ksize, rng):
    img = rng.integers(0, 256, (150, 211), dtype=np.uint8)
    img[40:90, 50:150] = rng.integers(100, 110, (50, 100))
    assert_array_equal(F.median(img, ksize, mode="nearest"), cv2.medianBlur(img, ksize))


def test_median_uint8_histograms_do_not_depend_on_the_split(monkeypatch, rng):
    img = rng.integers(0, 256, (77, 45, 2), dtype=np.uint8)
    _same_bits_for_every_split(lambda: F.median(img, (13, 11), mode="reflect"), monkeypatch)
