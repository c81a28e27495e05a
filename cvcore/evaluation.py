"""Evaluating object detectors on annotated images: precision-recall, average precision, speed.

:func:`evaluate_detector` runs a detector (a :class:`cvcore.cascade.Cascade` or
any function returning boxes and scores) on annotated images and scores it the
way detection benchmarks do (PASCAL VOC / COCO style):

* all detections of all images are ranked by score, best first;
* going down that list, a detection is a true positive when its best
  intersection-over-union with a not yet matched annotated box of its image is
  at least ``iou``; that box is then matched (so a second detection of the
  same face is a false positive); a detection overlapping an *ignored* box
  (dlib's ``ignore='1'``) by that much is left out instead; any other one is a
  false positive;
* precision and recall are taken after each distinct score (tied scores enter
  together), and the average precision is the area under the precision
  envelope (precision made non-increasing in recall, all points).

Annotations come from dlib's imglab XML (``training.xml``, read with
``defusedxml`` through cvcore's model-file layer) or from a CSV file with the
header ``image,x,y,w,h`` (optionally ``ignore``), see
:func:`read_annotations`, or FDDB's ellipse lists (:func:`read_fddb`). Boxes
are ``(x, y, w, h)``.
"""
from __future__ import annotations

import csv
import io as _stdio
import math
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from . import _validate
from ._progress import progress_reporter
from ._validate import modelfile
from .boxes import iou as box_iou

__all__ = ["DetectionEvaluation", "evaluate_detector", "read_annotations", "read_dlib_xml", "read_box_csv",
           "read_fddb", "plot_precision_recall", "check_plot_path"]

#: Caps on annotation files (they are small text files).
MAX_ANNOTATION_BYTES = 64 << 20
MAX_IMAGES = 1_000_000
MAX_BOXES_PER_IMAGE = 100_000
#: IoU thresholds always reported besides the requested one (0.3 suits loosely boxed annotations).
REPORTED_IOUS = (0.5, 0.3)


# ------------------------------------------------------------------ annotations

_INT = re.compile(r"[+-]?\d{1,10}")


def _box_row(values, where):
    """One ``(x, y, w, h)`` box from four integer strings, with ``w, h >= 0``."""
    values = [str(v).strip() for v in values]
    if len(values) != 4 or not all(_INT.fullmatch(v) for v in values):
        raise ValueError(f"{where}: a box needs four integers x, y, w, h, got {values!r}")
    box = [int(v) for v in values]
    if box[2] < 0 or box[3] < 0 or any(abs(v) > 1 << 30 for v in box):
        raise ValueError(f"{where}: box {box} needs w, h >= 0 and coordinates within +-2**30")
    return box


def _entry(boxes, ignore):
    arr = lambda rows: np.asarray(rows, np.int32).reshape(-1, 4)  # noqa: E731
    return {"boxes": arr(boxes), "ignore": arr(ignore)}


