"""cvcore.filters against scipy.ndimage and OpenCV (same kernel, same border)."""
import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi
from numpy.testing import assert_allclose, assert_array_equal

from cvcore import _validate
from cvcore import filters as F

MODES = ["reflect", "mirror", "nearest", "constant", "wrap"]
CV_BORDER = {
    "reflect": cv2.BORDER_REFLECT,
    "mirror": cv2.BORDER_REFLECT_101,
    "nearest": cv2.BORDER_REPLICATE,
    "constant": cv2.BORDER_CONSTANT,
}
DTYPES = [np.uint8, np.uint16, np.int16, np.float32, np.float64]


def _image(rng, shape, dtype):
    if np.dtype(dtype).kind == "f":
        return (rng.random(shape) * 10 - 3).astype(dtype)
    info = np.iinfo(dtype)
    lo, hi = max(info.min, -1000), min(info.max, 1000)
    return rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-3) if _validate.output_float_dtype(dtype) == np.float32 else \
        dict(rtol=1e-10, atol=1e-9)


def _cv_ok(mode):
    return mode in CV_BORDER


# ---------------------------------------------------------------- correlate


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_correlate_convolve_match_scipy(mode, dtype, rng):
    img = _image(rng, (23, 31), dtype)
    ref = img.astype(np.float64)
    for ks in [(3, 3), (5, 5), (4, 6), (1, 4), (7, 1), (2, 3)]:
        k = rng.standard_normal(ks)
        got = F.correlate(img, k, mode=mode, cval=1.5)
        assert got.dtype == _validate.output_float_dtype(dtype)
        assert_allclose(got, ndi.correlate(ref, k, mode=mode, cval=1.5), **_tol(dtype))
        assert_allclose(F.convolve(img, k, mode=mode, cval=1.5),
                        ndi.convolve(ref, k, mode=mode, cval=1.5), **_tol(dtype))


@pytest.mark.parametrize("mode", MODES)
def test_correlate_huge_kernel_and_tiny_images(mode, rng):
    # extensions longer than the image repeat the pattern like SciPy's
    for shape in [(1, 1), (1, 5), (4, 1), (3, 2)]:
        img = rng.random(shape)
        k = rng.standard_normal((9, 12))
        assert_allclose(F.correlate(img, k, mode=mode, cval=0.25),
                        ndi.correlate(img, k, mode=mode, cval=0.25), atol=1e-10)


@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "constant"])
@pytest.mark.parametrize("ksize", [3, 5, 4])
@pytest.mark.parametrize("dtype", DTYPES)
def test_correlate_matches_opencv_filter2d(mode, ksize, dtype, rng):
    img = _image(rng, (40, 70), dtype)
    k = rng.standard_normal((ksize, ksize)).astype(np.float32)
    got = F.correlate(img, k, mode=mode)
    out_dtype = _validate.output_float_dtype(dtype)
    assert got.dtype == out_dtype
    ddepth = cv2.CV_64F if out_dtype == np.float64 else cv2.CV_32F
    expected = cv2.filter2D(img, ddepth, k.astype(out_dtype), borderType=CV_BORDER[mode])
    assert_allclose(got, expected, **_tol(dtype))
    kx, ky = k[0].copy(), k[:, 0].copy()
    expected = cv2.sepFilter2D(img, ddepth, kx.astype(out_dtype), ky.astype(out_dtype), borderType=CV_BORDER[mode])
    assert_allclose(F.sepfilter(img, kx, ky, mode=mode), expected, **_tol(dtype))


def test_correlate_rank1_kernel_uses_separable_path_correctly(rng):
    img = rng.random((30, 30))
    k = np.outer(rng.random(7), rng.random(5))
    for mode in MODES:
        assert_allclose(F.correlate(img, k, mode=mode, cval=2.0),
                        ndi.correlate(img, k, mode=mode, cval=2.0), atol=1e-10)


