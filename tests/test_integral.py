"""cvcore.integral against cv2.integral3 and brute-force NumPy sums."""
import cv2
import numpy as np
import pytest
from numpy.testing import assert_array_equal, assert_allclose

from cvcore._ext import _integral as _integral_ext
from cvcore.integral import integral_image, integral_images, rect_sum

SHAPES = [(1, 1), (1, 7), (7, 1), (2, 2), (5, 3), (33, 64), (64, 33), (6, 5, 3), (9, 4, 2), (3, 3, 4), (5, 4, 1), (1, 1, 1)]


def _brute_tilted(img):
    """T[Y, X] = sum over y < Y, |x - X + 1| <= Y - 1 - y (OpenCV's definition)."""
    img = img.astype(np.float64)
    H, W = img.shape[:2]
    out = np.zeros((H + 1, W + 1) + img.shape[2:])
    for Y in range(H + 1):
        for X in range(W + 1):
            for y in range(Y):
                r = Y - 1 - y
                lo, hi = max(X - 1 - r, 0), min(X - 1 + r, W - 1)
                if lo <= hi:
                    out[Y, X] += img[y, lo:hi + 1].sum(axis=0)
    return out


def _image(rng, shape, dtype):
    if np.dtype(dtype).kind == "f":
        # dyadic values: every partial sum is exact, whatever the summation order
        return (np.round(rng.uniform(-100, 100, shape) * 8) / 8).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, int(info.max) + 1, shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_integral_images_equal_opencv_integral3(dtype, shape, rng):
    img = _image(rng, shape, dtype)
    s, sq, t = integral_images(img)
    es, esq, et = cv2.integral3(img, sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)
    es, esq, et = (e.reshape(s.shape) for e in (es, esq, et))
    acc = np.int64 if np.dtype(dtype).kind in "ui" else np.float64
    assert s.dtype == sq.dtype == t.dtype == acc
    assert s.shape == (shape[0] + 1, shape[1] + 1) + shape[2:]
    assert_array_equal(s, es)
    assert_array_equal(sq, esq)
    assert_array_equal(t, et)
    assert_array_equal(integral_image(img), s)


def test_uint8_matches_opencv_default_depths(rng):
    img = rng.integers(0, 256, (40, 50), dtype=np.uint8)
    s, sq, t = cv2.integral3(img)  # int32, float64, int32
    ours = integral_images(img)
    for a, b in zip(ours, (s, sq, t)):
        assert_array_equal(a, b)