def read_dlib_xml(path):
    """Annotated boxes of a dlib imglab XML file (``<image file=...><box top left width height/>``).

    Returns
    -------
    dict
        ``{file: {"boxes": (N, 4) int32, "ignore": (M, 4) int32}}`` in file
        order; ``file`` as written (relative to the image folder). Boxes with
        ``ignore='1'`` go to ``"ignore"``.

    Raises
    ------
    ValueError
        For a file that is not such XML, a box without four integer
        attributes, or a file listed twice (the message names the file and
        the image).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "faces.xml")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("<dataset><images><image file='a.jpg'><box top='5' left='10' width='20' height='20'/>"
    ...                  "<box top='0' left='0' width='4' height='4' ignore='1'/></image></images></dataset>")
    >>> read_dlib_xml(path)["a.jpg"]["boxes"].tolist()
    [[10, 5, 20, 20]]
    """
    root = modelfile.parse_xml(path, max_bytes=MAX_ANNOTATION_BYTES)
    where = os.fspath(path)
    images = root.find("images") if root.tag == "dataset" else None
    if images is None:
        raise ValueError(f"{where} is not a dlib image list (no <dataset><images> element)")
    out = {}
    for k, im in enumerate(images.iter("image")):
        name = (im.get("file") or "").strip()
        if not name:
            raise ValueError(f"{where}: image {k} has no file attribute")
        if name in out:
            raise ValueError(f"{where}: image {name!r} is listed twice")
        if len(out) >= MAX_IMAGES:
            raise ValueError(f"{where}: more than {MAX_IMAGES} images")
        boxes, ignore = [], []
        for j, b in enumerate(im.iter("box")):
            if j >= MAX_BOXES_PER_IMAGE:
                raise ValueError(f"{where}: image {name!r} has more than {MAX_BOXES_PER_IMAGE} boxes")
            row = _box_row([b.get(a, "") for a in ("left", "top", "width", "height")], f"{where}: {name} box {j}")
            flag = b.get("ignore", "0").strip()
            if flag not in ("0", "1"):
                raise ValueError(f"{where}: {name} box {j}: ignore must be 0 or 1, got {flag[:20]!r}")
            (ignore if flag == "1" else boxes).append(row)
        out[name] = _entry(boxes, ignore)
    return out


def _read_text(path):
    """``(name, text)`` of a capped UTF-8 annotation file (a leading byte-order mark is dropped)."""
    data = modelfile.read_bytes(path, max_bytes=MAX_ANNOTATION_BYTES)
    try:
        return os.fspath(path), data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{os.fspath(path)}: not a UTF-8 text file") from None


def read_box_csv(path):
    """Annotated boxes of a CSV file with the header ``image,x,y,w,h`` (and optionally ``ignore``).

    One row per box; a row with only the image name (empty box fields) lists
    an image without objects. Returns the same mapping as
    :func:`read_dlib_xml`.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "faces.csv")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("image,x,y,w,h\\na.jpg,10,5,20,20\\na.jpg,40,5,20,20\\nempty.jpg,,,,\\n")
    >>> {k: v["boxes"].shape[0] for k, v in read_box_csv(path).items()}
    {'a.jpg': 2, 'empty.jpg': 0}
    """
    where, text = _read_text(path)
    rows = csv.reader(_stdio.StringIO(text))
    header = [h.strip().lower() for h in next(rows, [])]
    if header[:5] != ["image", "x", "y", "w", "h"] or header[5:] not in ([], ["ignore"]):
        raise ValueError(f"{where}: the first line must be 'image,x,y,w,h' (optionally ',ignore'), "
                         f"got {','.join(header)[:60]!r}")
    out = {}
    for line, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise ValueError(f"{where}: line {line} has {len(row)} fields, the header {len(header)}")
        name = row[0].strip()
        if not name:
            raise ValueError(f"{where}: line {line} has no image name")
        if name not in out and len(out) >= MAX_IMAGES:
            raise ValueError(f"{where}: more than {MAX_IMAGES} images")
        boxes, ignore = out.setdefault(name, ([], []))
        if all(not v.strip() for v in row[1:]):
            continue
        box = _box_row(row[1:5], f"{where}: line {line}")
        flag = row[5].strip() if len(row) > 5 else "0"
        if flag not in ("0", "1", ""):
            raise ValueError(f"{where}: line {line}: ignore must be 0 or 1, got {flag[:20]!r}")
        if len(boxes) + len(ignore) >= MAX_BOXES_PER_IMAGE:
            raise ValueError(f"{where}: image {name!r} has more than {MAX_BOXES_PER_IMAGE} boxes")
        (ignore if flag == "1" else boxes).append(box)
    return {name: _entry(*v) for name, v in out.items()}


_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?")