def test_multichannel_is_per_channel(rng):
    img = rng.random((20, 25, 3)).astype(np.float32)
    k = rng.standard_normal((3, 4))
    got = F.correlate(img, k, mode="mirror")
    for c in range(3):
        assert_allclose(got[..., c], F.correlate(img[..., c], k, mode="mirror"), rtol=1e-6, atol=1e-6)
    assert_allclose(got, cv2.filter2D(img, -1, k.astype(np.float32)), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- separable / gaussian


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sepfilter_equals_outer_correlation(mode, dtype, rng):
    img = _image(rng, (19, 24), dtype)
    kx, ky = rng.standard_normal(5), rng.standard_normal(4)
    ref = ndi.correlate(img.astype(np.float64), np.outer(ky, kx), mode=mode, cval=-2.0)
    assert_allclose(F.sepfilter(img, kx, ky, mode=mode, cval=-2.0), ref, **_tol(dtype))


@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "constant"])
def test_sepfilter_matches_opencv(mode, rng):
    img = rng.random((33, 41)).astype(np.float32)
    kx = rng.standard_normal(5).astype(np.float32)
    ky = rng.standard_normal(3).astype(np.float32)
    expected = cv2.sepFilter2D(img, -1, kx, ky, borderType=CV_BORDER[mode])
    assert_allclose(F.sepfilter(img, kx, ky, mode=mode), expected, rtol=1e-5, atol=1e-5)


def test_gaussian_kernel_matches_scipy_radius_and_sum():
    for sigma, truncate in [(0.5, 4.0), (1.0, 4.0), (2.0, 4.0), (3.3, 2.5)]:
        k = F.gaussian_kernel(sigma, truncate)
        radius = int(truncate * sigma + 0.5)
        assert k.shape == (2 * radius + 1,)
        assert abs(k.sum() - 1) < 1e-12
        impulse = np.zeros(4 * radius + 3)
        impulse[2 * radius + 1] = 1
        ref = ndi.gaussian_filter1d(impulse, sigma, truncate=truncate, mode="constant")
        assert_allclose(k, ref[radius + 1: 3 * radius + 2], atol=1e-15)
    assert_array_equal(F.gaussian_kernel(0), [1.0])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_matches_scipy(mode, dtype, rng):
    img = _image(rng, (28, 35), dtype)
    for sigma in [0.7, 2.0, (1.0, 3.0), (0.0, 1.5)]:
        got = F.gaussian(img, sigma, mode=mode)
        assert got.dtype == _validate.output_float_dtype(dtype)
        assert_allclose(got, ndi.gaussian_filter(img.astype(np.float64), sigma, mode=mode), **_tol(dtype))


@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "constant"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_matches_opencv_gaussianblur(mode, dtype, rng):
    img = rng.random((64, 48, 3)).astype(dtype)
    sigma = 2.0
    size = 2 * int(4 * sigma + 0.5) + 1
    expected = cv2.GaussianBlur(img, (size, size), sigma, borderType=CV_BORDER[mode])
    assert_allclose(F.gaussian(img, sigma, mode=mode), expected, rtol=1e-5, atol=1e-5)


