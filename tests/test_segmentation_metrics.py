"""Segmentation metrics against scikit-learn's."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from cvcore.segmentation import metrics

skm = pytest.importorskip("sklearn.metrics")


def test_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, (50, 60))
    pred = np.where(rng.random((50, 60)) < 0.7, truth, rng.integers(0, 4, (50, 60)))
    cm = metrics.confusion_matrix(pred, truth, 4)
    assert_array_equal(cm, skm.confusion_matrix(truth.ravel(), pred.ravel(), labels=range(4)))
    assert_allclose(metrics.per_class_iou(pred, truth, 4),
                    skm.jaccard_score(truth.ravel(), pred.ravel(), average=None))
    assert_allclose(metrics.mean_iou(pred, truth, 4),
                    skm.jaccard_score(truth.ravel(), pred.ravel(), average="macro"))
    assert metrics.pixel_accuracy(pred, truth) == pytest.approx(skm.accuracy_score(truth.ravel(), pred.ravel()))


def test_mean_iou_ignores_absent_classes():
    pred = np.array([[0, 0], [1, 1]])
    assert metrics.mean_iou(pred, pred, 5) == 1.0
    assert np.isnan(metrics.per_class_iou(pred, pred, 3)[2])


def test_metrics_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        metrics.confusion_matrix(np.zeros((2, 2), int), np.zeros((2, 3), int), 2)
    with pytest.raises(ValueError, match=r"pred values must be in \[0, 2\)"):
        metrics.confusion_matrix(np.array([0, 2]), np.array([0, 1]), 2)
    with pytest.raises(TypeError, match="pred must be a real numeric array|pred"):
        metrics.pixel_accuracy(np.array([0.5, 1.0]), np.array([0, 1]))
