"""cvcore.edges against OpenCV, scipy.ndimage and scikit-image."""
import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi
from numpy.testing import assert_allclose

from cvcore import edges as E
from cvcore import _validate
from cvcore import filters as F


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.float64])
def test_gradient_matches_opencv_sobel(dtype, rng):
    img = (rng.random((30, 41)) * 200).astype(dtype)
    gx, gy = E.gradient(img, mode="mirror")
    assert gx.dtype == gy.dtype == _validate.output_float_dtype(dtype)
    assert_allclose(gx, cv2.Sobel(img, cv2.CV_64F, 1, 0), rtol=1e-5, atol=1e-3)
    assert_allclose(gy, cv2.Sobel(img, cv2.CV_64F, 0, 1), rtol=1e-5, atol=1e-3)


def test_gradient_with_sigma_is_sobel_of_gaussian(rng):
    img = rng.random((25, 25))
    gx, gy = E.gradient(img, sigma=1.5, mode="nearest")
    smooth = ndi.gaussian_filter(img, 1.5, mode="nearest")
    assert_allclose(gx, ndi.sobel(smooth, 1, mode="nearest"), atol=1e-12)
    assert_allclose(gy, ndi.sobel(smooth, 0, mode="nearest"), atol=1e-12)


# ---------------------------------------------------------------- canny


@pytest.fixture(scope="module")
def camera():
    from skimage import data

    return data.camera()


@pytest.mark.parametrize("low, high", [(20, 60), (50, 150), (100, 200)])
@pytest.mark.parametrize("l2", [True, False])
def test_canny_matches_opencv_on_camera(camera, low, high, l2):
    ours = E.canny(camera, low / 255, high / 255, sigma=0, l2_gradient=l2)
    ref = cv2.Canny(camera, low, high, L2gradient=l2) > 0
    assert ours.dtype == bool and ours.shape == camera.shape
    agree = (ours & ref).sum() / ref.sum()
    assert agree >= 0.95, agree
    assert (ours & ~ref).sum() / ours.sum() <= 0.05


