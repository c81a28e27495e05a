"""Drawing: boxes with scores and labels, text, label-map overlays, colour sets.

Every function takes any image through the input policy
(:func:`cvcore._validate.uint8_image`: integers divided by their dtype's
maximum, floats on a nominal [0, 1] scale, alpha dropped, grey shown as RGB),
so a 16-bit or float image is drawn as it looks, never rescaled by its own
maximum. Results are ``(H, W, 3)`` uint8 RGB copies; pass ``out=`` (an
``(H, W, 3)`` uint8 C-contiguous array, possibly the input itself) to draw in
place, as a figure that is built up call by call does.

Colours are RGB triples of ints in 0..255. Coordinates follow cvcore's
convention: a box ``(x, y, w, h)`` covers columns ``x .. x + w - 1`` and rows
``y .. y + h - 1``; boxes partly or wholly outside the image are clipped.
"""
from __future__ import annotations

import cv2
import numpy as np

from . import _validate

__all__ = ["LABEL_COLOURS", "spread_colours", "draw_boxes", "draw_text", "overlay_labels"]

#: Colours (RGB) of classes 1, 2, ... in :func:`overlay_labels` (class k uses entry (k - 1) % 10).
LABEL_COLOURS = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (255, 225, 25), (145, 30, 180),
                 (70, 240, 240), (245, 130, 48), (240, 50, 230), (210, 245, 60), (128, 128, 128))

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_MAX_THICKNESS = 100


def spread_colours(n):
    """``n`` distinct RGB colours, hues evenly spread from red through green to blue.

    Parameters
    ----------
    n : int
        Number of colours, >= 0.

    Returns
    -------
    (n, 3) uint8 ndarray

    Examples
    --------
    >>> spread_colours(3).tolist()
    [[210, 45, 45], [67, 210, 45], [45, 84, 210]]
    """
    n = _validate.integer(n, "n", low=0, high=1 << 20)
    hsv = np.empty((1, n, 3), np.uint8)
    hsv[0, :, 0] = (170 * np.arange(n) // max(n, 1)).astype(np.uint8)  # OpenCV hue 0..179; stop short of red again
    hsv[0, :, 1] = 200
    hsv[0, :, 2] = 210
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0] if n else np.zeros((0, 3), np.uint8)


def _canvas(image, out):
    """The RGB uint8 array to draw on: a copy of ``image``, or ``out`` filled with it."""
    rgb = _validate.uint8_image(image, "image")
    if rgb.ndim == 2:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB)
    if out is None:
        return rgb.copy()
    if (not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != rgb.shape
            or not out.flags.c_contiguous or not out.flags.writeable):
        raise ValueError(f"out must be a writeable C-contiguous uint8 array of shape {rgb.shape}")
    if not np.shares_memory(out, rgb):
        out[...] = rgb
    return out


def _colour(value, name):
    arr = _validate.array(value, name, ndim=1)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 255:
        raise ValueError(f"{name} must be an (R, G, B) triple of values in 0..255, got {value!r}")
    return tuple(int(round(float(c))) for c in arr)


def _colours(value, n, name):
    """One colour per box from a single colour or an ``(n, 3)`` array."""
    arr = _validate.array(value, name, ndim=(1, 2), allow_empty=True)
    if arr.ndim == 1:
        return [_colour(arr, name)] * n
    if arr.shape != (n, 3):
        raise ValueError(f"{name} must be one (R, G, B) colour or one per box, shape ({n}, 3); got {arr.shape}")
    return [_colour(c, f"{name}[{i}]") for i, c in enumerate(arr)]


def _thickness(value, name="thickness"):
    t = _validate.integer(value, name, low=-1, high=_MAX_THICKNESS)
    if t == 0:
        raise ValueError(f"{name} must be 1..{_MAX_THICKNESS} pixels, or -1 for filled; got 0")
    return t


def _text_scale(value, name="font_scale"):
    return _validate.real(value, name, low=0.05, high=20.0)


def _put(canvas, text, x, y, colour, scale, thickness):
    cv2.putText(canvas, text, (x, y), _FONT, scale, colour, thickness, cv2.LINE_AA)


