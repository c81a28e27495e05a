"""Canny's parallel hysteresis: every thread count gives the same edges, and
they are the weak pixels 8-connected to a strong one (checked against a
connected-component labelling by SciPy), on images whose edge chains cross
the thread bands' boundaries many times.

Each thread runs the hysteresis inside its band of rows, then the chains are
continued across the boundaries. ``THREAD_WORK`` is lowered so that even these
small images are cut into as many bands as threads asked for, up to one row
per band.
"""
import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi

import cvcore
from cvcore import _filtering
from cvcore import edges as E


@pytest.fixture(autouse=True)
def small_work(monkeypatch):
    monkeypatch.setattr(_filtering, "THREAD_WORK", 1)


def _hysteresis_reference(img, low, high, **kw):
    """Connected components of the non-maximum-suppression survivors above
    ``low`` that contain one above ``high``. With equal thresholds canny does
    no growing (every survivor is already an edge), so both maps are
    independent of the hysteresis under test."""
    with cvcore.num_threads(1):
        weak = E.canny(img, low, low, **kw)
        strong = E.canny(img, high, high, **kw)
    assert not (strong & ~weak).any()
    labels, n = ndi.label(weak, np.ones((3, 3), bool))
    keep = np.zeros(n + 1, bool)
    keep[labels[strong]] = True
    keep[0] = False
    return keep[labels]


def _same_for_counts(img, low, high, counts, **kw):
    ref = _hysteresis_reference(img, low, high, **kw)
    for n in counts:
        with cvcore.num_threads(n):
            out = E.canny(img, low, high, **kw)
        assert out.tobytes() == ref.tobytes(), f"{n} threads: {(out ^ ref).sum()} pixels differ"
    return ref


def _counts(h):
    return (1, 2, 3, 4, 7, h // 2, h)  # up to one row per band


def _weak_curve(shape, points, strong_from_end=False):
    """A 3-pixel-wide line along ``points``: grey 60 (its sides are weak edges),
    brightening smoothly to 250 over its first (or last) 10 % (strong edges
    that continue the weak ones: a sudden step would end the chains)."""
    img = np.zeros(shape, np.uint8)
    pts = np.round(points).astype(np.int32)
    n = len(pts)
    ramp = np.clip(1 - np.arange(n) / (0.1 * n), 0, 1)
    grey = 60 + 190 * (ramp[::-1] if strong_from_end else ramp)
    for i in range(n - 1):
        cv2.line(img, tuple(map(int, pts[i])), tuple(map(int, pts[i + 1])), float(grey[i]), thickness=3)
    return img


def _zigzag(xs, ys, per=20):
    """The polyline through (xs, ys), ``per`` points per segment."""
    s = np.linspace(0, len(xs) - 1, (len(xs) - 1) * per + 1)
    i = np.arange(len(xs))
    return np.stack([np.interp(s, i, xs), np.interp(s, i, ys)], axis=1)


def _grown_everywhere(img, ref, **kw):
    """The chain really is one: nearly every survivor is reached from the few strong pixels."""
    with cvcore.num_threads(1):
        weak, strong = E.canny(img, 0.2, 0.2, **kw), E.canny(img, 1.5, 1.5, **kw)
    assert ref.sum() >= 0.98 * weak.sum() and ref.sum() >= 8 * strong.sum()


def test_spiral_spanning_the_height():
    h, w = 121, 117
    t = np.linspace(0, 9 * np.pi, 1500)
    r = 2 + t * (min(h, w) / 2 - 4) / t[-1]
    pts = np.stack([w / 2 + r * np.cos(t), h / 2 + r * np.sin(t)], axis=1)
    img = _weak_curve((h, w), pts)  # strong at the spiral's centre only
    ref = _same_for_counts(img, 0.2, 1.5, _counts(h), sigma=0)
    _grown_everywhere(img, ref, sigma=0)
    rows = np.flatnonzero(ref.any(axis=1))
    assert rows[-1] - rows[0] >= 0.8 * h  # grown from the centre out over most of the height
    # OpenCV's hysteresis agrees on the same image
    cv = cv2.Canny(img, 0.2 * 255, 1.5 * 255, L2gradient=True) > 0
    assert (cv == ref).mean() > 0.999


@pytest.mark.parametrize("l2", [True, False])
def test_vertical_zigzag_crosses_every_boundary(l2):
    h, w = 97, 151
    x = np.arange(0, w - 4, 9, dtype=float) + 2
    y = np.where(np.arange(x.size) % 2 == 0, 2.0, h - 3.0)
    img = _weak_curve((h, w), _zigzag(x, y), strong_from_end=True)
    ref = _same_for_counts(img, 0.2, 1.5, _counts(h), sigma=0, l2_gradient=l2)
    _grown_everywhere(img, ref, sigma=0, l2_gradient=l2)
    assert ref[:, : w // 4].sum() > 200  # reached the far end, band after band


def test_sawtooth_along_a_boundary():
    # rows 26..35 straddle the boundary of 2 bands (61 rows: 0..29, 30..60), crossed every 6 columns
    h, w = 61, 203
    x = np.arange(2, w - 2, 6, dtype=float)
    y = np.where(np.arange(x.size) % 2 == 0, 26.0, 35.0)
    img = _weak_curve((h, w), _zigzag(x, y))
    ref = _same_for_counts(img, 0.2, 1.5, _counts(h), sigma=0)
    _grown_everywhere(img, ref, sigma=0)
    assert ref[:, w - 20 :].any()


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_noise_with_huge_connected_regions(rng, dtype):
    img = cv2.GaussianBlur(rng.integers(0, 256, (83, 71), dtype=np.uint8), (3, 3), 0.8)
    img = img if dtype == np.uint8 else img.astype(dtype) / 255
    ref = _same_for_counts(img, 5 / 255, 40 / 255, _counts(83), sigma=0)
    assert 0.2 < ref.mean() < 0.6
    mask = rng.random(img.shape) > 0.1
    _same_for_counts(img, 5 / 255, 30 / 255, _counts(83), sigma=1.2, mask=mask)


def test_real_image_default_work_sizes(monkeypatch):
    from skimage import data

    monkeypatch.undo()  # the real THREAD_WORK: bands as users get them
    img = data.camera()[:, :301]  # odd width
    for low, high in [(20, 60), (50, 150)]:
        ref = _same_for_counts(img, low / 255, high / 255, (1, 2, 3), sigma=0)
        cv = cv2.Canny(img, low, high, L2gradient=True) > 0
        assert (cv == ref).mean() > 0.999


@pytest.mark.parametrize("shape", [(1, 9), (9, 1), (2, 2), (5, 2), (13, 3)])
def test_tiny_images_one_row_per_band(rng, shape):
    img = rng.random(shape)
    _same_for_counts(img, 0.2, 0.6, (1, 2, 3, shape[0], 2 * shape[0]), sigma=0)
