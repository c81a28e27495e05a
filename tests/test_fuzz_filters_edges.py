"""Property-based fuzz of every public function in cvcore.filters and cvcore.edges.

Random shapes (0-D to 4-D, empty, 1x1), every NumPy dtype family (bool, all
integer widths, float16..float64, complex, object), NaN/inf, huge kernels and
sigmas, non-contiguous and read-only views, and bad parameter values. Every
call must either return a correct result (checked against scipy.ndimage on
finite input) or raise ValueError/TypeError whose message names an argument.
"""
import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cvcore import _validate
from cvcore import edges as E
from cvcore import filters as F

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

VALID_DTYPES = [np.float64, np.uint8, np.float32, np.int16, np.uint16, np.int8, np.int32, np.uint32, np.int64,
                np.uint64, np.float16, np.bool_]
DTYPES = VALID_DTYPES * 2 + [np.uint8, np.float32, np.float64] * 2 + [np.complex64, np.complex128, object]
GOOD_MODES = ["reflect", "mirror", "nearest", "constant", "wrap"]
MODES = GOOD_MODES * 3 + ["REFLECT_101", "edge", "bogus", 3, None]


@st.composite
def arrays(draw, max_side=7, allow_special=True):
    """Any-dimensional array of any dtype, possibly strided / read-only."""
    ndim = draw(st.sampled_from([2] * 6 + [3] * 3 + [0, 1, 4]))
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=ndim, max_size=ndim)))
    if ndim and draw(st.integers(0, 9)) == 0:
        shape = shape[:-1] + (0,)  # empty
    dtype = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    kind = np.dtype(dtype).kind
    if kind == "b":
        arr = rng.random(shape) < 0.5
    elif kind in "ui":
        info = np.iinfo(dtype)
        style = draw(st.sampled_from(["small", "full"]))
        lo, hi = (max(info.min, -50), min(info.max, 50)) if style == "small" else (info.min, info.max)
        arr = rng.integers(lo, hi, size=shape, dtype=dtype, endpoint=True)
    elif kind == "f":
        arr = (rng.standard_normal(shape) * draw(st.sampled_from([1.0, 1e3, 1e-3]))).astype(dtype)
        if allow_special and n and draw(st.booleans()):
            flat = arr.reshape(-1)
            idx = rng.integers(0, n, size=max(1, n // 5))
            flat[idx] = rng.choice(np.array([np.nan, np.inf, -np.inf], dtype=dtype), size=idx.size)
    elif kind == "c":
        arr = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    else:
        arr = np.empty(shape, dtype=object)
        arr.reshape(-1)[:] = [int(v) for v in rng.integers(0, 9, n)]
    layout = draw(st.sampled_from(["c", "c", "fortran", "strided", "readonly"]))
    if layout == "fortran":
        arr = np.asfortranarray(arr)
    elif layout == "strided" and arr.ndim >= 1:
        big = np.repeat(arr, 2, axis=-1)
        arr = big[..., ::2]
    elif layout == "readonly":
        arr = arr.copy()
        arr.setflags(write=False)
    return arr


def _is_valid_image(arr):
    return (isinstance(arr, np.ndarray) and arr.ndim in (2, 3) and arr.size > 0
            and arr.dtype.kind in "uifb" and arr.dtype != np.float16 or
            isinstance(arr, np.ndarray) and arr.dtype == np.float16 and arr.ndim in (2, 3) and arr.size > 0)


def _finite(arr):
    return arr.dtype.kind != "f" or bool(np.all(np.isfinite(arr)))


def _call(fn, names, *args, **kwargs):
    """Run ``fn``; return its result or None if it raised a clear ValueError/TypeError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf in float inputs
            out = fn(*args, **kwargs), None
        event(f"{fn.__name__}: returned")
        return out
    except (ValueError, TypeError) as exc:
        event(f"{fn.__name__}: {type(exc).__name__} {str(exc)[:40]}")
        msg = str(exc)
        assert msg and any(n in msg for n in names), f"unclear error from {fn.__name__}: {msg!r}"
        return None, exc


def _out_dtype(arr):
    return _validate.output_float_dtype(arr.dtype if arr.dtype != np.bool_ else np.uint8)


def _ref(arr):
    return np.asarray(arr, dtype=np.float64)


def _assert_close(got, ref, arr, weight):
    """Compare with a float64 reference, tolerance scaled by the data magnitude."""
    scale = float(np.max(np.abs(_ref(arr)))) * weight + 1.0
    eps = 1e-5 if got.dtype == np.float32 else 1e-11
    np.testing.assert_allclose(got, ref, rtol=0, atol=eps * scale)


_NP_PAD = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "wrap": "wrap", "constant": "constant"}


def _correlate_ref(a, k, mode, cval, flipped=False):
    """2-D correlation by definition (np.pad, then a sum over the window).

    Used instead of ``scipy.ndimage.correlate``, whose 2-D path extends an image
    wrongly when the kernel is much longer than the image (its 1-D path and this
    definition agree; e.g. a (1, 70) kernel of ones on a 1 x 2 image).
    """
    kh, kw = k.shape
    ay = kh - 1 - kh // 2 if flipped else kh // 2
    ax = kw - 1 - kw // 2 if flipped else kw // 2
    pads = ((ay, kh - 1 - ay), (ax, kw - 1 - ax))
    extra = {"constant_values": cval} if mode == "constant" else {}
    padded = np.pad(a, pads, mode=_NP_PAD[mode], **extra)
    windows = np.lib.stride_tricks.sliding_window_view(padded, k.shape)
    return np.einsum("ijab,ab->ij", windows, k)


def _per_channel(arr, fn):
    a = _ref(arr)
    if a.ndim == 2:
        return fn(a)
    return np.stack([fn(a[..., c]) for c in range(a.shape[2])], axis=-1)


@st.composite
def sigmas(draw):
    """Mostly valid sigmas (scalar or per axis); sometimes 0, negative, NaN, inf, huge or malformed."""
    choice = draw(st.integers(0, 13))
    if choice <= 4:
        return draw(st.floats(0.3, 3.0))
    if choice <= 6:
        return (draw(st.floats(0.0, 3.0)), draw(st.floats(0.3, 3.0)))
    return [0.0, -1.0, float("nan"), float("inf"), 1e7, [1.0, 2.0, 3.0], "1"][choice - 7]


@st.composite
def kernels_1d(draw):
    """Mostly valid 1-D kernels; sometimes huge, empty, 2-D, non-finite or non-numeric."""
    choice = draw(st.integers(0, 11))
    if choice <= 6:
        seed = draw(st.integers(0, 99))
        return np.random.default_rng(seed).standard_normal(draw(st.integers(1, 7)))
    return [np.ones(90), [1, 2, 1], [], np.ones((2, 2)), [np.inf]][choice - 7]


@st.composite
def kernels(draw):
    """Mostly valid 2-D kernels; sometimes huge, empty, wrong ndim, NaN, ragged or complex."""
    choice = draw(st.integers(0, 13))
    if choice <= 6:
        seed = draw(st.integers(0, 99))
        shape = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
        return np.random.default_rng(seed).standard_normal(shape)
    if choice <= 9:
        return np.ones([(1, 70), (40, 1), (25, 25)][choice - 7])
    return [np.ones((0, 3)), np.ones(3), np.array([[np.nan, 1.0]]), np.ones((2, 2), complex)][choice - 10]


# ----------------------------------------------------------------------------- filters


@SETTINGS
@given(arrays(), kernels(), st.sampled_from(MODES), st.sampled_from([0.0, 2.5, -1.0, 0.0, float("nan")]),
       st.booleans())
def test_fuzz_correlate_convolve(arr, kernel, mode, cval, flip):
    fn = F.convolve if flip else F.correlate
    out, exc = _call(fn, ("image", "kernel", "mode", "cval"), arr, kernel, mode=mode, cval=cval)
    if out is None:
        return
    assert out.shape == arr.shape and out.dtype == _out_dtype(arr)
    k = np.asarray(kernel, dtype=np.float64)
    if _finite(arr):
        m = _validate.border_mode(mode)
        ref = _per_channel(arr, lambda a: _correlate_ref(a, k[::-1, ::-1] if flip else k, m, cval, flip))
        _assert_close(out, ref, arr, np.abs(k).sum())


@SETTINGS
@given(arrays(), kernels_1d(), kernels_1d(), st.sampled_from(MODES))
def test_fuzz_sepfilter(arr, kx, ky, mode):
    out, exc = _call(F.sepfilter, ("image", "kernel_x", "kernel_y", "mode"), arr, kx, ky, mode=mode)
    if out is None:
        return
    assert out.shape == arr.shape and out.dtype == _out_dtype(arr)
    if _finite(arr):
        k = np.outer(np.asarray(ky, float), np.asarray(kx, float))
        ref = _per_channel(arr, lambda a: _correlate_ref(a, k, _validate.border_mode(mode), 0.0))
        _assert_close(out, ref, arr, np.abs(k).sum())


@SETTINGS
@given(arrays(), sigmas(), st.sampled_from(MODES), st.sampled_from([4.0, 4.0, 4.0, 1.0, 0.0, -1.0]))
def test_fuzz_gaussian_family(arr, sigma, mode, truncate):
    names = ("image", "sigma", "mode", "truncate", "cval")
    out, exc = _call(F.gaussian, names, arr, sigma, truncate=truncate, mode=mode)
    if out is not None:
        assert out.shape == arr.shape and out.dtype == _out_dtype(arr)
        if _finite(arr):
            m = _validate.border_mode(mode)
            ref = _per_channel(arr, lambda a: ndi.gaussian_filter(a, sigma, mode=m, truncate=truncate))
            _assert_close(out, ref, arr, 1.0)
    out, exc = _call(F.laplacian_of_gaussian, names, arr, sigma, truncate=truncate, mode=mode)
    if out is not None:
        assert out.shape == arr.shape
        if _finite(arr):
            m = _validate.border_mode(mode)
            ref = _per_channel(arr, lambda a: ndi.gaussian_laplace(a, sigma, mode=m, truncate=truncate))
            s = np.min(sigma) if np.ndim(sigma) else sigma
            _assert_close(out, ref, arr, 4.0 / s ** 2 + 1)
    out, exc = _call(F.difference_of_gaussians, names + ("sigma_low", "sigma_high"), arr, sigma,
                     mode=mode, truncate=truncate)
    if out is not None:
        assert out.shape == arr.shape
    out, exc = _call(F.gaussian_kernel, names, sigma, truncate)
    if out is not None:
        assert out.ndim == 1 and out.size % 2 == 1 and abs(out.sum() - 1) < 1e-9


@SETTINGS
@given(arrays(), st.sampled_from([3, 1, 2, 4, 5, (2, 5), (1, 40), (3, 1), 0, -1, 2.0, 10**9]),
       st.sampled_from(MODES), st.sampled_from([True, False, True, "yes"]))
def test_fuzz_box_and_median(arr, size, mode, normalize):
    out, exc = _call(F.box, ("image", "size", "mode", "normalize"), arr, size, normalize=normalize, mode=mode)
    if out is not None:
        assert out.shape == arr.shape and out.dtype == _out_dtype(arr)
        if _finite(arr):
            m = _validate.border_mode(mode)
            s = np.broadcast_to(size, (2,))
            ref = _per_channel(arr, lambda a: ndi.uniform_filter(a, size, mode=m) *
                               (1 if normalize else float(s[0] * s[1])))
            _assert_close(out, ref, arr, 1.0 if normalize else float(s[0] * s[1]))
    out, exc = _call(F.median, ("image", "size", "mode", "cval"), arr, size, mode=mode)
    if out is not None:
        assert out.shape == arr.shape and out.dtype == arr.dtype
        if arr.dtype.kind != "f" or _finite(arr):
            m = _validate.border_mode(mode)
            # by definition, in the input dtype (scipy's median_filter rounds int64 through float64)
            sy, sx = np.broadcast_to(size, (2,))
            pads = ((sy // 2, sy - 1 - sy // 2), (sx // 2, sx - 1 - sx // 2)) + ((0, 0),) * (arr.ndim - 2)
            padded = np.pad(arr, pads, mode=_NP_PAD[m])
            windows = np.lib.stride_tricks.sliding_window_view(padded, (sy, sx), axis=(0, 1))
            flat = np.sort(windows.reshape(windows.shape[:arr.ndim] + (-1,)), axis=-1)
            np.testing.assert_array_equal(out, flat[..., (sy * sx) // 2])


@SETTINGS
@given(arrays(), st.sampled_from([None, 0, 1, -1, -2, 2, 1.0, "x"]), st.sampled_from(MODES))
def test_fuzz_derivatives(arr, axis, mode):
    names = ("image", "axis", "mode")
    for fn, smooth in [(F.sobel, [1, 2, 1]), (F.scharr, [3, 10, 3]), (F.prewitt, [1, 1, 1])]:
        out, exc = _call(fn, names, arr, axis, mode=mode)
        if out is None:
            continue
        assert out.shape == arr.shape and out.dtype == _out_dtype(arr)
        if _finite(arr):
            m = _validate.border_mode(mode)
            d = np.array([-1.0, 0, 1])

            def ref_axis(a, ax):
                k = np.outer(d, smooth) if ax == 0 else np.outer(smooth, d)
                return ndi.correlate(a, k, mode=m)

            if axis is None:
                ref = _per_channel(arr, lambda a: np.hypot(ref_axis(a, 0), ref_axis(a, 1)))
            else:
                ref = _per_channel(arr, lambda a: ref_axis(a, axis % 2))
            _assert_close(out, ref, arr, 2.0 * sum(smooth))
    out, exc = _call(F.laplacian, names, arr, mode=mode)
    if out is not None:
        assert out.shape == arr.shape
        if _finite(arr):
            ref = _per_channel(arr, lambda a: ndi.laplace(a, mode=_validate.border_mode(mode)))
            _assert_close(out, ref, arr, 8.0)


# ----------------------------------------------------------------------------- edges


@SETTINGS
@given(arrays(), st.sampled_from([None, 0, 1.0, (0.5, 2.0), -1, float("nan")]), st.sampled_from(MODES))
def test_fuzz_gradient(arr, sigma, mode):
    res, exc = _call(E.gradient, ("image", "sigma", "mode"), arr, sigma, mode=mode)
    if res is None:
        return
    gx, gy = res
    assert gx.shape == gy.shape == arr.shape and gx.dtype == _out_dtype(arr)
    if _finite(arr) and not sigma:
        m = _validate.border_mode(mode)
        ref = _per_channel(arr, lambda a: ndi.correlate(a, np.outer([1, 2, 1], [-1, 0, 1]), mode=m))
        _assert_close(gx, ref, arr, 8.0)


@SETTINGS
@given(arrays(max_side=12), st.sampled_from([(0.1, 0.2), (0.1, 0.2), (0.0, 0.0), (0.3, 0.1), (-1, 1),
                                               (1e300, 1e300), (float("nan"), 1)]),
       st.sampled_from([0, None, 1.0, 1.0, -1.0]), st.sampled_from([True, True, False, "yes"]),
       st.sampled_from(["none", "none", "ok", "ok", "shape", "dtype"]))
def test_fuzz_canny(arr, thresholds, sigma, l2, mask_kind):
    mask = None
    if mask_kind != "none" and isinstance(arr, np.ndarray) and arr.ndim >= 2:
        shape = arr.shape[:2] if mask_kind != "shape" else (arr.shape[0] + 1, arr.shape[1])
        mask = np.ones(shape, bool if mask_kind != "dtype" else np.uint8)
        if mask_kind == "ok" and mask.size:
            mask[: shape[0] // 2] = False
    names = ("image", "low_threshold", "high_threshold", "sigma", "l2_gradient", "mask")
    out, exc = _call(E.canny, names, arr, *thresholds, sigma=sigma, l2_gradient=l2, mask=mask)
    if out is None:
        return
    assert out.dtype == bool and out.shape == arr.shape
    if mask is not None:
        assert not out[~mask].any()
    if _finite(arr) and not sigma:
        # every edge pixel has a Sobel magnitude above the low threshold (in [0, 1] units)
        a = _ref(arr)
        if arr.dtype.kind in "ui":
            a = a / np.iinfo(arr.dtype).max
        gx = ndi.correlate(a, np.outer([1, 2, 1], [-1, 0, 1]), mode="nearest")
        gy = ndi.correlate(a, np.outer([-1, 0, 1], [1, 2, 1]), mode="nearest")
        mag = np.hypot(gx, gy) if l2 else np.abs(gx) + np.abs(gy)
        assert np.all(mag[out] >= thresholds[0] * (1 - 1e-5))


@SETTINGS
@given(arrays(max_side=10), st.sampled_from([1.0, 0.5, (1.0, 2.0), -1.0, 0.0]),
       st.sampled_from([0.04, 0.04, 0.0, float("nan"), "k"]), st.sampled_from([None, None, 2, 3, 0]),
       st.sampled_from(MODES))
def test_fuzz_corners(arr, sigma, k, block_size, mode):
    names = ("image", "sigma", "k", "block_size", "mode")
    for fn, kw in [(E.harris, {"k": k}), (E.shi_tomasi, {})]:
        out, exc = _call(fn, names, arr, sigma, block_size=block_size, mode=mode, **kw)
        if out is None:
            continue
        assert out.shape == arr.shape and out.dtype == _out_dtype(arr)
        if _finite(arr):
            # reference: scipy Sobel + window on the [0, 1]-scaled image
            a = _ref(arr)
            if arr.dtype.kind in "ui":
                a = a / np.iinfo(arr.dtype).max
            m = _validate.border_mode(mode)
            ix = ndi.correlate(a, np.outer([1, 2, 1], [-1, 0, 1]), mode=m)
            iy = ndi.correlate(a, np.outer([-1, 0, 1], [1, 2, 1]), mode=m)
            if block_size is None:
                win = lambda v: ndi.gaussian_filter(v, sigma, mode=m)  # noqa: E731
            else:
                win = lambda v: ndi.uniform_filter(v, block_size, mode=m)  # noqa: E731
            xx, xy, yy = win(ix * ix), win(ix * iy), win(iy * iy)
            if fn is E.harris:
                ref = xx * yy - xy * xy - k * (xx + yy) ** 2
            else:
                ref = 0.5 * ((xx + yy) - np.sqrt((xx - yy) ** 2 + 4 * xy * xy))
            scale = 64 * (1 + float(np.abs(a).max())) ** 4
            eps = 1e-4 if out.dtype == np.float32 else 1e-9
            np.testing.assert_allclose(out, ref, rtol=0, atol=eps * scale)


@SETTINGS
@given(arrays(max_side=12), st.sampled_from([1, 0, 2, 5, 1, -1, 10**12, 1.5]),
       st.sampled_from([0.01, 0.0, 0.5, 1.0, 0.01, 2.0, float("nan")]),
       st.sampled_from([None, None, 0, 3, -1, 10**15]), st.sampled_from([True, False, True, None]))
def test_fuzz_corner_peaks(arr, min_distance, threshold_rel, num_peaks, exclude_border):
    names = ("response", "min_distance", "threshold_rel", "num_peaks", "exclude_border")
    out, exc = _call(E.corner_peaks, names, arr, min_distance, threshold_rel, num_peaks,
                     exclude_border=exclude_border)
    if out is None:
        return
    assert out.ndim == 2 and out.shape[1] == 2 and out.dtype == np.intp
    if out.size:
        h, w = arr.shape
        assert np.all((out[:, 0] >= 0) & (out[:, 0] < w) & (out[:, 1] >= 0) & (out[:, 1] < h))
        if num_peaks is not None:
            assert len(out) <= num_peaks
        # kept peaks are more than min_distance apart (Chebyshev)
        d = np.abs(out[:, None, :] - out[None, :, :]).max(axis=-1)
        np.fill_diagonal(d, np.iinfo(np.intp).max)
        assert np.all(d > min_distance)
        # each is a local maximum of its neighbourhood
        r = _ref(arr)
        for x, y in out[:20]:
            win = r[max(0, y - min_distance): y + min_distance + 1, max(0, x - min_distance): x + min_distance + 1]
            assert r[y, x] == np.nanmax(win)


@pytest.mark.parametrize("call", [
    lambda img: F.gaussian(img, 500.0),
    lambda img: F.box(img, 5000),
    lambda img: F.median(img, 200),
    lambda img: F.correlate(img, np.ones((60, 60))),
    lambda img: E.gradient(img, 400.0),
    lambda img: E.harris(img, 400.0),
])
def test_huge_work_is_refused_not_attempted(call):
    img = np.zeros((4000, 4000), np.float32)
    with pytest.raises(ValueError, match="too large"):
        call(img)