def draw_boxes(image, boxes, scores=None, labels=None, *, colour=(0, 255, 0), thickness=2, font_scale=0.45,
               out=None):
    """Draw ``(x, y, w, h)`` boxes, with their scores and labels, on an image.

    Parameters
    ----------
    image : (H, W), (H, W, 3) or (H, W, 4) array_like
        Any dtype (input policy).
    boxes : (N, 4) array_like of int
        ``(x, y, w, h)`` rows (detections, proposals). Drawn in order, so the
        last box is on top.
    scores : (N,) array_like, optional
        Written above each box (3 significant digits).
    labels : sequence of N str, optional
        Written above each box, before the score.
    colour : (3,) or (N, 3) array_like
        One RGB colour, or one per box.
    thickness : int
        Line width in pixels (1..100), or -1 for filled boxes.
    font_scale : float
        Size of the score and label text (OpenCV's Hershey font scale).
    out : ndarray, optional
        Draw into this ``(H, W, 3)`` uint8 array instead of a copy.

    Returns
    -------
    (H, W, 3) uint8 ndarray
        RGB image with the boxes (``out`` when given).

    Examples
    --------
    >>> import numpy as np
    >>> img = draw_boxes(np.zeros((20, 30), np.uint8), [[2, 3, 10, 8]], thickness=1)
    >>> img.shape, img[3, 2].tolist(), img[10, 11].tolist(), img[5, 5].tolist()
    ((20, 30, 3), [0, 255, 0], [0, 255, 0], [0, 0, 0])
    """
    canvas = _canvas(image, out)
    arr = _validate.int_boxes(boxes, "boxes")
    n = len(arr)
    score_values = None if scores is None else _validate.box_scores(scores, n, "scores")
    if labels is not None:
        if isinstance(labels, str) or len(labels) != n:
            raise ValueError(f"labels must be a sequence of one string per box ({n})")
        labels = [str(s) for s in labels]
    cols = _colours(colour, n, "colour")
    thickness = _thickness(thickness)
    font_scale = _text_scale(font_scale)
    h, w = canvas.shape[:2]
    margin = max(thickness, 1) + 1  # clipped corners stay just outside the image, so clipped sides are not drawn
    x0 = np.clip(arr[:, 0], -margin, w + margin)
    y0 = np.clip(arr[:, 1], -margin, h + margin)
    x1 = np.clip(arr[:, 0] + arr[:, 2] - 1, -margin, w + margin)
    y1 = np.clip(arr[:, 1] + arr[:, 3] - 1, -margin, h + margin)
    text_h = int(round(22 * font_scale))
    for i in range(n):
        if arr[i, 2] == 0 or arr[i, 3] == 0:
            continue
        cv2.rectangle(canvas, (int(x0[i]), int(y0[i])), (int(x1[i]), int(y1[i])), cols[i], thickness, cv2.LINE_8)
        parts = ([labels[i]] if labels is not None else []) + (
            [f"{score_values[i]:.3g}"] if score_values is not None else [])
        if parts:
            ty = int(y0[i]) - 4 if y0[i] - 4 >= text_h else int(y0[i]) + text_h + 2  # inside when no room above
            _put(canvas, " ".join(parts), int(max(x0[i], 0)), ty, cols[i], font_scale, 1)
    return canvas


def draw_text(image, text, origin, *, colour=(0, 0, 0), font_scale=0.5, thickness=1, out=None):
    """Write a line of text (anti-aliased Hershey font) on an image.

    Parameters
    ----------
    image : (H, W), (H, W, 3) or (H, W, 4) array_like
        Any dtype (input policy).
    text : str
        One line (ASCII; OpenCV's fonts have no other glyphs).
    origin : (int, int)
        ``(x, y)`` of the bottom-left corner of the text.
    colour : (3,) array_like
        RGB colour.
    font_scale : float
        Text size (about ``22 * font_scale`` pixels high).
    thickness : int
        Stroke width, 1..100.
    out : ndarray, optional
        Draw into this ``(H, W, 3)`` uint8 array instead of a copy.

    Returns
    -------
    (H, W, 3) uint8 ndarray

    Examples
    --------
    >>> import numpy as np
    >>> img = draw_text(np.full((30, 80, 3), 255, np.uint8), "cvcore", (4, 20))
    >>> bool((img < 128).any())
    True
    """
    canvas = _canvas(image, out)
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    x, y = _validate.pair(origin, "origin", lambda v, name: _validate.integer(v, name, low=-(1 << 20),
                                                                                 high=1 << 20))
    thickness = _validate.integer(thickness, "thickness", low=1, high=_MAX_THICKNESS)
    _put(canvas, text.replace("\n", " "), x, y, _colour(colour, "colour"), _text_scale(font_scale), thickness)
    return canvas


def overlay_labels(image, labels, *, alpha=0.5, colours=LABEL_COLOURS):
    """Blend each class's colour over an image; label 0 (unlabelled) is left as it is.

    Parameters
    ----------
    image : (H, W), (H, W, 3) or (H, W, 4) array_like
        Any dtype (input policy: a uint16 image is divided by 65535, not by
        its own maximum).
    labels : (H, W) array_like of int
        Label map: 0 = unlabelled, 1..K = class (as ``PixelSegmenter.predict``
        and ``cvcore segment`` write them).
    alpha : float
        Opacity of the class colours in [0, 1].
    colours : (M, 3) array_like
        RGB colour of class k is ``colours[(k - 1) % M]``.

    Returns
    -------
    (H, W, 3) uint8 ndarray

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((2, 2), 65535, np.uint16)
    >>> overlay_labels(img, np.array([[0, 1], [2, 2]]), alpha=1.0).tolist()[0]
    [[255, 255, 255], [230, 25, 75]]
    """
    canvas = _canvas(image, None)
    lab = _validate.array(labels, "labels", ndim=2, kinds="ui", allow_bool=True)
    if lab.shape != canvas.shape[:2]:
        raise ValueError(f"labels must have the image's shape {canvas.shape[:2]}, got {lab.shape}")
    if lab.size and lab.min() < 0:
        raise ValueError("labels must be >= 0 (0 = unlabelled, 1..K = class)")
    alpha = _validate.real(alpha, "alpha", low=0.0, high=1.0)
    table = _validate.array(colours, "colours", ndim=2)
    if table.shape[1] != 3 or len(table) == 0:
        raise ValueError(f"colours must have shape (M, 3) with M >= 1, got {table.shape}")
    table = np.array([_colour(c, f"colours[{i}]") for i, c in enumerate(table)], np.float64)
    labelled = lab > 0
    k = (lab[labelled].astype(np.int64) - 1) % len(table)
    blend = (1 - alpha) * canvas[labelled] + alpha * table[k]
    canvas[labelled] = np.clip(np.floor(blend + 0.5), 0, 255).astype(np.uint8)
    return canvas
