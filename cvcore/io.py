"""Image and video input/output in cvcore's conventions (RGB, not BGR).

OpenCV reads and writes BGR; these helpers convert so that every array in
cvcore is RGB (or RGBA / grey).
"""
from __future__ import annotations

import os

import cv2
import numpy as np

__all__ = ["imread", "imwrite"]


def imread(path, *, grey=False):
    """Read an image file as an RGB (or grey) uint8/uint16 array.

    Parameters
    ----------
    path : str or os.PathLike
        File to read (any format OpenCV reads: PNG, JPEG, PGM, TIFF, ...).
    grey : bool
        Return a single-channel ``(H, W)`` image.

    Returns
    -------
    ndarray
        ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file exists but is not a readable image.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> imwrite(path, np.full((2, 3, 3), (255, 0, 0), np.uint8))
    >>> imread(path)[0, 0].tolist()
    [255, 0, 0]
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"image file not found: {path}")
    flag = cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_UNCHANGED
    data = np.fromfile(path, dtype=np.uint8)  # works with non-ASCII paths too
    img = cv2.imdecode(data, flag) if data.size else None
    if img is None:
        raise ValueError(f"cannot read {path!r} as an image (unsupported or corrupt file)")
    if img.ndim == 3:
        code = cv2.COLOR_BGRA2RGBA if img.shape[2] == 4 else cv2.COLOR_BGR2RGB
        img = cv2.cvtColor(img, code)
    return img


def imwrite(path, image):
    """Write an RGB/RGBA/grey array to an image file (format from the extension).

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> imwrite(os.path.join(tempfile.mkdtemp(), "grey.png"), np.zeros((4, 4), np.uint8))
    """
    path = os.fspath(path)
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        code = cv2.COLOR_RGBA2BGRA if arr.shape[2] == 4 else cv2.COLOR_RGB2BGR
        arr = cv2.cvtColor(np.ascontiguousarray(arr), code)
    ext = os.path.splitext(path)[1] or ".png"
    ok, buf = cv2.imencode(ext, arr)
    if not ok:
        raise ValueError(f"cannot encode an image of shape {arr.shape} and dtype {arr.dtype} as {ext}")
    buf.tofile(path)