def test_gaussian_constant_mode_is_padding_then_filtering(rng):
    img = rng.random((15, 12))
    k = F.gaussian_kernel(1.5)
    ref = ndi.correlate(img, np.outer(k, k), mode="constant", cval=3.0)
    assert_allclose(F.gaussian(img, 1.5, mode="constant", cval=3.0), ref, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_laplacian_of_gaussian_and_dog_match_scipy(mode, rng):
    img = rng.random((30, 26))
    assert_allclose(F.laplacian_of_gaussian(img, 1.5, mode=mode),
                    ndi.gaussian_laplace(img, 1.5, mode=mode), atol=1e-12)
    assert_allclose(F.laplacian_of_gaussian(img, (1.0, 2.0), mode=mode),
                    ndi.gaussian_laplace(img, (1.0, 2.0), mode=mode), atol=1e-12)
    dog = ndi.gaussian_filter(img, 1.0, mode=mode) - ndi.gaussian_filter(img, 2.5, mode=mode)
    assert_allclose(F.difference_of_gaussians(img, 1.0, 2.5, mode=mode), dog, atol=1e-12)


def test_dog_matches_skimage(rng):
    from skimage.filters import difference_of_gaussians as sk_dog

    img = rng.random((32, 32))
    assert_allclose(F.difference_of_gaussians(img, 1.0), sk_dog(img, 1.0, mode="reflect"), atol=1e-12)


# ---------------------------------------------------------------- box / median


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("size", [3, 4, (2, 5), 9])
def test_box_matches_scipy_uniform(mode, size, rng):
    img = rng.random((21, 17))
    assert_allclose(F.box(img, size, mode=mode, cval=0.5),
                    ndi.uniform_filter(img, size, mode=mode, cval=0.5), atol=1e-12)
    sy, sx = (size, size) if np.isscalar(size) else size
    assert_allclose(F.box(img, size, normalize=False, mode=mode, cval=0.5),
                    ndi.uniform_filter(img, size, mode=mode, cval=0.5) * sy * sx, atol=1e-10)


@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "constant"])
def test_box_matches_opencv(mode, rng):
    img = rng.random((30, 40)).astype(np.float32)
    assert_allclose(F.box(img, (3, 5), mode=mode), cv2.blur(img, (5, 3), borderType=CV_BORDER[mode]),
                    rtol=1e-5, atol=1e-6)
    assert_allclose(F.box(img, 4, normalize=False, mode=mode),
                    cv2.boxFilter(img, -1, (4, 4), normalize=False, borderType=CV_BORDER[mode]),
                    rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES + [np.int8, np.int32, np.uint64])
def test_median_matches_scipy(mode, dtype, rng):
    img = _image(rng, (17, 19), dtype)
    # (7, 9): a Batcher network; uint8: (8, 11) Huang's histogram, (11, 9) the
    # constant-time one; (32, 31) has 992 elements: quickselect beyond the networks
    for size in [3, 4, (2, 5), (1, 1), (7, 9), (8, 11), (11, 9), (32, 31)]:
        got = F.median(img, size, mode=mode, cval=3)
        assert got.dtype == img.dtype
        assert_array_equal(got, ndi.median_filter(img, size, mode=mode, cval=3))


@pytest.mark.parametrize("ksize", [3, 5, 9])
def test_median_matches_opencv_medianblur(ksize, rng):
    img = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    assert_array_equal(F.median(img, ksize, mode="nearest"), cv2.medianBlur(img, ksize))


ALL_INT = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


@pytest.mark.parametrize("dtype", ALL_INT + [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(23, 19), (1, 7), (4, 2), (6, 9, 3)])
def test_median_3x3_and_5x5_networks_match_scipy(dtype, shape, rng):
    # separable selection networks (3x3, 5x5); few distinct values, so many ties
    img = rng.integers(0, 6, size=shape).astype(dtype)
    if np.dtype(dtype).kind == "f":
        img[::3] += rng.random(img[::3].shape).astype(dtype)
    size = (3, 3, 1) if len(shape) == 3 else 3
    for k in (3, 5):
        size = (k, k, 1) if len(shape) == 3 else k
        for mode in MODES:
            expected = ndi.median_filter(img, size, mode=mode, cval=2)
            assert_array_equal(F.median(img, k, mode=mode, cval=2), expected, err_msg=f"{k} {mode}")


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("ksize", [3, 5])
def test_median_networks_match_opencv_on_a_large_image(dtype, ksize, rng):
    img = (rng.random((131, 257)) * 1000).astype(dtype)
    if dtype == np.uint8:
        img = rng.integers(0, 256, (131, 257), dtype=np.uint8)
    assert_array_equal(F.median(img, ksize, mode="nearest"), cv2.medianBlur(img, ksize))