def read_fddb(path, *, suffix=".jpg"):
    """Face boxes of an FDDB ellipse list (``FDDB-fold-XX-ellipseList.txt``).

    Each image is a name (without extension; ``suffix`` is added), a count,
    then one line per face: ``major_radius minor_radius angle centre_x
    centre_y 1`` (angle of the major axis from the horizontal, radians). A
    face becomes the upright box bounding its ellipse (rounded outwards).
    Returns the same mapping as :func:`read_dlib_xml`.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "fold.txt")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("2002/08/11/big/img_591\\n1\\n40.0 30.0 1.5707963 100.0 80.0  1\\n")
    >>> read_fddb(path)["2002/08/11/big/img_591.jpg"]["boxes"].tolist()
    [[70, 40, 60, 80]]
    """
    if not isinstance(suffix, str):
        raise TypeError(f"suffix must be a string, got {type(suffix).__name__}")
    where, text = _read_text(path)
    lines = [ln.strip() for ln in text.splitlines()]
    out, k = {}, 0
    while k < len(lines):
        if not lines[k]:
            k += 1
            continue
        name = lines[k] + suffix
        if k + 1 >= len(lines) or not lines[k + 1].isdigit() or int(lines[k + 1]) > MAX_BOXES_PER_IMAGE:
            raise ValueError(f"{where}: line {k + 2} must be the number of faces of {lines[k]!r}")
        if name in out or len(out) >= MAX_IMAGES:
            raise ValueError(f"{where}: image {lines[k]!r} is listed twice" if name in out else
                             f"{where}: more than {MAX_IMAGES} images")
        count, boxes = int(lines[k + 1]), []
        for j in range(k + 2, k + 2 + count):
            vals = lines[j].split() if j < len(lines) else []
            if len(vals) < 5 or not all(_FLOAT.fullmatch(v) for v in vals[:5]):
                raise ValueError(f"{where}: line {j + 1} must be 'major minor angle x y [score]'")
            a, b, theta, cx, cy = (float(v) for v in vals[:5])
            if a < 0 or b < 0 or max(a, b, abs(cx), abs(cy)) > 1 << 30:
                raise ValueError(f"{where}: line {j + 1}: radii must be >= 0 and values within 2**30")
            hw = math.hypot(a * math.cos(theta), b * math.sin(theta))
            hh = math.hypot(a * math.sin(theta), b * math.cos(theta))
            x0, y0 = math.floor(cx - hw + 1e-9), math.floor(cy - hh + 1e-9)
            boxes.append([x0, y0, math.ceil(cx + hw - 1e-9) - x0, math.ceil(cy + hh - 1e-9) - y0])
        out[name] = _entry(boxes, [])
        k += 2 + count
    return out


def read_annotations(path):
    """:func:`read_dlib_xml` for ``.xml``, :func:`read_box_csv` for ``.csv``, :func:`read_fddb` for ``.txt``.

    Examples
    --------
    >>> read_annotations("boxes.json")
    Traceback (most recent call last):
        ...
    ValueError: annotations must be a dlib .xml, a .csv or an FDDB .txt file, got 'boxes.json'
    """
    ext = os.path.splitext(os.fspath(path))[1].lower() if isinstance(path, (str, os.PathLike)) else None
    if ext == ".xml":
        return read_dlib_xml(path)
    if ext == ".csv":
        return read_box_csv(path)
    if ext == ".txt":
        return read_fddb(path)
    raise ValueError(f"annotations must be a dlib .xml, a .csv or an FDDB .txt file, got {path!r}")


def _check_annotations(annotations):
    """``{name: {"boxes", "ignore"}}`` from a path or a mapping of boxes / entries."""
    if isinstance(annotations, (str, os.PathLike)):
        return read_annotations(annotations)
    if not isinstance(annotations, Mapping):
        raise TypeError(f"annotations must be a file path or a mapping image -> boxes, "
                        f"got {type(annotations).__name__}")
    if not annotations:
        raise ValueError("annotations must list at least one image")
    out = {}
    for name, value in annotations.items():
        if isinstance(value, Mapping):
            boxes, ignore = value.get("boxes", ()), value.get("ignore", ())
        else:
            boxes, ignore = value, ()
        out[name] = {"boxes": _boxes(boxes, f"annotations[{name!r}]"),
                     "ignore": _boxes(ignore, f"annotations[{name!r}] ignore")}
    return out


