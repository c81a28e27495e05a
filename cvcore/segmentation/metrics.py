"""Segmentation quality measures: confusion matrix, IoU, pixel accuracy, label counts."""
from __future__ import annotations

import numpy as np

from .. import _validate

__all__ = ["confusion_matrix", "label_counts", "mean_iou", "per_class_iou", "pixel_accuracy"]


def _label_pair(pred, truth):
    p = _validate.array(pred, "pred", kinds="iu", allow_bool=True)
    t = _validate.array(truth, "truth", kinds="iu", allow_bool=True)
    if p.shape != t.shape:
        raise ValueError(f"pred and truth must have the same shape, got {p.shape} and {t.shape}")
    return p.reshape(-1), t.reshape(-1)


def confusion_matrix(pred, truth, num_classes):
    """Pixel counts ``C[i, j]`` of truth class ``i`` predicted as class ``j``.

    Same convention as ``sklearn.metrics.confusion_matrix(truth, pred)``.

    Parameters
    ----------
    pred, truth : array_like of int
        Label maps (any equal shapes), values in ``[0, num_classes)``.
    num_classes : int
        Number of classes.

    Returns
    -------
    (num_classes, num_classes) int64 ndarray

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 1], [0, 0, 1, 1], 2).tolist()
    [[1, 1], [0, 2]]
    """
    k = _validate.integer(num_classes, "num_classes", low=1, high=1 << 15)
    p, t = _label_pair(pred, truth)
    for name, arr in (("pred", p), ("truth", t)):
        if arr.size and (arr.min() < 0 or arr.max() >= k):
            raise ValueError(f"{name} values must be in [0, {k}) for num_classes={k}, "
                             f"got range [{arr.min()}, {arr.max()}]")
    idx = t.astype(np.int64) * k + p.astype(np.int64)
    return np.bincount(idx, minlength=k * k).reshape(k, k).astype(np.int64)


def per_class_iou(pred, truth, num_classes):
    """Intersection over union of each class (NaN for a class absent from both).

    Examples
    --------
    >>> per_class_iou([0, 1, 1, 1], [0, 0, 1, 1], 2).round(3).tolist()
    [0.5, 0.667]
    """
    cm = confusion_matrix(pred, truth, num_classes)
    inter = np.diag(cm).astype(np.float64)
    union = cm.sum(axis=0) + cm.sum(axis=1) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), np.nan)


def mean_iou(pred, truth, num_classes):
    """Mean intersection over union over the classes present in ``pred`` or ``truth``.

    Examples
    --------
    >>> round(mean_iou([0, 1, 1, 1], [0, 0, 1, 1], 2), 4)
    0.5833
    """
    iou = per_class_iou(pred, truth, num_classes)
    return float(np.nanmean(iou)) if np.any(np.isfinite(iou)) else float("nan")


def pixel_accuracy(pred, truth):
    """Fraction of pixels whose predicted label equals the true label.

    Examples
    --------
    >>> pixel_accuracy([[0, 1], [1, 1]], [[0, 0], [1, 1]])
    0.75
    """
    p, t = _label_pair(pred, truth)
    return float(np.mean(p == t))


def label_counts(label_maps):
    """Pixels per class over one label map or a list of them; 0 (unlabelled) is not counted.

    Parameters
    ----------
    label_maps : (H, W) array_like of int, or a sequence of them
        Label maps (0 = unlabelled, 1..K = class), e.g. training strokes or a
        prediction.

    Returns
    -------
    classes : (K,) int64 ndarray
        The classes present, ascending.
    counts : (K,) int64 ndarray
        Their pixel counts.

    Examples
    --------
    >>> label_counts([np.array([[0, 1], [2, 2]]), np.array([[2, 0]])])
    (array([1, 2]), array([1, 3]))
    """
    maps = [label_maps] if isinstance(label_maps, np.ndarray) else list(label_maps)
    if not maps:
        raise ValueError("label_maps must hold at least one label map")
    total = np.zeros(0, np.int64)
    for i, lab in enumerate(maps):
        arr = _validate.array(lab, f"label_maps[{i}]", kinds="iu", allow_bool=True, allow_empty=True)
        if arr.size and arr.min() < 0:
            raise ValueError(f"label_maps[{i}] must hold labels >= 0, got {arr.min()}")
        c = np.bincount(arr.reshape(-1).astype(np.int64, copy=False)) if arr.size else np.zeros(0, np.int64)
        if c.size > total.size:
            c[: total.size] += total
            total = c
        else:
            total[: c.size] += c
    classes = np.flatnonzero(total)
    classes = classes[classes > 0].astype(np.int64)
    return classes, total[classes].astype(np.int64)
