"""Attentional cascade of boosted Haar classifiers (Viola & Jones 2001/2004).

One evaluation engine (:mod:`cvcore._ext._cascade`) runs both OpenCV-format
cascades (:meth:`Cascade.from_opencv_xml`) and cascades trained here
(:func:`train_cascade`). It reproduces OpenCV's ``CascadeClassifier`` exactly:

* each window's variance normalisation factor ``1 / sqrt(A*sum(x^2) - sum(x)^2)``
  comes from the sum and squared-sum integral images over the window shrunk by
  one pixel on every side (``A`` its area); windows whose ``A`` times that
  factor is >= 0.1 (nearly flat windows) are rejected outright;
* a tree node goes left when ``rect_sum * factor < threshold``; a stage passes
  when the sum of its leaf values is >= its threshold (minus OpenCV's 1e-5);
* ``detect`` resizes the image (bilinear) for every scale ``1, f, f^2, ...``
  instead of scaling the features, scans windows with a step of 2 pixels below
  scale 2 and 1 pixel from scale 2 on, skips one extra position after a window
  rejected by the first stage, and merges the hits with OpenCV's rectangle
  grouping (``min_neighbors``, eps 0.2).

Each detection's score is its neighbour count: the number of raw windows that
were merged into it (OpenCV's ``numDetections``).
"""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import cv2
import numpy as np

from . import _validate
from ._ext import _cascade

__all__ = ["Cascade", "train_cascade", "default_face_cascade"]

FORMAT_NAME = "cvcore-haar-cascade"
FORMAT_VERSION = 1
_THRESHOLD_EPS = np.float32(1e-5)   # OpenCV subtracts this from every stage threshold on load
_GROUP_EPS = 0.2


