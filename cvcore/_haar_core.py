"""Shared internals of the Haar feature family (:mod:`cvcore.haar`, :mod:`cvcore.cascade`).

One home each for: the validation of feature rectangles against their window
(what keeps the kernels inside their integral tables), the per-window integral
tables, OpenCV's variance normalisation factor and OpenCV's scale pyramid.
"""
from __future__ import annotations

import numpy as np

from . import _validate
from ._ext import _haar, _integral
from ._filtering import threads_for

#: Threshold on ``area * factor`` above which OpenCV calls a window flat and rejects it.
FLAT_LIMIT = 0.1


def read_only(arr):
    """``arr`` (a fresh or owned array) marked read-only, so validated data stays valid."""
    arr.setflags(write=False)
    return arr


def feature_rects(rects, weights, tilted, window, *, names=("rects", "weights", "tilted")):
    """Validate Haar feature rectangles against a ``(width, height)`` window.

    ``rects`` is ``(F, 3, 4)`` integer ``(x, y, w, h)``, ``weights`` ``(F, 3)``
    finite, ``tilted`` ``(F,)`` bool or None (all upright). The first two
    rectangles of every feature must carry a non-zero weight (the kernels always
    read them); a rectangle of weight 0 is unused and stored as zeros. A used
    upright rectangle must lie inside the window; a used tilted one (OpenCV's
    45-degree rectangle with corners ``(x, y)``, ``(x + w, y + w)``,
    ``(x - h, y + h)``, ``(x + w - h, y + w + h)``) too.

    Returns read-only ``(rects int32, weights float32, tilted bool)``.
    """
    rname, wname, tname = names
    win_w, win_h = window
    r = _validate.array(rects, rname, ndim=3, allow_empty=True)
    if r.shape[1:] != (3, 4):
        raise ValueError(f"{rname} must have shape (F, 3, 4) (three (x, y, w, h) rectangles per feature), "
                         f"got {r.shape}")
    n = r.shape[0]
    r = _validate.int_boxes(r.reshape(-1, 4), rname, limit=1 << 20).reshape(n, 3, 4)
    wt = _validate.array(weights, wname, ndim=(1, 2), allow_empty=True)
    if wt.size != 3 * n:
        raise ValueError(f"{wname} must have shape ({n}, 3) (a weight per rectangle), got {wt.shape}")
    with np.errstate(over="ignore"):
        wt = np.array(wt, dtype=np.float32).reshape(n, 3)
    if not np.all(np.isfinite(wt)):
        raise ValueError(f"{wname} must be finite (and fit float32)")
    if tilted is None:
        tl = np.zeros(n, bool)
    else:
        tl = np.asarray(tilted)
        if tl.dtype != np.bool_:
            tl = _validate.array(tl, tname, ndim=1, kinds="ui", allow_empty=True)
            if np.any((tl != 0) & (tl != 1)):
                raise ValueError(f"{tname} must hold booleans (or 0/1)")
        tl = np.array(tl, dtype=bool).reshape(-1)
        if tl.shape[0] != n:
            raise ValueError(f"{tname} must have one value per feature ({n}), got {tl.shape[0]}")
    used = wt != 0
    if n and not np.all(used[:, :2]):
        f = int(np.flatnonzero(~used[:, :2].all(axis=1))[0])
        raise ValueError(f"{wname}: feature {f} must give its first two rectangles a non-zero weight")
    x, y, w, h = (r[..., k] for k in range(4))
    up = used & ~tl[:, None]
    ti = used & tl[:, None]
    bad = up & ((x < 0) | (y < 0) | (w <= 0) | (h <= 0) | (x + w > win_w) | (y + h > win_h))
    bad |= ti & ((w <= 0) | (h <= 0) | (x - h < 0) | (x + w > win_w) | (y < 0) | (y + w + h > win_h))
    if np.any(bad):
        f, k = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"{rname}: feature {f} rectangle {k} {r[f, k].tolist()} lies outside the "
                         f"{win_w}x{win_h} window")
    r = np.where(used[..., None], r, 0).astype(np.int32)
    wt = np.where(used, wt, np.float32(0))
    return read_only(np.ascontiguousarray(r)), read_only(np.ascontiguousarray(wt)), read_only(tl)


#: dtypes whose window stacks are summed as one exact int64 table (no overflow for any stack).
_INT_TABLE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.int16))


def stack_tables(windows, *, squared=True, tilted=False, wrap=False):
    """Summed-area tables of an ``(n, H, W)`` window stack: ``(tables, row_step)``.

    With ``wrap`` (uint8 stacks only) the tables are uint32 and wrap modulo
    2**32: what the cascade engines read. A rectangle's four-corner difference,
    taken in uint32, is still its exact sum (at most ``255**2 * 65536 < 2**32``
    for a squared sum over a 256x256 window), in half the memory of int64.

    ``tables`` is ``(k, rows, W + 1)``: the sum, (with ``squared``) squared-sum
    and (with ``tilted``) 45-degree tables of :mod:`cvcore.integral`'s kernels,
    in which window i's top-left entry is row ``i * row_step``. uint8, uint16
    and int16 stacks are summed as one tall ``(n*H, W)`` image into exact int64
    tables (``row_step = H``; a rectangle inside a window only involves that
    window's pixels, tilted ones too). Other dtypes are summed in float64 one
    window at a time (``row_step = H + 1``), so no window's rounding depends on
    another's values.
    """
    n, h, w = windows.shape
    names = ("sum",) + (("sqsum",) if squared else ()) + (("tilted",) if tilted else ())
    if windows.dtype in _INT_TABLE_DTYPES:
        img = np.ascontiguousarray(windows).reshape(n * h, w)
        out = np.empty((len(names), n * h + 1, w + 1), np.uint32 if wrap else np.int64)
        first = 0
        if wrap and img.dtype == np.uint8:   # sum and squared sum on several threads
            _integral.sums_u8_u32(img, out[0], out[1 if squared else 0], squared,
                                  threads_for(n * h, 4 * img.size))
            first = 2 if squared else 1
        for k, name in enumerate(names[first:], first):
            getattr(_integral, f"{name}_table_int")(img, out[k], 1)
        return out, h
    img = np.ascontiguousarray(windows, dtype=np.float64)
    out = np.empty((len(names), n, h + 1, w + 1), np.float64)
    for k, name in enumerate(names):
        kernel = getattr(_integral, f"{name}_table_float")
        for i in range(n):
            kernel(img[i], out[k, i], 1)
    return out.reshape(len(names), n * (h + 1), w + 1), h + 1