def _boxes(value, name):
    """Validated ``(N, 4)`` integer boxes; any empty sequence is no boxes."""
    return _validate.int_boxes(value if np.size(value) else np.zeros((0, 4)), name).astype(np.int32)


# ------------------------------------------------------------------ matching and scores

def _match(detections, truth, threshold):
    """``(scores, is_tp)`` of every counted detection and the number of annotated boxes.

    ``detections[name] = (boxes, scores)``; within an image detections are
    matched best score first, each to the unmatched annotated box it overlaps
    most (IoU >= ``threshold``).
    """
    all_scores, all_tp, n_truth = [], [], 0
    for name, (boxes, scores) in detections.items():
        gt, ign = truth[name]["boxes"], truth[name]["ignore"]
        n_truth += len(gt)
        order = np.argsort(-scores, kind="stable")
        overlap = box_iou(boxes[order], gt) if len(gt) and len(boxes) else np.zeros((len(boxes), len(gt)))
        ign_hit = (box_iou(boxes[order], ign).max(axis=1) >= threshold) if len(ign) and len(boxes) else \
            np.zeros(len(boxes), bool)
        taken = np.zeros(len(gt), bool)
        for k, i in enumerate(order):
            cand = np.where(taken, -1.0, overlap[k]) if len(gt) else np.zeros(0)
            j = int(np.argmax(cand)) if len(gt) else -1
            if j >= 0 and cand[j] >= threshold:
                taken[j] = True
                all_tp.append(True)
            elif ign_hit[k]:
                continue
            else:
                all_tp.append(False)
            all_scores.append(float(scores[i]))
    return np.asarray(all_scores, np.float64), np.asarray(all_tp, bool), n_truth


def _pr_curve(scores, is_tp, n_truth):
    """Precision, recall and score threshold after each distinct score (best first), and the AP."""
    order = np.argsort(-scores, kind="stable")
    s, tp = scores[order], is_tp[order]
    ctp, cfp = np.cumsum(tp), np.cumsum(~tp)
    last = np.flatnonzero(np.append(s[1:] != s[:-1], True)) if len(s) else np.zeros(0, int)   # tie groups
    precision = ctp[last] / np.maximum(ctp[last] + cfp[last], 1)
    recall = ctp[last] / n_truth if n_truth else np.zeros(len(last))
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if len(last) else precision
    ap = float(np.sum(np.diff(np.concatenate([[0.0], recall])) * envelope)) if n_truth else float("nan")
    return precision, recall, s[last], ap


