"""Box utilities: IoU, non-maximum suppression and rectangle grouping.

Boxes are ``(x, y, w, h)`` rows of an ``(N, 4)`` array everywhere (as OpenCV's
``detectMultiScale`` and ``NMSBoxes`` use): ``(x, y)`` is the top-left corner
and the box covers ``[x, x + w) x [y, y + h)``. A single box may be given as a
length-4 vector and an empty list means no boxes. Coordinates must be finite
and ``w, h >= 0``.

Overlap used by the NMS functions
---------------------------------
:func:`nms`, :func:`batched_nms` and :func:`soft_nms` measure overlap exactly
as ``cv2.dnn.NMSBoxes`` does, so their kept sets are identical to OpenCV's:
the IoU is computed in double precision (with OpenCV's intersection
arithmetic) and then rounded through float32 (``1 - float32(1 - IoU)``), and
two boxes whose areas sum to at most machine epsilon (e.g. two zero-area
boxes, wherever they are) count as fully overlapping (IoU 1). :func:`iou`
returns the plain double-precision IoU, with 0 when the union is empty.
"""
from __future__ import annotations

import numpy as np

from cvcore import _validate
from cvcore._ext import _nms

__all__ = ["iou", "nms", "batched_nms", "soft_nms", "group_rectangles"]

#: Largest IoU matrix :func:`iou` allocates (elements; 8 bytes each).
MAX_IOU_ELEMENTS = 2**27


def iou(boxes_a, boxes_b):
    """Intersection over union of every pair of boxes.

    Parameters
    ----------
    boxes_a : (N, 4) array_like
        ``(x, y, w, h)`` rows.
    boxes_b : (M, 4) array_like
        ``(x, y, w, h)`` rows.

    Returns
    -------
    (N, M) ndarray of float64
        ``area(a & b) / area(a | b)``, in ``[0, 1]``; 0 where the boxes do not
        overlap or the union has zero area (two degenerate boxes).

    Raises
    ------
    ValueError
        For malformed boxes, or when ``N * M`` exceeds ``MAX_IOU_ELEMENTS``
        (2**27, 1 GiB of output).

    Examples
    --------
    >>> from cvcore.boxes import iou
    >>> iou([[0, 0, 10, 10]], [[5, 0, 10, 10], [20, 20, 5, 5]])
    array([[0.33333333, 0.        ]])
    """
    a = _validate.boxes(boxes_a, "boxes_a")
    b = _validate.boxes(boxes_b, "boxes_b")
    if a.shape[0] * b.shape[0] > MAX_IOU_ELEMENTS:
        raise ValueError(
            f"iou of {a.shape[0]} x {b.shape[0]} boxes exceeds {MAX_IOU_ELEMENTS} elements; process in chunks"
        )
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.float64)
    _nms.iou_matrix(a, b, out)
    return out


def _nms_inputs(boxes, scores, iou_threshold, score_threshold, max_output):
    b = _validate.boxes(boxes, "boxes")
    s = _validate.box_scores(scores, b.shape[0], "scores")
    thr = _validate.real(iou_threshold, "iou_threshold", low=0.0, high=1.0)
    sthr = None if score_threshold is None else _validate.real(score_threshold, "score_threshold")
    limit = _validate.optional_count(max_output, "max_output")
    return b, s, thr, sthr, limit


