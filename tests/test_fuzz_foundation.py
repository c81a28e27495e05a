"""Property-based fuzzing of the foundation: the validation helpers in cvcore._validate.

The public functions of every module rely on these helpers to turn user input
into kernel input, so each is called with values of every type and images of
every dtype, shape and layout. A call returns exactly what its docstring
promises or raises TypeError/ValueError naming the argument (OSError
subclasses for paths). The filters and edges modules have their own fuzz in
tests/test_fuzz_filters_edges.py.
"""
import os
import warnings

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvcore import _validate as V
from cvcore import filters as F
from cvcore._validate import modelfile

FUZZ = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
OK = (ValueError, TypeError)

anything = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4), st.binary(max_size=2), st.lists(st.integers(0, 3), max_size=3),
    st.sampled_from([np.bool_(True), np.bool_(False), np.int8(-3), np.uint64(7), np.float32(0.5),
                     np.array(1), np.array([True]), np.random.default_rng(1), np.random.RandomState(1), 1j,
                     object()]),
)


# ---- scalars --------------------------------------------------------------------------------


@FUZZ
@given(anything)
def test_fuzz_boolean(value):
    try:
        got = V.boolean(value, "flag")
    except TypeError as exc:
        assert str(exc).startswith("flag must be True or False")
        assert not isinstance(value, (bool, np.bool_))
        return
    assert type(got) is bool and got == bool(value) and isinstance(value, (bool, np.bool_))


@FUZZ
@given(anything, st.one_of(st.none(), st.integers(-5, 5)), st.one_of(st.none(), st.integers(-5, 5)))
def test_fuzz_integer(value, low, high):
    try:
        got = V.integer(value, "n", low=low, high=high)
    except OK as exc:
        assert str(exc).startswith("n must")
        return
    assert type(got) is int and got == value and not isinstance(value, (bool, np.bool_, float))
    assert (low is None or got >= low) and (high is None or got <= high)


@FUZZ
@given(anything)
def test_fuzz_random_state(value):
    try:
        rng = V.random_state(value)
    except OK as exc:
        assert str(exc).startswith("random_state must")
        return
    assert isinstance(rng, np.random.Generator)
    if isinstance(value, np.random.Generator):
        assert rng is value
    elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        # the same seed gives the same stream
        assert rng.integers(0, 2**32, 4).tolist() == V.random_state(value).integers(0, 2**32, 4).tolist()


@FUZZ
@given(st.one_of(st.none(), st.integers(0, 9), anything), st.one_of(st.none(), st.integers(0, 9), anything))
def test_fuzz_random_state_alias(random_state, seed):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            got = V.random_state_alias(random_state, seed, where="fit")
        except TypeError as exc:
            assert seed is not None and random_state is not None
            assert "random_state" in str(exc) and "fit" in str(exc)
            return
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    if seed is None:
        assert got is random_state and not deprecations
    else:
        assert random_state is None and got is seed and len(deprecations) == 1
        assert "seed" in str(deprecations[0].message)


# ---- images through the input policy --------------------------------------------------------

# bool images are covered by test_bool_images_are_zero_and_one below
DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
          np.float16, np.float32, np.float64, np.complex64, object]
pos = st.integers(1, 6)
shapes = st.one_of(st.tuples(pos, pos), st.tuples(pos, pos, st.sampled_from([1, 3, 4])),
                   st.tuples(pos, pos, st.sampled_from([0, 2, 5])), st.tuples(st.integers(0, 2), pos),
                   st.tuples(pos), st.just(()), st.tuples(pos, pos, pos, pos))


