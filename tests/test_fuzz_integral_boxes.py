"""Property-based fuzzing of cvcore.integral and cvcore.boxes.

Every public function is called with arrays of every dtype (bool, all integer
widths, float16..float64, complex, object), odd shapes (empty, 1-D, 4-D,
1x1), NaN/inf, non-contiguous and read-only views. Each call must either
return a correct result (checked against a NumPy/OpenCV reference) or raise
ValueError/TypeError; nothing may crash, hang or return garbage.
"""
import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvcore.boxes import batched_nms, group_rectangles, iou, nms, soft_nms
from cvcore.integral import integral_image, integral_images, rect_sum

FUZZ = settings(max_examples=80, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
          np.float16, np.float32, np.float64, np.complex64, np.complex128, object]
OK = (ValueError, TypeError)


@st.composite
def arrays(draw, shapes, *, lo=-300, hi=300, specials=True):
    """Arrays of any dtype/shape/layout, with values in [lo, hi] and optional NaN/inf."""
    dtype = np.dtype(draw(st.one_of(st.sampled_from(DTYPES), st.sampled_from([np.uint8, np.float64, np.int32]))))
    shape = draw(shapes)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    base = rng.integers(lo, hi + 1, size=shape).astype(np.float64)
    if dtype.kind == "f" and draw(st.booleans()):
        base = base / 4
    if specials and dtype.kind in "fc" and base.size and draw(st.booleans()):
        base.flat[rng.integers(0, base.size)] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if dtype.kind == "u" or (base.ndim == 2 and base.shape[-1] == 4 and draw(st.booleans())):
        base = np.abs(base)  # non-negative (valid widths/heights) half the time
    if dtype.kind in "uib":
        base = np.nan_to_num(base, posinf=0, neginf=0)
    arr = np.asarray(base.astype(dtype))
    layout = draw(st.sampled_from(["c", "f", "strided", "readonly"]))
    if layout == "f":
        arr = np.asfortranarray(arr)
    elif layout == "strided" and arr.ndim >= 1:
        big = np.repeat(arr, 2, axis=0)
        arr = big[::2]
    elif layout == "readonly" and arr.ndim >= 1:
        arr = arr.copy()
        arr.flags.writeable = False
    if draw(st.integers(0, 9)) == 0:
        return arr.tolist()  # nested lists too
    return arr


small = st.integers(0, 6)
pos = st.integers(1, 7)
# mostly valid shapes, sometimes odd ones (empty, 1-D, 4-D, scalars)
image_shapes = st.one_of(
    st.tuples(pos, pos), st.tuples(pos, pos), st.tuples(pos, pos, st.integers(1, 3)),
    st.tuples(small, small),
    st.tuples(small, small, st.integers(0, 3)),
    st.tuples(small),
    st.tuples(small, small, small, small),
    st.just(()),
)
box_shapes = st.one_of(st.tuples(st.integers(0, 12), st.just(4)), st.tuples(st.integers(0, 12), st.just(4)),
                       st.tuples(st.integers(0, 5), small), st.just((4,)), st.tuples(small))


def _reference_integral(arr, power=1):
    a = np.asarray(arr)
    acc = np.float64 if a.dtype.kind == "f" else np.int64
    v = a.astype(acc) ** power
    out = np.zeros((a.shape[0] + 1, a.shape[1] + 1) + a.shape[2:], dtype=acc)
    out[1:, 1:] = v.cumsum(0).cumsum(1)
    return out


def _check_table(got, arr, power=1):
    ref = _reference_integral(arr, power)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    if ref.dtype.kind == "f":
        finite = np.isfinite(np.asarray(arr, dtype=np.float64)).all()
        if finite:
            np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-6)
    else:
        np.testing.assert_array_equal(got, ref)


@FUZZ
@given(arrays(image_shapes))
def test_fuzz_integral_image(image):
    try:
        got = integral_image(image)
    except OK:
        a = np.asarray(image)
        # must only reject what is documented as unsupported
        assert (a.dtype.kind not in "uifb") or a.ndim not in (2, 3) or a.size == 0
        return
    _check_table(got, image)


