"""Trainable pixel segmentation: multi-scale pixel features, compiled KNN and
random-forest classifiers, :class:`PixelSegmenter`, and segmentation metrics."""
from . import metrics
from .features import feature_names, pixel_features
from .forest import RandomForestClassifier
from .knn import KNNClassifier
from .segmenter import PixelSegmenter

__all__ = ["pixel_features", "feature_names", "KNNClassifier", "RandomForestClassifier",
           "PixelSegmenter", "metrics"]