@pytest.mark.parametrize("mode", MODES)
def test_median_uint8_constant_time_histogram_matches_scipy(mode, rng):
    # windows of >= 9 rows: the constant-time (Perreault-Hebert) histogram
    img = rng.integers(0, 256, (41, 37, 2), dtype=np.uint8)
    img[5:20, 3:30] = 7   # long ties
    for size in [(11, 8), (9, 11), (15, 31)]:
        sy, sx = (size, size) if np.isscalar(size) else size
        got = F.median(img, size, mode=mode, cval=200)
        assert_array_equal(got, ndi.median_filter(img, (sy, sx, 1), mode=mode, cval=200), err_msg=str(size))


@pytest.mark.parametrize("ksize", [9, 11, 15, 31])   # 9: a network; 11+: the constant-time histogram
def test_median_uint8_constant_time_histogram_matches_opencv(ksize, rng):
    img = rng.integers(0, 256, (97, 131), dtype=np.uint8)
    assert_array_equal(F.median(img, ksize, mode="nearest"), cv2.medianBlur(img, ksize))


@pytest.mark.parametrize("shape, dtype", [((9, 1100, 2), np.float64), ((7, 4200), np.uint8)])
def test_median_networks_across_column_strips(shape, dtype, rng):
    # 3x3 / 5x5 run in strips of 4096 bytes per row: several strips, their borders in between
    img = (rng.random(shape) * 50).astype(dtype)
    for k in (3, 5):
        size = (k, k, 1) if len(shape) == 3 else k
        for mode in ("reflect", "constant", "wrap"):
            assert_array_equal(F.median(img, k, mode=mode, cval=9), ndi.median_filter(img, size, mode=mode, cval=9))


def test_median_networks_in_the_kernel_are_the_generated_ones():
    # the C networks in _rank.pyx are pasted from scripts/median_networks.py, whose
    # generator proves each network on every 0/1 input (the 0-1 principle)
    import importlib.util
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    script, pyx = root / "scripts" / "median_networks.py", root / "cvcore" / "_ext" / "_rank.pyx"
    if not script.exists() or not pyx.exists():
        pytest.skip("needs the source tree (scripts/, cvcore/_ext/*.pyx)")
    spec = importlib.util.spec_from_file_location("median_networks", script)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    text = pyx.read_text()
    block = text[text.index("BEGIN GENERATED NETWORKS"):text.index("END GENERATED NETWORKS")]
    pasted = [line.strip().replace("\\\\", "\\") for line in block.splitlines()[1:-1] if line.strip()]
    assert pasted == [line.strip() for line in gen.generate().splitlines() if line.strip()]


def test_median_bool_and_float16():
    img = np.zeros((5, 5), bool)
    img[1:4, 1:4] = True
    out = F.median(img, 3)
    assert out.dtype == bool and out[2, 2] and not out[0, 0]
    h = np.arange(25, dtype=np.float16).reshape(5, 5)
    assert F.median(h, 3).dtype == np.float16


# ---------------------------------------------------------------- derivatives


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
@pytest.mark.parametrize("fn", [F.sobel, F.scharr, F.prewitt])
def test_integer_derivatives_are_exact(dtype, fn, rng):
    # integer images take an exact integer 3x3 path; it equals the float computation
    img = _image(rng, (13, 11, 2), dtype)
    if dtype != np.uint8:
        img[0, 0] = np.iinfo(dtype).max
    ref = img.astype(np.float64)
    for mode in MODES:
        for cval in (0, 7, 2.5):   # 2.5 is no pixel value: the general float path
            for axis in (0, 1):
                got = fn(img, axis, mode=mode, cval=cval)
                assert got.dtype == np.float32
                assert_array_equal(got, fn(ref, axis, mode=mode, cval=cval).astype(np.float32),
                                   err_msg=f"{mode} {cval} {axis}")


