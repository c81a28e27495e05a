"""The :class:`Cascade` model: validation, the OpenCV-exact evaluation engine and its files.

Private module shared by :mod:`cvcore.cascade` (the public face) and
:mod:`cvcore._cascade_training` (which builds cascades), so that neither
imports the other. See :mod:`cvcore.cascade` for the behaviour.
"""
from __future__ import annotations

import concurrent.futures
import math
import os
import re
import threading
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import cv2
import numpy as np

from . import _validate
from ._ext import _cascade, _lbp
from ._filtering import threads_for
from ._threads import get_num_threads, kernel_threads
from ._haar_core import engine_factors, feature_rects, flat_windows, read_only, scale_pyramid
from ._haar_core import stack_factors, stack_tables
from .boxes import group_rectangles
from ._validate import modelfile

FORMAT_NAME = "cvcore-cascade"
#: Haar cascades are written as version 1 (readable by every cvcore); LBP cascades
#: need version 2, which adds ``feature_type``.
FORMAT_VERSION = 1
LBP_FORMAT_VERSION = 2
#: What ``score=`` of :meth:`Cascade.detect` accepts.
SCORES = ("neighbors", "confidence")
#: Name of the same layout before issue 9 (read, never written).
_LEGACY_FORMAT = "cvcore-haar-cascade"
_THRESHOLD_EPS = np.float32(1e-5)   # OpenCV subtracts this from every stage threshold on load
GROUP_EPS = 0.2

#: Caps checked before anything is allocated for a cascade (OpenCV's cascades have
#: at most ~50 stages, a few thousand features and trees of a few nodes).
MAX_STAGES = 1000
MAX_FEATURES = 100_000
MAX_WEAK = 100_000          # weak classifiers (trees) over all stages
MAX_TREE_NODES = 256
MAX_FILE_BYTES = 64 << 20
#: Largest image (pixels) ``detect`` scans: table offsets are int32.
MAX_DETECT_PIXELS = 1 << 28
#: Windows per kernel call: bounded memory, and Ctrl-C is seen between calls.
_CLASSIFY_CHUNK = 2048
_SCAN_CHUNK = 1 << 17       # window positions per scan call: a band stays well under a second even for
                            # windows that pass most stages
_WINDOW_WORK = 64           # rough cost of a window (early rejection) for threads_for


