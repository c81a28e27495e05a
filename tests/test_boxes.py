"""cvcore.boxes against cv2.dnn.NMSBoxes / softNMSBoxes / NMSBoxesBatched, cv2.groupRectangles and NumPy."""
import cv2
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from cvcore.boxes import batched_nms, group_rectangles, iou, nms, soft_nms


def _iou_reference(a, b):
    a = np.asarray(a, float).reshape(-1, 4)
    b = np.asarray(b, float).reshape(-1, 4)
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2) - np.maximum(a[:, 0][:, None], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2) - np.maximum(a[:, 1][:, None], b[:, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + b[:, 2] * b[:, 3] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _random_boxes(rng, n, *, integer=False, degenerate=0.0, span=200.0, size=(1, 60)):
    xy = rng.uniform(-10, span, (n, 2))
    wh = rng.uniform(size[0], size[1], (n, 2))
    if integer:
        xy, wh = np.round(xy), np.round(wh)
    if degenerate:
        mask = rng.random((n, 2)) < degenerate
        wh[mask] = 0
    return np.hstack([xy, wh])


def test_iou_matches_numpy_reference(rng):
    a = _random_boxes(rng, 50, degenerate=0.1)
    b = _random_boxes(rng, 40, integer=True, degenerate=0.1)
    got = iou(a, b)
    assert got.shape == (50, 40) and got.dtype == np.float64
    assert_allclose(got, _iou_reference(a, b), rtol=1e-12, atol=1e-15)
    assert_allclose(iou(a, a).diagonal()[(a[:, 2] > 0) & (a[:, 3] > 0)], 1.0)
    assert iou([], b).shape == (0, 40)
    assert iou(a[0], b[0]).shape == (1, 1)


def test_iou_known_values():
    assert_allclose(iou([[0, 0, 10, 10]], [[5, 0, 10, 10], [0, 0, 10, 10], [10, 0, 5, 5]]), [[1 / 3, 1.0, 0.0]])
    assert iou([[3, 3, 0, 0]], [[3, 3, 0, 0]])[0, 0] == 0.0


def _cv_nms(boxes, scores, score_threshold, thr, top_k=0):
    return np.asarray(cv2.dnn.NMSBoxes(boxes, scores, score_threshold, thr, 1.0, top_k), dtype=np.intp).ravel()


@pytest.mark.parametrize("seed", range(12))
def test_nms_identical_to_opencv_on_random_sets(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    boxes = _random_boxes(rng, n, integer=seed % 2 == 0, degenerate=0.05 if seed % 3 == 0 else 0.0)
    scores = rng.random(n).astype(np.float32)
    if seed % 4 == 1:  # many ties
        scores = np.round(scores * 5).astype(np.float32) / 5
    for thr in (0.0, 0.3, 0.5, 0.7, 1.0):
        for sthr in (0.0, 0.25):
            expected = _cv_nms(boxes, scores, sthr, thr)
            got = nms(boxes, scores, iou_threshold=thr, score_threshold=sthr)
            assert got.dtype == np.intp
            assert_array_equal(got, expected, err_msg=f"thr={thr} sthr={sthr}")


def test_nms_ties_and_duplicates_match_opencv():
    boxes = np.array([[0, 0, 10, 10]] * 5 + [[1, 1, 10, 10]] * 3, float)
    scores = np.array([0.5, 0.9, 0.9, 0.5, 0.9, 0.9, 0.5, 0.9], np.float32)
    for thr in (0.0, 0.5, 0.99, 1.0):
        assert_array_equal(nms(boxes, scores, thr, 0.0), _cv_nms(boxes, scores, 0.0, thr))


def test_nms_degenerate_boxes_follow_opencv():
    # OpenCV counts two zero-area boxes as fully overlapping, wherever they are.
    boxes = np.array([[0, 0, 0, 0], [50, 50, 0, 5], [10, 10, 5, 5], [100, 0, 3, 0]], float)
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    expected = _cv_nms(boxes, scores, 0.0, 0.5)
    assert_array_equal(nms(boxes, scores, 0.5, 0.0), expected)
    assert_array_equal(expected, [0, 2])


def test_nms_empty_and_score_threshold():
    assert nms(np.zeros((0, 4)), []).shape == (0,)
    assert_array_equal(_cv_nms(np.zeros((0, 4)), np.zeros(0, np.float32), 0, 0.5), [])
    boxes = [[0, 0, 10, 10], [50, 50, 10, 10], [100, 0, 5, 5]]
    assert_array_equal(nms(boxes, [0.1, 0.5, -3.0]), [1, 0, 2])  # None: everything, even negative
    assert_array_equal(nms(boxes, [0.1, 0.5, 0.3], score_threshold=0.3), [1])  # strictly greater


def test_nms_max_output_bounds_the_result(rng):
    boxes = _random_boxes(rng, 300)
    scores = rng.random(300).astype(np.float32)
    full = nms(boxes, scores, 0.4)
    assert_array_equal(nms(boxes, scores, 0.4, max_output=7), full[:7])
    assert nms(boxes, scores, 0.4, max_output=0).shape == (0,)


def test_nms_float64_scores_keep_order(rng):
    boxes = _random_boxes(rng, 100)
    scores = rng.random(100)
    kept = nms(boxes, scores, 0.5)
    assert np.all(np.diff(scores[kept]) <= 0)
    m = iou(boxes[kept], boxes[kept])
    np.fill_diagonal(m, 0)
    assert m.max() <= 0.5 + 1e-6


def test_nms_large_identical_to_opencv(rng):
    boxes = _random_boxes(rng, 5000, span=1000, size=(10, 100))
    scores = rng.random(5000).astype(np.float32)
    assert_array_equal(nms(boxes, scores, 0.5, 0.0), _cv_nms(boxes, scores, 0.0, 0.5))


def test_batched_nms_matches_per_class_nms_and_opencv(rng):
    n = 300
    boxes = _random_boxes(rng, n, integer=True)
    scores = rng.random(n).astype(np.float32)
    classes = rng.integers(0, 4, n)
    got = batched_nms(boxes, scores, classes, 0.5, 0.0)
    per_class = np.concatenate([np.flatnonzero(classes == c)[nms(boxes[classes == c], scores[classes == c], 0.5, 0.0)]
                                for c in range(4)])
    expected = per_class[np.lexsort((per_class, -scores[per_class]))]
    assert_array_equal(got, expected)
    cv = np.asarray(cv2.dnn.NMSBoxesBatched(boxes, scores, classes.astype(np.int32), 0.0, 0.5)).ravel()
    assert_array_equal(np.sort(got), np.sort(cv))
    assert_array_equal(batched_nms(boxes, scores, classes, 0.5, 0.0, max_output=10), got[:10])
    assert_array_equal(batched_nms(boxes, scores, np.zeros(n, int), 0.5), nms(boxes, scores, 0.5))


@pytest.mark.parametrize("method", ["gaussian", "linear"])
def test_soft_nms_matches_opencv(method, rng):
    cv_method = {"gaussian": cv2.dnn.SOFT_NMSMETHOD_SOFTNMS_GAUSSIAN,
                 "linear": cv2.dnn.SOFT_NMSMETHOD_SOFTNMS_LINEAR}[method]
    for trial in range(40):
        n = int(rng.integers(0, 60))
        boxes = np.hstack([rng.integers(0, 100, (n, 2)), rng.integers(1, 40, (n, 2))]).astype(np.int32)
        scores = rng.random(n).astype(np.float32)
        for sigma, thr, sthr in ((0.5, 0.3, 0.001), (0.2, 0.5, 0.1)):
            cv_scores, cv_idx = cv2.dnn.softNMSBoxes(boxes.tolist(), scores, sthr, thr, 0, sigma, cv_method)
            kept, updated = soft_nms(boxes, scores, sigma=sigma, iou_threshold=thr, score_threshold=sthr,
                                     method=method)
            assert_array_equal(kept, np.asarray(cv_idx).ravel())
            assert_allclose(updated, np.asarray(cv_scores).ravel(), rtol=1e-5)


def test_soft_nms_paper_behaviour():
    boxes = [[0, 0, 10, 10], [0, 0, 10, 10], [100, 100, 10, 10]]
    kept, s = soft_nms(boxes, [0.9, 0.8, 0.7], sigma=0.5)
    assert_array_equal(kept, [0, 2, 1])
    assert_allclose(s, [0.9, 0.7, 0.8 * np.exp(-1 / 0.5)])
    kept, s = soft_nms(boxes, [0.9, 0.8, 0.7], max_output=1)
    assert_array_equal(kept, [0])


def _clustered_rects(rng):
    k = int(rng.integers(1, 8))
    centers = rng.integers(0, 300, (k, 2))
    sizes = rng.integers(8, 80, k)
    rects = []
    for _ in range(int(rng.integers(0, 80))):
        c = rng.integers(k)
        sz = sizes[c] * rng.uniform(0.8, 1.2)
        rects.append([centers[c, 0] + rng.normal(0, 3), centers[c, 1] + rng.normal(0, 3), sz, sz * rng.uniform(0.9, 1.1)])
    if rng.random() < 0.3 and rects:  # a small box nested in a big cluster
        c = rng.integers(k)
        for _ in range(int(rng.integers(1, 4))):
            rects.append([centers[c, 0] + sizes[c] / 4, centers[c, 1] + sizes[c] / 4, sizes[c] / 3, sizes[c] / 3])
    return np.round(np.asarray(rects, float).reshape(-1, 4)).astype(np.int64)


@pytest.mark.parametrize("seed", range(6))
def test_group_rectangles_identical_to_opencv(seed):
    rng = np.random.default_rng(100 + seed)
    for _ in range(40):
        rects = _clustered_rects(rng)
        mn = int(rng.integers(-1, 6))
        eps = float(rng.choice([0.0, 0.1, 0.2, 0.5, 1.0]))
        cv_rects, cv_weights = cv2.groupRectangles(rects.astype(np.int32).tolist(), mn, eps)
        got, weights, scores = group_rectangles(rects, mn, eps)
        assert got.dtype == np.int32 and weights.dtype == np.int64
        assert_array_equal(scores, np.ones(len(got)))
        assert_array_equal(got, np.asarray(cv_rects, np.int64).reshape(-1, 4))
        assert_array_equal(weights, np.asarray(cv_weights, np.int64).ravel())


def test_group_rectangles_scores_give_group_means():
    rects = [[10, 10, 20, 20], [11, 10, 20, 21], [10, 11, 21, 20], [80, 80, 5, 5], [81, 80, 5, 5]]
    scores = [1.0, 2.0, 3.0, 4.0, 6.0]
    got, w, s = group_rectangles(rects, 1, 0.2, scores=scores)
    assert_array_equal(w, [3, 2])
    assert_allclose(s, [2.0, 5.0])
    got, w, s = group_rectangles(rects, 0, scores=scores)
    assert_array_equal(got, rects)
    assert_allclose(s, scores)


def test_group_rectangles_input_checks():
    with pytest.raises(ValueError, match="integer values"):
        group_rectangles([[0.5, 0, 1, 1]], 1)
    with pytest.raises(TypeError, match="min_neighbors"):
        group_rectangles([[0, 0, 1, 1]], 1.5)
    with pytest.raises(ValueError, match="eps"):
        group_rectangles([[0, 0, 1, 1]], 1, eps=-1)
    with pytest.raises(ValueError, match="within"):
        group_rectangles([[0, 0, 2**40, 1]], 1)
    got, w, s = group_rectangles(np.zeros((0, 4)), 2)
    assert got.shape == (0, 4) and w.shape == (0,) and s.shape == (0,)


@pytest.mark.parametrize("args", [(3, None), (0, None), (-1, None), (1, [0.5, 0.7]), (0, [0.5, 0.7])])
def test_group_rectangles_result_has_one_shape(args):
    """Issue 9: three arrays (int32 boxes, int64 counts, float64 scores) whatever the arguments."""
    mn, scores = args
    out = group_rectangles([[0, 0, 10, 10], [1, 0, 10, 10]], mn, scores=scores)
    assert len(out) == 3
    assert [a.dtype for a in out] == [np.int32, np.int64, np.float64]
    assert out[0].shape == (len(out[1]), 4) and out[2].shape == out[1].shape


@pytest.mark.parametrize("call, name", [
    (lambda: nms([[0, 0, 1, 1]], [0.5], iou_threshold=2), "iou_threshold"),
    (lambda: nms([[0, 0, 1, 1]], [0.5], score_threshold=np.nan), "score_threshold"),
    (lambda: batched_nms([[0, 0, 1, 1]], [0.5], [0], iou_threshold=1.5), "iou_threshold"),
    (lambda: soft_nms([[0, 0, 1, 1]], [0.5], iou_threshold=2, method="linear"), "iou_threshold"),
    (lambda: soft_nms([[0, 0, 1, 1]], [0.5], score_threshold=np.inf), "score_threshold"),
])
def test_nonsense_thresholds_name_the_argument(call, name):
    """Issue 9: nms(iou_threshold=2) used to be accepted silently."""
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: nms([[0, 0, 1, 1]], [0.5, 0.2]),
        lambda: nms([[0, 0, 1, 1]], [np.nan]),
        lambda: nms([[0, 0, -1, 1]], [0.5]),
        lambda: nms([[0, 0, np.inf, 1]], [0.5]),
        lambda: nms([[0, 0, 1]], [0.5]),
        lambda: nms([[0, 0, 1, 1]], [0.5], iou_threshold=-0.1),
        lambda: nms([[0, 0, 1, 1]], [0.5], max_output=-1),
        lambda: soft_nms([[0, 0, 1, 1]], [0.5], sigma=0),
        lambda: soft_nms([[0, 0, 1, 1]], [0.5], method="box"),
        lambda: batched_nms([[0, 0, 1, 1]], [0.5], [0, 1]),
        lambda: batched_nms([[0, 0, 1, 1]], [0.5], [0.5]),
        lambda: iou(np.zeros((2, 5)), np.zeros((2, 4))),
    ],
)
def test_bad_arguments_raise(call):
    with pytest.raises((ValueError, TypeError)):
        call()


def test_iou_size_guard():
    from cvcore import boxes as mod

    a = np.zeros((2**14, 4))
    b = np.zeros((2**14, 4))
    with pytest.raises(ValueError, match="chunks"):
        mod.iou(a, b)


def test_docstring_examples_run():
    import doctest

    import cvcore.boxes

    result = doctest.testmod(cvcore.boxes, raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("seed", range(8))
def test_soft_nms_grid_kernel_equals_exhaustive_reference(seed):
    from cvcore._ext import _nms

    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 600))
    boxes = _random_boxes(rng, n, integer=seed % 2 == 0, degenerate=0.05 if seed % 3 == 0 else 0.0,
                          span=float(rng.choice([50, 300])))
    if seed % 4 == 3 and n:  # tiny and huge boxes
        boxes[: n // 10, 2:] = 1e-10
        boxes[n // 10: n // 5, 2:] = 500
    scores = rng.random(n)
    if seed % 2:
        scores = np.round(scores * 4) / 4  # ties
    for method in ("gaussian", "linear"):
        for sthr, thr, sigma in ((0.001, 0.3, 0.5), (0.2, 0.0, 0.1)):
            kept, updated = soft_nms(boxes, scores, sigma=sigma, iou_threshold=thr, score_threshold=sthr,
                                     method=method)
            s = scores.astype(np.float64).copy()
            k = np.empty(n, np.intp)
            ks = np.empty(n)
            m = _nms.soft_nms_reference(boxes, boxes[:, 2] * boxes[:, 3], s, method == "linear", sigma,
                                        np.float32(thr), sthr, n, k, ks)
            assert_array_equal(kept, k[:m])
            assert_array_equal(updated, ks[:m])