def test_uint8_sobel_and_scharr_equal_opencv():
    img = np.random.default_rng(1).integers(0, 256, (67, 131), dtype=np.uint8)
    for mode in CV_BORDER:
        b = CV_BORDER[mode]
        assert_array_equal(F.sobel(img, 1, mode=mode), cv2.Sobel(img, cv2.CV_32F, 1, 0, borderType=b))
        assert_array_equal(F.sobel(img, 0, mode=mode), cv2.Sobel(img, cv2.CV_32F, 0, 1, borderType=b))
        assert_array_equal(F.scharr(img, 1, mode=mode), cv2.Scharr(img, cv2.CV_32F, 1, 0, borderType=b))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sobel_prewitt_laplacian_match_scipy(mode, dtype, rng):
    img = _image(rng, (18, 22), dtype)
    ref = img.astype(np.float64)
    for axis in (0, 1):
        assert_allclose(F.sobel(img, axis, mode=mode), ndi.sobel(ref, axis, mode=mode), **_tol(dtype))
        assert_allclose(F.prewitt(img, axis, mode=mode), ndi.prewitt(ref, axis, mode=mode), **_tol(dtype))
    mag = np.hypot(ndi.sobel(ref, 0, mode=mode), ndi.sobel(ref, 1, mode=mode))
    assert_allclose(F.sobel(img, mode=mode), mag, **_tol(dtype))
    assert_allclose(F.laplacian(img, mode=mode, cval=2), ndi.laplace(ref, mode=mode, cval=2), **_tol(dtype))


@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "constant"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_derivatives_match_opencv(mode, dtype, rng):
    img = _image(rng, (25, 33, 3), dtype)
    b = CV_BORDER[mode]
    tol = dict(rtol=1e-5, atol=1e-3)
    assert_allclose(F.sobel(img, 1, mode=mode), cv2.Sobel(img, cv2.CV_32F, 1, 0, borderType=b), **tol)
    assert_allclose(F.sobel(img, 0, mode=mode), cv2.Sobel(img, cv2.CV_32F, 0, 1, borderType=b), **tol)
    assert_allclose(F.scharr(img, 1, mode=mode), cv2.Scharr(img, cv2.CV_32F, 1, 0, borderType=b), **tol)
    assert_allclose(F.scharr(img, 0, mode=mode), cv2.Scharr(img, cv2.CV_32F, 0, 1, borderType=b), **tol)
    assert_allclose(F.laplacian(img, mode=mode), cv2.Laplacian(img, cv2.CV_32F, ksize=1, borderType=b), **tol)


def test_axis_aliases_and_magnitude(rng):
    img = rng.random((10, 12))
    assert_array_equal(F.sobel(img, -1), F.sobel(img, 1))
    assert_array_equal(F.scharr(img, -2), F.scharr(img, 0))
    assert_allclose(F.scharr(img), np.hypot(F.scharr(img, 0), F.scharr(img, 1)))


# ---------------------------------------------------------------- inputs


def test_read_only_and_strided_inputs(rng):
    img = rng.random((40, 60)).astype(np.float32)
    view = img[::2, ::3]
    ro = view.copy()
    ro.setflags(write=False)
    expected = ndi.gaussian_filter(view.astype(np.float64), 1.0)
    assert_allclose(F.gaussian(view, 1.0), expected, rtol=1e-5, atol=1e-6)
    assert_allclose(F.gaussian(ro, 1.0), expected, rtol=1e-5, atol=1e-6)
    assert_array_equal(F.median(ro, 3), ndi.median_filter(view, 3))


def test_output_dtypes():
    assert F.gaussian(np.ones((4, 4), np.uint8), 1).dtype == np.float32
    assert F.gaussian(np.ones((4, 4), np.int64), 1).dtype == np.float64
    assert F.gaussian(np.ones((4, 4), np.float16), 1).dtype == np.float32
    assert F.gaussian(np.ones((4, 4), bool), 1).dtype == np.float32
    assert F.sobel(np.ones((4, 4), np.uint32)).dtype == np.float64