@dataclass(frozen=True)
class DetectionEvaluation:
    """What :func:`evaluate_detector` measured.

    Attributes
    ----------
    iou : float
        The matching threshold of ``precision``, ``recall`` and ``average_precision``.
    precision, recall, thresholds : (K,) float64 ndarray
        The precision-recall curve: after keeping every detection scoring at
        least ``thresholds[k]``.
    average_precision : float
        Area under the precision envelope at ``iou`` (nan without annotated boxes).
    average_precision_at : dict
        ``{iou: AP}`` for ``iou`` and the thresholds of :data:`REPORTED_IOUS`.
    n_images, n_objects, n_detections : int
        Images, annotated (not ignored) boxes, and detections counted.
    true_positives : int
        Detections matched at ``iou`` (all scores).
    seconds : float
        Time spent inside the detector (image reading excluded).
    megapixels : float
        Total image area scanned.
    """

    iou: float
    precision: np.ndarray
    recall: np.ndarray
    thresholds: np.ndarray
    average_precision: float
    average_precision_at: dict = field(default_factory=dict)
    n_images: int = 0
    n_objects: int = 0
    n_detections: int = 0
    true_positives: int = 0
    seconds: float = 0.0
    megapixels: float = 0.0

    @property
    def detections_per_image(self):
        """Mean number of detections per image."""
        return self.n_detections / self.n_images if self.n_images else 0.0

    @property
    def false_positives_per_image(self):
        """Mean number of unmatched detections per image (at ``iou``, all scores)."""
        return (self.n_detections - self.true_positives) / self.n_images if self.n_images else 0.0

    @property
    def max_recall(self):
        """Recall with every detection kept."""
        return self.true_positives / self.n_objects if self.n_objects else float("nan")

    @property
    def seconds_per_image(self):
        return self.seconds / self.n_images if self.n_images else 0.0

    def summary(self):
        """A few lines for people.

        Examples
        --------
        >>> e = evaluate_detector(lambda im: np.zeros((0, 4)), {"a": [[0, 0, 8, 8]]}, {"a": np.zeros((16, 16))})
        >>> print(e.summary().splitlines()[0])
        1 images, 1 annotated objects, 0 detections (0.00 per image)
        """
        aps = ", ".join(f"AP@{k:g} {v:.3f}" for k, v in sorted(self.average_precision_at.items(), reverse=True))
        return "\n".join([
            f"{self.n_images} images, {self.n_objects} annotated objects, {self.n_detections} detections "
            f"({self.detections_per_image:.2f} per image)",
            f"{aps}; recall {self.max_recall:.3f} with {self.false_positives_per_image:.2f} false positives "
            f"per image (IoU {self.iou:g})",
            f"speed {1000 * self.seconds_per_image:.1f} ms per image "
            f"({self.megapixels / self.seconds if self.seconds > 0 else float('inf'):.1f} megapixels/s)"])

    def to_dict(self):
        """JSON-ready summary (the curve as lists)."""
        return {"iou": self.iou, "average_precision": self.average_precision,
                "average_precision_at": {str(k): v for k, v in self.average_precision_at.items()},
                "n_images": self.n_images, "n_objects": self.n_objects, "n_detections": self.n_detections,
                "true_positives": self.true_positives, "detections_per_image": self.detections_per_image,
                "false_positives_per_image": self.false_positives_per_image,
                "seconds_per_image": self.seconds_per_image,
                "precision": self.precision.tolist(), "recall": self.recall.tolist(),
                "thresholds": self.thresholds.tolist()}


def _as_detector(detector, options):
    """A function image -> (boxes int32 (N, 4), scores float64 (N,))."""
    from ._cascade_model import Cascade

    if isinstance(detector, Cascade):
        kw = {"score": "confidence", **(options or {})}
        return lambda image: detector.detect(image, **kw)
    if options:
        raise ValueError("options apply to a Cascade detector only; bind them into your function")
    if not callable(detector):
        raise TypeError(f"detector must be a Cascade or a function image -> (boxes, scores), "
                        f"got {type(detector).__name__}")

    def run(image):
        out = detector(image)
        if isinstance(out, tuple) and len(out) == 2:
            boxes, scores = out
        else:
            boxes, scores = out, None
        boxes = _boxes(boxes, "the detector's boxes")
        scores = np.ones(len(boxes)) if scores is None else _validate.box_scores(
            np.asarray(scores, np.float64).reshape(-1), len(boxes), "the detector's scores")
        return boxes, scores
    return run