class Cascade:
    """A boosted Haar cascade (stumps or small trees per weak classifier).

    Parameters
    ----------
    window : (int, int)
        ``(width, height)`` of the detection window.
    rects : (F, 3, 4) int array
        Up to three ``(x, y, w, h)`` rectangles per feature.
    rect_weights : (F, 3) float array
        Rectangle weights (0 for unused rectangles).
    tilted : (F,) bool array
        45-degree features (OpenCV's tilted integral image).
    stages : list of dict
        Each ``{"threshold": float, "trees": [{"nodes": [[feature, threshold,
        left, right], ...], "leaves": [...]}, ...]}``. A child index ``> 0`` is a
        node of the same tree, ``<= 0`` is leaf ``-child`` (OpenCV's encoding);
        a node goes left when its normalised feature value is ``< threshold``.

    Examples
    --------
    >>> rects = [[[0, 0, 24, 12], [0, 12, 24, 12], [0, 0, 0, 0]]]   # top half vs bottom half
    >>> stages = [{"threshold": 0.5,
    ...            "trees": [{"nodes": [[0, 0.0, 0, -1]], "leaves": [0.0, 1.0]}]}]
    >>> c = Cascade((24, 24), rects, [[-1.0, 1.0, 0.0]], [False], stages)
    >>> c.n_stages, c.n_features
    (1, 1)
    """

    def __init__(self, window, rects, rect_weights, tilted, stages):
        self.window = _validate.window_size(window, "window", low=3, high=256)
        rects = np.asarray(rects)
        if rects.ndim != 3 or rects.shape[1:] != (3, 4):
            raise ValueError(f"rects must have shape (F, 3, 4), got {rects.shape}")
        self.rects = np.ascontiguousarray(rects, dtype=np.int32)
        self.rect_weights = np.ascontiguousarray(np.asarray(rect_weights, dtype=np.float32).reshape(-1, 3))
        self.tilted = np.ascontiguousarray(np.asarray(tilted, dtype=bool).reshape(-1))
        nf = self.rects.shape[0]
        if nf == 0 or self.rect_weights.shape[0] != nf or self.tilted.shape[0] != nf:
            raise ValueError("rects, rect_weights and tilted must describe the same (non-zero) number of features")
        if not np.all(np.isfinite(self.rect_weights)):
            raise ValueError("rect_weights must be finite")
        self._check_rects()
        self.stages = self._check_stages(stages, nf)
        self._engine = None

    # -- validation ----------------------------------------------------------
    def _check_rects(self):
        w, h = self.window
        x, y, rw, rh = (self.rects[..., k] for k in range(4))
        used = self.rect_weights != 0
        up = used & ~self.tilted[:, None]
        ti = used & self.tilted[:, None]
        bad_up = up & ((x < 0) | (y < 0) | (rw <= 0) | (rh <= 0) | (x + rw > w) | (y + rh > h))
        # tilted rectangle corners: (x, y), (x+w, y+w), (x-h, y+h), (x+w-h, y+w+h)
        bad_ti = ti & ((rw <= 0) | (rh <= 0) | (x - rh < 0) | (x + rw > w) | (y < 0) | (y + rw + rh > h))
        if np.any(bad_up | bad_ti):
            f = int(np.argwhere(bad_up | bad_ti)[0][0])
            raise ValueError(f"feature {f} has a rectangle outside the {w}x{h} window: {self.rects[f].tolist()}")
        if np.any(~used[:, 0] | ~used[:, 1]):
            raise ValueError("every feature needs at least two rectangles with non-zero weight")

    @staticmethod
    def _check_stages(stages, nf):
        if not isinstance(stages, (list, tuple)) or len(stages) == 0:
            raise ValueError("stages must be a non-empty list")
        out = []
        for si, st in enumerate(stages):
            try:
                thr = float(st["threshold"])
                trees = st["trees"]
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"stage {si} must be a dict with 'threshold' and 'trees'") from None
            if not np.isfinite(thr) or not isinstance(trees, (list, tuple)) or len(trees) == 0:
                raise ValueError(f"stage {si} needs a finite threshold and at least one tree")
            clean = []
            for ti, tree in enumerate(trees):
                try:
                    nodes = np.asarray(tree["nodes"], dtype=np.float64).reshape(-1, 4)
                    leaves = np.asarray(tree["leaves"], dtype=np.float64).reshape(-1)
                except (KeyError, TypeError, ValueError):
                    raise ValueError(f"stage {si} tree {ti} must have 'nodes' (k x 4) and 'leaves'") from None
                k = nodes.shape[0]
                where = f"stage {si} tree {ti}"
                if k == 0 or leaves.shape[0] != k + 1:
                    raise ValueError(f"{where}: a tree of k nodes needs k + 1 leaves")
                if not (np.all(np.isfinite(nodes)) and np.all(np.isfinite(leaves))):
                    raise ValueError(f"{where}: values must be finite")
                feat, left, right = nodes[:, 0], nodes[:, 2], nodes[:, 3]
                for col, name in ((feat, "feature"), (left, "left"), (right, "right")):
                    if np.any(col != np.round(col)):
                        raise ValueError(f"{where}: {name} indices must be integers")
                if np.any((feat < 0) | (feat >= nf)):
                    raise ValueError(f"{where}: feature index out of range [0, {nf})")
                for child in (left, right):
                    if np.any((child >= k) | (child < -k)):
                        raise ValueError(f"{where}: child index out of range")
                # children that are nodes must point forward (no cycles)
                idx = np.arange(k)
                if np.any(((left > 0) & (left <= idx)) | ((right > 0) & (right <= idx))):
                    raise ValueError(f"{where}: node children must come after their parent")
                clean.append({"nodes": nodes, "leaves": leaves})
            out.append({"threshold": thr, "trees": clean})
        return out

    # -- properties ------------------------------------------------------------
    @property
    def n_stages(self):
        """Number of stages."""
        return len(self.stages)

    @property
    def n_features(self):
        """Number of distinct features referenced by the cascade."""
        return self.rects.shape[0]

    def stage_sizes(self):
        """Number of weak classifiers (trees) in each stage."""
        return [len(s["trees"]) for s in self.stages]

    def __repr__(self):
        return (f"Cascade(window={self.window}, stages={self.n_stages}, "
                f"weak_classifiers={sum(self.stage_sizes())}, features={self.n_features})")

    # -- engine ----------------------------------------------------------------
    def _get_engine(self):
        if self._engine is None:
            nodes, leaves, tree_node0, tree_leaf0, stage_tree0, stage_ntrees, stage_thr = [], [], [], [], [], [], []
            n_nodes = n_leaves = n_trees = 0
            for st in self.stages:
                stage_tree0.append(n_trees)
                stage_ntrees.append(len(st["trees"]))
                stage_thr.append(np.float32(st["threshold"]) - _THRESHOLD_EPS)
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
            self._engine = _cascade.Engine(
                i32(self.rects.reshape(-1, 12)), f32(self.rect_weights),
                np.ascontiguousarray(self.tilted, dtype=np.uint8),
                i32(nodes[:, 0]), f32(nodes[:, 1]), i32(nodes[:, 2]), i32(nodes[:, 3]),
                i32(tree_node0), i32(tree_leaf0), f32(np.concatenate(leaves)),
                i32(stage_tree0), i32(stage_ntrees), f32(stage_thr),
                self.window[0], self.window[1])
        return self._engine

    def classify_windows(self, windows):
        """Run the cascade on a stack of windows of exactly the cascade's size.

        Parameters
        ----------
        windows : (N, H, W) uint8 array_like

        Returns
        -------
        (N,) int32 ndarray
            OpenCV's ``runAt`` code: 1 accepted, ``-s`` rejected by stage ``s``
            (0 for the first stage), -1 for flat windows (rejected before stage 0).

        Examples
        --------
        >>> c = default_face_cascade()
        >>> c.classify_windows(np.zeros((1, 24, 24), np.uint8)).tolist()
        [-1]
        """
        arr = _validate.array(windows, "windows", ndim=3, allow_bool=True)
        w, h = self.window
        if arr.shape[1:] != (h, w):
            raise ValueError(f"windows must have shape (N, {h}, {w}), got {arr.shape}")
        if arr.dtype != np.uint8:
            raise TypeError(f"windows must have dtype uint8, got {arr.dtype}")
        out = np.empty(arr.shape[0], np.int32)
        self._get_engine().classify(np.ascontiguousarray(arr), out)
        return out

    def _scales(self, shape, scale_factor, min_size, max_size):
        """OpenCV's list of scale factors (as float32) for an image of ``shape``."""
        H, W = shape
        ww, wh = self.window
        max_w, max_h = max_size if max_size is not None else (W, H)
        min_w, min_h = min_size if min_size is not None else (0, 0)
        scales = []
        factor = 1.0
        while True:
            win_w, win_h = round(ww * factor), round(wh * factor)
            if win_w > max_w or win_h > max_h or win_w > W or win_h > H:
                break
            if win_w >= min_w and win_h >= min_h:
                scales.append(np.float32(factor))
            factor *= scale_factor
            if len(scales) > 10000:  # pragma: no cover - bounded by the image size anyway
                break
        return scales

    def detect_raw(self, image, scale_factor=1.1, min_size=None, max_size=None, *, step=None):
        """Every accepted window before grouping: ``(boxes (N, 4) int, margins (N,))``.

        Same scan as :meth:`detect` (``step=None`` is OpenCV's 2-or-1 rule with
        the skip after a first-stage rejection; an explicit ``step`` scans every
        ``step`` pixels of each resized image without skipping). ``margins``
        is the last stage's sum minus its threshold.

        Examples
        --------
        >>> boxes, margins = default_face_cascade().detect_raw(np.zeros((30, 30), np.uint8))
        >>> boxes.shape
        (0, 4)
        """
        grey = _validate.grey_uint8(image, "image")
        scale_factor = _validate.real(scale_factor, "scale_factor", low=1.0, low_inclusive=False, high=100.0)
        min_size = self._size_arg(min_size, "min_size")
        max_size = self._size_arg(max_size, "max_size")
        if step is not None:
            step = _validate.integer(step, "step", low=1, high=1000)
        engine = self._get_engine()
        H, W = grey.shape
        ww, wh = self.window
        all_boxes, all_margins = [], []
        for sc in self._scales(grey.shape, scale_factor, min_size, max_size):
            sw, sh = int(np.rint(np.float32(W) / sc)), int(np.rint(np.float32(H) / sc))
            if sw < ww or sh < wh:
                continue
            resized = grey if (sw, sh) == (W, H) else cv2.resize(grey, (sw, sh), interpolation=cv2.INTER_LINEAR_EXACT)
            resized = np.ascontiguousarray(resized)
            ystep = step if step is not None else (1 if sc >= 2 else 2)
            cap = ((sh - wh) // ystep + 1) * ((sw - ww) // ystep + 1)
            size = min(cap, 1 << 16)   # hit buffer grows only when it fills up
            while True:
                xy = np.empty((size, 2), np.int32)
                margins = np.empty(size, np.float32)
                n = engine.scan(resized, ystep, step is None, xy, margins)
                if n < size or size >= cap:
                    break
                size = min(cap, 8 * size)
            if n:
                win = (int(np.rint(np.float32(ww) * sc)), int(np.rint(np.float32(wh) * sc)))
                pos = np.rint(xy[:n].astype(np.float32) * sc).astype(np.int64)
                b = np.empty((n, 4), np.int64)
                b[:, :2] = pos
                b[:, 2], b[:, 3] = win
                all_boxes.append(b)
                all_margins.append(margins[:n].copy())
        if not all_boxes:
            return np.zeros((0, 4), np.int64), np.zeros(0, np.float32)
        return np.concatenate(all_boxes), np.concatenate(all_margins)

    @staticmethod
    def _size_arg(value, name):
        if value is None:
            return None
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            value = (value, value)
        return _validate.window_size(value, name, low=0, high=1_000_000)

    def detect(self, image, scale_factor=1.1, min_neighbors=3, min_size=None, max_size=None):
        """Multi-scale sliding-window detection (OpenCV's ``detectMultiScale``).

        Parameters
        ----------
        image : (H, W) or (H, W, 3) uint8 array_like
            Grey or RGB image (RGB is converted with OpenCV's weights).
        scale_factor : float
            Ratio between successive scales, > 1.
        min_neighbors : int
            A detection needs more than this many raw windows in its group
            (OpenCV's ``groupRectangles`` threshold); 0 returns the raw windows.
        min_size, max_size : int or (int, int), optional
            Smallest / largest ``(width, height)`` of a detection.

        Returns
        -------
        boxes : (N, 4) int64 ndarray
            ``(x, y, w, h)`` of each detection.
        scores : (N,) float64 ndarray
            Neighbour count of each detection (raw windows merged into it; 1 per
            raw window when ``min_neighbors == 0``).

        Examples
        --------
        >>> boxes, scores = default_face_cascade().detect(np.zeros((48, 48), np.uint8))
        >>> boxes.shape, scores.shape
        ((0, 4), (0,))
        """
        min_neighbors = _validate.integer(min_neighbors, "min_neighbors", low=0, high=1_000_000)
        boxes, _ = self.detect_raw(image, scale_factor, min_size, max_size)
        if min_neighbors == 0 or boxes.shape[0] == 0:
            return boxes, np.ones(boxes.shape[0])
        return _group(boxes, min_neighbors)

    # -- file formats ------------------------------------------------------------
    def to_dict(self):
        """JSON-ready dictionary (the on-disk format of :meth:`save`)."""
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "window": list(self.window),
            "features": [
                {"rects": [[int(v) for v in r] + [float(wt)] for r, wt in zip(rs, ws) if wt != 0],
                 "tilted": bool(t)}
                for rs, ws, t in zip(self.rects, self.rect_weights, self.tilted)
            ],
            "stages": [
                {"threshold": float(st["threshold"]),
                 "trees": [{"nodes": [[int(n[0]), float(n[1]), int(n[2]), int(n[3])] for n in tree["nodes"]],
                            "leaves": [float(v) for v in tree["leaves"]]} for tree in st["trees"]]}
                for st in self.stages
            ],
        }

    @classmethod
    def from_dict(cls, data):
        """Inverse of :meth:`to_dict` (validates everything)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise ValueError(f"not a cvcore cascade: expected format {FORMAT_NAME!r}")
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported cascade format version {data.get('version')!r} "
                             f"(this cvcore reads version {FORMAT_VERSION})")
        try:
            feats = data["features"]
            n = len(feats)
            rects = np.zeros((n, 3, 4), np.int64)
            weights = np.zeros((n, 3), np.float64)
            tilted = np.zeros(n, bool)
            for i, f in enumerate(feats):
                rs = f["rects"]
                if not 2 <= len(rs) <= 3:
                    raise ValueError(f"feature {i} must have 2 or 3 rectangles")
                for k, r in enumerate(rs):
                    if len(r) != 5:
                        raise ValueError(f"feature {i} rectangle {k} must be [x, y, w, h, weight]")
                    rects[i, k] = r[:4]
                    weights[i, k] = r[4]
                tilted[i] = bool(f.get("tilted", False))
            return cls(data["window"], rects, weights, tilted, data["stages"])
        except (KeyError, TypeError, IndexError, OverflowError) as exc:
            raise ValueError(f"corrupt cascade data ({type(exc).__name__}: {exc})") from None

    def save(self, path):
        """Write the cascade as versioned JSON (``format``/``version`` fields).

        Examples
        --------
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "face.json")
        >>> c = default_face_cascade(); c.save(path)
        >>> Cascade.load(path).n_stages == c.n_stages
        True
        """
        path = os.fspath(path)
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, separators=(",", ":"))

    @classmethod
    def load(cls, path):
        """Read a cascade written by :meth:`save` (JSON); OpenCV XML is detected and read too.

        Raises
        ------
        ValueError
            For a corrupt, truncated or foreign file.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"cascade file not found: {path}")
        with open(path, "rb") as fh:
            head = fh.read(512).lstrip()
        if head.startswith(b"<"):
            return cls.from_opencv_xml(path)
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} is not a cvcore cascade file (invalid JSON: {exc})") from None
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    @classmethod
    def from_opencv_xml(cls, path):
        """Read an OpenCV Haar cascade XML (``opencv-cascade-classifier`` format).

        Stumps and trees, upright and tilted features are supported; LBP/HOG
        cascades and the pre-2.0 ``opencv-haar-classifier`` layout are rejected
        with a clear error.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "face.xml")
        >>> default_face_cascade().to_opencv_xml(path)
        >>> Cascade.from_opencv_xml(path).n_stages == default_face_cascade().n_stages
        True
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"cascade file not found: {path}")
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as exc:
            raise ValueError(f"{path} is not valid XML ({exc})") from None
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

        try:
            stage_type = text(node, "stageType", "cascade")
            feature_type = text(node, "featureType", "cascade")
            if stage_type != "BOOST" or feature_type != "HAAR":
                raise ValueError(f"{path}: only BOOST stages over HAAR features are supported "
                                 f"(got {stage_type}/{feature_type})")
            window = (int(text(node, "width", "cascade")), int(text(node, "height", "cascade")))
            stages = []
            stages_el = node.find("stages")
            if stages_el is None:
                raise ValueError(f"{path}: missing <stages>")
            for si, st in enumerate(stages_el.findall("_")):
                thr = float(text(st, "stageThreshold", f"stage {si}"))
                trees = []
                weak = st.find("weakClassifiers")
                if weak is None:
                    raise ValueError(f"{path}: missing <weakClassifiers> in stage {si}")
                for wi, wc in enumerate(weak.findall("_")):
                    nums = text(wc, "internalNodes", f"stage {si} classifier {wi}").split()
                    leaves = [float(v) for v in text(wc, "leafValues", f"stage {si} classifier {wi}").split()]
                    if len(nums) % 4:
                        raise ValueError(f"{path}: stage {si} classifier {wi}: internalNodes must be "
                                         "groups of (left, right, feature, threshold)")
                    nodes = []
                    for k in range(0, len(nums), 4):
                        left, right, feat, nthr = int(nums[k]), int(nums[k + 1]), int(nums[k + 2]), float(nums[k + 3])
                        nodes.append([feat, nthr, left, right])
                    trees.append({"nodes": nodes, "leaves": leaves})
                stages.append({"threshold": thr, "trees": trees})
            feats_el = node.find("features")
            if feats_el is None:
                raise ValueError(f"{path}: missing <features>")
            feats = feats_el.findall("_")
            rects = np.zeros((len(feats), 3, 4), np.int64)
            weights = np.zeros((len(feats), 3), np.float64)
            tilted = np.zeros(len(feats), bool)
            for fi, f in enumerate(feats):
                rs = f.find("rects")
                if rs is None:
                    raise ValueError(f"{path}: feature {fi} has no <rects>")
                items = rs.findall("_")
                if not 1 <= len(items) <= 3:
                    raise ValueError(f"{path}: feature {fi} must have 1 to 3 rectangles")
                for k, r in enumerate(items):
                    vals = (r.text or "").split()
                    if len(vals) != 5:
                        raise ValueError(f"{path}: feature {fi} rectangle {k} must be 'x y w h weight'")
                    rects[fi, k] = [int(float(v)) for v in vals[:4]]
                    weights[fi, k] = float(vals[4])
                t = f.find("tilted")
                tilted[fi] = t is not None and (t.text or "0").strip() not in ("0", "")
        except (TypeError, OverflowError) as exc:
            raise ValueError(f"{path}: corrupt cascade ({exc})") from None
        except ValueError as exc:
            msg = str(exc)
            raise ValueError(msg if msg.startswith(path) else f"{path}: corrupt cascade ({msg})") from None
        try:
            return cls(window, rects, weights, tilted, stages)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    def to_opencv_xml(self, path):
        """Write the cascade in OpenCV's XML format (readable by ``cv2.CascadeClassifier``).

        Examples
        --------
        >>> import cv2, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "face.xml")
        >>> default_face_cascade().to_opencv_xml(path)
        >>> cv2.CascadeClassifier(path).empty()
        False
        """
        path = os.fspath(path)
        max_nodes = max(t["nodes"].shape[0] for st in self.stages for t in st["trees"])
        lines = ['<?xml version="1.0"?>', "<opencv_storage>",
                 '<cascade type_id="opencv-cascade-classifier">',
                 "  <stageType>BOOST</stageType>", "  <featureType>HAAR</featureType>",
                 f"  <height>{self.window[1]}</height>", f"  <width>{self.window[0]}</width>",
                 "  <stageParams>", f"    <maxWeakCount>{max(self.stage_sizes())}</maxWeakCount></stageParams>",
                 "  <featureParams>", "    <maxCatCount>0</maxCatCount></featureParams>",
                 f"  <stageNum>{self.n_stages}</stageNum>", "  <stages>"]
        del max_nodes
        for st in self.stages:
            lines += ["    <_>", f"      <maxWeakCount>{len(st['trees'])}</maxWeakCount>",
                      f"      <stageThreshold>{st['threshold']:.17g}</stageThreshold>", "      <weakClassifiers>"]
            for tree in st["trees"]:
                nodes = " ".join(f"{int(n[2])} {int(n[3])} {int(n[0])} {n[1]:.17g}" for n in tree["nodes"])
                leaves = " ".join(f"{v:.17g}" for v in tree["leaves"])
                lines += ["        <_>", f"          <internalNodes>{nodes}</internalNodes>",
                          f"          <leafValues>{leaves}</leafValues></_>"]
            lines += ["      </weakClassifiers></_>"]
        lines += ["  </stages>", "  <features>"]
        for rs, ws, t in zip(self.rects, self.rect_weights, self.tilted):
            rl = "".join(f"<_>{r[0]} {r[1]} {r[2]} {r[3]} {w:.9g}</_>" for r, w in zip(rs, ws) if w != 0)
            lines.append(f"    <_><rects>{rl}</rects><tilted>{int(t)}</tilted></_>")
        lines += ["  </features></cascade>", "</opencv_storage>", ""]
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))


def _group(boxes, min_neighbors):
    """OpenCV's groupRectangles(eps=0.2): merged boxes and their neighbour counts."""
    from .boxes import group_rectangles

    merged, counts = group_rectangles(boxes, min_neighbors=min_neighbors, eps=_GROUP_EPS)
    return np.asarray(merged, dtype=np.int64).reshape(-1, 4), np.asarray(counts, dtype=np.float64)


_DEFAULT = None


def default_face_cascade():
    """The frontal-face cascade shipped with cvcore (trained by :func:`train_cascade`).

    Trained by ``scripts/train_face_cascade.py`` on the 24x24 faces and MIT CBCL
    faces of ``shared/data/faces`` with negatives mined from its background
    images; see that script for the exact settings.

    Examples
    --------
    >>> default_face_cascade().window
    (24, 24)
    """
    global _DEFAULT
    if _DEFAULT is None:
        path = os.path.join(os.path.dirname(__file__), "data", "face_cascade.json")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"the shipped face cascade is missing from the installation: {path}")
        _DEFAULT = Cascade.load(path)
    return _DEFAULT


# The trainer lives in a private module (it imports this one lazily).
from ._cascade_training import train_cascade  # noqa: E402