def test_canny_thresholds_do_not_depend_on_dtype(camera):
    img = camera[:200, :200]
    a = E.canny(img, 0.1, 0.3, sigma=1.0)
    b = E.canny(img.astype(np.float64) / 255, 0.1, 0.3, sigma=1.0)
    c = E.canny(img.astype(np.uint16) * 257, 0.1, 0.3, sigma=1.0)
    assert (a ^ b).sum() <= 0.01 * a.sum()
    assert (a ^ c).sum() <= 0.01 * a.sum()


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_canny_close_to_skimage_with_smoothing(camera, sigma):
    from skimage.feature import canny as sk_canny

    ours = E.canny(camera, 0.1, 0.2, sigma=sigma)
    ref = sk_canny(camera, sigma, 0.1 * 255, 0.2 * 255)
    near = cv2.dilate(ours.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert (near & ref).sum() / ref.sum() >= 0.95        # same edges, within one pixel
    assert 0.9 <= ours.sum() / ref.sum() <= 1.1


def test_canny_mask_and_flat_image():
    img = np.zeros((20, 20), np.uint8)
    img[:, 10:] = 200
    full = E.canny(img, 0.1, 0.2, sigma=0)
    assert full[:, 9].all() and full.sum() == 20
    mask = np.ones_like(img, bool)
    mask[:10] = False
    masked = E.canny(img, 0.1, 0.2, sigma=0, mask=mask)
    assert not masked[:10].any() and masked[10:, 9].all()
    assert not E.canny(np.full((5, 5), 7.0), 0, 0).any()


def test_canny_hysteresis_connects_weak_to_strong():
    # a ramp edge whose contrast fades: weak part kept only when connected
    img = np.zeros((30, 30))
    img[:, 15:] = np.linspace(1.0, 0.1, 30)[:, None]
    # Sobel magnitude along the edge falls from ~4 (top) to ~0.4 (bottom)
    strong_only = E.canny(img, 3.0, 3.0, sigma=0).any(axis=1)
    linked = E.canny(img, 0.6, 3.0, sigma=0).any(axis=1)
    isolated = E.canny(img[10:], 0.6, 3.0, sigma=0)      # weak part alone: no strong seed
    assert 5 <= strong_only.sum() <= 12
    assert linked.sum() >= 27
    assert not isolated.any()


# ---------------------------------------------------------------- corners


@pytest.fixture(scope="module")
def corners_image():
    from skimage import data

    return data.checkerboard()[:120, :140]


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_harris_and_shi_tomasi_match_skimage(corners_image, sigma):
    from skimage.feature import corner_harris, corner_shi_tomasi

    img = corners_image
    assert_allclose(E.harris(img, sigma, k=0.05, mode="constant"),
                    corner_harris(img, method="k", k=0.05, sigma=sigma), rtol=1e-4, atol=1e-6)
    f = img.astype(np.float64) / 255
    assert_allclose(E.harris(f, sigma, k=0.05, mode="constant"),
                    corner_harris(f, method="k", k=0.05, sigma=sigma), rtol=1e-10, atol=1e-12)
    assert_allclose(E.shi_tomasi(f, sigma, mode="constant"), corner_shi_tomasi(f, sigma),
                    rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("block", [2, 3, 5])
def test_harris_and_min_eig_match_opencv(block, rng):
    img = cv2.GaussianBlur(rng.integers(0, 256, (60, 70), dtype=np.uint8), (5, 5), 1.5)
    f = img.astype(np.float32) / 255
    ref = cv2.cornerHarris(img, block, 3, 0.04)
    got = E.harris(img, block_size=block, k=0.04, mode="mirror")
    assert_allclose(got / 256, ref, rtol=1e-3, atol=1e-4 * np.abs(ref).max())
    assert_allclose(E.harris(f, block_size=block, mode="mirror") / 256, cv2.cornerHarris(f, block, 3, 0.04),
                    rtol=1e-3, atol=1e-4 * np.abs(ref).max())
    ref = cv2.cornerMinEigenVal(f, block, 3)
    assert_allclose(E.shi_tomasi(f, block_size=block, mode="mirror") / 16, ref,
                    rtol=1e-3, atol=1e-4 * np.abs(ref).max())


@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "constant", "wrap"])
@pytest.mark.parametrize("shape, sigma", [((23, 31), 1.0), ((9, 5), 2.5)])
def test_corner_responses_match_a_scipy_reference_in_every_mode(mode, shape, sigma, rng):
    # Sobel products, then the Gaussian window, both with the border mode (zero
    # products outside the image for 'constant'); narrow images: windows wider than the image
    import scipy.ndimage as ndi
    from cvcore import _filtering

    img = rng.random(shape)
    ix = ndi.correlate(img, np.outer([1, 2, 1], [-1, 0, 1]).astype(float), mode=mode, cval=0.0)
    iy = ndi.correlate(img, np.outer([-1, 0, 1], [1, 2, 1]).astype(float), mode=mode, cval=0.0)
    k = _filtering.gaussian_kernels((sigma, sigma), 4.0, "sigma")[0]

    def window(a):
        a = ndi.correlate1d(a, k, axis=0, mode=mode, cval=0.0)
        return ndi.correlate1d(a, k, axis=1, mode=mode, cval=0.0)

    a, b, c = window(ix * ix), window(ix * iy), window(iy * iy)
    assert_allclose(E.harris(img, sigma, k=0.05, mode=mode), a * c - b * b - 0.05 * (a + c) ** 2,
                    rtol=1e-9, atol=1e-12)
    assert_allclose(E.shi_tomasi(img, sigma, mode=mode), 0.5 * ((a + c) - np.sqrt((a - c) ** 2 + 4 * b * b)),
                    rtol=1e-9, atol=1e-12)


