"""Trainable pixel segmentation: features, KNN and random-forest classifiers."""
from .forest import RandomForestClassifier
from .knn import KNNClassifier

__all__ = ["KNNClassifier", "RandomForestClassifier"]