@st.composite
def images(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(shapes)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        arr = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    elif dtype.kind == "f":
        arr = (rng.random(shape) * 1.4 - 0.2).astype(dtype)  # a little outside [0, 1] too
        if arr.size and draw(st.integers(0, 5)) == 0:
            arr.flat[0] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    else:
        arr = np.asarray(rng.random(shape)).astype(dtype)
    arr = np.asarray(arr)  # 0-d draws come back as NumPy scalars
    layout = draw(st.sampled_from(["c", "f", "strided", "readonly"]))
    if layout == "f":
        arr = np.asfortranarray(arr)
    elif layout == "strided" and arr.ndim:
        arr = np.repeat(arr, 2, axis=0)[::2]
    elif layout == "readonly":
        arr.flags.writeable = False
    return arr


def _unit(arr):
    """The input policy written out: integers over their dtype maximum, floats as they are."""
    a = np.asarray(arr)
    scale = 1.0 / float(np.iinfo(a.dtype).max) if a.dtype.kind in "ui" else 1.0
    return a.astype(np.float64) * scale


def _rgb_or_grey(arr):
    a = np.asarray(arr)
    return a if a.ndim == 2 else a[:, :, 0] if a.shape[2] == 1 else a[:, :, :3]


def _valid(arr):
    a = np.asarray(arr)
    return (a.dtype.kind in "uif" and a.ndim in (2, 3) and a.size > 0 and (a.ndim == 2 or a.shape[2] in (1, 3, 4))
            and np.isfinite(a.astype(np.float64)).all())


def _call(fn, arr):
    try:
        return fn(arr, "img")
    except OK as exc:
        assert str(exc).startswith("img "), str(exc)
        assert not _valid(arr), f"valid image refused: {exc}"
        return None


@FUZZ
@given(images())
def test_fuzz_unit_image(arr):
    got = _call(V.unit_image, arr)
    if got is None:
        return
    expected = _rgb_or_grey(_unit(arr))
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert got.flags.c_contiguous
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    # nothing depends on the image's own range: a crop converts like the same crop of the whole
    crop = np.asarray(arr)[: max(1, arr.shape[0] // 2)]
    np.testing.assert_array_equal(V.unit_image(crop, "img"), got[: crop.shape[0]])


@FUZZ
@given(images())
def test_fuzz_grey_image(arr):
    got = _call(V.grey_image, arr)
    if got is None:
        return
    a = _rgb_or_grey(np.asarray(arr))
    assert got.dtype == np.float32 and got.shape == a.shape[:2]
    if a.ndim == 2:
        np.testing.assert_allclose(got, _unit(a), rtol=1e-6, atol=1e-7)
    elif a.dtype == np.uint8:  # OpenCV's own fixed-point conversion, bit for bit
        np.testing.assert_allclose(got, cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY) / 255.0,
                                   rtol=1e-6)
    else:
        np.testing.assert_allclose(got, _unit(a) @ np.array(V.GREY_WEIGHTS), rtol=1e-5, atol=1e-6)


@FUZZ
@given(images())
def test_fuzz_uint8_image_and_grey_uint8(arr):
    got = _call(V.uint8_image, arr)
    grey = _call(V.grey_uint8, arr)
    assert (got is None) == (grey is None)
    if got is None:
        return
    a = _rgb_or_grey(np.asarray(arr))
    assert got.dtype == np.uint8 and grey.dtype == np.uint8 and grey.shape == a.shape[:2]
    if a.dtype == np.uint8:
        np.testing.assert_array_equal(got, a)
    else:
        np.testing.assert_array_equal(got, np.clip(np.floor(_unit(a) * 255 + 0.5), 0, 255).astype(np.uint8))
    if a.ndim == 3 and a.dtype == np.uint8:
        np.testing.assert_array_equal(grey, cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY))
    else:
        ref = V.grey_image(arr, "img", dtype=np.float64)
        np.testing.assert_array_equal(grey, np.clip(np.floor(ref * 255 + 0.5), 0, 255).astype(np.uint8))


def test_bool_images_are_zero_and_one():
    mask = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(V.unit_image(mask), mask.astype(np.float32))
    np.testing.assert_array_equal(V.uint8_image(mask), mask.astype(np.uint8) * 255)
    np.testing.assert_array_equal(V.grey_uint8(mask), mask.astype(np.uint8) * 255)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16])
def test_unit_image_is_c_contiguous_whatever_the_input_layout(dtype):
    arr = np.asfortranarray(np.arange(12, dtype=dtype).reshape(3, 4))
    assert V.unit_image(arr).flags.c_contiguous
    assert V.grey_image(arr).flags.c_contiguous


def test_policy_names_the_argument_and_the_channel_rule():
    with pytest.raises(ValueError, match=r"photo must be grey .* got shape \(2, 2, 2\)"):
        V.unit_image(np.zeros((2, 2, 2)), "photo")
    with pytest.raises(ValueError, match="photo must contain only finite values"):
        V.grey_image(np.full((2, 2), np.nan), "photo")
    with pytest.raises(TypeError, match="photo must be a real numeric array"):
        V.uint8_image(np.zeros((2, 2), complex), "photo")


# ---- file paths -----------------------------------------------------------------------------

path_kinds = st.sampled_from(["file", "dir", "missing", "missing parent", "bad suffix", "empty"])


@FUZZ
@given(path_kinds, st.booleans())
def test_fuzz_readable_and_writable_file(tmp_path, kind, as_bytes):
    (tmp_path / "model.json").write_text("{}")
    (tmp_path / "folder").mkdir(exist_ok=True)
    path = {"file": tmp_path / "model.json", "dir": tmp_path / "folder", "missing": tmp_path / "nope.json",
            "missing parent": tmp_path / "no" / "such.json", "bad suffix": tmp_path / "model.txt",
            "empty": ""}[kind]
    arg = os.fsencode(path) if as_bytes else path
    read_errors = {"file": None, "dir": IsADirectoryError, "missing": FileNotFoundError,
                   "missing parent": FileNotFoundError, "bad suffix": FileNotFoundError, "empty": ValueError}
    write_errors = {"file": None, "dir": IsADirectoryError, "missing": None,
                    "missing parent": FileNotFoundError, "bad suffix": ValueError, "empty": ValueError}
    for fn, errors in ((modelfile.readable_file, read_errors),
                       (lambda p, n: modelfile.writable_file(p, n, suffixes=(".json",)), write_errors)):
        expected = errors[kind]
        if expected is None:
            assert fn(arg, "model") == os.fspath(path)
        else:
            with pytest.raises(expected, match="model"):
                fn(arg, "model")


# ---- a regression found by the first fuzz of the filters ------------------------------------


def test_log_tiny_sigma_is_refused_and_smallest_allowed_is_finite():
    # A denormal sigma once gave NaN; sigma validation now refuses it clearly.
    with pytest.raises(ValueError, match="sigma"):
        F.laplacian_of_gaussian(np.ones((1, 1), bool), 5e-324)
    out = F.laplacian_of_gaussian(np.ones((3, 3), bool), 1e-3)
    assert np.isfinite(out).all()
