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


def test_label_counts_matches_a_plain_count_and_skips_unlabelled():
    from cvcore.segmentation.metrics import label_counts

    rng = np.random.default_rng(5)
    maps = [rng.integers(0, 4, (7, 9)).astype(np.uint8), rng.integers(0, 6, (3, 5)).astype(np.uint16)]
    classes, counts = label_counts(maps)
    flat = np.concatenate([m.ravel() for m in maps]).astype(int)
    want = sorted(set(flat.tolist()) - {0})
    assert classes.tolist() == want
    assert counts.tolist() == [int((flat == c).sum()) for c in want]
    assert label_counts(np.zeros((2, 2), np.uint8))[0].size == 0
    with pytest.raises(ValueError, match=r"label_maps\[0\] must hold labels >= 0"):
        label_counts([np.array([[-1, 2]])])
    with pytest.raises(TypeError, match=r"label_maps\[0\]"):
        label_counts([np.array([[0.5]])])