def test_integer_input_does_not_overflow():
    img = np.full((6, 6), 65535, np.uint16)
    assert_allclose(F.box(img, 3, normalize=False), 9 * 65535.0)
    big = np.full((4, 4), 2**62, np.int64)
    assert_allclose(F.box(big, 3, normalize=False), 9 * 2.0**62, rtol=1e-12)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: F.gaussian(np.zeros((3, 3, 3, 3)), 1), ValueError, "image must be 2-D or 3-D"),
    (lambda: F.gaussian(np.zeros(5), 1), ValueError, "image must be 2-D or 3-D"),
    (lambda: F.gaussian(np.zeros((0, 4)), 1), ValueError, "image must not be empty"),
    (lambda: F.gaussian(np.zeros((3, 3), complex), 1), TypeError, "image must be a real numeric"),
    (lambda: F.gaussian(np.zeros((3, 3)), -1), ValueError, "sigma must be >= 0"),
    (lambda: F.gaussian(np.zeros((3, 3)), (1, 2, 3)), ValueError, "sigma must be a number or a pair"),
    (lambda: F.gaussian(np.zeros((3, 3)), 1e12), ValueError, "kernel longer than"),
    (lambda: F.gaussian(np.zeros((3, 3)), 1, mode="bogus"), ValueError, "mode must be one of"),
    (lambda: F.gaussian(np.zeros((3, 3)), 1, truncate=0), ValueError, "truncate must be > 0"),
    (lambda: F.correlate(np.zeros((3, 3)), np.ones(3)), ValueError, "kernel must be 2-D"),
    (lambda: F.correlate(np.zeros((3, 3)), [[np.nan]]), ValueError, "kernel must contain only finite"),
    (lambda: F.correlate(np.zeros((3000, 3000)), np.ones((100, 100))), ValueError, "too large for this image"),
    (lambda: F.sepfilter(np.zeros((3, 3)), [], [1]), ValueError, "kernel_x must not be empty"),
    (lambda: F.box(np.zeros((3, 3)), 0), ValueError, "size must be >= 1"),
    (lambda: F.box(np.zeros((3, 3)), 2.5), TypeError, "size must be an integer"),
    (lambda: F.box(np.zeros((3, 3)), 3, normalize="yes"), TypeError, "normalize must be True or False"),
    (lambda: F.median(np.zeros((3, 3), np.uint8), 3, mode="constant", cval=-1), ValueError, "cval must be"),
    (lambda: F.sobel(np.zeros((3, 3)), axis=2), ValueError, "axis must be 0"),
    (lambda: F.laplacian_of_gaussian(np.zeros((3, 3)), 0), ValueError, "sigma must be > 0"),
    (lambda: F.difference_of_gaussians(np.zeros((3, 3)), 2, 1), ValueError, "high_sigma"),
    (lambda: F.difference_of_gaussians(np.zeros((3, 3)), 1, 2, sigma_high=2), TypeError, "give high_sigma only"),
    (lambda: F.difference_of_gaussians(np.zeros((3, 3)), 1, bogus=2), TypeError, "bogus"),
])
def test_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int16])
@pytest.mark.parametrize("mode", MODES)
def test_wide_rows_exercise_vector_blocks_and_tails(dtype, mode, rng):
    # rows of 203 * 2 values: several full SIMD blocks plus a scalar tail
    img = (rng.random((37, 203, 2)) * (200 if np.dtype(dtype).kind in "ui" else 1)).astype(dtype)
    ref = img.astype(np.float64)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5 * ref.max())
    k = rng.standard_normal((4, 5))
    for c in range(2):
        assert_allclose(F.correlate(img, k, mode=mode)[..., c], ndi.correlate(ref[..., c], k, mode=mode), **tol)
        assert_allclose(F.gaussian(img, (1.5, 2.5), mode=mode)[..., c],
                        ndi.gaussian_filter(ref[..., c], (1.5, 2.5), mode=mode), **tol)
        assert_allclose(F.sobel(img, 0, mode=mode)[..., c], ndi.sobel(ref[..., c], 0, mode=mode), **tol)
        sep = ndi.correlate(ref[..., c], np.outer([1, -2, 3], [0.5, 1, 2, -1]), mode=mode)
        assert_allclose(F.sepfilter(img, [0.5, 1, 2, -1], [1, -2, 3], mode=mode)[..., c], sep, **tol)