def _grid_cells(b, order):
    """Conservative grid cells for the NMS kernel: (cells (N, 4), gx, gy).

    The grid spans the candidates with cells about the median box size. Each
    box's range is widened by a relative 1e-9 so that rounding can never hide
    an intersection that OpenCV's arithmetic would find; the cell index is a
    monotonic function of the coordinate, so overlapping boxes share a cell.
    """
    n = b.shape[0]
    cells = np.zeros((n, 4), dtype=np.intp)
    if order.shape[0] == 0:
        return cells, 1, 1
    cand = b[order]
    x1, y1 = cand[:, 0], cand[:, 1]
    x2, y2 = x1 + cand[:, 2], y1 + cand[:, 3]
    gx = gy = 1
    with np.errstate(over="ignore", invalid="ignore"):
        span_x = float(x2.max() - x1.min())
        span_y = float(y2.max() - y1.min())
        med_w = float(np.median(cand[:, 2]))
        med_h = float(np.median(cand[:, 3]))
    if np.isfinite(span_x) and np.isfinite(span_y) and med_w > 0 and med_h > 0:
        gx = int(np.clip(span_x / med_w, 1, 4096))
        gy = int(np.clip(span_y / med_h, 1, 4096))
        budget = 4 * order.shape[0] + 16
        if gx * gy > budget:
            f = np.sqrt(gx * gy / budget)
            gx, gy = max(1, int(gx / f)), max(1, int(gy / f))
    if gx * gy > 1:
        for lo, hi, g, col in ((x1, x2, gx, 0), (y1, y2, gy, 2)):
            origin = float(lo.min())
            inv = g / float(hi.max() - origin)
            tol = (np.abs(lo) + np.abs(hi)) * 1e-9 + 1e-300
            c0 = np.floor(np.clip((lo - tol - origin) * inv, 0, g - 1))
            c1 = np.floor(np.clip((hi + tol - origin) * inv, 0, g - 1))
            cells[order, col] = c0.astype(np.intp)
            cells[order, col + 1] = c1.astype(np.intp)
    return cells, gx, gy


def _greedy(b, s, thr, sthr, limit, classes):
    candidates = np.arange(s.shape[0]) if sthr is None else np.flatnonzero(s > sthr)
    # Stable sort on descending score: ties keep index order (std::stable_sort in OpenCV).
    order = candidates[np.argsort(-s[candidates], kind="stable")].astype(np.intp)
    kept = np.empty(order.shape[0], dtype=np.intp)
    areas = b[:, 2] * b[:, 3]
    use = classes is not None
    cls = classes if use else np.zeros(1, dtype=np.int64)
    limit = order.shape[0] if limit is None else limit
    cells, gx, gy = _grid_cells(b, order)
    n = _nms.nms_sorted(b, areas, order, cls, use, np.float32(thr), limit, cells, gx, gy, kept)
    if n < 0:
        raise MemoryError("nms: out of memory for the spatial grid")
    return kept[:n].copy()


def nms(boxes, scores, iou_threshold=0.5, score_threshold=None, max_output=None):
    """Greedy non-maximum suppression, with ``cv2.dnn.NMSBoxes`` semantics.

    Boxes whose score is above ``score_threshold`` are visited in descending
    score order (ties in index order: a stable sort); a box is kept unless its
    overlap with an already kept box exceeds ``iou_threshold``.

    Parameters
    ----------
    boxes : (N, 4) array_like
        ``(x, y, w, h)`` rows.
    scores : (N,) array_like
        One finite score per box.
    iou_threshold : float, default 0.5
        Boxes overlapping a kept box by more than this are suppressed, in
        ``[0, 1]`` (an overlap never exceeds 1, so larger values are refused).
        The overlap is OpenCV's (see the module notes).
    score_threshold : float, optional
        Only boxes with ``score > score_threshold`` are considered (strictly
        greater, as in OpenCV). None considers every box.
    max_output : int, optional
        Stop after keeping this many boxes. Unlike OpenCV's ``top_k`` (which
        truncates the *candidates* before suppression), this bounds the output.

    Returns
    -------
    (K,) ndarray of intp
        Indices of the kept boxes in descending score order. With float32
        scores (OpenCV's type) and the same thresholds this equals
        ``cv2.dnn.NMSBoxes(boxes, scores, score_threshold, iou_threshold)``.

    Notes
    -----
    Sorting is O(N log N); suppression compares each candidate with the kept
    boxes only (O(N K)) in a compiled kernel.

    Examples
    --------
    >>> from cvcore.boxes import nms
    >>> boxes = [[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 5, 5]]
    >>> nms(boxes, [0.9, 0.8, 0.7], iou_threshold=0.5)
    array([0, 2])
    """
    b, s, thr, sthr, limit = _nms_inputs(boxes, scores, iou_threshold, score_threshold, max_output)
    return _greedy(b, s, thr, sthr, limit, None)


