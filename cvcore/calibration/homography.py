"""Plane-to-image homographies: Hartley-normalised DLT, optional geometric refinement.

The algorithm lives in the private ``cvcore.calibration._homography``, shared
with the calibration solver; this module checks the arguments.
"""
from __future__ import annotations

from .. import _validate
from . import _homography

__all__ = ["find_homography"]


def find_homography(src, dst, *, refine=True):
    """Homography ``H`` with ``dst ~ H @ src`` from point correspondences.

    Hartley's normalised direct linear transform (each point set moved to zero
    mean and mean distance sqrt(2) before the SVD), optionally followed by a
    Levenberg-Marquardt refinement of the geometric error in ``dst``. All
    points are used (no RANSAC): outliers are the caller's business.

    Parameters
    ----------
    src, dst : (N, 2) array_like
        Corresponding points, ``N >= 4``, not all collinear.
    refine : bool
        Minimise the reprojection error in ``dst`` after the DLT.

    Returns
    -------
    (3, 3) ndarray
        Normalised so that ``H[2, 2] == 1``.

    Raises
    ------
    ValueError
        On fewer than 4 points, or (nearly) collinear points.

    Examples
    --------
    >>> src = [[0, 0], [1, 0], [1, 1], [0, 1]]
    >>> dst = [[10, 20], [12, 20], [12, 22], [10, 22]]
    >>> (find_homography(src, dst).round(6) + 0.0).tolist()
    [[2.0, 0.0, 10.0], [0.0, 2.0, 20.0], [0.0, 0.0, 1.0]]
    """
    s = _validate.points(src, "src", min_count=4)
    d = _validate.points(dst, "dst", min_count=4)
    if s.shape[0] != d.shape[0]:
        raise ValueError(f"src and dst must hold the same number of points, got {s.shape[0]} and {d.shape[0]}")
    return _homography.homography(s, d, _validate.boolean(refine, "refine"))
