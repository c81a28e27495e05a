"""Trainable pixel segmentation: multi-scale pixel features, compiled KNN and
random-forest classifiers, :class:`PixelSegmenter`, and segmentation metrics.

Label maps use 0 for unlabelled pixels and 1..K for the classes; images follow
cvcore's input policy (integers divided by their dtype's maximum, floats as
they are; the alpha of an RGBA image is ignored). Models save to versioned
``.npz`` files that load back bit for bit, and long calls stop on Ctrl-C.

Examples
--------
>>> import numpy as np
>>> from cvcore.segmentation import PixelSegmenter, metrics
>>> img = np.zeros((30, 30), np.uint8); img[:, 15:] = 220
>>> truth = np.where(img > 0, 2, 1)
>>> lab = np.zeros_like(truth); lab[:, [3, 26]] = truth[:, [3, 26]]
>>> pred = PixelSegmenter("knn", sigmas=(1.0,)).fit(img, lab).predict(img)
>>> metrics.pixel_accuracy(pred, truth)
1.0
"""
from . import metrics
from .features import feature_names, pixel_features
from .forest import RandomForestClassifier
from .knn import KNNClassifier
from .segmenter import PixelSegmenter

__all__ = ["pixel_features", "feature_names", "KNNClassifier", "RandomForestClassifier",
           "PixelSegmenter", "metrics"]