def test_random_float32_matches_opencv_to_the_bit(rng):
    img = rng.random((40, 45)).astype(np.float32)
    for a, b in zip(integral_images(img), cv2.integral3(img, sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)):
        assert_allclose(a, b, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("shape", [(1, 1), (4, 1), (1, 4), (6, 7), (7, 6), (5, 5, 2)])
def test_tilted_matches_definition(shape, rng):
    img = rng.integers(0, 50, shape).astype(np.int64)
    assert_array_equal(integral_images(img)[2], _brute_tilted(img))


def test_sum_matches_cumsum_for_other_integer_types(rng):
    for dtype in (np.int8, np.int32, np.uint32, np.int64, np.uint64, bool):
        img = rng.integers(0, 100, (9, 11)).astype(dtype)
        ref = np.zeros((10, 12), np.int64)
        ref[1:, 1:] = img.astype(np.int64).cumsum(0).cumsum(1)
        ii = integral_image(img)
        assert ii.dtype == np.int64
        assert_array_equal(ii, ref)
        assert_array_equal(integral_images(img)[1][1:, 1:], (img.astype(np.int64) ** 2).cumsum(0).cumsum(1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_sums_bit_for_bit_row_then_column_order(dtype, rng):
    """Float tables add each row's running sum (left to right) to the row above: NumPy's
    sequential cumsums in that order give the same bits, for row counts around the kernel's
    four-row steps and for interleaved channels."""
    for shape in [(1, 5), (2, 3), (3, 7), (4, 1), (5, 6), (7, 9), (8, 4), (11, 13), (6, 5, 3), (9, 4, 2)]:
        img = (rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 8, shape)).astype(dtype)
        ref = np.zeros((shape[0] + 1, shape[1] + 1) + shape[2:])
        ref[1:, 1:] = np.cumsum(np.cumsum(img.astype(np.float64), axis=1), axis=0)
        assert_array_equal(integral_image(img), ref, err_msg=str(shape))


def test_float16_is_widened(rng):
    img = (rng.integers(0, 20, (5, 6)) / 4).astype(np.float16)
    ii = integral_image(img)
    assert ii.dtype == np.float64
    assert_array_equal(ii[1:, 1:], img.astype(np.float64).cumsum(0).cumsum(1))


def test_noncontiguous_and_readonly_input(rng):
    base = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    view = base[::2, ::3]
    view2 = view.copy()
    view2.flags.writeable = False
    assert_array_equal(integral_image(view), integral_image(np.ascontiguousarray(view)))
    for a, b in zip(integral_images(view2), cv2.integral3(np.ascontiguousarray(view))):
        assert_array_equal(a, b)


def test_overflow_guard_raises_instead_of_wrapping():
    big = np.full((4, 4), 2**62, dtype=np.int64)
    with pytest.raises(ValueError, match="overflow"):
        integral_image(big)
    mid = np.full((4, 4), 2**30, dtype=np.int64)
    integral_image(mid)  # plain sums fit
    with pytest.raises(ValueError, match="squared sums could overflow"):
        integral_images(mid)
    with pytest.raises(ValueError, match="int64 range"):
        integral_image(np.full((2, 2), 2**63, dtype=np.uint64))


def test_uint16_squared_sums_exact_where_float64_would_round():
    img = np.full((1200, 1500), 65535, dtype=np.uint16)  # 1.8M px: sum of squares > 2**53
    sq = integral_images(img)[1]
    assert int(sq[-1, -1]) == 65535**2 * img.size


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.zeros((2, 2), complex), TypeError, "image"),
        (np.zeros((2, 2), object), TypeError, "image"),
        (np.zeros(5), ValueError, "2-D or 3-D"),
        (np.zeros((2, 2, 2, 2)), ValueError, "2-D or 3-D"),
        (np.zeros((0, 3)), ValueError, "empty"),
        (np.zeros((3, 0)), ValueError, "empty"),
        ("abc", TypeError, "image"),
        (None, TypeError, "image"),
    ],
)
def test_bad_images_raise_clear_errors(bad, exc, match):
    with pytest.raises(exc, match=match):
        integral_image(bad)
    with pytest.raises(exc, match=match):
        integral_images(bad)


def test_rect_sum_against_brute_force(rng):
    img = rng.integers(0, 256, (37, 41), dtype=np.uint8)
    ii = integral_image(img)
    n = 500
    x = rng.integers(0, 42, n)
    y = rng.integers(0, 38, n)
    w = rng.integers(0, 42 - x)
    h = rng.integers(0, 38 - y)
    boxes = np.stack([x, y, w, h], 1)
    expected = np.array([img[b[1]:b[1] + b[3], b[0]:b[0] + b[2]].astype(np.int64).sum() for b in boxes])
    got = rect_sum(ii, boxes)
    assert got.dtype == np.int64
    assert_array_equal(got, expected)
    assert_array_equal(rect_sum(ii, boxes.astype(np.float64)), expected)
    assert_array_equal(rect_sum(ii, boxes[0]), expected[:1])
    # squared table too
    sq = integral_images(img)[1]
    expected_sq = np.array([(img[b[1]:b[1] + b[3], b[0]:b[0] + b[2]].astype(np.int64) ** 2).sum() for b in boxes])
    assert_array_equal(rect_sum(sq, boxes), expected_sq)


