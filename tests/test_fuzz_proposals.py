"""Property-based fuzz of cvcore.proposals: felzenszwalb, selective_search, evaluate_proposals.

Images of every dtype family and shape (0-D to 4-D, empty, one pixel, 1 to 5
channels, NaN/inf, strided and read-only views) and good and bad arguments.
Every call must return a correct result (checked against the documented
properties) or raise ValueError/TypeError naming an argument. Each call is
timed: one taking longer than ``HANG_SECONDS`` on these tiny inputs counts as
a hang and fails. ``test_fuzz_counts`` checks that the fuzzers really ran and
prints the tally (cases, results, refusals, hangs); a crash would end pytest.
"""
import collections
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cvcore.proposals import COLOR_SPACES, evaluate_proposals, felzenszwalb, selective_search

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HANG_SECONDS = 5.0
TALLY = collections.Counter()

VALID_DTYPES = [np.uint8, np.uint8, np.float32, np.float64, np.uint16, np.int16, np.int8, np.int32,
                np.uint32, np.int64, np.uint64, np.float16, np.bool_]
DTYPES = VALID_DTYPES * 2 + [np.complex64, object]


@st.composite
def images(draw, max_side=10):
    """Arrays of any dimensionality, channel count, dtype and layout."""
    ndim = draw(st.sampled_from([2] * 4 + [3] * 6 + [0, 1, 4]))
    shape = list(draw(st.lists(st.integers(1, max_side), min_size=ndim, max_size=ndim)))
    if ndim == 3:
        shape[2] = draw(st.sampled_from([3, 3, 1, 4, 2, 5]))
    if ndim and draw(st.integers(0, 12)) == 0:
        shape[0] = 0
    shape = tuple(shape)
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = int(np.prod(shape))
    if dtype.kind == "b":
        arr = rng.random(shape) < 0.5
    elif dtype.kind in "ui":
        info = np.iinfo(dtype)
        arr = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    elif dtype.kind == "f":
        arr = (rng.random(shape) * draw(st.sampled_from([1.0, 1.0, 3.0, -1.0]))).astype(dtype)
        if n and draw(st.integers(0, 4)) == 0:
            arr.reshape(-1)[rng.integers(0, n)] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    elif dtype.kind == "c":
        arr = (rng.random(shape) + 1j).astype(dtype)
    else:
        arr = np.empty(shape, object)
    layout = draw(st.sampled_from(["c", "c", "fortran", "strided", "readonly", "list"]))
    if layout == "fortran":
        arr = np.asfortranarray(arr)
    elif layout == "strided" and arr.ndim >= 2:
        arr = np.repeat(arr, 2, axis=1)[:, ::2]
    elif layout == "readonly":
        arr = arr.copy()
        arr.setflags(write=False)
    elif layout == "list" and arr.dtype.kind in "uifb" and arr.ndim >= 1:
        return arr.tolist()
    return arr


def _valid_image(image):
    arr = np.asarray(image) if isinstance(image, list) else image
    if not isinstance(arr, np.ndarray) or arr.ndim not in (2, 3) or arr.size == 0:
        return None
    if arr.dtype.kind not in "uifb" or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        return None
    colour = arr[:, :, :3] if arr.ndim == 3 else arr       # alpha is ignored, NaN there too
    if arr.dtype.kind == "f" and not np.all(np.isfinite(colour)):
        return None
    return arr