def test_corner_peaks_matches_skimage(rng):
    from skimage.feature import corner_peaks as sk_peaks

    for seed in range(5):
        r = ndi.gaussian_filter(np.random.default_rng(seed).random((80, 90)), 2.0)
        for d in (1, 3, 7):
            ours = E.corner_peaks(r, min_distance=d)
            ref = sk_peaks(r, min_distance=d)
            assert ours.dtype == np.intp and ours.shape[1] == 2
            assert_array_equal_sets(ours[:, ::-1], ref)
    ours = E.corner_peaks(r, min_distance=2, num_peaks=3)
    assert len(ours) == 3
    assert np.all(np.diff(r[ours[:, 1], ours[:, 0]]) <= 0)       # strongest first


def assert_array_equal_sets(a, b):
    assert {tuple(p) for p in np.asarray(a).tolist()} == {tuple(p) for p in np.asarray(b).tolist()}


def test_harris_finds_square_corners():
    img = np.zeros((40, 50), np.uint8)
    img[10:30, 15:40] = 255
    pts = E.corner_peaks(E.harris(img, 1.0), min_distance=5)
    assert len(pts) == 4
    assert_array_equal_sets(pts, [(15, 10), (39, 10), (15, 29), (39, 29)])


def test_corner_peaks_edge_cases():
    assert E.corner_peaks(np.zeros((5, 5))).shape == (0, 2)
    assert E.corner_peaks(np.full((4, 4), np.nan)).shape == (0, 2)
    r = np.zeros((5, 5))
    r[2, 2] = np.nan
    r[1, 3] = 1
    assert E.corner_peaks(r).tolist() == [[3, 1]]
    assert E.corner_peaks(r, exclude_border=False, min_distance=0).tolist() == [[3, 1]]


@pytest.mark.parametrize("call, exc, match", [
    (lambda: E.canny(np.zeros((4, 4, 3)), 0.1, 0.2), ValueError, "image must be 2-D"),
    (lambda: E.canny(np.zeros((4, 4)), 0.3, 0.2), ValueError, "low_threshold"),
    (lambda: E.canny(np.zeros((4, 4)), -1, 0.2), ValueError, "low_threshold must be >= 0"),
    (lambda: E.canny(np.zeros((4, 4)), 0.1, 0.2, mask=np.ones((3, 3), bool)), ValueError, "mask must have"),
    (lambda: E.canny(np.zeros((4, 4)), 0.1, 0.2, mask=np.ones((4, 4))), TypeError, "mask must be a boolean"),
    (lambda: E.canny(np.zeros((4, 4)), 0.1, 0.2, l2_gradient=None), TypeError, "l2_gradient"),
    (lambda: E.harris(np.zeros((4, 4)), k="x"), TypeError, "k must be a real number"),
    (lambda: E.harris(np.zeros((4, 4)), block_size=0), ValueError, "block_size must be >= 1"),
    (lambda: E.shi_tomasi(np.zeros((4, 4)), sigma=-1), ValueError, "sigma must be >= 0"),
    (lambda: E.corner_peaks(np.zeros((4, 4)), min_distance=-1), ValueError, "min_distance"),
    (lambda: E.corner_peaks(np.zeros((4, 4)), threshold_rel=2), ValueError, "threshold_rel"),
    (lambda: E.corner_peaks(np.zeros(4)), ValueError, "response must be 2-D"),
    (lambda: E.gradient(np.zeros((4, 4)), sigma=-2), ValueError, "sigma must be >= 0"),
    (lambda: E.canny(np.zeros((4, 4)), 0.1, 0.2, l2_gradient=1), TypeError, "l2_gradient must be True or False"),
    (lambda: E.corner_peaks(np.zeros((4, 4)), exclude_border=0), TypeError, "exclude_border must be True or False"),
])
def test_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_canny_large_connected_edges_match_opencv(rng):
    # noise with low thresholds: huge 8-connected weak regions (hysteresis stack grows)
    img = cv2.GaussianBlur(rng.integers(0, 256, (300, 400), dtype=np.uint8), (3, 3), 0.8)
    ours = E.canny(img, 5 / 255, 40 / 255, sigma=0)
    ref = cv2.Canny(img, 5, 40, L2gradient=True) > 0
    assert ref.sum() > 20000
    assert (ours == ref).mean() > 0.999


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint64, np.float16, bool, np.uint8, np.uint16, np.int16])
def test_every_dtype_through_smoothing_paths(dtype, rng):
    img = (rng.random((20, 30)) * 100).astype(dtype)
    ref = img.astype(np.float64)
    # canny reads every dtype on the unit scale (integers / dtype max, bool 0/1)
    unit = ref if dtype is bool else ref / (np.iinfo(dtype).max if np.dtype(dtype).kind in "ui" else 1)
    ours = E.canny(img, 0.02, 0.05, sigma=1.0)
    assert (ours ^ E.canny(unit, 0.02, 0.05, sigma=1.0)).sum() <= max(1, 0.02 * ours.sum())
    gx, gy = E.gradient(img, sigma=1.0, mode="nearest")
    smooth = ndi.gaussian_filter(ref, 1.0, mode="nearest")
    tol = dict(rtol=1e-4, atol=1e-3)
    assert_allclose(gx, ndi.sobel(smooth, 1, mode="nearest"), **tol)
    assert_allclose(gy, ndi.sobel(smooth, 0, mode="nearest"), **tol)