def batched_nms(boxes, scores, classes, iou_threshold=0.5, score_threshold=None, max_output=None):
    """Per-class non-maximum suppression, merged in descending score order.

    Boxes of different classes never suppress each other; within a class this
    is exactly :func:`nms`.

    Parameters
    ----------
    boxes : (N, 4) array_like
        ``(x, y, w, h)`` rows.
    scores : (N,) array_like
        One finite score per box.
    classes : (N,) array_like of int
        Class label of each box (any integers).
    iou_threshold, score_threshold : float
        As in :func:`nms`.
    max_output : int, optional
        Keep at most this many boxes in total (the highest-scoring ones).

    Returns
    -------
    (K,) ndarray of intp
        Kept indices of all classes, in descending score order (ties by index).

    Examples
    --------
    >>> from cvcore.boxes import batched_nms
    >>> boxes = [[0, 0, 10, 10], [1, 1, 10, 10], [1, 1, 10, 10]]
    >>> batched_nms(boxes, [0.9, 0.8, 0.7], [0, 0, 1])
    array([0, 2])
    """
    b, s, thr, sthr, limit = _nms_inputs(boxes, scores, iou_threshold, score_threshold, max_output)
    c = _validate.array(classes, "classes", ndim=1, kinds="ui", allow_empty=True)
    if c.shape[0] != b.shape[0]:
        raise ValueError(f"classes must have one value per box ({b.shape[0]}), got {c.shape[0]}")
    if c.dtype == np.uint64 and c.size and int(c.max()) > np.iinfo(np.int64).max:
        raise ValueError("classes must fit in int64")
    c = np.ascontiguousarray(c, dtype=np.int64)
    return _greedy(b, s, thr, sthr, limit, c)


def soft_nms(boxes, scores, sigma=0.5, iou_threshold=0.3, score_threshold=0.001,
             method="gaussian", max_output=None):
    """Soft non-maximum suppression (Bodla et al., ICCV 2017).

    Repeatedly selects the box with the highest current score (ties: lowest
    index), then decays the score of every remaining box ``b`` by its overlap
    ``o`` with the selected box: ``s *= exp(-o**2 / sigma)`` (``"gaussian"``)
    or ``s *= 1 - o`` when ``o > iou_threshold`` (``"linear"``). Selection
    stops when no remaining score reaches ``score_threshold``. This follows the
    paper and ``cv2.dnn.softNMSBoxes`` (whose overlap it shares, see the module
    notes).

    Parameters
    ----------
    boxes : (N, 4) array_like
        ``(x, y, w, h)`` rows.
    scores : (N,) array_like
        One finite score per box.
    sigma : float, default 0.5
        Gaussian width (> 0); unused by the linear method.
    iou_threshold : float, default 0.3
        Overlap above which the linear method decays scores, in ``[0, 1]``;
        unused by the Gaussian method.
    score_threshold : float, default 0.001
        Boxes whose (decayed) score falls below this are discarded.
    method : {"gaussian", "linear"}
        Decay function.
    max_output : int, optional
        Stop after selecting this many boxes.

    Returns
    -------
    kept : (K,) ndarray of intp
        Selected indices in selection order (non-increasing updated score).
    updated_scores : (K,) ndarray of float64
        The decayed score of each kept box at the time it was selected.

    Examples
    --------
    >>> from cvcore.boxes import soft_nms
    >>> kept, s = soft_nms([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8], method="linear")
    >>> kept, s
    (array([0]), array([0.9]))
    """
    b = _validate.boxes(boxes, "boxes")
    s = _validate.box_scores(scores, b.shape[0], "scores").copy()
    sig = _validate.positive(sigma, "sigma")
    thr = _validate.real(iou_threshold, "iou_threshold", low=0.0, high=1.0)
    sthr = _validate.real(score_threshold, "score_threshold")
    meth = _validate.choice(method, "method", ("gaussian", "linear"))
    limit = _validate.optional_count(max_output, "max_output")
    n = b.shape[0]
    limit = n if limit is None else min(limit, n)
    kept = np.empty(n, dtype=np.intp)
    kept_scores = np.empty(n, dtype=np.float64)
    areas = b[:, 2] * b[:, 3]
    cells, gx, gy = _grid_cells(b, np.flatnonzero(s >= sthr))
    k = _nms.soft_nms(b, areas, s, meth == "linear", sig, np.float32(thr), sthr, limit, cells, gx, gy,
                      kept, kept_scores)
    if k < 0:
        raise MemoryError("soft_nms: out of memory for the spatial grid")
    return kept[:k].copy(), kept_scores[:k].copy()