class Cascade:
    """A boosted cascade over Haar features (stumps or small trees) or LBP features (:meth:`lbp`).

    Parameters
    ----------
    window : (int, int)
        ``(width, height)`` of the detection window, each in ``[3, 256]``.
    rects : (F, 3, 4) array_like of int
        Up to three ``(x, y, w, h)`` rectangles per feature, inside the window
        (tilted rectangles as OpenCV defines them).
    rect_weights : (F, 3) array_like of float
        Rectangle weights; the first two non-zero, 0 for an unused third one.
    tilted : (F,) array_like of bool
        45-degree features (OpenCV's tilted integral image).
    stages : sequence of mappings
        Each ``{"threshold": float, "trees": [{"nodes": [[feature, threshold,
        left, right], ...], "leaves": [...]}, ...]}``. A child index ``> 0`` is a
        node of the same tree (after its parent), ``<= 0`` is leaf ``-child``
        (OpenCV's encoding); a node goes left when its normalised feature value
        is ``< threshold``. A tree of ``k`` nodes has ``k + 1`` leaves.
    training_log : sequence of mappings, optional
        Per-stage statistics, as :func:`cvcore.cascade.train_cascade` records them.

    Attributes
    ----------
    window, rects, rect_weights, tilted, stages, training_log
        The validated arguments; arrays are read-only and ``stages`` is a tuple
        of read-only mappings (``nodes`` a ``(k, 4)`` float64 array, ``leaves``
        ``(k + 1,)``), so a cascade cannot be changed after construction.

    Examples
    --------
    >>> rects = [[[0, 0, 24, 12], [0, 12, 24, 12], [0, 0, 0, 0]]]   # top half vs bottom half
    >>> stages = [{"threshold": 0.5,
    ...            "trees": [{"nodes": [[0, 0.0, 0, -1]], "leaves": [0.0, 1.0]}]}]
    >>> c = Cascade((24, 24), rects, [[-1.0, 1.0, 0.0]], [False], stages)
    >>> c.n_stages, c.n_features
    (1, 1)
    """

    __slots__ = ("_kind", "_window", "_rects", "_rect_weights", "_tilted", "_stages", "_training_log", "_engine")

    def __init__(self, window, rects, rect_weights, tilted, stages, *, training_log=None):
        self._kind = "haar"
        self._window = _validate.window_size(window, "window", low=3, high=256)
        self._rects, self._rect_weights, self._tilted = feature_rects(
            rects, rect_weights, tilted, self._window, names=("rects", "rect_weights", "tilted"))
        nf = self._rects.shape[0]
        if not 1 <= nf <= MAX_FEATURES:
            raise ValueError(f"rects must describe 1 to {MAX_FEATURES} features, got {nf}")
        self._stages = _check_stages(stages, nf, _check_tree)
        self._training_log = _check_log(training_log)
        self._engine = self._build_engine()

    @classmethod
    def lbp(cls, window, blocks, stages, *, training_log=None):
        """A cascade over multi-block LBP features (OpenCV's ``featureType LBP``).

        Parameters
        ----------
        window : (int, int)
            ``(width, height)`` of the detection window, each in ``[3, 256]``.
        blocks : (F, 4) array_like of int
            ``(x, y, w, h)`` per feature: a 3x3 grid of ``w x h`` cells whose
            top-left corner is ``(x, y)``; the grid must lie inside the window.
            The feature's value is an 8-bit code: one bit per outer cell,
            clockwise from the top-left one (bit 7) to the middle-left one
            (bit 0), set when that cell's pixel sum is >= the centre cell's.
        stages : sequence of mappings
            Each ``{"threshold": float, "trees": [{"feature": int, "subset":
            [8 int32 words], "leaves": [a, b]}, ...]}``: a stump gives ``a``
            when bit ``code`` of its 256-bit subset (word ``code >> 5``, bit
            ``code & 31``) is set and ``b`` otherwise; a stage passes when the
            sum is >= its threshold (minus OpenCV's 1e-5).
        training_log : sequence of mappings, optional

        Examples
        --------
        >>> stages = [{"threshold": 0.0,
        ...            "trees": [{"feature": 0, "subset": [0] * 7 + [-1 << 31], "leaves": [1.0, -1.0]}]}]
        >>> c = Cascade.lbp((24, 24), [[0, 0, 8, 8]], stages)
        >>> c.feature_type, c.n_features
        ('lbp', 1)
        >>> c.classify_windows(np.zeros((1, 24, 24), np.uint8)).tolist()   # code 255: bit 255 is set
        [1]
        """
        self = cls.__new__(cls)
        self._kind = "lbp"
        self._window = _validate.window_size(window, "window", low=3, high=256)
        self._rects = lbp_blocks(blocks, self._window)
        self._rect_weights = self._tilted = None
        self._stages = _check_stages(stages, self._rects.shape[0], _check_lbp_tree)
        self._training_log = _check_log(training_log)
        self._engine = self._build_engine()
        return self

    window = property(lambda self: self._window, doc="``(width, height)`` of the detection window.")
    feature_type = property(lambda self: self._kind, doc="``'haar'`` or ``'lbp'``.")
    rects = property(lambda self: self._rects,
                     doc="(F, 3, 4) int32 Haar feature rectangles, or (F, 4) LBP blocks (read-only).")
    rect_weights = property(lambda self: self._rect_weights,
                            doc="(F, 3) float32 rectangle weights (read-only); None for LBP.")
    tilted = property(lambda self: self._tilted, doc="(F,) bool: 45-degree features (read-only); None for LBP.")
    stages = property(lambda self: self._stages, doc="Tuple of read-only stage mappings.")
    training_log = property(lambda self: [dict(r) for r in self._training_log],
                            doc="Per-stage training statistics (a list of dicts; empty when not trained here).")

    @property
    def n_stages(self):
        """Number of stages."""
        return len(self._stages)

    @property
    def n_features(self):
        """Number of features referenced by the cascade."""
        return self._rects.shape[0]

    def stage_sizes(self):
        """Number of weak classifiers (trees) in each stage."""
        return [len(s["trees"]) for s in self._stages]

    def __repr__(self):
        return (f"Cascade(window={self._window}, features={self.n_features} {self._kind.upper()}, "
                f"stages={self.n_stages}, weak_classifiers={sum(self.stage_sizes())})")

    def __reduce__(self):
        if self._kind == "lbp":
            return (_from_lbp_parts, (self._window, self._rects, self.to_dict()["stages"], self.training_log))
        return (_from_parts, (self._window, self._rects, self._rect_weights, self._tilted,
                              self.to_dict()["stages"], self.training_log))

    # -- engine ----------------------------------------------------------------
    def _build_engine(self):
        if self._kind == "lbp":
            trees = [t for st in self._stages for t in st["trees"]]
            leaves = np.array([t["leaves"] for t in trees], np.float32)
            rest_hi, rest_lo, rej, acc = self._stage_bounds(leaves.max(axis=1), leaves.min(axis=1))
            return _lbp.LBPEngine(
                np.ascontiguousarray(self._rects, dtype=np.int32),
                np.array([t["feature"] for t in trees], np.int32),
                np.ascontiguousarray(np.stack([t["subset"] for t in trees]), dtype=np.int32),
                leaves, rest_hi, rest_lo, np.array(self.stage_sizes(), np.int32), self._stage_thresholds(),
                rej, acc, self._window[0], self._window[1])
        nodes, leaves, tree_node0, tree_leaf0, stage_tree0, stage_ntrees, stage_thr = [], [], [], [], [], [], []
        n_nodes = n_leaves = n_trees = 0
        for st in self._stages:
            stage_tree0.append(n_trees)
            stage_ntrees.append(len(st["trees"]))
            for tree in st["trees"]:
                tree_node0.append(n_nodes)
                tree_leaf0.append(n_leaves)
                nodes.append(tree["nodes"])
                leaves.append(tree["leaves"])
                n_nodes += tree["nodes"].shape[0]
                n_leaves += tree["leaves"].shape[0]
                n_trees += 1
        nodes = np.concatenate(nodes)
        i32 = lambda a: np.ascontiguousarray(a, dtype=np.int32)  # noqa: E731
        f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
        tree_leaves = [lv.astype(np.float32) for lv in leaves]
        rest_hi, rest_lo, rej, acc = self._stage_bounds([lv.max() for lv in tree_leaves],
                                                        [lv.min() for lv in tree_leaves])
        return _cascade.Engine(
            i32(self._rects.reshape(-1, 12)), f32(self._rect_weights), i32(self._tilted).astype(np.uint8),
            i32(nodes[:, 0]), f32(nodes[:, 1]), i32(nodes[:, 2]), i32(nodes[:, 3]),
            i32(tree_node0), i32(tree_leaf0), f32(np.concatenate(leaves)), rest_hi, rest_lo,
            i32(stage_tree0), i32(stage_ntrees), self._stage_thresholds(), rej, acc,
            self._window[0], self._window[1])

    def _stage_bounds(self, tree_max, tree_min):
        """What the kernels need to end a stage early, exactly: per tree (in evaluation order) the
        largest and smallest total its stage's later trees can add (``rest_hi``, ``rest_lo``), and
        per stage the threshold minus and plus a margin (``rej``, ``acc``; ``acc`` is +inf for the
        last stage, whose full sum is the window's score).

        A stage whose running sum plus ``rest_hi`` is below ``rej`` fails whatever the later trees
        say, one whose sum plus ``rest_lo`` reaches ``acc`` passes. The margin (1e-9 of the stage's
        total absolute leaf value, plus 1e-9) is millions of times the rounding of a double sum
        of float32 leaves, so the decision is the full sum's.
        """
        tree_max = np.asarray(tree_max, np.float64)
        tree_min = np.asarray(tree_min, np.float64)
        rest_hi, rest_lo = np.empty_like(tree_max), np.empty_like(tree_min)
        thr = self._stage_thresholds().astype(np.float64)
        margin = np.empty_like(thr)
        start = 0
        for si, n in enumerate(self.stage_sizes()):
            hi, lo = tree_max[start:start + n], tree_min[start:start + n]
            # suffix sums of the trees after each one
            rest_hi[start:start + n] = np.concatenate([np.cumsum(hi[::-1])[::-1][1:], [0.0]])
            rest_lo[start:start + n] = np.concatenate([np.cumsum(lo[::-1])[::-1][1:], [0.0]])
            margin[si] = 1e-9 * (1.0 + np.abs(hi).sum() + np.abs(lo).sum() + abs(thr[si]))
            start += n
        rej, acc = thr - margin, thr + margin
        acc[-1] = np.inf
        return rest_hi, rest_lo, rej, acc

    def _stage_thresholds(self):
        """float32 stage thresholds as OpenCV uses them (the file's value minus 1e-5)."""
        return np.array([np.float32(st["threshold"]) - _THRESHOLD_EPS for st in self._stages], np.float32)

    def _classify(self, windows):
        """:meth:`classify_windows` on a validated C-contiguous uint8 ``(N, H, W)`` stack."""
        out = np.empty(windows.shape[0], np.int32)
        tilt = self._kind == "haar" and bool(self._tilted.any())
        for start in range(0, windows.shape[0], _CLASSIFY_CHUNK):
            chunk = windows[start:start + _CLASSIFY_CHUNK]
            if self._kind == "lbp":   # no normalisation: the sum table alone
                self._engine.classify(stack_tables(chunk, squared=False, wrap=True)[0][0],
                                      out[start:start + chunk.shape[0]])
                continue
            tables, row_step = stack_tables(chunk, tilted=tilt, wrap=True)   # one tall table, row_step = H
            factors = engine_factors(stack_factors(chunk, tables, row_step), self._window)
            self._engine.classify(tables, factors, out[start:start + chunk.shape[0]])
        return out

    def classify_windows(self, windows):
        """Run the cascade on a stack of windows of exactly the cascade's size.

        Parameters
        ----------
        windows : (N, H, W) uint8 array_like

        Returns
        -------
        (N,) int32 ndarray
            OpenCV's ``runAt`` code: 1 accepted, ``-s`` rejected by stage ``s``
            (0 for the first stage), -1 for flat windows (rejected before stage 0;
            Haar cascades only: LBP codes need no normalisation).

        Examples
        --------
        >>> from cvcore.cascade import default_face_cascade
        >>> c = default_face_cascade()
        >>> c.classify_windows(np.zeros((1, 24, 24), np.uint8)).tolist()
        [-1]
        """
        arr = _validate.array(windows, "windows", ndim=3, allow_bool=True, allow_empty=True)
        w, h = self._window
        if arr.shape[1:] != (h, w):
            raise ValueError(f"windows must have shape (N, {h}, {w}), got {arr.shape}")
        if arr.dtype != np.uint8:
            raise TypeError(f"windows must have dtype uint8, got {arr.dtype}")
        return self._classify(np.ascontiguousarray(arr))

    def _scan(self, image, step, skip_rejected, max_threads=None, stop=None):
        """Accepted top-left corners and last-stage sums of every window of one resized uint8 image.

        The image is scanned in bands of rows, each with its own integral tables
        (a window's sums only involve the pixels of its band), so memory stays
        bounded by the band and Ctrl-C is seen between bands. Inside a band the
        kernel shares the rows among OpenMP threads (at most ``max_threads``);
        the result does not depend on their number. A set ``stop`` event ends
        the scan at the next band (its result is then incomplete).
        """
        ww, wh = self._window
        H, W = image.shape
        lbp = self._kind == "lbp"
        tilt = not lbp and bool(self._tilted.any())
        ncol, nrow_total = W - ww + 1, H - wh + 1
        rows = max(step, max(4 * wh, _SCAN_CHUNK // ncol) // step * step)
        xys, sums = [np.zeros((0, 2), np.int32)], [np.zeros(0, np.float64)]
        for y0 in range(0, nrow_total, rows):
            if stop is not None and stop.is_set():
                break
            nrow = min(rows, nrow_total - y0)
            tables, _ = stack_tables(image[None, y0:y0 + nrow + wh - 1], squared=not lbp, tilted=tilt, wrap=True)
            n_rows = (nrow - 1) // step + 1
            cap = n_rows * ((ncol - 1) // step + 1)
            xy = np.empty((cap, 2), np.int32)
            sm = np.empty(cap, np.float64)
            threads = threads_for(n_rows, cap * _WINDOW_WORK)
            if max_threads is not None:
                threads = min(threads, max_threads)
            n = self._engine.scan(tables[0] if lbp else tables, nrow, step, skip_rejected, threads, xy, sm)
            xy[:n, 1] += y0
            xys.append(xy[:n])
            sums.append(sm[:n])
        return np.concatenate(xys), np.concatenate(sums)

    def _scan_level(self, grey, level, step, max_threads=None, stop=None):
        """Boxes (in ``grey``'s coordinates) and last-stage sums of the accepted windows of one pyramid level."""
        H, W = grey.shape
        ww, wh = self._window
        sc, (sw, sh) = level
        resized = grey if (sw, sh) == (W, H) else cv2.resize(grey, (sw, sh), interpolation=cv2.INTER_LINEAR_EXACT)
        ystep = step if step is not None else (1 if sc >= 2 else 2)
        xy, sums = self._scan(np.ascontiguousarray(resized), ystep, step is None, max_threads, stop)
        b = np.empty((xy.shape[0], 4), np.int32)
        b[:, :2] = np.rint(xy.astype(np.float32) * sc)
        b[:, 2], b[:, 3] = int(np.rint(np.float32(ww) * sc)), int(np.rint(np.float32(wh) * sc))
        # rounding can push a large window 1-2 px past the image: clipped, as OpenCV 5 does
        np.minimum(b[:, 2], W - b[:, 0], out=b[:, 2])
        np.minimum(b[:, 3], H - b[:, 1], out=b[:, 3])
        return b, sums

    def _detect_raw(self, grey, scale_factor, min_size, max_size, step):
        """:meth:`detect_raw` on validated arguments.

        Levels holding at least a thread's share of all window positions run one after
        another, each on every thread; the smaller ones (their resizing, tables and
        Python glue would otherwise run on one core between scans) run side by side on a
        pool of threads, one kernel thread each, largest first. Every level's result is
        the same either way, and they are concatenated in pyramid order. On an exception
        in this thread (Ctrl-C while waiting) the pool's levels stop at their next band.
        """
        levels = scale_pyramid(grey.shape[::-1], self._window, scale_factor, min_size, max_size)
        results = [None] * len(levels)
        threads = kernel_threads(get_num_threads())
        ww, wh = self._window
        sizes = [(sw - ww + 1) * (sh - wh + 1) for _, (sw, sh) in levels]
        shared = [i for i, n in enumerate(sizes) if threads == 1 or n * threads >= sum(sizes)]
        for i in shared:
            results[i] = self._scan_level(grey, levels[i], step)
        rest = sorted(set(range(len(levels))) - set(shared), key=lambda i: -sizes[i])
        if rest:
            stop = threading.Event()
            with concurrent.futures.ThreadPoolExecutor(min(threads, len(rest))) as pool:
                futures = {i: pool.submit(self._scan_level, grey, levels[i], step, 1, stop) for i in rest}
                try:
                    for i, future in futures.items():
                        results[i] = future.result()
                except BaseException:
                    stop.set()
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
        boxes = [np.zeros((0, 4), np.int32)] + [r[0] for r in results]
        sums = [np.zeros(0, np.float64)] + [r[1] for r in results]
        return np.concatenate(boxes), np.concatenate(sums)

    @staticmethod
    def _size_arg(value, name):
        if value is None:
            return None
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            value = (value, value)
        return _validate.window_size(value, name, low=0, high=1_000_000)

    def _detect_args(self, image, scale_factor, min_size, max_size):
        grey = _validate.grey_uint8(image, "image")
        if grey.size > MAX_DETECT_PIXELS:
            raise ValueError(f"image has {grey.size} pixels, more than the {MAX_DETECT_PIXELS} this detector scans")
        scale_factor = _validate.real(scale_factor, "scale_factor", low=1.0, low_inclusive=False, high=100.0)
        return grey, scale_factor, self._size_arg(min_size, "min_size"), self._size_arg(max_size, "max_size")

    def detect_raw(self, image, scale_factor=1.1, min_size=None, max_size=None, *, step=None):
        """Every accepted window before grouping: ``(boxes (N, 4) int32, margins (N,) float32)``.

        Same scan as :meth:`detect` (``step=None`` is OpenCV's 2-or-1 rule with
        the skip after a first-stage rejection; an explicit ``step`` scans every
        ``step`` pixels of each resized image without skipping). ``margins``
        is the last stage's sum minus its threshold.

        Examples
        --------
        >>> from cvcore.cascade import default_face_cascade
        >>> boxes, margins = default_face_cascade().detect_raw(np.zeros((30, 30), np.uint8))
        >>> boxes.shape, boxes.dtype
        ((0, 4), dtype('int32'))
        """
        args = self._detect_args(image, scale_factor, min_size, max_size)
        if step is not None:
            step = _validate.integer(step, "step", low=1, high=1000)
        boxes, sums = self._detect_raw(*args, step)
        return boxes, (sums - np.float64(self._stage_thresholds()[-1])).astype(np.float32)

    def detect(self, image, scale_factor=1.1, min_neighbors=3, min_size=None, max_size=None, *,
               score="neighbors", min_score=None):
        """Multi-scale sliding-window detection (OpenCV's ``detectMultiScale``).

        Parameters
        ----------
        image : (H, W) or (H, W, C) array_like
            Grey or colour image of any dtype, read through cvcore's input
            policy (uint8 as is, RGB to grey with BT.601 weights).
        scale_factor : float
            Ratio between successive scales, in ``(1, 100]``.
        min_neighbors : int
            A detection needs more than this many raw windows in its group
            (OpenCV's ``groupRectangles`` threshold); 0 returns the raw windows.
        min_size, max_size : int or (int, int), optional
            Smallest / largest ``(width, height)`` of a detection.
        score : {"neighbors", "confidence"}
            ``"neighbors"``: the number of raw windows merged into the
            detection (OpenCV's ``numDetections``; 1 per window when
            ``min_neighbors == 0``). ``"confidence"``: the cascade's own
            certainty, the sum of the last stage's leaf values (OpenCV's
            "level weight") averaged over the merged windows; higher means
            further past the last stage's threshold.
        min_score : float, optional
            Drop detections whose score is below this.

        Returns
        -------
        boxes : (N, 4) int32 ndarray
            ``(x, y, w, h)`` of each detection (cvcore's box convention), best
            score first (ties keep OpenCV's order).
        scores : (N,) float64 ndarray
            The score of each detection.

        Notes
        -----
        The neighbour count is a coarse integer that grows with the object's
        size (larger faces are found at more scales and positions); the
        confidence is continuous, so it also orders detections with equal
        counts and is the only useful score of raw windows
        (``min_neighbors=0``, where it equals OpenCV's ``levelWeights`` from
        ``detectMultiScale3``). For grouped detections OpenCV reports the
        largest level weight of a group; cvcore reports the mean. Neither
        ranks best everywhere: on dlib's annotated group photos (18 faces,
        3 neighbours, IoU 0.5) the confidence gave the higher average
        precision for cvcore's shipped Haar cascade (0.77 against 0.75) and
        OpenCV's Haar cascade (0.72 against 0.71), the neighbour count for
        OpenCV's LBP cascade (0.53 against 0.49). Measure on your own data
        with :func:`cvcore.evaluation.evaluate_detector`.

        Detection runs on :func:`cvcore.get_num_threads` threads: the largest
        scales share their rows of windows among OpenMP threads, the smaller
        ones run side by side, one thread each; boxes and scores are the same
        for any number. Several Python threads may call it on one cascade at once.
        A long call stops soon after Ctrl-C (the scan is cut into bands of
        at most ~130,000 window positions).

        Examples
        --------
        >>> from cvcore.cascade import default_face_cascade
        >>> boxes, scores = default_face_cascade().detect(np.zeros((48, 48), np.uint8))
        >>> boxes.shape, boxes.dtype, scores.shape
        ((0, 4), dtype('int32'), (0,))
        >>> boxes, scores = default_face_cascade().detect(np.zeros((48, 48), np.uint8), score="confidence",
        ...                                              min_score=0.5)
        """
        args = self._detect_args(image, scale_factor, min_size, max_size)
        min_neighbors = _validate.integer(min_neighbors, "min_neighbors", low=0, high=1_000_000)
        score = _validate.choice(score, "score", SCORES)
        if min_score is not None:
            min_score = _validate.real(min_score, "min_score")
        boxes, sums = self._detect_raw(*args, None)
        if min_neighbors == 0 or boxes.shape[0] == 0:
            scores = sums if score == "confidence" else np.ones(boxes.shape[0])
        else:
            boxes, counts, means = group_rectangles(boxes, min_neighbors=min_neighbors, eps=GROUP_EPS, scores=sums)
            scores = means if score == "confidence" else counts.astype(np.float64)
        keep = np.argsort(-scores, kind="stable")
        if min_score is not None:
            keep = keep[scores[keep] >= min_score]
        return np.ascontiguousarray(boxes[keep], dtype=np.int32), np.asarray(scores[keep], dtype=np.float64)

    # -- file formats ------------------------------------------------------------
    def to_dict(self):
        """JSON-ready dictionary (the on-disk format of :meth:`save`).

        Examples
        --------
        >>> from cvcore.cascade import default_face_cascade
        >>> d = default_face_cascade().to_dict()
        >>> d["format"], d["version"], d["window"]
        ('cvcore-cascade', 1, [24, 24])
        """
        if self._kind == "lbp":
            return {
                "format": FORMAT_NAME, "version": LBP_FORMAT_VERSION, "feature_type": "lbp",
                "window": list(self._window),
                "features": self._rects.tolist(),
                "stages": [{"threshold": float(st["threshold"]),
                            "trees": [{"feature": t["feature"], "subset": t["subset"].tolist(),
                                       "leaves": [float(v) for v in t["leaves"]]} for t in st["trees"]]}
                           for st in self._stages],
            }
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "window": list(self._window),
            "features": [
                {"rects": [[int(v) for v in r] + [float(wt)] for r, wt in zip(rs, ws) if wt != 0],
                 "tilted": bool(t)}
                for rs, ws, t in zip(self._rects, self._rect_weights, self._tilted)
            ],
            "stages": [
                {"threshold": float(st["threshold"]),
                 "trees": [{"nodes": [[int(n[0]), float(n[1]), int(n[2]), int(n[3])] for n in tree["nodes"]],
                            "leaves": [float(v) for v in tree["leaves"]]} for tree in st["trees"]]}
                for st in self._stages
            ],
        }

    @classmethod
    def from_dict(cls, data, *, where="data"):
        """Inverse of :meth:`to_dict`, with strict types (no ``bool("false")``, no float-to-int).

        ``where`` prefixes error messages (a file name). Raises ``ValueError``
        naming the field for anything malformed.

        Examples
        --------
        >>> from cvcore.cascade import default_face_cascade
        >>> c = default_face_cascade()
        >>> Cascade.from_dict(c.to_dict()).to_dict() == c.to_dict()
        True
        >>> Cascade.from_dict({"format": "cvcore-cascade", "version": 1, "window": [24, "24"]})
        Traceback (most recent call last):
            ...
        ValueError: data: window must hold numbers only, found '24'
        """
        fields = modelfile.Fields(data, where)
        fmt = fields.raw("format", None)
        version = modelfile.check_header(fields, kind=_LEGACY_FORMAT if fmt == _LEGACY_FORMAT else FORMAT_NAME,
                                         versions=(FORMAT_VERSION, LBP_FORMAT_VERSION))
        kind = fields.str("feature_type", choices=("haar", "lbp"), default="haar") if version > 1 else "haar"
        window = tuple(int(v) for v in modelfile.strict_array(fields.raw("window"), f"{where}: window",
                                                              dtype=np.int64, shape=(2,)))
        if kind == "lbp":
            return cls._lbp_from_fields(fields, window, where)
        feats = fields.items("features", max_len=MAX_FEATURES, min_len=1)
        rects = np.zeros((len(feats), 3, 4), np.int64)
        weights = np.zeros((len(feats), 3), np.float64)
        tilted = np.zeros(len(feats), bool)
        for i, f in enumerate(feats):
            rs = f.list("rects", min_len=2, max_len=3)
            for k, r in enumerate(rs):
                name = f"{f.where}: rects[{k}]"
                if not isinstance(r, list) or len(r) != 5:
                    raise ValueError(f"{name} must be [x, y, w, h, weight]")
                rects[i, k] = modelfile.strict_array(r[:4], name, dtype=np.int32, shape=(4,))
                weights[i, k] = modelfile.strict_array(r[4:], name, dtype=np.float32, shape=(1,))[0]
            tilted[i] = f.bool("tilted", default=False)
        stages = []
        for s in fields.items("stages", max_len=MAX_STAGES, min_len=1):
            trees = []
            for t in s.items("trees", max_len=MAX_WEAK, min_len=1):
                nodes = t.list("nodes", min_len=1, max_len=MAX_TREE_NODES)
                for k, node in enumerate(nodes):
                    if (not isinstance(node, list) or len(node) != 4
                            or any(isinstance(v, bool) or not isinstance(v, int) for v in (node[0], node[2], node[3]))
                            or isinstance(node[1], bool) or not isinstance(node[1], (int, float))):
                        raise ValueError(f"{t.where}: nodes[{k}] must be [feature (int), threshold (number), "
                                         "left (int), right (int)]")
                trees.append({"nodes": nodes, "leaves": t.array("leaves", dtype=np.float64, shape=(None,),
                                                                  max_size=MAX_TREE_NODES + 1)})
            stages.append({"threshold": s.float("threshold"), "trees": trees})
        try:
            return cls(window, rects, weights, tilted, stages)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: {exc}") from None

    @classmethod
    def _lbp_from_fields(cls, fields, window, where):
        blocks = fields.array("features", dtype=np.int32, shape=(None, 4), max_size=4 * MAX_FEATURES)
        stages = []
        for s in fields.items("stages", max_len=MAX_STAGES, min_len=1):
            trees = [{"feature": t.int("feature", low=0, high=MAX_FEATURES),
                      "subset": t.array("subset", dtype=np.int32, shape=(8,)),
                      "leaves": t.array("leaves", dtype=np.float32, shape=(2,))}
                     for t in s.items("trees", max_len=MAX_WEAK, min_len=1)]
            stages.append({"threshold": s.float("threshold"), "trees": trees})
        try:
            return cls.lbp(window, blocks, stages)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: {exc}") from None

    def save(self, path):
        """Write the cascade as versioned JSON (format ``cvcore-cascade``), atomically.

        Examples
        --------
        >>> import tempfile, os
        >>> from cvcore.cascade import default_face_cascade
        >>> path = os.path.join(tempfile.mkdtemp(), "face.json")
        >>> c = default_face_cascade(); c.save(path)
        >>> Cascade.load(path).to_dict() == c.to_dict()
        True
        """
        payload = self.to_dict()
        del payload["format"]
        modelfile.write_json(path, payload, kind=FORMAT_NAME, version=payload.pop("version"), compact=True)

    @classmethod
    def load(cls, path):
        """Read a cascade written by :meth:`save` (JSON); OpenCV XML is recognised and read too.

        Raises
        ------
        FileNotFoundError, IsADirectoryError, OSError
            When ``path`` cannot be read as a file.
        ValueError
            For a corrupt, truncated, oversized or foreign file (the message
            names the file and the field).

        Examples
        --------
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "junk.json")
        >>> with open(path, "w") as fh:
        ...     _ = fh.write('{"format": "cvcore-cascade", "version": 7}')
        >>> Cascade.load(path)
        Traceback (most recent call last):
            ...
        ValueError: .../junk.json: cvcore-cascade version 7 is not supported by this cvcore (reads versions 1, 2)
        """
        data = modelfile.read_bytes(path, max_bytes=MAX_FILE_BYTES)
        where = os.fspath(path)
        if data.lstrip()[:1] == b"<":
            return cls._from_xml_root(modelfile.parse_xml_bytes(data, where), where)
        return cls.from_dict(modelfile.loads_json(data, where), where=where)

    @classmethod
    def from_opencv_xml(cls, path):
        """Read an OpenCV cascade XML (``opencv-cascade-classifier`` format), Haar or LBP.

        Haar: stumps and trees, upright and tilted features. LBP: multi-block
        LBP features with stumps over 256-category subsets (what
        ``opencv_traincascade`` writes; see :meth:`lbp`). HOG cascades and the
        pre-2.0 ``opencv-haar-classifier`` layout are rejected with a clear
        error. The XML is parsed with ``defusedxml`` (no entity expansion),
        numbers strictly, and counts are capped.

        Examples
        --------
        >>> import os, tempfile
        >>> from cvcore.cascade import default_face_cascade
        >>> path = os.path.join(tempfile.mkdtemp(), "face.xml")
        >>> default_face_cascade().to_opencv_xml(path)
        >>> Cascade.from_opencv_xml(path).n_stages == default_face_cascade().n_stages
        True
        """
        return cls._from_xml_root(modelfile.parse_xml(path, max_bytes=MAX_FILE_BYTES), os.fspath(path))

    @classmethod
    def _from_xml_root(cls, root, path):
        kind, args = _parse_opencv_xml(root, path)
        try:
            return cls.lbp(*args) if kind == "lbp" else cls(*args)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}: {exc}") from None

    def to_opencv_xml(self, path):
        """Write the cascade in OpenCV's XML format (readable by ``cv2.CascadeClassifier``).

        ``path`` must end in ``.xml`` and its folder must exist (checked first).

        Examples
        --------
        >>> import cv2, os, tempfile
        >>> from cvcore.cascade import default_face_cascade
        >>> path = os.path.join(tempfile.mkdtemp(), "face.xml")
        >>> default_face_cascade().to_opencv_xml(path)
        >>> cv2.CascadeClassifier(path).empty()
        False
        """
        path = modelfile.writable_file(path, "path", suffixes=(".xml",))
        lbp = self._kind == "lbp"
        lines = ['<?xml version="1.0"?>', "<opencv_storage>",
                 '<cascade type_id="opencv-cascade-classifier">',
                 "  <stageType>BOOST</stageType>", f"  <featureType>{self._kind.upper()}</featureType>",
                 f"  <height>{self._window[1]}</height>", f"  <width>{self._window[0]}</width>",
                 "  <stageParams>", f"    <maxWeakCount>{max(self.stage_sizes())}</maxWeakCount></stageParams>",
                 "  <featureParams>", f"    <maxCatCount>{256 if lbp else 0}</maxCatCount>",
                 "    <featSize>1</featSize></featureParams>",
                 f"  <stageNum>{self.n_stages}</stageNum>", "  <stages>"]
        for st in self._stages:
            lines += ["    <_>", f"      <maxWeakCount>{len(st['trees'])}</maxWeakCount>",
                      f"      <stageThreshold>{st['threshold']:.17g}</stageThreshold>", "      <weakClassifiers>"]
            for tree in st["trees"]:
                if lbp:   # a stump: children 0 (leaf 0) and -1 (leaf 1), then the subset words
                    nodes = f"0 -1 {tree['feature']} " + " ".join(str(int(v)) for v in tree["subset"])
                else:
                    nodes = " ".join(f"{int(n[2])} {int(n[3])} {int(n[0])} {n[1]:.17g}" for n in tree["nodes"])
                leaves = " ".join(f"{v:.17g}" for v in tree["leaves"])
                lines += ["        <_>", f"          <internalNodes>{nodes}</internalNodes>",
                          f"          <leafValues>{leaves}</leafValues></_>"]
            lines += ["      </weakClassifiers></_>"]
        lines += ["  </stages>", "  <features>"]
        if lbp:
            lines += [f"    <_><rect>{x} {y} {w} {h}</rect></_>" for x, y, w, h in self._rects.tolist()]
        else:
            for rs, ws, t in zip(self._rects, self._rect_weights, self._tilted):
                rl = "".join(f"<_>{r[0]} {r[1]} {r[2]} {r[3]} {w:.9g}</_>" for r, w in zip(rs, ws) if w != 0)
                lines.append(f"    <_><rects>{rl}</rects><tilted>{int(t)}</tilted></_>")
        lines += ["  </features></cascade>", "</opencv_storage>", ""]
        modelfile.write_text(path, "\n".join(lines))


def _from_parts(window, rects, rect_weights, tilted, stages, training_log):
    return Cascade(window, rects, rect_weights, tilted, stages, training_log=training_log)


def _from_lbp_parts(window, blocks, stages, training_log):
    return Cascade.lbp(window, blocks, stages, training_log=training_log)


def lbp_blocks(blocks, window):
    """Validated read-only ``(F, 4)`` int32 LBP blocks: each 3x3 grid of cells inside ``window``."""
    b = _validate.array(blocks, "blocks", ndim=2)
    if b.shape[1] != 4 or not 1 <= b.shape[0] <= MAX_FEATURES:
        raise ValueError(f"blocks must have shape (F, 4) with 1 <= F <= {MAX_FEATURES}, got {b.shape}")
    b = _validate.int_boxes(b, "blocks", limit=1 << 20)
    x, y, w, h = (b[:, k].astype(np.int64) for k in range(4))
    bad = (x < 0) | (y < 0) | (w < 1) | (h < 1) | (x + 3 * w > window[0]) | (y + 3 * h > window[1])
    if np.any(bad):
        f = int(np.flatnonzero(bad)[0])
        raise ValueError(f"blocks: feature {f} {b[f].tolist()} (3x3 cells of w x h at x, y) lies outside the "
                         f"{window[0]}x{window[1]} window")
    return read_only(np.ascontiguousarray(b, dtype=np.int32))


def _check_stages(stages, nf, check_tree):
    """Validated, read-only stages (counts capped before anything is converted); trees by ``check_tree``."""
    if isinstance(stages, (str, bytes, Mapping)) or not isinstance(stages, Sequence):
        raise TypeError(f"stages must be a list of stage mappings, got {type(stages).__name__}")
    if not 1 <= len(stages) <= MAX_STAGES:
        raise ValueError(f"stages must hold 1 to {MAX_STAGES} stages, got {len(stages)}")
    out, total = [], 0
    for si, st in enumerate(stages):
        where = f"stages[{si}]"
        if not isinstance(st, Mapping) or "threshold" not in st or "trees" not in st:
            raise ValueError(f"{where} must be a mapping with 'threshold' and 'trees'")
        thr = _validate.real(st["threshold"], f"{where} threshold")
        trees = st["trees"]
        if isinstance(trees, (str, bytes, Mapping)) or not isinstance(trees, Sequence) or not trees:
            raise ValueError(f"{where} trees must be a non-empty list")
        total += len(trees)
        if total > MAX_WEAK:
            raise ValueError(f"stages hold more than {MAX_WEAK} weak classifiers")
        out.append(MappingProxyType({"threshold": _float32_ok(thr, f"{where} threshold"),
                                     "trees": tuple(check_tree(t, f"{where} tree {ti}", nf)
                                                    for ti, t in enumerate(trees))}))
    return tuple(out)


def _float32_ok(value, name):
    with np.errstate(over="ignore"):
        if not np.isfinite(np.float32(value)):
            raise ValueError(f"{name} must be finite in float32, got {value}")
    return value


def _check_tree(tree, where, nf):
    if not isinstance(tree, Mapping) or "nodes" not in tree or "leaves" not in tree:
        raise ValueError(f"{where} must be a mapping with 'nodes' and 'leaves'")
    nodes = _validate.array(tree["nodes"], f"{where} nodes", ndim=(1, 2))
    if nodes.shape[-1] != 4 or (nodes.ndim == 1 and nodes.size != 4) or nodes.size // 4 > MAX_TREE_NODES:
        raise ValueError(f"{where} nodes must be 1 to {MAX_TREE_NODES} rows of [feature, threshold, left, right], "
                         f"got shape {nodes.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        nodes = np.array(nodes, dtype=np.float64).reshape(-1, 4)
        leaves = np.array(_validate.array(tree["leaves"], f"{where} leaves", ndim=1), dtype=np.float64)
    k = nodes.shape[0]
    if leaves.shape[0] != k + 1:
        raise ValueError(f"{where}: a tree of {k} nodes needs {k + 1} leaves, got {leaves.shape[0]}")
    with np.errstate(over="ignore", invalid="ignore"):
        if not (np.all(np.isfinite(nodes.astype(np.float32))) and np.all(np.isfinite(leaves.astype(np.float32)))):
            raise ValueError(f"{where}: thresholds and leaves must be finite (in float32)")
    feat, left, right = nodes[:, 0], nodes[:, 2], nodes[:, 3]
    for col, name in ((feat, "feature"), (left, "left"), (right, "right")):
        if np.any(col != np.round(col)):
            raise ValueError(f"{where}: {name} indices must be integers")
    if np.any((feat < 0) | (feat >= nf)):
        raise ValueError(f"{where}: feature index out of range [0, {nf})")
    if k == 1 and (left[0], right[0]) != (0, -1):
        # OpenCV evaluates a cascade of stumps as leaves[0] if below else leaves[1], whatever the children say
        raise ValueError(f"{where}: a single-node tree (stump) must have children [0, -1] (leaf 0 left, leaf 1 right)")
    idx = np.arange(k)
    for child in (left, right):   # a node child must come after its parent: no cycles
        if np.any((child >= k) | (child < -k) | ((child > 0) & (child <= idx))):
            raise ValueError(f"{where}: child indices must be leaves (-{k}..0) or later nodes (< {k})")
    return MappingProxyType({"nodes": read_only(nodes), "leaves": read_only(leaves)})


def _check_lbp_tree(tree, where, nf):
    """A validated LBP stump: ``{"feature": int, "subset": (8,) int32, "leaves": (2,) float64}``."""
    if not isinstance(tree, Mapping) or not {"feature", "subset", "leaves"} <= set(tree):
        raise ValueError(f"{where} must be a mapping with 'feature', 'subset' and 'leaves'")
    feat = _validate.integer(tree["feature"], f"{where} feature", low=0, high=nf - 1)
    subset = _validate.array(tree["subset"], f"{where} subset", ndim=1, kinds="iu")
    if subset.shape != (8,) or np.any(subset < -(1 << 31)) or np.any(subset >= 1 << 31):
        raise ValueError(f"{where} subset must be 8 int32 words (256 bits), got {subset.shape[0]} values")
    leaves = _validate.array(tree["leaves"], f"{where} leaves", ndim=1)
    with np.errstate(over="ignore", invalid="ignore"):
        leaves = np.array(leaves, dtype=np.float64)
        if leaves.shape != (2,) or not np.all(np.isfinite(leaves.astype(np.float32))):
            raise ValueError(f"{where} leaves must be 2 numbers, finite in float32")
    return MappingProxyType({"feature": feat, "subset": read_only(subset.astype(np.int32)),
                             "leaves": read_only(leaves)})


def _check_log(log):
    if log is None:
        return ()
    if isinstance(log, (str, bytes, Mapping)) or not isinstance(log, Sequence):
        raise TypeError(f"training_log must be a list of mappings, got {type(log).__name__}")
    out = []
    for i, rec in enumerate(log):
        if not isinstance(rec, Mapping):
            raise TypeError(f"training_log[{i}] must be a mapping, got {type(rec).__name__}")
        out.append(MappingProxyType(dict(rec)))
    return tuple(out)


# -------------------------------------------------------------------- OpenCV XML

_INT = re.compile(r"[+-]?\d{1,9}")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?")


_INT32 = re.compile(r"[+-]?\d{1,10}")


def _xml_int(text, where):
    if not _INT.fullmatch(text):
        raise ValueError(f"{where} must be an integer, got {text[:30]!r}")
    return int(text)


def _xml_int32(text, where):
    if not _INT32.fullmatch(text) or not -(1 << 31) <= int(text) < 1 << 31:
        raise ValueError(f"{where} must be a 32-bit integer, got {text[:30]!r}")
    return int(text)


def _xml_float(text, where):
    if not _FLOAT.fullmatch(text):
        raise ValueError(f"{where} must be a number, got {text[:30]!r}")
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(f"{where} must be finite, got {text[:30]!r}")
    return v


def _parse_opencv_xml(root, path):
    """``("haar", (window, rects, weights, tilted, stages))`` or ``("lbp", (window, blocks, stages))``
    of an OpenCV cascade element tree."""
    node = root.find("cascade") if root.tag == "opencv_storage" else None
    if node is None:
        if root.tag == "opencv_storage" and len(root) and root[0].get("type_id") == "opencv-haar-classifier":
            raise ValueError(f"{path}: the old 'opencv-haar-classifier' layout is not supported; "
                             "convert it with OpenCV's CascadeClassifier.convert or use a current cascade")
        raise ValueError(f"{path} is not an OpenCV cascade (no <opencv_storage><cascade> element)")

    def text(parent, tag, where):
        el = parent.find(tag)
        if el is None or el.text is None:
            raise ValueError(f"{path}: missing <{tag}> in {where}")
        return el.text.strip()

    def items(parent, tag, where, cap):
        el = parent.find(tag)
        if el is None:
            raise ValueError(f"{path}: missing <{tag}> in {where}")
        found = el.findall("_")
        if not 1 <= len(found) <= cap:
            raise ValueError(f"{path}: <{tag}> in {where} must hold 1 to {cap} entries, got {len(found)}")
        return found

    stage_type, feature_type = text(node, "stageType", "cascade"), text(node, "featureType", "cascade")
    if stage_type != "BOOST" or feature_type not in ("HAAR", "LBP"):
        raise ValueError(f"{path}: only BOOST stages over HAAR or LBP features are supported "
                         f"(got {stage_type}/{feature_type})")
    lbp = feature_type == "LBP"
    window = (_xml_int(text(node, "width", "cascade"), f"{path}: <width>"),
              _xml_int(text(node, "height", "cascade"), f"{path}: <height>"))
    stage_els = items(node, "stages", "cascade", MAX_STAGES)
    if node.find("stageNum") is not None:
        declared = _xml_int(text(node, "stageNum", "cascade"), f"{path}: <stageNum>")
        if declared != len(stage_els):
            raise ValueError(f"{path}: <stageNum> says {declared} stages but <stages> holds {len(stage_els)}")
    stages, total = [], 0
    for si, st in enumerate(stage_els):
        where = f"{path}: stage {si}"
        thr = _xml_float(text(st, "stageThreshold", f"stage {si}"), f"{where} <stageThreshold>")
        weak = items(st, "weakClassifiers", f"stage {si}", MAX_WEAK)
        total += len(weak)
        if total > MAX_WEAK:
            raise ValueError(f"{path}: more than {MAX_WEAK} weak classifiers")
        trees = []
        for wi, wc in enumerate(weak):
            w_where = f"{where} classifier {wi}"
            nums = text(wc, "internalNodes", f"stage {si} classifier {wi}").split()
            leaf_text = text(wc, "leafValues", f"stage {si} classifier {wi}").split()
            if lbp:
                trees.append(_xml_lbp_stump(nums, leaf_text, w_where))
                continue
            if not nums or len(nums) % 4 or len(nums) > 4 * MAX_TREE_NODES or len(leaf_text) > MAX_TREE_NODES + 1:
                raise ValueError(f"{w_where}: internalNodes must be 1 to {MAX_TREE_NODES} groups of "
                                 "(left, right, feature, threshold)")
            nodes = [[_xml_int(nums[k + 2], f"{w_where} feature"), _xml_float(nums[k + 3], f"{w_where} threshold"),
                      _xml_int(nums[k], f"{w_where} left"), _xml_int(nums[k + 1], f"{w_where} right")]
                     for k in range(0, len(nums), 4)]
            trees.append({"nodes": nodes, "leaves": [_xml_float(v, f"{w_where} leafValues") for v in leaf_text]})
        stages.append({"threshold": thr, "trees": trees})
    feats = items(node, "features", "cascade", MAX_FEATURES)
    if lbp:
        blocks = np.zeros((len(feats), 4), np.int64)
        for fi, f in enumerate(feats):
            vals = text(f, "rect", f"feature {fi}").split()
            if len(vals) != 4:
                raise ValueError(f"{path}: feature {fi} <rect> must be 'x y w h'")
            blocks[fi] = [_xml_int(v, f"{path}: feature {fi} <rect>") for v in vals]
        return "lbp", (window, blocks, stages)
    rects = np.zeros((len(feats), 3, 4), np.int64)
    weights = np.zeros((len(feats), 3), np.float64)
    tilted = np.zeros(len(feats), bool)
    for fi, f in enumerate(feats):
        where = f"{path}: feature {fi}"
        for k, r in enumerate(items(f, "rects", f"feature {fi}", 3)):
            vals = (r.text or "").split()
            if len(vals) != 5:
                raise ValueError(f"{where} rectangle {k} must be 'x y w h weight'")
            coords = [_xml_float(v, f"{where} rectangle {k}") for v in vals[:4]]
            if any(c != round(c) or abs(c) > 1 << 20 for c in coords):
                raise ValueError(f"{where} rectangle {k}: x, y, w, h must be integers")
            rects[fi, k] = [int(c) for c in coords]
            weights[fi, k] = _xml_float(vals[4], f"{where} rectangle {k} weight")
        t = f.find("tilted")
        flag = "0" if t is None else (t.text or "").strip()
        if flag not in ("0", "1"):
            raise ValueError(f"{where}: <tilted> must be 0 or 1, got {flag[:20]!r}")
        tilted[fi] = flag == "1"
    return "haar", (window, rects, weights, tilted, stages)


def _xml_lbp_stump(nums, leaf_text, where):
    """An LBP weak classifier: internalNodes ``0 -1 feature s0 .. s7`` (a stump), two leaf values."""
    if len(nums) != 11 or len(leaf_text) != 2:
        raise ValueError(f"{where}: an LBP weak classifier must be a stump: internalNodes "
                         "'0 -1 feature' and 8 subset words, and 2 leafValues "
                         f"(got {len(nums)} and {len(leaf_text)} numbers)")
    if (_xml_int(nums[0], f"{where} left"), _xml_int(nums[1], f"{where} right")) != (0, -1):
        raise ValueError(f"{where}: an LBP stump's children must be 0 -1 (leaf 0 for codes in the subset)")
    return {"feature": _xml_int(nums[2], f"{where} feature"),
            "subset": [_xml_int32(v, f"{where} subset") for v in nums[3:]],
            "leaves": [_xml_float(v, f"{where} leafValues") for v in leaf_text]}


def flat_mask(windows):
    """OpenCV's flat-window test on a validated uint8 ``(n, H, W)`` stack (True: rejected before stage 0)."""
    n, h, w = windows.shape
    tables, row_step = stack_tables(windows)
    return flat_windows(stack_factors(windows, tables, row_step), (w, h))