# ---------------------------------------------------------------- regressions (issue 9)


@pytest.mark.parametrize("l2, top", [(True, np.sqrt(20.0)), (False, 6.0)])
def test_canny_rejects_thresholds_in_the_wrong_units(camera, l2, top):
    # canny(grey, 100, 300) on uint8 used to return no edges without a word
    with pytest.raises(ValueError, match=r"unit scale.*divide by 255"):
        E.canny(camera, 100, 300, l2_gradient=l2)
    with pytest.raises(ValueError, match="can never be reached"):
        E.canny(camera, 0.1, top, l2_gradient=l2)
    # just below the bound is legal, and the bound is tight: a 0/1 corner reaches it
    img = np.zeros((6, 6))
    img[3:, 3:] = 1
    img[2, 4] = 1
    gx, gy = E.gradient(img, mode="nearest")
    peak = np.hypot(gx, gy).max() if l2 else (np.abs(gx) + np.abs(gy)).max()
    assert peak == pytest.approx(top)
    assert E.canny(img, 0.0, top * 0.999, sigma=0, l2_gradient=l2).any()


def test_canny_and_harris_read_bool_as_zero_one():
    img = np.zeros((20, 20), bool)
    img[5:15, 5:15] = True
    f = img.astype(np.float64)
    assert np.array_equal(E.canny(img, 0.5, 1.0, sigma=0), E.canny(f, 0.5, 1.0, sigma=0))
    assert_allclose(E.harris(img), E.harris(f), rtol=1e-5, atol=1e-7)


def _peaks_reference(r, d, rel, num_peaks, exclude_border):
    """corner_peaks by its documented definition, written plainly."""
    h, w = r.shape
    img = np.where(np.isnan(r), -np.inf, r.astype(np.float64))
    if np.isnan(r).all():
        return np.empty((0, 2), np.intp)
    d = min(d, max(h, w))
    thr = max(img.min(), rel * img.max())
    cand = (img == ndi.maximum_filter(img, size=2 * d + 1, mode="nearest")) & (img > thr)
    if exclude_border:
        frame = np.zeros_like(cand)
        frame[d:h - d, d:w - d] = True
        cand &= frame
    flat = np.flatnonzero(cand)
    flat = flat[np.argsort(-img.ravel()[flat], kind="stable")]
    kept = []
    for p in flat:
        if num_peaks is not None and len(kept) >= num_peaks:
            break
        y, x = divmod(int(p), w)
        if all(max(abs(y - ky), abs(x - kx)) > d for ky, kx in kept):
            kept.append((y, x))
    return np.array([(x, y) for y, x in kept], np.intp).reshape(-1, 2)


