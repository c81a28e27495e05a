"""Region proposals: Felzenszwalb graph segmentation and selective search.

``felzenszwalb`` implements Felzenszwalb and Huttenlocher, "Efficient
Graph-Based Image Segmentation" (IJCV 2004). ``selective_search`` implements
Uijlings, van de Sande, Gevers and Smeulders, "Selective Search for Object
Recognition" (IJCV 2013) on top of it, and ``evaluate_proposals`` scores boxes
against ground truth (recall at an IoU threshold and MABO).

Colour handling in the graph segmentation
-----------------------------------------
Section 5 of the paper segments a colour image three times (once per channel)
and intersects the three segmentations. The authors' released code instead
builds one graph whose edge weights are Euclidean distances between the
smoothed RGB vectors, and so does scikit-image (since 0.13). cvcore follows the
released code: one graph over all channels with Euclidean colour distance.
"""
from __future__ import annotations

import numpy as np

from . import _validate
from ._ext import _graph

__all__ = ["felzenszwalb"]


def _smooth(img, sigma):
    if sigma <= 0:
        return img
    out = np.empty_like(img)
    _graph.gaussian_smooth(img, sigma, out)
    return out


def felzenszwalb(image, scale=1.0, sigma=0.8, min_size=20):
    """Felzenszwalb-Huttenlocher graph-based segmentation.

    Pixels are the nodes of an 8-connected grid graph whose edges weigh the
    Euclidean distance between the Gaussian-smoothed colours of their ends.
    Edges are visited in increasing weight and two components ``C1, C2`` are
    joined when ``w <= min(Int(C1) + scale / |C1|, Int(C2) + scale / |C2|)``,
    where ``Int`` is the largest edge weight inside a component (the paper's
    internal difference). Components smaller than ``min_size`` are then joined
    to a neighbour along the lightest remaining edges.

    Parameters
    ----------
    image : (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array_like
        Grey, RGB or RGBA image (alpha is ignored). Colour uses one graph with
        Euclidean colour distance (see the module notes). uint8 is read on its
        0..255 scale, uint16 as 0..65535, floats as 0..1 (scikit-image's
        convention).
    scale : float, optional
        The paper's ``k`` on a 0..255 intensity scale (as in
        ``skimage.segmentation.felzenszwalb``); larger gives larger segments.
        Must be >= 0.
    sigma : float, optional
        Standard deviation of the Gaussian smoothing applied per channel
        before building the graph ('reflect' border, truncated at 4 sigma);
        0 disables smoothing.
    min_size : int, optional
        Minimum segment size in pixels, enforced by post-processing (every
        segment has at least ``min_size`` pixels unless the image is smaller).

    Returns
    -------
    (H, W) ndarray of int32
        Labels ``0 .. n - 1``, numbered in raster order of first appearance.

    See Also
    --------
    skimage.segmentation.felzenszwalb, cv2.ximgproc.segmentation.createGraphSegmentation

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((20, 30), np.uint8)
    >>> image[:, 15:] = 200
    >>> labels = felzenszwalb(image, scale=100, sigma=0.5, min_size=10)
    >>> int(labels.max()) + 1, labels[0, 0], labels[0, -1]
    (2, 0, 1)
    """
    img = _validate.proposal_image(image, "image")
    scale = _validate.non_negative(scale, "scale")
    sigma = _validate.non_negative(sigma, "sigma")
    min_size = _validate.min_size(min_size, "min_size")
    return _felzenszwalb(img, scale, sigma, min_size)


def _felzenszwalb(img, k, sigma, min_size):
    """Kernel path for a validated float32 (H, W, C) image on a 0..255 scale."""
    height, width = img.shape[:2]
    ids, weights = _graph.sorted_edges(_smooth(img, sigma))
    labels = np.empty((height, width), np.int32)
    _graph.segment_sorted(ids, weights, height, width, k, min_size, labels)
    return labels