def group_rectangles(boxes, min_neighbors, eps=0.2, scores=None):
    """Cluster similar rectangles and average each cluster (``cv2.groupRectangles``).

    Follows OpenCV's algorithm exactly: two rectangles are similar when each of
    their four edges differs by at most ``delta = eps * (min(w1, w2) +
    min(h1, h2)) / 2``; clusters are the connected components of that relation
    (numbered by their first member); each cluster is averaged (OpenCV's
    float32 arithmetic, rounded half to even); clusters with at most
    ``min_neighbors`` members are dropped, and so is a cluster lying inside
    another kept cluster (enlarged by ``eps`` of its size) when that one has
    more than ``max(3, n)`` members or the inner one has fewer than 3.

    Parameters
    ----------
    boxes : (N, 4) array_like of int
        Integer ``(x, y, w, h)`` rows (floats must be integral), values within
        the int32 range.
    min_neighbors : int
        ``groupThreshold``. As in OpenCV, ``min_neighbors <= 0`` returns the
        input unchanged with weights 1 (no grouping).
    eps : float, default 0.2
        Relative similarity tolerance (>= 0).
    scores : (N,) array_like, optional
        A confidence per rectangle (1 for every rectangle when not given).

    Returns
    -------
    grouped : (K, 4) ndarray of int32
        Averaged rectangles in OpenCV's order (cvcore's box dtype).
    weights : (K,) ndarray of int64
        Number of rectangles in each group.
    group_scores : (K,) ndarray of float64
        Mean score of each group's members (all 1.0 without ``scores``).

    The result is always these three arrays, whatever the arguments.

    Examples
    --------
    >>> from cvcore.boxes import group_rectangles
    >>> rects = [[10, 10, 20, 20], [11, 10, 20, 21], [10, 11, 21, 20], [80, 80, 5, 5]]
    >>> group_rectangles(rects, min_neighbors=1)
    (array([[10, 10, 20, 20]], dtype=int32), array([3]), array([1.]))
    >>> group_rectangles(rects, min_neighbors=1, scores=[0.9, 0.6, 0.3, 0.1])[2]
    array([0.6])
    """
    r = _validate.int_boxes(boxes, "boxes")
    threshold = _validate.integer(min_neighbors, "min_neighbors")
    e = _validate.non_negative(eps, "eps")
    n = r.shape[0]
    sc = np.ones(n) if scores is None else _validate.box_scores(scores, n, "scores")
    if threshold <= 0 or n == 0:
        return r.astype(np.int32), np.ones(n, dtype=np.int64), sc.copy()
    labels = np.empty(n, dtype=np.intp)
    by_x = np.argsort(r[:, 0], kind="stable").astype(np.intp)
    ncls = _nms.similar_components(r, by_x, e, labels)
    counts = np.bincount(labels, minlength=ncls).astype(np.int64)
    sums = np.zeros((ncls, 4), dtype=np.int64)
    np.add.at(sums, labels, r)
    # OpenCV: s = 1.f / n; cvRound((float)sum * s).
    inv = (np.float32(1) / counts.astype(np.float32))[:, None]
    avg = np.rint(sums.astype(np.float32) * inv).astype(np.int64)
    keep = np.empty(ncls, dtype=np.uint8)
    _nms.nested_filter(np.ascontiguousarray(avg), counts, threshold, e, keep)
    sel = keep.astype(bool)
    means = np.bincount(labels, weights=sc, minlength=ncls) / counts
    return avg[sel].astype(np.int32), counts[sel], means[sel]
