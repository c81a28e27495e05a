"""Trainable pixel segmentation: features, KNN and random-forest classifiers."""
from .knn import KNNClassifier

__all__ = ["KNNClassifier"]