def test_rect_sum_multichannel_and_float(rng):
    img = rng.random((12, 10, 3))
    ii = integral_image(img)
    boxes = np.array([[0, 0, 10, 12], [2, 3, 4, 5], [9, 11, 1, 1], [5, 5, 0, 3]])
    got = rect_sum(ii, boxes)
    assert got.shape == (4, 3) and got.dtype == np.float64
    expected = np.array([img[b[1]:b[1] + b[3], b[0]:b[0] + b[2]].sum(axis=(0, 1)) for b in boxes])
    assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_rect_sum_rejects_bad_boxes():
    ii = integral_image(np.ones((4, 5), np.uint8))
    with pytest.raises(ValueError, match="inside the table"):
        rect_sum(ii, [[1, 1, 5, 1]])
    with pytest.raises(ValueError, match="inside the table"):
        rect_sum(ii, [[-1, 0, 1, 1]])
    with pytest.raises(ValueError, match=">= 0"):
        rect_sum(ii, [[1, 1, -1, 1]])
    with pytest.raises(ValueError, match="integer values"):
        rect_sum(ii, [[0.5, 0, 1, 1]])
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        rect_sum(ii, [[0, 0, 1]])
    with pytest.raises(TypeError, match="ii"):
        rect_sum(np.ones((3, 3), bool), [[0, 0, 1, 1]])
    assert rect_sum(ii, np.zeros((0, 4), int)).shape == (0,)


def test_rect_sum_guards_int64_overflow():
    table = np.zeros((3, 3), np.int64)
    table[2, 2] = 2**62
    table[0, 0] = -(2**62)
    with pytest.raises(ValueError, match="overflow"):
        rect_sum(table, [[0, 0, 2, 2]])


@pytest.mark.slow
def test_uint8_16k_exact():
    n = 16384
    img = np.full((n, n), 255, dtype=np.uint8)
    img[::7, ::3] = 254
    ii = integral_image(img)
    expected = 255 * n * n - len(range(0, n, 7)) * len(range(0, n, 3))
    assert int(ii[-1, -1]) == expected
    assert int(rect_sum(ii, [0, 0, n, n])[0]) == expected
    del ii
    sq = integral_images(img[:8192])[1]
    assert int(sq[-1, -1]) == 255**2 * 8192 * n - (255**2 - 254**2) * len(range(0, 8192, 7)) * len(range(0, n, 3))


def test_uint8_16k_design_has_no_overflow():
    """The bound that 16k x 16k uint8 needs, without allocating it."""
    from cvcore import _validate

    class Fake:
        dtype = np.dtype(np.uint8)
        size = 16384 * 16384

    _validate.integral_int_guard(Fake(), squared=False)
    _validate.integral_int_guard(Fake(), squared=True)