@FUZZ
@given(arrays(image_shapes))
def test_fuzz_integral_images(image):
    try:
        s, sq, t = integral_images(image)
    except OK:
        a = np.asarray(image)
        assert (a.dtype.kind not in "uifb") or a.ndim not in (2, 3) or a.size == 0
        return
    _check_table(s, image)
    _check_table(sq, image, 2)
    a = np.asarray(image)
    assert t.shape == s.shape and t.dtype == s.dtype
    if a.dtype.kind in "ub" or (a.dtype.kind == "i" and a.itemsize <= 2) or (
            a.dtype.kind == "f" and np.isfinite(a.astype(np.float64)).all()):
        conv = a.astype(np.float64 if a.dtype.kind == "f" else (np.uint8 if a.dtype == bool else a.dtype))
        if conv.dtype in (np.uint8, np.uint16, np.int16, np.float32, np.float64):
            ref = cv2.integral3(np.ascontiguousarray(conv), sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)[2]
            np.testing.assert_allclose(t, ref.reshape(t.shape), rtol=1e-9, atol=1e-6)


@FUZZ
@given(st.data())
def test_fuzz_rect_sum(data):
    table = data.draw(arrays(image_shapes, lo=0, hi=50))
    t = np.asarray(table)
    if data.draw(st.booleans()) and t.ndim in (2, 3) and t.shape[0] and t.shape[1]:
        n = data.draw(st.integers(0, 8))
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
        H, W = t.shape[0] - 1, t.shape[1] - 1
        x = rng.integers(0, W + 1, n)
        y = rng.integers(0, H + 1, n)
        boxes = np.stack([x, y, rng.integers(0, W - x + 1), rng.integers(0, H - y + 1)], 1)
        boxes = boxes.astype(data.draw(st.sampled_from([np.int64, np.uint8, np.float32, np.int16])))
    else:
        boxes = data.draw(arrays(box_shapes, lo=-2, hi=8))
    try:
        got = rect_sum(table, boxes)
    except OK:
        return
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).astype(np.int64)
    assert got.shape[0] == b.shape[0]
    tt = t.astype(np.float64 if t.dtype.kind == "f" else np.int64)
    for row, value in zip(b, got):
        x, y, w, h = row
        ref = tt[y + h, x + w] - tt[y, x + w] - tt[y + h, x] + tt[y, x]
        np.testing.assert_array_equal(value, ref)


def _ref_iou(a, b):
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            iw = min(p[0] + p[2], q[0] + q[2]) - max(p[0], q[0])
            ih = min(p[1] + p[3], q[1] + q[3]) - max(p[1], q[1])
            if iw > 0 and ih > 0:
                inter = iw * ih
                union = p[2] * p[3] + q[2] * q[3] - inter
                out[i, j] = inter / union if union > 0 else 0.0
    return out


@FUZZ
@given(arrays(box_shapes), arrays(box_shapes))
def test_fuzz_iou(a, b):
    try:
        got = iou(a, b)
    except OK:
        return
    np.testing.assert_allclose(got, _ref_iou(a, b), rtol=1e-12, atol=1e-12)


def _scores_for(draw, boxes_len):
    return draw(st.one_of(arrays(st.just((boxes_len,)), lo=0, hi=10), arrays(st.tuples(st.integers(0, 14)))))