# ---------------------------------------------------------------- regressions (issue 9)


def test_difference_of_gaussians_takes_scikit_image_names(rng):
    from skimage.filters import difference_of_gaussians as sk_dog

    img = rng.random((30, 31))
    ours = F.difference_of_gaussians(img, low_sigma=1.0, high_sigma=2.5, mode="nearest")
    assert_allclose(ours, sk_dog(img, low_sigma=1.0, high_sigma=2.5, mode="nearest"), atol=1e-12)
    with pytest.warns(DeprecationWarning) as caught:
        old = F.difference_of_gaussians(img, sigma_low=1.0, sigma_high=2.5, mode="nearest")
    assert sorted(str(w.message) for w in caught) == [
        "difference_of_gaussians: 'sigma_high' is deprecated, use 'high_sigma'",
        "difference_of_gaussians: 'sigma_low' is deprecated, use 'low_sigma'"]
    assert_array_equal(old, ours)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.float64, np.int32])
def test_filters_in_row_bands_are_bit_identical(dtype, monkeypatch, rng):
    from cvcore import _filtering

    img = (rng.random((23, 17, 2)) * 100).astype(dtype)
    calls = [
        lambda: F.gaussian(img, (2.0, 1.0)),
        lambda: F.correlate(img, rng.standard_normal((4, 3)), mode="constant", cval=3.0),
        lambda: F.laplacian(img, mode="wrap"),
        lambda: F.median(img, 3),             # selection network
        lambda: F.median(img, (9, 7)),        # histogram (uint8) or quickselect
        lambda: F.sobel(img, mode="mirror"),
    ]
    state = rng.bit_generator.state
    whole = [call() for call in calls]
    monkeypatch.setattr(_filtering, "BAND_WORK", 1)       # one row per kernel call
    rng.bit_generator.state = state
    for expected, call in zip(whole, calls):
        got = call()
        assert got.dtype == expected.dtype
        assert_array_equal(got, expected)
    monkeypatch.setattr(_filtering, "BAND_WORK", 3000)    # bands of a few rows
    rng.bit_generator.state = state
    for expected, call in zip(whole, calls):
        assert_array_equal(call(), expected)


@pytest.mark.parametrize("call", [
    # each takes several seconds in one kernel call (near MAX_FILTER_WORK)
    "gaussian(np.zeros((4000, 4000)), 150.0)",
    "gaussian(np.zeros((4500, 4500), np.uint8), 120.0)",
    # (uint8 medians are constant-time histograms, under a second even at the work cap; a float window beyond
    # the selection networks goes through quickselect, the slowest path)
    "median(np.random.default_rng(0).random((700, 700)).astype(np.float32), 45)",
    "median(np.zeros((2000, 2000), np.float32), 31)",
    "correlate(np.zeros((3000, 3000)), np.random.default_rng(0).random((61, 61)))",
])
def test_filters_at_their_limits_stop_on_ctrl_c(call, interrupt_check):
    interrupt_check(
        "import numpy as np\n"
        "from cvcore.filters import gaussian, median, correlate\n"
        "print('READY', flush=True)\n"
        f"{call}\n")


def test_no_module_reaches_into_private_names_of_filters_edges_or_proposals():
    # edges used five private pieces of filters; shared internals live in cvcore/_filtering.py
    import ast
    import pathlib

    import cvcore

    public = {"filters", "edges", "proposals"}
    offenders = []
    for path in pathlib.Path(cvcore.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] in public:
                offenders += [f"{path.name}: from {node.module} import {a.name}" for a in node.names
                              if a.name.startswith("_")]
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__") \
                    and isinstance(node.value, ast.Name) and node.value.id.lstrip("_") in public:
                offenders.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert not offenders, offenders