def test_docstring_examples_run():
    import doctest

    import cvcore.integral

    result = doctest.testmod(cvcore.integral, raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("dtype", [np.uint8, np.bool_, np.uint16, np.int16, np.int32, np.int64])
@pytest.mark.parametrize("channels", [None, 3])
def test_int32_tables_equal_int64_ones(dtype, channels, rng):
    shape = (37, 29) if channels is None else (37, 29, channels)
    info = np.iinfo(dtype) if dtype != np.bool_ else None
    img = (rng.random(shape) > 0.5 if info is None
           else rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(dtype))
    ii = integral_image(img, dtype=np.int32)
    assert ii.dtype == np.int32
    assert_array_equal(ii, integral_image(img))


def test_int32_matches_opencv_default(rng):
    img = rng.integers(0, 256, (123, 77), dtype=np.uint8)
    ours, ref = integral_image(img, dtype=np.int32), cv2.integral(img)
    assert ours.dtype == ref.dtype == np.int32
    assert_array_equal(ours, ref)


def test_int32_refused_when_sums_could_overflow():
    big = np.full((4096, 2060), 255, np.uint8)  # 255 * 8.4M pixels > 2**31 - 1
    with pytest.raises(ValueError, match="dtype=int32 could overflow for values up to 255"):
        integral_image(big, dtype=np.int32)
    small_values = np.ones((4096, 2060), np.uint8)  # the data, not the dtype, proves it safe
    assert integral_image(small_values, dtype=np.int32)[-1, -1] == 4096 * 2060
    with pytest.raises(ValueError, match="could overflow"):
        integral_image(np.array([[2**30, 2**30]], np.int64), dtype=np.int32)


@pytest.mark.parametrize("image, dtype, exc, match", [
    (np.zeros((3, 3), np.float32), np.int32, ValueError, "dtype must be float64 for a floating-point image"),
    (np.zeros((3, 3), np.uint8), np.float64, ValueError, "dtype must be int32 or int64 for an integer"),
    (np.zeros((3, 3), np.uint8), np.int16, ValueError, "got int16"),
    (np.zeros((3, 3), np.uint8), "not a dtype", TypeError, "dtype must be None, np.int32"),
])
def test_bad_integral_dtype(image, dtype, exc, match):
    with pytest.raises(exc, match=match):
        integral_image(image, dtype=dtype)


def test_int32_uint8_every_width_around_the_vector_length(rng):
    """The uint8 kernels sum 16 (AVX-512) or 8 (AVX2) pixels per step and the rest one by one."""
    for w in range(1, 40):
        img = rng.integers(0, 256, (5, w), dtype=np.uint8)
        assert_array_equal(integral_image(img, dtype=np.int32), cv2.integral(img))


def _cumsum_table(img):
    ref = np.zeros((img.shape[0] + 1, img.shape[1] + 1), np.int64)
    ref[1:, 1:] = img.astype(np.int64).cumsum(0).cumsum(1)
    return ref


def _u8_sum_kernel(img, dtype, n_threads, isa):
    out = np.full((img.shape[0] + 1, img.shape[1] + 1), -7, dtype)   # the kernel writes every element
    _integral_ext.sum_table_int(img, out, 1, n_threads, isa)
    return out


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_uint8_kernel_variants_equal_cumsum(dtype, rng):
    """Every variant this CPU runs (scalar, AVX2, AVX-512): widths around the vector lengths,
    random and saturated pixels, on 1 to 3 threads."""
    for isa in range(_integral_ext.vector_isa() + 1):
        for h, w in [(1, 1), (3, 7), (2, 8), (4, 15), (3, 16), (5, 17), (2, 31), (3, 33), (6, 48), (2, 100), (9, 1)]:
            for img in (rng.integers(0, 256, (h, w), dtype=np.uint8), np.full((h, w), 255, np.uint8)):
                ref = _cumsum_table(img)
                for n in (1, 2, 3):
                    assert_array_equal(_u8_sum_kernel(img, dtype, n, isa), ref, err_msg=f"isa {isa} {h}x{w} {n} threads")


def test_uint8_three_tables_every_variant(rng):
    """integral_images of a uint8 image runs the vector kernels (sums, squared sums) and a
    vectorised tilted recurrence: equal to the generic kernels (via uint16) and the definitions."""
    for isa in range(_integral_ext.vector_isa() + 1):
        for h, w in [(1, 1), (2, 1), (1, 9), (3, 2), (4, 15), (5, 16), (6, 17), (3, 33), (7, 40)]:
            for img in (rng.integers(0, 256, (h, w), dtype=np.uint8), np.full((h, w), 255, np.uint8)):
                tables = [np.full((h + 1, w + 1), -7, np.int64) for _ in range(3)]
                _integral_ext.tables3_u8(img, *tables, isa)
                generic = integral_images(img.astype(np.uint16))
                for got, want in zip(tables, generic):
                    assert_array_equal(got, want, err_msg=f"isa {isa} {h}x{w}")
                assert_array_equal(tables[1][1:, 1:], (img.astype(np.int64) ** 2).cumsum(0).cumsum(1))
                if h * w < 64:
                    assert_array_equal(tables[2], _brute_tilted(img))
                tilted = np.full((h + 1, w + 1), -7, np.int64)
                _integral_ext.tilted_table_int(img, tilted, 1)
                assert_array_equal(tilted, tables[2])


@pytest.mark.parametrize("h", [514, 515, 517, 772, 1028, 1031])
def test_uint8_threads_column_sum_bands(h, rng):
    """Threads other than the first start from the column sums of the blocks above, kept in uint16
    over bands of 257 rows (257 * 255 = 65535): saturated blocks of 257, 258 and 514 rows; odd widths."""
    for img in (np.full((h, 19), 255, np.uint8), rng.integers(0, 256, (h, 37), dtype=np.uint8)):
        ref = _cumsum_table(img)
        for n in (1, 2, 3, 4):
            for dtype in (np.int32, np.int64):
                assert_array_equal(_u8_sum_kernel(img, dtype, n, -1), ref, err_msg=f"{n} threads")


def test_uint8_int64_row_sums_beyond_int32():
    """A row whose sum exceeds 2**31 (255 * 8.5M pixels): the running sum is carried in int64, in
    every variant (the int32 lanes only ever hold a block of 8 or 16 pixels)."""
    w = 8_500_000
    img = np.full((1, w), 255, np.uint8)
    img[0, ::1000] = 3
    ref = img[0].astype(np.int64).cumsum()
    assert ref[-1] > 2**31
    for isa in range(_integral_ext.vector_isa() + 1):
        out = _u8_sum_kernel(img, np.int64, 1, isa)
        assert_array_equal(out[0], 0)
        assert out[1, 0] == 0 and np.array_equal(out[1, 1:], ref), f"isa {isa}"


@pytest.mark.slow
def test_uint8_threads_above_rows_beyond_int32():
    """The first row of the second thread's block already exceeds 2**31 (8.6M saturated pixels above it)."""
    img = np.full((8400, 2100), 255, np.uint8)
    img[::5, ::7] = 1
    ref = _cumsum_table(img)
    assert ref[4200, -1] > 2**31
    for n in (1, 2, 3):
        assert_array_equal(_u8_sum_kernel(img, np.int64, n, -1), ref)


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (263, 37), (1031, 1027), (7, 4500)])
def test_integral_image_same_for_1_2_3_threads(shape, rng):
    import cvcore

    img = rng.integers(0, 256, shape, dtype=np.uint8)
    ref = _cumsum_table(img)
    for n in (1, 2, 3):
        with cvcore.num_threads(n):
            assert_array_equal(integral_image(img), ref)
            assert_array_equal(integral_image(img, dtype=np.int32), ref)