def evaluate_detector(detector, annotations, images, *, iou=0.5, options=None, progress=None):
    """Precision-recall curve, average precision, detections per image and speed of a detector.

    Parameters
    ----------
    detector : Cascade or callable
        A :class:`cvcore.cascade.Cascade` (run with ``detect(image,
        score="confidence", **options)``), or a function taking an image and
        returning ``(boxes, scores)`` or just boxes (every score 1).
    annotations : path or mapping
        A dlib ``.xml`` or ``.csv`` file (:func:`read_annotations`), or
        ``{image: boxes}`` / ``{image: {"boxes": ..., "ignore": ...}}``.
    images : path or mapping
        The folder holding the annotated image files, or ``{image: array}``
        with an array for every annotated image.
    iou : float
        Matching threshold in ``(0, 1]`` (0.5 is PASCAL VOC's; 0.3 suits
        annotations boxed more tightly or loosely than the detector boxes).
    options : mapping, optional
        Keyword arguments of :meth:`Cascade.detect` (``scale_factor``,
        ``min_neighbors``, ``score``, ...).
    progress : None, bool or callable
        Progress report per image (cvcore's convention).

    Returns
    -------
    DetectionEvaluation

    Examples
    --------
    >>> truth = {"a": [[10, 10, 20, 20]], "b": [[0, 0, 10, 10], [30, 30, 10, 10]]}
    >>> found = {"a": ([[11, 10, 20, 20], [50, 50, 5, 5]], [0.9, 0.8]), "b": ([[30, 31, 10, 10]], [0.7])}
    >>> images = {"a": np.zeros((64, 64)), "b": np.zeros((64, 64))}
    >>> frames = iter(["a", "b"])
    >>> e = evaluate_detector(lambda im: found[next(frames)], truth, images)
    >>> e.recall.round(3).tolist(), e.precision.round(3).tolist(), round(e.average_precision, 3)
    ([0.333, 0.333, 0.667], [1.0, 0.5, 0.667], 0.556)
    """
    threshold = _validate.real(iou, "iou", low=0.0, low_inclusive=False, high=1.0)
    truth = _check_annotations(annotations)
    if options is not None and not isinstance(options, Mapping):
        raise TypeError(f"options must be a mapping of Cascade.detect arguments, got {type(options).__name__}")
    run = _as_detector(detector, options)
    if isinstance(images, (str, os.PathLike)):
        folder = os.fspath(images)
        if not os.path.isdir(folder):
            raise (NotADirectoryError if os.path.exists(folder) else FileNotFoundError)(
                f"images must be a folder: {folder}")
    elif isinstance(images, Mapping):
        folder = None
        missing = [name for name in truth if name not in images]
        if missing:
            raise ValueError(f"images has no array for annotated image {missing[0]!r}")
    else:
        raise TypeError(f"images must be a folder or a mapping image -> array, got {type(images).__name__}")
    from . import io

    detections, seconds, pixels = {}, 0.0, 0
    with progress_reporter(len(truth), "evaluating", progress) as bar:
        for name in truth:
            if folder is None:
                image = images[name]
            else:
                file = os.path.join(folder, name)
                if not os.path.isfile(file):
                    raise FileNotFoundError(f"images: {name!r} (listed in the annotations) is not in {folder}")
                image = io.imread(file, grey=True)
            start = time.perf_counter()
            boxes, scores = run(image)
            seconds += time.perf_counter() - start
            pixels += int(np.prod(np.shape(image)[:2]))
            detections[name] = (np.asarray(boxes), np.asarray(scores, np.float64))
            bar.update(1, status=name)
    ap_at, curve = {}, None
    for t in dict.fromkeys((threshold,) + REPORTED_IOUS):
        scores, is_tp, n_truth = _match(detections, truth, t)
        precision, recall, thresholds, ap = _pr_curve(scores, is_tp, n_truth)
        ap_at[t] = ap
        if curve is None:
            curve = (precision, recall, thresholds, ap, int(is_tp.sum()))
    return DetectionEvaluation(
        iou=threshold, precision=curve[0], recall=curve[1], thresholds=curve[2], average_precision=curve[3],
        average_precision_at=ap_at, n_images=len(truth), n_objects=n_truth,
        n_detections=sum(len(b) for b, _ in detections.values()), true_positives=curve[4],
        seconds=seconds, megapixels=pixels / 1e6)


# ------------------------------------------------------------------ plot

_PLOT_FORMATS = (".png", ".svg", ".pdf")


