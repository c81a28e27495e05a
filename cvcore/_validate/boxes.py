"""Boxes ``(x, y, w, h)`` as ``N x 4`` rows, and their scores."""
from __future__ import annotations

import numpy as np

from .arrays import array

__all__ = ['boxes', 'int_boxes', 'box_scores']


def boxes(value, name="boxes", *, dtype=np.float64):
    """An ``(N, 4)`` array of ``(x, y, w, h)`` boxes, finite, ``w, h >= 0``.

    A single box of shape ``(4,)`` and an empty list are accepted.
    """
    arr = array(value, name, ndim=(1, 2), allow_empty=True)
    if arr.ndim == 1:
        if arr.size == 0:
            arr = arr.reshape(0, 4)
        elif arr.shape[0] == 4:
            arr = arr.reshape(1, 4)
        else:
            raise ValueError(f"{name} must have shape (N, 4) as (x, y, w, h) rows, got shape {arr.shape}")
    if arr.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4) as (x, y, w, h) rows, got shape {arr.shape}")
    out = np.ascontiguousarray(arr, dtype=dtype)
    if out.dtype.kind == "f" and not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite values")
    if np.any(out[:, 2:] < 0):
        raise ValueError(f"{name} widths and heights (columns 2 and 3) must be >= 0")
    return out


def int_boxes(value, name="boxes", *, limit=2**31 - 1):
    """An ``(N, 4)`` int64 array of integer ``(x, y, w, h)`` boxes with ``w, h >= 0``.

    Float input is accepted when every value is integral. Every value must lie
    in ``[-limit, limit]``.
    """
    raw = array(value, name, ndim=None, kinds="uif", allow_empty=True)  # clear errors for ragged/None/str
    arr = boxes(raw, name, dtype=np.float64) if raw.dtype.kind == "f" else None
    if arr is not None:
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must contain integer values (round them first)")
    else:
        raw = array(raw, name, ndim=(1, 2), kinds="ui", allow_empty=True)
        if raw.ndim == 1:
            if raw.size not in (0, 4):
                raise ValueError(f"{name} must have shape (N, 4) as (x, y, w, h) rows, got shape {raw.shape}")
            raw = raw.reshape(-1, 4)
        if raw.shape[1] != 4:
            raise ValueError(f"{name} must have shape (N, 4) as (x, y, w, h) rows, got shape {raw.shape}")
        if raw.size and raw.dtype == np.uint64 and int(raw.max()) > limit:
            raise ValueError(f"{name} values must lie within [-{limit}, {limit}]")
        arr = raw
    if arr.size and (arr.max() > limit or arr.min() < -limit):
        raise ValueError(f"{name} values must lie within [-{limit}, {limit}]")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    if np.any(out[:, 2:] < 0):
        raise ValueError(f"{name} widths and heights (columns 2 and 3) must be >= 0")
    return out


def box_scores(value, n, name="scores"):
    """A finite float64 vector of length ``n`` (one score per box)."""
    arr = array(value, name, ndim=(0, 1), allow_empty=True)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be 1-D with one score per box, got a scalar")
    if arr.shape[0] != n:
        raise ValueError(f"{name} must have one value per box ({n}), got {arr.shape[0]}")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite values")
    return out