def test_wrapping_uint32_tables_give_exact_rectangle_sums():
    """The cascade scans' uint32 tables wrap modulo 2**32 (this image's squared sums reach 1.6e10):
    four-corner differences taken in uint32 equal the exact int64 ones, tilted rectangles too."""
    from cvcore._haar_core import stack_tables

    rng = np.random.default_rng(0)
    img = np.where(rng.random((1, 503, 487)) < 0.9, 255, rng.integers(0, 256, (1, 503, 487))).astype(np.uint8)
    import cvcore

    exact, _ = stack_tables(img, tilted=True)
    for n in (1, 2, 3):   # sum and squared sum are built on several threads
        with cvcore.num_threads(n):
            wrapped, _ = stack_tables(img, tilted=True, wrap=True)
        assert wrapped.dtype == np.uint32 and exact[1].max() > 1 << 33
        assert np.array_equal(wrapped, (exact % (1 << 32)).astype(np.uint32))
    y, x = rng.integers(0, 380, 50), rng.integers(60, 400, 50)
    h, w = rng.integers(1, 60, 50), rng.integers(1, 60, 50)
    upright = ((y, x), (y, x + w), (y + h, x), (y + h, x + w))
    tilted = ((y, x), (y + h, x - h), (y + w, x + w), (y + w + h, x + w - h))   # OpenCV's 45-degree rectangle
    for k, corners in ((0, upright), (1, upright), (2, tilted)):
        a, b, c, d = corners
        with np.errstate(over="ignore"):
            got = (wrapped[k][a] - wrapped[k][b] - wrapped[k][c] + wrapped[k][d]).astype(np.int64)
        want = exact[k][a] - exact[k][b] - exact[k][c] + exact[k][d]
        assert np.all(want > 0) and np.array_equal(got, want)