def norm_factors(sums, sqsums, window, row_step, shape):
    """OpenCV's variance normalisation factors ``float32(1 / sqrt(A*sqsum - sum^2))``.

    ``sums``/``sqsums`` are 2-D tables; entry ``[i, j]`` of the ``shape`` result
    belongs to the window whose top-left table entry is ``(i * row_step, j)``
    (``row_step = H + 1`` for a window stack seen as one tall table, 1 for every
    position of an image). The sums run over the window shrunk by one pixel on
    every side (area ``A``); the factor is 0 where ``A*sqsum - sum^2 <= 0``.
    """
    out = np.empty(shape, np.float32)
    _haar.norm_factors(sums, sqsums, window[0], window[1], row_step, out)
    return out


def flat_windows(factors, window):
    """The windows OpenCV rejects before the first stage: no variance, or ``A * factor >= 0.1``."""
    area = float((window[0] - 2) * (window[1] - 2))
    return (factors == 0) | (area * factors.astype(np.float64) >= FLAT_LIMIT)


def engine_factors(factors, window):
    """``factors`` with 0 for the flat windows: what the cascade engine takes (0 means rejected)."""
    factors[flat_windows(factors, window)] = 0
    return factors


def stack_factors(windows, tables, row_step):
    """Normalisation factor of each window of an ``(n, H, W)`` stack, from its :func:`stack_tables`."""
    n, h, w = windows.shape
    return norm_factors(tables[0], tables[1], (w, h), row_step, (n, 1))[:, 0]


def corner_offsets(rects, stride):
    """(N, 12) int32 corner offsets (``p0 - p1 - p2 + p3`` order) of upright ``(N, 3, 4)`` rectangles
    into a flattened integral table of row ``stride``."""
    x, y, w, h = (rects[..., k].astype(np.int64) for k in range(4))
    o = np.stack([x + y * stride, x + w + y * stride, x + (y + h) * stride, x + w + (y + h) * stride], axis=-1)
    return np.ascontiguousarray(o.reshape(-1, 12), dtype=np.int32)


#: Largest number of windows handled by one feature-evaluation kernel call.
CHUNK_WINDOWS = 256


def feature_values(arr, is_integral, rects, weights, window, normalize, out):
    """Haar feature values of validated windows (or their integral tables) into ``out``.

    ``arr`` is ``(n, H, W)`` (or ``(n, H+1, W+1)`` integral tables), ``rects``
    and ``weights`` a validated feature table's arrays. Windows are processed in
    chunks (bounded memory; Ctrl-C is seen between chunks), each shared among
    OpenMP threads by window. ``out`` needs contiguous rows only.
    """
    width, height = window
    if rects.shape[0] == 0:
        return out
    offsets = corner_offsets(rects, width + 1)
    for start in range(0, arr.shape[0], CHUNK_WINDOWS):
        chunk = arr[start:start + CHUNK_WINDOWS]
        threads = threads_for(chunk.shape[0], chunk.shape[0] * rects.shape[0] * 4)
        scale = np.ones(chunk.shape[0])
        if is_integral:   # a stack of integral images is a table whose windows start every H+1 rows
            table = np.ascontiguousarray(chunk, dtype=np.float64).reshape(-1, width + 1)
            _haar.feature_values(table, height + 1, offsets, weights, scale, out, start, threads)
            continue
        normalise = normalize and width >= 3 and height >= 3
        tables, row_step = stack_tables(chunk, squared=normalise)
        if normalise:
            factors = stack_factors(chunk, tables, row_step)
            scale = np.where(factors > 0, factors, 1.0).astype(np.float64)   # no variance: raw values
        _haar.feature_values(tables[0], row_step, offsets, weights, scale, out, start, threads)
    return out


def scale_pyramid(image_size, window, scale_factor, min_size=None, max_size=None, start=1.0):
    """OpenCV's ``detectMultiScale`` scales: ``[(scale, (resized_w, resized_h)), ...]``.

    Scale ``start * f**k`` is kept while the window scaled by it (rounded half to
    even, ``cvRound``) fits the image and ``max_size``, and skipped when smaller
    than ``min_size``; the scale is used as float32 and the image is resized to
    ``cvRound(W / scale) x cvRound(H / scale)``, skipping sizes below the window.
    """
    W, H = image_size
    ww, wh = window
    max_w, max_h = max_size if max_size is not None else (W, H)
    min_w, min_h = min_size if min_size is not None else (0, 0)
    out = []
    factor = float(start)
    while True:
        win_w, win_h = round(ww * factor), round(wh * factor)
        if win_w > min(max_w, W) or win_h > min(max_h, H):
            return out
        if win_w >= min_w and win_h >= min_h:
            sc = np.float32(factor)
            sw, sh = int(np.rint(np.float32(W) / sc)), int(np.rint(np.float32(H) / sc))
            if sw >= ww and sh >= wh:
                out.append((sc, (sw, sh)))
        factor *= scale_factor
