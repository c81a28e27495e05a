"""Shared estimator plumbing: scikit-learn's protocol without depending on scikit-learn.

``get_params`` / ``set_params`` read the explicit ``__init__`` arguments (as
``sklearn.base.clone`` expects), ``score`` is accuracy, and ``__sklearn_tags__``
marks the estimators as classifiers when scikit-learn asks (it imports
scikit-learn only then).
"""
from __future__ import annotations

import inspect

import numpy as np

from .. import _threads, _validate

#: most threads ``n_jobs`` may ask for (a model file with more is refused)
MAX_JOBS = 256
#: most classes a classifier stored in a model file may have
MAX_CLASSES = 4096


def check_n_jobs(n_jobs, name="n_jobs"):
    """None, -1 (all cores), -2 (all but one), ..., or 1..:data:`MAX_JOBS`."""
    if n_jobs is None:
        return None
    n_jobs = _validate.integer(n_jobs, name, low=-MAX_JOBS, high=MAX_JOBS)
    if n_jobs == 0:
        raise ValueError(f"{name} must be a positive number of threads, -1 (all cores) or None, got 0")
    return n_jobs


def n_threads(n_jobs):
    """Threads for a validated ``n_jobs``: None follows :func:`cvcore.get_num_threads`;
    negative counts back from the available cores (-1: all)."""
    if n_jobs is None:
        return _threads.get_num_threads()
    if n_jobs < 0:
        return max(1, _threads.available_cores() + 1 + n_jobs)
    return n_jobs


def stored_classes(value, name):
    """Class labels read back from a model file: 1-D, sorted, unique, at most :data:`MAX_CLASSES`."""
    arr = np.asarray(value)
    if arr.ndim != 1 or not 1 <= arr.shape[0] <= MAX_CLASSES:
        raise ValueError(f"{name} must be a 1-D array of 1 to {MAX_CLASSES} class labels, got shape {arr.shape}")
    if arr.dtype.kind not in "biuU":
        raise ValueError(f"{name} must hold integer, boolean or string labels, got dtype {arr.dtype}")
    if arr.shape[0] > 1 and not np.all(arr[1:] > arr[:-1]):
        raise ValueError(f"{name} must be sorted and unique (as fit stores them)")
    return arr


class ClassifierBase:
    """Base for cvcore classifiers (parameters, repr, accuracy score, sklearn tags)."""

    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values()
                      if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep=True):
        """Constructor parameters as a dict (scikit-learn protocol)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set constructor parameters (scikit-learn protocol); returns ``self``."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}; "
                                 f"valid parameters are {', '.join(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _check_fitted(self):
        if not hasattr(self, "classes_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet; call fit(X, y) first")

    def predict(self, X):
        """Most probable class of each row of ``X`` (first class on ties)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y):
        """Mean accuracy of ``predict(X)`` against ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y).reshape(-1)))

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags())