def _call(fn, names, *args, **kwargs):
    """Run ``fn`` timed; its result, or None after a ValueError/TypeError naming an argument."""
    TALLY[f"{fn.__name__} cases"] += 1
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            out = fn(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        assert msg and any(n in msg for n in names), f"unclear error from {fn.__name__}: {msg!r}"
        TALLY[f"{fn.__name__} refused"] += 1
        event(f"{fn.__name__}: {type(exc).__name__} {msg[:40]}")
        out = None
    else:
        TALLY[f"{fn.__name__} results"] += 1
        event(f"{fn.__name__}: returned")
    elapsed = time.perf_counter() - t0
    if elapsed > HANG_SECONDS:
        TALLY[f"{fn.__name__} hangs"] += 1
    assert elapsed <= HANG_SECONDS, f"{fn.__name__} took {elapsed:.1f} s on a tiny input"
    return out


def _check_labels(labels, shape, min_size):
    h, w = shape[:2]
    assert labels.shape == (h, w) and labels.dtype == np.int32
    flat = labels.ravel()
    n = int(flat.max()) + 1
    assert flat.min() == 0
    # labels 0..n-1, numbered in raster order of first appearance
    values, first = np.unique(flat, return_index=True)
    assert np.array_equal(values, np.arange(n)) and np.all(np.diff(first) > 0)
    assert np.bincount(flat).min() >= min(min_size, h * w)


@SETTINGS
@given(images(), st.sampled_from([100, 1.0, 0, 500, -1, float("nan"), "x"]),
       st.sampled_from([0.8, 0.0, 2.0, -0.5, None]), st.sampled_from([20, 1, 0, 5, -2, 2.5, 10**12]))
def test_fuzz_felzenszwalb(image, scale, sigma, min_size):
    names = ("image", "scale", "sigma", "min_size")
    labels = _call(felzenszwalb, names, image, scale, sigma, min_size)
    arr = _valid_image(image)
    if labels is None:
        valid_args = (isinstance(scale, (int, float)) and scale >= 0 and isinstance(sigma, float) and sigma >= 0
                      and isinstance(min_size, int) and 0 <= min_size <= 2**28)
        assert arr is None or not valid_args, "a valid call was refused"
        return
    assert arr is not None
    _check_labels(labels, arr.shape, min_size)


#: (good values, bad values) of each selective_search argument
_SS_ARGS = {
    "mode": (["single", "fast", "FAST"], ["slow", None, 3]),
    "color_spaces": ([None, "hsv", ["rgb", "i"], list(COLOR_SPACES), ("LAB", "h")], ["xyz", [], 3, ["hsv", None]]),
    "ks": ([None, 50, [10, 50.5], (300,)], [0, -3, "k", float("inf"), [], [10, float("nan")]]),
    "strategies": ([None, "CTSF", ["TSF", "F"], "s", ("c", "ct")], ["", "CX", "CC", 5, [], ["CTSF", None]]),
    "min_size": ([None, 0, 5, 1], [-1, 1.5, "2", 2**40]),
    "max_boxes": ([None, 1, 7], [0, -1, "3", 2.0]),
    "random_state": ([0, 3, None, np.random.default_rng(1)], [-1, "x", 1.5]),
    "return_regions": ([False, True], [1, None, "yes"]),
}


@st.composite
def selective_search_args(draw):
    """Keyword arguments, at most one of them bad."""
    bad = draw(st.sampled_from([None, None, None] + list(_SS_ARGS)))
    return {name: draw(st.sampled_from(values[1] if name == bad else values[0]))
            for name, values in _SS_ARGS.items()}, bad


@SETTINGS
@given(images(), selective_search_args())
def test_fuzz_selective_search(image, args):
    kwargs, bad = args
    out = _call(selective_search, ("image",) + tuple(_SS_ARGS), image, **kwargs)
    arr = _valid_image(image)
    if out is None:
        assert arr is None or bad is not None, "a valid call was refused"
        return
    assert arr is not None and bad is None
    boxes, regions = out if kwargs["return_regions"] else (out, None)
    h, w = arr.shape[:2]
    assert boxes.dtype == np.int32 and boxes.ndim == 2 and boxes.shape[1] == 4 and len(boxes) >= 1
    assert np.all(boxes[:, :2] >= 0) and np.all(boxes[:, 2:] >= 1)
    assert np.all(boxes[:, 0] + boxes[:, 2] <= w) and np.all(boxes[:, 1] + boxes[:, 3] <= h)
    assert len(np.unique(boxes, axis=0)) == len(boxes)
    if kwargs["max_boxes"] is not None:
        assert len(boxes) <= kwargs["max_boxes"]
    else:  # the grid graph is connected: every hierarchy ends in the whole image
        assert (boxes == [0, 0, w, h]).all(axis=1).any()
    if regions is not None:
        assert regions.source.shape == (len(boxes), 2)
        for i in range(0, len(boxes), max(1, len(boxes) // 4)):
            ys, xs = np.nonzero(regions.mask(i))
            x, y, bw, bh = boxes[i]
            assert (xs.min(), ys.min(), xs.max() - x + 1, ys.max() - y + 1) == (x, y, bw, bh)


def _iou_reference(g, b):
    x0, y0 = np.maximum(g[0], b[0]), np.maximum(g[1], b[1])
    x1, y1 = np.minimum(g[0] + g[2], b[0] + b[2]), np.minimum(g[1] + g[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = g[2] * g[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(0, 6), st.integers(0, 12),
       st.sampled_from(["ok", "ok", "ok", "negative", "nan", "shape", "list-mismatch"]),
       st.sampled_from([0.5, 0.7, 1.0, 0.0, 1.5, "x"]))
def test_fuzz_evaluate_proposals(seed, n_gt, n_boxes, corrupt, thr):
    rng = np.random.default_rng(seed)
    gt = np.c_[rng.integers(0, 20, (n_gt, 2)), rng.integers(1, 10, (n_gt, 2))].astype(float)
    boxes = np.c_[rng.integers(0, 20, (n_boxes, 2)), rng.integers(0, 10, (n_boxes, 2))].astype(float)
    args = (boxes, gt)
    if corrupt == "negative" and n_boxes:
        boxes[0, 2] = -1
    elif corrupt == "nan" and n_gt:
        gt[0, 0] = np.nan
    elif corrupt == "shape":
        args = (boxes[:, :3], gt)
    elif corrupt == "list-mismatch":
        args = ([boxes, boxes], [gt])
    names = ("boxes", "ground_truth", "iou_threshold")
    result = _call(evaluate_proposals, names, *args, iou_threshold=thr)
    if result is None:
        return
    assert corrupt == "ok" or (corrupt == "negative" and not n_boxes) or (corrupt == "nan" and not n_gt)
    best = [max((_iou_reference(g, b) for b in boxes), default=0.0) for g in gt]
    np.testing.assert_allclose(result["best_iou"], best, atol=1e-12)
    assert result["num_objects"] == n_gt and result["num_proposals"] == n_boxes
    if n_gt:
        assert result["recall"] == np.mean(np.array(best) >= thr)
        curve = result["recall_curve"]
        assert len(curve) == n_boxes and np.all(np.diff(curve) >= 0)


def test_fuzz_counts():
    # runs after the fuzzers above (file order): they must have exercised both outcomes
    print("\nproposals fuzz tally:", dict(sorted(TALLY.items())))
    if not TALLY:
        pytest.skip("run with the fuzz tests of this file")
    for fn in ("felzenszwalb", "selective_search", "evaluate_proposals"):
        assert TALLY[f"{fn} results"] > 0 and TALLY[f"{fn} refused"] > 0, fn
        assert TALLY[f"{fn} hangs"] == 0