def check_plot_path(path, name="path"):
    """Check, before any work, that a plot can be written to ``path`` and that matplotlib is installed.

    Returns
    -------
    str
        ``os.fspath(path)``.

    Raises
    ------
    ValueError
        For a folder, a missing parent folder, an unwritable location, a
        format other than PNG, SVG or PDF, and when matplotlib (the ``plot``
        extra) is not installed.

    Examples
    --------
    >>> check_plot_path("pr.svg")
    'pr.svg'
    >>> check_plot_path("pr.txt")
    Traceback (most recent call last):
    ...
    ValueError: path: cannot write a plot as '.txt' (pr.txt); use .png, .svg or .pdf
    """
    path = modelfile.writable_file(path, name)
    ext = os.path.splitext(path)[1].lower()
    if ext not in _PLOT_FORMATS:
        raise ValueError(f"{name}: cannot write a plot as {ext or 'a file without extension'!r} ({path}); "
                         "use .png, .svg or .pdf")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ValueError(f"{name}: plotting needs matplotlib, which is not installed "
                         "(pip install \"cvcore[plot]\")") from None
    return path


def plot_precision_recall(evaluations, path, *, labels=None, size=(640, 480)):
    """Draw precision-recall curves with matplotlib into a PNG, SVG or PDF file, one curve per evaluation.

    Each curve is the precision at every recall the ranked detections reach
    (the points :func:`evaluate_detector` computed), labelled with its
    average precision; the axes span [0, 1]. Needs matplotlib (the ``plot``
    extra: ``pip install "cvcore[plot]"``); the figure is drawn without
    pyplot, so it needs no display and touches no global plotting state.

    Parameters
    ----------
    evaluations : DetectionEvaluation or sequence of them
    path : str or os.PathLike
        ``.png``, ``.svg`` or ``.pdf``.
    labels : sequence of str, optional
        One legend entry per evaluation (default "detector 1", ...).
    size : (width, height)
        Pixels at 100 dots per inch, 200..4000 each.

    Examples
    --------
    >>> import tempfile, os
    >>> e = evaluate_detector(lambda im: ([[0, 0, 8, 8]], [1.0]), {"a": [[0, 0, 8, 8]]}, {"a": np.zeros((16, 16))})
    >>> path = os.path.join(tempfile.mkdtemp(), "pr.png")
    >>> plot_precision_recall([e], path, labels=["perfect"])
    >>> os.path.getsize(path) > 0
    True
    """
    if isinstance(evaluations, DetectionEvaluation):
        evaluations = [evaluations]
    evaluations = list(evaluations)
    if not evaluations or not all(isinstance(e, DetectionEvaluation) for e in evaluations):
        raise TypeError("evaluations must be DetectionEvaluation results of evaluate_detector")
    labels = [f"detector {k + 1}" for k in range(len(evaluations))] if labels is None else [str(v) for v in labels]
    if len(labels) != len(evaluations):
        raise ValueError(f"labels must have one entry per evaluation ({len(evaluations)}), got {len(labels)}")
    width, height = _validate.window_size(size, "size", low=200, high=4000)
    path = check_plot_path(path, "path")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_subplot()
    for e, label in zip(evaluations, labels):
        ap = "nan" if math.isnan(e.average_precision) else f"{e.average_precision:.3f}"
        r = np.concatenate([[0.0], e.recall])
        p = np.concatenate([[e.precision[0] if len(e.precision) else 0.0], e.precision])
        # over (r[i-1], r[i]] the curve shows p[i], the step function whose area average precision sums
        ax.plot(r, p, drawstyle="steps-pre", linewidth=2, label=f"{label} (AP@{e.iou:g} {ap})")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision", title="precision-recall")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    fig.tight_layout()
    try:
        fig.savefig(path, format=os.path.splitext(path)[1][1:].lower())
    except OSError as exc:
        raise OSError(f"path: cannot write {path} ({exc.strerror or exc})") from None
