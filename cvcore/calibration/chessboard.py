"""Chessboard inner corners, as ``cv2.findChessboardCorners`` + ``cv2.cornerSubPix`` find them.

The image is read through the input policy (integers divided by their dtype's
maximum, floats taken as they are on a nominal [0, 1] scale, BT.601 grey);
the detector itself (saddle points, a ring test, grid growth from a seed,
OpenCV's ordering, sub-pixel refinement) lives in the private module
``cvcore.calibration._detector``.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

from .. import _validate
from . import _detector

__all__ = ["NotFound", "find_chessboard_corners", "detect_chessboard_grid"]


@dataclasses.dataclass(frozen=True)
class NotFound:
    """Why :func:`find_chessboard_corners` returned no board.

    Attributes
    ----------
    code : str
        ``"no_pattern"`` (nothing board-like), ``"other_size"`` (a board of
        another size, see ``seen``), ``"partly_outside"`` (the grid runs past
        the image border), ``"too_blurry"`` (see ``sharpness``),
        ``"too_small"`` (squares too small for reliable corners, see
        ``spacing``), ``"ambiguous"`` (two boards of the requested size) or
        ``"inconsistent"`` (refined corners failed verification).
    message : str
        The same in words, for a user.
    seen : (cols, rows) or None
        Inner corners of the largest grid seen, when it explains the failure.
    sharpness : float or None
        Median edge width in pixels (10 %-90 % rise, like
        ``cv2.estimateChessboardSharpness``) of the grid seen.
    spacing : float or None
        Shortest distance in pixels from a corner to an edge not through it.
    """

    code: str
    message: str
    seen: Optional[tuple] = None
    sharpness: Optional[float] = None
    spacing: Optional[float] = None


def detect_chessboard_grid(image, *, max_size=60):
    """Largest chessboard-like grid of inner corners in ``image``, whatever its size.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Grey, RGB or RGBA image (see :func:`find_chessboard_corners`).
    max_size : int
        Stop growing the grid beyond this many corners per side.

    Returns
    -------
    corners : (R, C, 2) ndarray or None
        The grid in full-resolution pixels (not in OpenCV's order), or None.
    info : dict
        Diagnostics (candidate count, scale, grid shape, corner spacing).

    Examples
    --------
    >>> import numpy as np
    >>> board = np.kron((np.indices((5, 6)).sum(axis=0) % 2), np.ones((20, 20))) * 200 + 30
    >>> grid, info = detect_chessboard_grid(np.pad(board, 40, constant_values=230).astype(np.uint8))
    >>> sorted(grid.shape[:2]), info['candidates'] >= 20
    ([4, 5], True)
    """
    max_size = _validate.integer(max_size, "max_size", low=2, high=1000)
    return _detector.detect_grid(_detector.work_image(image), max_size)


def find_chessboard_corners(image, pattern_size, *, subpixel=True, return_reason=False):
    """Find the inner corners of a chessboard (``cv2.findChessboardCorners`` + ``cornerSubPix``).

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Grey (``(H, W)`` or ``(H, W, 1)``), RGB or RGBA image of any integer or
        float dtype, read through the input policy: integers are divided by
        their dtype's maximum, floats are taken as they are on a nominal
        [0, 1] scale (the detector is insensitive to the overall scale), colour
        becomes grey with BT.601 weights. At least 16 pixels each way.
    pattern_size : (cols, rows)
        Inner corners per row and per column, as OpenCV counts them (a board
        of 10 x 7 squares has 9 x 6 inner corners), at least 3 each as
        OpenCV requires. ``"9x6"`` also works.
    subpixel : bool
        Refine the corners to sub-pixel accuracy (gradient orthogonality in a
        window of half-size 11 pixels, as ``cornerSubPix(winSize=(11, 11))``,
        smaller where the squares are small: at most half the distance to the
        nearest edge that does not pass through the corner). Every refined
        corner is then verified: refinements started a pixel away, and with
        a window a pixel smaller, must land on it (within 0.75 and 1 px), and
        a homography fitted to its grid neighbours must predict it
        (to 0.5 px plus an allowance for lens distortion growing with the
        square of the spacing); one failure rejects the board. Boards whose
        corners lie within 3 pixels of an edge not through them are refused
        as too small. With ``subpixel=False`` the corners are the detector's
        candidates (about a pixel off), not verified.
    return_reason : bool
        Also return why no board was accepted (a :class:`NotFound`, or None
        when the board was found).

    Returns
    -------
    corners : (cols * rows, 2) float64 ndarray or None
        Corners row by row (``cols`` per row) in OpenCV's order, or None when
        no complete, unambiguous board of that size is found or its corners
        cannot be trusted (partial boards, boards of another size and
        inconsistent corners are rejected, never guessed).
    reason : NotFound or None
        Only with ``return_reason=True``.

    Raises
    ------
    ValueError, TypeError
        For an image that is not 2-D/3-D, has another channel count, holds
        NaN or infinity or is smaller than 16 x 16, and for a bad pattern size.

    Examples
    --------
    >>> import numpy as np
    >>> board = np.kron((np.indices((7, 10)).sum(axis=0) % 2), np.ones((20, 20))) * 200 + 30
    >>> image = np.pad(board, 40, constant_values=230).astype(np.uint8)
    >>> corners = find_chessboard_corners(image, (9, 6))
    >>> corners.shape
    (54, 2)
    >>> np.round(corners[0], 1).tolist()
    [59.5, 59.5]
    >>> find_chessboard_corners(image, (7, 5), return_reason=True)[1].message
    'a chessboard of another size was seen (9x6 inner corners visible, 7x5 requested)'
    """
    cols, rows = _validate.pattern_size(pattern_size, low=3)
    subpixel = _validate.boolean(subpixel, "subpixel")
    return_reason = _validate.boolean(return_reason, "return_reason")
    corners, verdict = _detector.locate(_detector.work_image(image), cols, rows, subpixel)
    if not return_reason:
        return corners
    if corners is not None:
        return corners, None
    return None, NotFound(verdict["code"], _detector.describe(verdict, cols, rows), verdict.get("seen"),
                          verdict.get("sharpness"), verdict.get("spacing"))
