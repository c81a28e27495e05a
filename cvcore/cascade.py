"""Attentional cascades of boosted classifiers (Viola & Jones 2001/2004) over Haar or LBP features.

One engine runs both OpenCV-format cascades (:meth:`Cascade.from_opencv_xml`,
Haar or multi-block LBP) and cascades trained here (:func:`train_cascade`). It
reproduces OpenCV's ``CascadeClassifier`` exactly. For Haar cascades:

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
  grouping (``min_neighbors``, eps 0.2); a window that rounding pushes past
  the image is clipped to it (as OpenCV 5 does).

LBP cascades (:meth:`Cascade.lbp`) use the same scan, without the variance
normalisation: each feature is an 8-bit code comparing the pixel sums of the
eight outer cells of a 3x3 grid with the centre one, and each weak classifier
is a stump that looks the code up in a 256-bit set.

Each detection's score is its neighbour count (the number of raw windows
merged into it, OpenCV's ``numDetections``) or, with ``score="confidence"``,
the sum of the last stage's leaf values averaged over those windows (OpenCV's
"level weights"); detections come best first. Boxes are ``np.int32``
``(N, 4)`` rows ``(x, y, w, h)``, as for every cvcore detector.

Files: :meth:`Cascade.save` writes JSON (format ``"cvcore-cascade"``, integer
``version``) through cvcore's model-file layer; :meth:`Cascade.load` reads it
strictly (types, counts capped before allocation) and also reads OpenCV XML
(with ``defusedxml``); LBP cascades are saved as version 2 (with
``feature_type``). A cascade is immutable once constructed.
"""
from __future__ import annotations

import os

import numpy as np

from . import _validate
from ._cascade_model import Cascade
from ._cascade_training import TrainingStopped, jitter_windows, train_cascade

__all__ = ["Cascade", "train_cascade", "TrainingStopped", "default_face_cascade", "resize_windows", "jitter_windows"]

# Cascade and the trainer live in private modules; their examples belong to this module.
__test__ = {f"Cascade.{name}": getattr(Cascade, name) for name in
            ("lbp", "classify_windows", "detect_raw", "detect", "to_dict", "from_dict", "save", "load",
             "from_opencv_xml", "to_opencv_xml")}
__test__["Cascade"] = Cascade
__test__.update(train_cascade=train_cascade, jitter_windows=jitter_windows)

_DEFAULT = {}
_DEFAULT_FILES = {"haar": "face_cascade.json", "lbp": "face_cascade_lbp.json"}


def default_face_cascade(kind="haar"):
    """A frontal-face cascade shipped with cvcore (trained by :func:`train_cascade`).

    Both were trained by ``scripts/train_face_cascade.py`` (Gentle AdaBoost)
    on the 24x24 faces of ``shared/data/faces`` and their mirror images, with
    negatives mined from its background images and from generated clutter
    (:func:`cvcore.datasets.synthetic_clutter_images`); see that script for the exact
    settings, the training time and the data that chose the stage counts.
    Each is loaded once and shared (a cascade is immutable).

    Parameters
    ----------
    kind : {"haar", "lbp"}
        ``"haar"``: Haar features, the fewest false positives on face-free
        images; ``"lbp"``: multi-block LBP features (integer sums, no
        variance normalisation), 0.44x the Haar cascade's time (one
        thread, 640x480).

    Notes
    -----
    Measured on half of dlib's annotated group photos (2008_002079.jpg and
    2008_001322.jpg: 9 faces, which played no part in training or in
    choosing the recipe and stage counts), at the default settings (scale
    1.1, 3 neighbours), boxes matched at IoU 0.5 and ranked by
    ``score="confidence"``:

    - cvcore ``"haar"``: average precision 0.681, recall 7/9, 1 false positive;
    - cvcore ``"lbp"``: 0.778, 7/9, 1 false positive;
    - OpenCV's haarcascade_frontalface_default: 0.778, 7/9, 2;
    - OpenCV's lbpcascade_frontalface_improved (45x45 window): 0.222, 2/9, 0.

    Nine faces are few: one false positive ranked above one true face moves
    the average precision by about 0.1. On 23 face-free images of
    ``skimage.data`` (part of the selection data): 0 detections
    (``"haar"``), 4 (``"lbp"``), 10 (OpenCV's Haar cascade).
    ``python -m benchmarks.bench_cascade`` prints these figures.

    Examples
    --------
    >>> default_face_cascade().window
    (24, 24)
    >>> default_face_cascade("lbp").feature_type
    'lbp'
    """
    kind = _validate.choice(kind, "kind", tuple(_DEFAULT_FILES))
    if kind not in _DEFAULT:
        path = os.path.join(os.path.dirname(__file__), "data", _DEFAULT_FILES[kind])
        if not os.path.isfile(path):
            raise FileNotFoundError(f"the shipped {kind} face cascade is missing from the installation: {path}")
        _DEFAULT[kind] = Cascade.load(path)
    return _DEFAULT[kind]


def resize_windows(images, window):
    """Training windows from face crops of any size: grey uint8, resized to ``window``.

    Each crop goes through the input policy (grey, 8 bits) and is resized with
    area averaging (``cv2.INTER_AREA``, what OpenCV's tools use to shrink).

    Parameters
    ----------
    images : sequence of (H, W) or (H, W, C) arrays, or an (N, H, W[, C]) stack
        Face crops, one face each, roughly centred and tight.
    window : (width, height)
        The cascade window (3..64 each).

    Returns
    -------
    (N, height, width) uint8 ndarray
        Ready for :func:`train_cascade`.

    Examples
    --------
    >>> crops = [np.full((40, 30), 200, np.uint8), np.zeros((24, 24, 3), np.float32)]
    >>> resize_windows(crops, (24, 24)).shape
    (2, 24, 24)
    """
    import cv2

    w, h = _validate.window_size(window, "window", low=3, high=64)
    if isinstance(images, np.ndarray) and images.ndim < 3:
        raise ValueError(f"images must be a list of crops or an (N, H, W[, C]) stack, got shape {images.shape}")
    try:
        items = list(images)
    except TypeError:
        raise TypeError(f"images must be a sequence of images, got {type(images).__name__}") from None
    if not items:
        raise ValueError("images must hold at least one face crop")
    out = np.empty((len(items), h, w), np.uint8)
    for i, im in enumerate(items):
        grey = _validate.grey_uint8(im, f"images[{i}]")
        out[i] = cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA)
    return out