def test_corner_peaks_matches_its_definition_with_ties_and_plateaus():
    rng = np.random.default_rng(7)
    for i in range(150):
        h, w = rng.integers(1, 30, 2)
        kind = i % 4
        if kind == 0:
            r = rng.random((h, w))
        elif kind == 1:                       # many ties
            r = rng.integers(0, 3, (h, w)).astype(float)
        elif kind == 2:                       # plateaus and NaN
            r = np.kron(rng.integers(0, 4, (h // 3 + 1, w // 3 + 1)), np.ones((3, 3)))[:h, :w]
            r[rng.random((h, w)) < 0.1] = np.nan
        else:                                 # isolated spikes
            r = np.zeros((h, w))
            r[rng.integers(0, h, 4), rng.integers(0, w, 4)] = rng.random(4)
        d = int(rng.integers(0, max(h, w) + 2))
        rel = float(rng.choice([0.0, 0.01, 0.5]))
        num = None if i % 3 else int(rng.integers(0, 6))
        eb = bool(i % 2)
        r = r.astype([np.float64, np.float32][i % 5 == 0])     # float32 is used as it is
        got = E.corner_peaks(r, d, rel, num, exclude_border=eb)
        np.testing.assert_array_equal(got, _peaks_reference(r, d, rel, num, eb), err_msg=f"case {i}")


@pytest.mark.parametrize("exclude_border", [True, False])
def test_corner_peaks_matches_peak_local_max_without_ties(exclude_border):
    # without ties both keep the strongest candidates greedily (Chebyshev spacing)
    from skimage.feature import peak_local_max

    for seed in range(6):
        rng = np.random.default_rng(seed)
        r = ndi.gaussian_filter(rng.random((60, 70)), [0.5, 1.0, 2.0][seed % 3])
        for d in (1, 2, 4, 9):
            ours = E.corner_peaks(r, min_distance=d, threshold_rel=0.1, exclude_border=exclude_border)
            ref = peak_local_max(r, min_distance=d, threshold_rel=0.1, exclude_border=exclude_border,
                                 p_norm=np.inf)
            assert_array_equal_sets(ours[:, ::-1], ref)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_corner_peaks_cost_does_not_grow_with_min_distance(dtype):
    import time

    r = np.random.default_rng(0).random((4000, 4000)).astype(dtype)
    t0 = time.perf_counter()
    pts = E.corner_peaks(r, min_distance=2000, exclude_border=False)
    elapsed = time.perf_counter() - t0
    assert elapsed < 2.0, elapsed          # was ~2000x the work of min_distance=1 (minutes)
    y, x = np.unravel_index(np.argmax(r), r.shape)
    assert pts[0].tolist() == [x, y]       # the global maximum comes first
    gaps = np.abs(pts[:, None, :] - pts[None, :, :]).max(axis=2)
    assert (gaps[~np.eye(len(pts), dtype=bool)] > 2000).all()


def test_corner_response_in_bands_is_bit_identical(monkeypatch, rng):
    from cvcore import _filtering

    img = rng.random((37, 29)).astype(np.float32)
    whole = [E.harris(img, 1.5), E.shi_tomasi(img, block_size=4, mode="mirror"), E.gradient(img, 2.0)[0],
             E.canny(img, 0.1, 0.3, sigma=1.2)]
    monkeypatch.setattr(_filtering, "BAND_WORK", 1)        # one row per kernel call
    banded = [E.harris(img, 1.5), E.shi_tomasi(img, block_size=4, mode="mirror"), E.gradient(img, 2.0)[0],
              E.canny(img, 0.1, 0.3, sigma=1.2)]
    for a, b in zip(whole, banded):
        assert np.array_equal(a, b)


def test_harris_large_window_is_interruptible(interrupt_check):
    interrupt_check(
        "import numpy as np\n"
        "from cvcore.edges import harris\n"
        "img = np.random.default_rng(0).random((3000, 3000)).astype(np.float32)\n"
        "print('READY', flush=True)\n"
        "harris(img, sigma=60.0)\n")
