"""Generic arrays: numeric arrays, vectors, feature matrices and class targets."""
from __future__ import annotations

import numpy as np

from .numbers import _describe

__all__ = ['array', 'vector', 'feature_matrix', 'class_targets']


#: dtypes images may have. Everything else (bool, complex, object, strings,
#: datetimes) is rejected with a TypeError naming the argument.
_REAL_KINDS = "uif"


def array(value, name, *, ndim=None, kinds=_REAL_KINDS, allow_bool=False, allow_empty=False):
    """Convert ``value`` to an ndarray and check its kind and dimensionality.

    ``ndim`` may be an int or a tuple of allowed ints. Bool input is rejected
    unless ``allow_bool`` (it is then returned as uint8). The result is *not*
    copied or made contiguous; see :func:`image` / :func:`float_image` for that.
    """
    if value is None:
        raise TypeError(f"{name} must be an array, got None")
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array ({exc})") from None
    if arr.dtype == np.bool_:
        if not allow_bool:
            raise TypeError(f"{name} must be a numeric array, got a boolean array")
        arr = arr.view(np.uint8)
    elif arr.dtype.kind not in kinds:
        raise TypeError(
            f"{name} must be a real numeric array (integer or floating point), got dtype {arr.dtype}"
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got {arr.ndim}-D array of shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return arr


def vector(value, name, length=None, *, dtype=np.float64, finite=True):
    """A 1-D array (of ``length`` if given) converted to ``dtype``, C-contiguous."""
    arr = array(value, name, ndim=1, allow_empty=length == 0 or length is None)
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {arr.shape[0]}")
    out = np.ascontiguousarray(arr, dtype=dtype)
    if finite and out.dtype.kind == "f" and not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite values")
    return out


def feature_matrix(value, name="X", *, dtype=np.float64, n_features=None):
    """An ``(n_samples, n_features)`` finite real matrix, C-contiguous in ``dtype``.

    A 1-D input is rejected (ambiguous: one sample or one feature?).
    ``n_features`` checks the column count against a fitted model.
    """
    arr = array(value, name, ndim=2, allow_bool=True)
    if arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one feature column, got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features, but the model was fitted with {n_features}")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow in the cast is reported below
        out = np.ascontiguousarray(arr, dtype=dtype)
    if out.dtype.kind == "f" and not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf) "
                         f"representable in {np.dtype(dtype)}")
    return out


def class_targets(value, n_samples, name="y"):
    """Class labels for ``n_samples`` rows: returns ``(classes, codes)``.

    ``classes`` are the sorted unique labels (any orderable dtype but object/complex
    floats that are NaN); ``codes`` index into ``classes`` as ``intp``.
    """
    if value is None:
        raise TypeError(f"{name} must be an array of class labels, got None")
    arr = np.asarray(value)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per sample), got shape {arr.shape}")
    if arr.shape[0] != n_samples:
        raise ValueError(f"{name} has {arr.shape[0]} labels but X has {n_samples} samples")
    if arr.dtype.kind not in "biuUS":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            pass
        else:
            raise TypeError(f"{name} must hold integer, boolean or string class labels, got dtype {arr.dtype}")
    classes, codes = np.unique(arr, return_inverse=True)
    return classes, np.ascontiguousarray(codes.reshape(-1), dtype=np.intp)
