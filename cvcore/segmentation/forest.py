"""Random forest of CART trees (Gini) with compiled growth and prediction."""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import _validate
from .._ext import _forest
from ._base import ClassifierBase

__all__ = ["RandomForestClassifier"]

_INT32_MAX = 2**31 - 1
#: packed node record of the prediction kernel (threshold, feature, left child)
_NODE_DTYPE = np.dtype([("threshold", np.float64), ("feature", np.int32), ("left", np.int32)])


def _n_threads(n_jobs):
    if n_jobs is None:
        return 1
    n_jobs = _validate.integer(n_jobs, "n_jobs")
    if n_jobs == 0:
        raise ValueError("n_jobs must be a positive integer, -1 (all cores) or None, got 0")
    if n_jobs < 0:
        import os

        return max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return n_jobs


class RandomForestClassifier(ClassifierBase):
    """Random forest classifier: bagged CART trees with random feature subsets.

    Each tree is grown on a bootstrap sample (drawn with replacement, kept as
    per-sample counts) and, at each node, tries a random subset of
    ``max_features`` features, splitting at the best Gini threshold found by
    sorting the node's samples on each of them. Prediction averages the trees'
    leaf class distributions (soft voting), like scikit-learn's
    ``RandomForestClassifier``. Growth and prediction are compiled (Cython);
    the trees are stored as flat arrays (see :meth:`to_arrays`).

    Parameters
    ----------
    n_estimators : int
        Number of trees.
    max_depth : int or None
        Maximum tree depth (None: grow until leaves are pure or too small).
    max_features : {"sqrt", "log2"}, int, float or None
        Features tried per node: ``sqrt(F)``, ``log2(F)``, a count, a fraction
        of ``F``, or all (None).
    min_samples_leaf : int
        Minimum number of (distinct) training samples in a leaf.
    bootstrap : bool
        Grow each tree on a bootstrap sample (else on all samples).
    random_state : None, int or numpy.random.Generator
        Seed; the same seed gives the same forest (whatever ``n_jobs``).
    n_jobs : int or None
        Threads used to grow trees and predict (None: 1; -1: all cores).

    Attributes
    ----------
    classes_ : ndarray
        Sorted class labels.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_importances_ : (n_features,) ndarray
        Mean decrease in Gini impurity, normalised to sum 1.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
    >>> clf = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    >>> int(np.argmax(clf.feature_importances_))
    0
    """

    def __init__(self, n_estimators=100, max_depth=None, max_features="sqrt", min_samples_leaf=1,
                 bootstrap=True, random_state=None, n_jobs=None):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.bootstrap = bootstrap
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _resolve_max_features(self, n_features):
        mf = self.max_features
        if mf is None:
            return n_features
        if isinstance(mf, str):
            mf = _validate.choice(mf, "max_features", ("sqrt", "log2"))
            f = math.sqrt(n_features) if mf == "sqrt" else math.log2(n_features)
            return max(1, int(f))
        if isinstance(mf, (float, np.floating)):
            frac = _validate.real(mf, "max_features", low=0.0, high=1.0, low_inclusive=False)
            return max(1, int(frac * n_features))
        return min(_validate.integer(mf, "max_features", low=1), n_features)

    def fit(self, X, y):
        """Grow the forest.

        Parameters
        ----------
        X : (n_samples, n_features) array_like
            Training features (finite; computed in float32 like scikit-learn).
        y : (n_samples,) array_like
            Class labels.

        Returns
        -------
        self
        """
        n_trees = _validate.integer(self.n_estimators, "n_estimators", low=1, high=100_000)
        max_depth = (_INT32_MAX if self.max_depth is None
                     else _validate.integer(self.max_depth, "max_depth", low=1))
        msl = _validate.integer(self.min_samples_leaf, "min_samples_leaf", low=1)
        if not isinstance(self.bootstrap, (bool, np.bool_)):
            raise TypeError(f"bootstrap must be a bool, got {type(self.bootstrap).__name__}")
        threads = _n_threads(self.n_jobs)
        X = _validate.feature_matrix(X, "X", dtype=np.float32)
        classes, codes = _validate.class_targets(y, X.shape[0])
        n, d = X.shape
        if n > _INT32_MAX // 2:
            raise ValueError(f"X has too many samples ({n}); at most {_INT32_MAX // 2} are supported")
        max_features = self._resolve_max_features(d)
        rng = _validate.random_state(self.random_state)
        XT = np.ascontiguousarray(X.T)
        K = classes.shape[0]

        # draw every tree's sample and seed up front: the result is independent of n_jobs
        jobs = []
        for _ in range(n_trees):
            if self.bootstrap:
                weight = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
                samples = np.flatnonzero(weight).astype(np.intp)
            else:
                weight = np.ones(n, np.float64)
                samples = np.arange(n, dtype=np.intp)
            seed = int(rng.integers(0, 2**63 - 1))
            jobs.append((weight, samples, seed))

        def grow(job):
            weight, samples, seed = job
            return _forest.grow_tree(XT, codes, weight, samples, K, max_depth, msl, max_features, seed)

        if threads > 1:
            with ThreadPoolExecutor(threads) as pool:
                trees = list(pool.map(grow, jobs))
        else:
            trees = [grow(job) for job in jobs]

        importances = np.zeros(d, np.float64)
        n_used = 0
        for feature, _, _, _, _, gain, node_w in trees:
            split = feature >= 0
            if not np.any(split):
                continue
            imp = np.bincount(feature[split], weights=gain[split], minlength=d)
            imp /= node_w[0]
            total = imp.sum()
            if total > 0:
                imp /= total
            importances += imp
            n_used += 1
        if n_used and importances.sum() > 0:
            importances /= importances.sum()

        self.classes_ = classes
        self.n_features_in_ = d
        self.feature_importances_ = importances
        self._set_flat(trees)
        return self

    def _set_flat(self, trees):
        sizes = np.array([t[0].shape[0] for t in trees], np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        if sizes.sum() > _INT32_MAX:
            raise ValueError("the forest has too many nodes for int32 indices; limit max_depth")
        self._roots = offsets.astype(np.int32)
        self._feature = np.concatenate([t[0] for t in trees]).astype(np.int32)
        self._threshold = np.concatenate([t[1] for t in trees])
        left, right = [], []
        for (f, _, lft, rgt, *_), off in zip(trees, offsets):
            left.append(np.where(lft >= 0, lft + off, -1))
            right.append(np.where(rgt >= 0, rgt + off, -1))
        self._left = np.concatenate(left).astype(np.int32)
        self._right = np.concatenate(right).astype(np.int32)
        self._value = np.ascontiguousarray(np.concatenate([t[4] for t in trees]))
        self._nodes = None

    # ---- flat representation (for model files) --------------------------------

    def to_arrays(self):
        """The fitted forest as a dict of plain arrays (no pickling needed).

        Keys: ``roots``, ``feature``, ``threshold``, ``left``, ``right``, ``value``,
        ``classes``, ``feature_importances``. Node indices are global over the
        concatenated trees; a leaf has ``left == right == -1``.
        """
        self._check_fitted()
        return {"roots": self._roots, "feature": self._feature, "threshold": self._threshold,
                "left": self._left, "right": self._right, "value": self._value,
                "classes": self.classes_, "feature_importances": self.feature_importances_}

    @classmethod
    def from_arrays(cls, arrays, **params):
        """Rebuild a fitted forest from :meth:`to_arrays` output (validated).

        Examples
        --------
        >>> import numpy as np
        >>> X = np.arange(20.0).reshape(10, 2); y = [0] * 5 + [1] * 5
        >>> a = RandomForestClassifier(n_estimators=3, random_state=1).fit(X, y)
        >>> b = RandomForestClassifier.from_arrays(a.to_arrays())
        >>> bool(np.all(a.predict_proba(X) == b.predict_proba(X)))
        True
        """
        try:
            roots = np.asarray(arrays["roots"])
            feature = np.asarray(arrays["feature"])
            threshold = np.asarray(arrays["threshold"])
            left = np.asarray(arrays["left"])
            right = np.asarray(arrays["right"])
            value = np.asarray(arrays["value"])
            classes = np.asarray(arrays["classes"])
            importances = np.asarray(arrays["feature_importances"])
        except KeyError as exc:
            raise ValueError(f"forest arrays are missing {exc.args[0]!r}") from None
        ints = (roots, feature, left, right)
        if any(a.ndim != 1 or a.dtype != np.int32 for a in ints):
            raise ValueError("forest arrays roots/feature/left/right must be 1-D int32")
        n_nodes = feature.shape[0]
        if (threshold.shape != (n_nodes,) or left.shape != (n_nodes,) or right.shape != (n_nodes,)
                or value.ndim != 2 or value.shape[0] != n_nodes or threshold.dtype != np.float64
                or value.dtype != np.float64):
            raise ValueError("forest arrays have inconsistent shapes or dtypes")
        if classes.ndim != 1 or classes.shape[0] != value.shape[1] or classes.shape[0] < 1:
            raise ValueError("forest classes do not match the node value columns")
        d = importances.shape[0]
        if importances.ndim != 1 or d < 1:
            raise ValueError("forest feature_importances must be a non-empty 1-D array")
        if roots.shape[0] < 1 or np.any(roots < 0) or np.any(roots >= n_nodes):
            raise ValueError("forest roots must index existing nodes")
        split = left >= 0
        if np.any((right >= 0) != split) or np.any(feature[split] < 0) or np.any(feature[split] >= d):
            raise ValueError("forest nodes reference invalid features or children")
        # children must point strictly forward: traversal then always terminates
        idx = np.arange(n_nodes)
        if np.any(left[split] <= idx[split]) or np.any(right[split] <= idx[split]) \
                or np.any(left[split] >= n_nodes) or np.any(right[split] >= n_nodes):
            raise ValueError("forest children must point to later nodes within the array")
        if np.any(right[split] != left[split] + 1):
            raise ValueError("forest children must be adjacent (right == left + 1)")
        if not np.all(np.isfinite(threshold)) or not np.all(np.isfinite(value)):
            raise ValueError("forest thresholds and values must be finite")
        model = cls(**params)
        model.classes_ = classes
        model.n_features_in_ = d
        model.feature_importances_ = importances.astype(np.float64)
        model._roots = np.ascontiguousarray(roots)
        model._feature = np.ascontiguousarray(feature)
        model._threshold = np.ascontiguousarray(threshold)
        model._left = np.ascontiguousarray(left)
        model._right = np.ascontiguousarray(right)
        model._value = np.ascontiguousarray(value)
        model._nodes = None
        return model

    # ---- prediction -------------------------------------------------------------

    def _flat(self):
        return (self._roots, self._feature, self._threshold, self._left, self._right)

    def _packed(self):
        packed = getattr(self, "_nodes", None)
        if packed is None or packed.shape[0] != self._feature.shape[0]:
            packed = np.empty(self._feature.shape[0], _NODE_DTYPE)
            if not _forest.pack_nodes(self._feature, self._threshold, self._left, self._right, packed):
                raise ValueError("forest arrays must store the two children of a node next to each other "
                                 "(right == left + 1)")
            self._nodes = packed
        return packed

    def predict_proba(self, X):
        """Mean of the trees' leaf class distributions, columns as ``classes_``.

        Examples
        --------
        >>> clf = RandomForestClassifier(n_estimators=5, random_state=0).fit([[0.0], [1.0]], [0, 1])
        >>> clf.predict_proba([[0.1]]).shape
        (1, 2)
        """
        self._check_fitted()
        X = _validate.feature_matrix(X, "X", dtype=np.float32, n_features=self.n_features_in_)
        out = np.empty((X.shape[0], self._value.shape[1]), np.float64)
        roots, nodes = self._roots, self._packed()
        threads = _n_threads(self.n_jobs)
        if threads > 1 and X.shape[0] >= 4096:
            bounds = np.linspace(0, X.shape[0], threads + 1).astype(int)

            def run(i):
                a, b = bounds[i], bounds[i + 1]
                _forest.forest_predict_proba(X[a:b], roots, nodes, self._value, out[a:b])

            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(run, range(threads)))
        else:
            _forest.forest_predict_proba(X, roots, nodes, self._value, out)
        return out

    def apply(self, X):
        """Index of the leaf reached in each tree, ``(n_samples, n_estimators)`` (global node ids)."""
        self._check_fitted()
        X = _validate.feature_matrix(X, "X", dtype=np.float32, n_features=self.n_features_in_)
        out = np.empty((X.shape[0], self._roots.shape[0]), np.int32)
        _forest.forest_apply(X, *self._flat(), out)
        return out
