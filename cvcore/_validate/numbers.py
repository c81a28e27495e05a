"""Scalars and small arguments: numbers, integers, choices, pairs, flags, randomness."""
from __future__ import annotations

import numbers
import operator

import numpy as np

__all__ = ['random_state_alias', 'real', 'positive', 'non_negative', 'integer', 'boolean', 'choice', 'pair', 'optional_count', 'random_state']


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"array of dtype {value.dtype} and shape {value.shape}"
    return f"{type(value).__name__}"


def real(value, name, *, finite=True, low=None, high=None, low_inclusive=True, high_inclusive=True):
    """A real scalar (Python or NumPy number, not bool) as float, with optional bounds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "uif":
            value = value.item()
        else:
            raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    value = float(value)
    if finite and not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if np.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {op} {low}, got {value}")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ValueError(f"{name} must be {op} {high}, got {value}")
    return value


def positive(value, name, **kw):
    """A finite real number > 0."""
    return real(value, name, low=0.0, low_inclusive=False, **kw)


def non_negative(value, name, **kw):
    """A finite real number >= 0."""
    return real(value, name, low=0.0, **kw)


def integer(value, name, *, low=None, high=None):
    """A Python int (from any integral type, not bool or float) within bounds."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {_describe(value)}") from None
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def boolean(value, name):
    """A real bool (Python or NumPy); ``0``, ``1``, ``"false"`` and None are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_describe(value)}")
    return bool(value)


def choice(value, name, options):
    """One of ``options`` (strings compared case-insensitively)."""
    if isinstance(value, str):
        key = value.lower()
        for opt in options:
            if isinstance(opt, str) and opt.lower() == key:
                return opt
    elif value in options:
        return value
    raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")


def pair(value, name, convert):
    """A scalar or a length-2 sequence ``(for axis 0, for axis 1)`` converted by ``convert``."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a number or a pair of numbers, got {type(value).__name__}")
    if np.ndim(value) == 0:
        v = convert(value, name)
        return (v, v)
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{name} must be a number or a pair of numbers, got {_describe(value)}") from None
    if len(items) != 2:
        raise ValueError(f"{name} must be a number or a pair (axis 0, axis 1), got {len(items)} values")
    return (convert(items[0], name), convert(items[1], name))


def optional_count(value, name):
    """None (no limit) or an integer >= 0."""
    return None if value is None else integer(value, name, low=0)


def random_state(seed, name="random_state"):
    """A ``numpy.random.Generator`` from None, an int, or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    return np.random.default_rng(integer(seed, name, low=0))



def random_state_alias(random_state, seed, *, where, stacklevel=3):
    """Resolve ``random_state`` with the deprecated ``seed`` alias of ``where``.

    ``seed`` (when not None) warns with ``DeprecationWarning`` and is used;
    giving both is an error. Returns the raw value for :func:`random_state`.
    """
    if seed is None:
        return random_state
    import warnings

    if random_state is not None:
        raise TypeError(f"{where}: give random_state only (seed is its deprecated alias), not both")
    warnings.warn(f"{where}: 'seed' is deprecated, use 'random_state'", DeprecationWarning, stacklevel=stacklevel)
    return seed