@FUZZ
@given(st.data())
def test_fuzz_nms_and_batched(data):
    boxes = data.draw(arrays(box_shapes, lo=-5, hi=20))
    n = np.asarray(boxes).reshape(-1).size // 4 if np.asarray(boxes).ndim else 0
    scores = _scores_for(data.draw, n)
    thr = data.draw(st.one_of(st.floats(0, 1), st.sampled_from([0.0, 0.5, 1.0]), st.floats(-1, 2),
                              st.sampled_from([np.nan, "0.5", None])))
    sthr = data.draw(st.one_of(st.none(), st.floats(-1, 11), st.just(np.inf)))
    top = data.draw(st.one_of(st.none(), st.integers(-2, 20), st.just(2.5)))
    try:
        kept = nms(boxes, scores, iou_threshold=thr, score_threshold=sthr, max_output=top)
    except OK:
        return
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    s = np.asarray(scores, dtype=np.float64)
    assert kept.dtype == np.intp and kept.ndim == 1
    s32 = s.astype(np.float32)
    if np.array_equal(s32.astype(np.float64), s) and (sthr is None or sthr >= 0) and np.all(s >= 0):
        cand_thr = (sthr if sthr is not None else -1.0)
        if cand_thr < 0 and np.any(s == 0):
            cand_thr = None
        if cand_thr is not None:
            ref = np.asarray(cv2.dnn.NMSBoxes(b, s32, max(float(cand_thr), 0.0), float(thr)), dtype=np.intp).ravel()
            if top is not None:
                ref = ref[:top]
            np.testing.assert_array_equal(kept, ref)
    classes = np.arange(len(b)) % 2
    try:
        kb = batched_nms(boxes, scores, classes, iou_threshold=thr, score_threshold=sthr, max_output=top)
    except OK:
        raise AssertionError("batched_nms rejected what nms accepted")
    per = [np.flatnonzero(classes == c)[nms(b[classes == c], s[classes == c], thr, sthr)] for c in (0, 1)]
    merged = np.concatenate(per).astype(np.intp)
    merged = merged[np.lexsort((merged, -s[merged]))]
    if top is not None:
        merged = merged[:top]
    np.testing.assert_array_equal(kb, merged)


@FUZZ
@given(st.data())
def test_fuzz_soft_nms(data):
    boxes = data.draw(arrays(box_shapes, lo=-5, hi=20))
    n = np.asarray(boxes).reshape(-1).size // 4 if np.asarray(boxes).ndim else 0
    scores = _scores_for(data.draw, n)
    sigma = data.draw(st.one_of(st.just(0.5), st.floats(0.01, 2), st.floats(-1, 2), st.just(np.inf)))
    method = data.draw(st.one_of(st.sampled_from(["gaussian", "linear", "Linear"]), st.sampled_from(["hard", 3])))
    try:
        kept, updated = soft_nms(boxes, scores, sigma=sigma, method=method, score_threshold=0.001)
    except OK:
        return
    s = np.asarray(scores, dtype=np.float64)
    assert kept.shape == updated.shape
    from cvcore._ext import _nms

    b = np.ascontiguousarray(np.asarray(boxes, dtype=np.float64).reshape(-1, 4))
    ref_s = s.copy()
    k = np.empty(len(s), np.intp)
    ks = np.empty(len(s))
    m = _nms.soft_nms_reference(b, b[:, 2] * b[:, 3], ref_s, str(method).lower() == "linear", float(sigma),
                                np.float32(0.3), 0.001, len(s), k, ks)
    np.testing.assert_array_equal(kept, k[:m])
    np.testing.assert_array_equal(updated, ks[:m])
    assert len(np.unique(kept)) == len(kept)
    assert np.all(np.diff(updated) <= 1e-12)
    assert np.all(updated >= 0.001) and np.all(updated <= s[kept] + 1e-12)


@FUZZ
@given(st.data())
def test_fuzz_group_rectangles(data):
    boxes = data.draw(arrays(box_shapes, lo=-3, hi=30, specials=True))
    mn = data.draw(st.one_of(st.integers(-2, 4), st.just(1.5), st.just(True)))
    eps = data.draw(st.one_of(st.floats(-0.5, 2), st.just(0.2), st.just(np.nan)))
    try:
        got, weights, scores = group_rectangles(boxes, mn, eps)
    except OK:
        return
    assert got.dtype == np.int32 and scores.shape == weights.shape
    r = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).astype(np.int32)
    ref_r, ref_w = cv2.groupRectangles(r.tolist(), int(mn), float(eps))
    np.testing.assert_array_equal(got, np.asarray(ref_r, dtype=np.int64).reshape(-1, 4))
    np.testing.assert_array_equal(weights, np.asarray(ref_w, dtype=np.int64).ravel())


@pytest.mark.parametrize("fn", [integral_image, integral_images])
def test_readonly_noncontiguous_image(fn):
    a = np.arange(60, dtype=np.uint16).reshape(6, 10)[:, ::2]
    a.flags.writeable = False
    np.testing.assert_array_equal(fn(a), fn(np.ascontiguousarray(a)))
