"""Random forest of CART trees (Gini) with compiled growth and prediction."""
from __future__ import annotations

import math

import numpy as np

from .. import _validate
from .._ext import _forest
from .._progress import progress_reporter
from .._threads import kernel_threads
from . import _blocks
from ._base import ClassifierBase, check_n_jobs, n_threads, stored_classes

__all__ = ["RandomForestClassifier", "MAX_ESTIMATORS"]

_INT32_MAX = 2**31 - 1
#: largest ``n_estimators`` accepted (from a user or a model file)
MAX_ESTIMATORS = 100_000
#: work units (sample values gathered and sorted) per call of the tree-growing kernel:
#: about 0.05 s, so that Ctrl-C is served between calls even on a tree of millions of pixels
_GROW_STEP = 1 << 21


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
        Threads used to grow trees (one tree per thread) and to predict (blocks
        of rows per thread): None follows :func:`cvcore.get_num_threads`, 1 to
        256, or -1 for all cores (-2 all but one, ...). Results do not depend
        on it.

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

    classes_: np.ndarray
    n_features_in_: int
    feature_importances_: np.ndarray

    def __init__(self, n_estimators=100, max_depth=None, max_features="sqrt", min_samples_leaf=1,
                 bootstrap=True, random_state=None, n_jobs=None):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.bootstrap = bootstrap
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _checked_params(self):
        """The constructor arguments, validated (for ``fit`` and for model files alike)."""
        mf = self.max_features
        if isinstance(mf, str):
            mf = _validate.choice(mf, "max_features", ("sqrt", "log2"))
        elif isinstance(mf, (float, np.floating)):
            mf = _validate.real(mf, "max_features", low=0.0, high=1.0, low_inclusive=False)
        elif mf is not None:
            mf = _validate.integer(mf, "max_features", low=1, high=_INT32_MAX)
        rs = self.random_state
        if not (rs is None or isinstance(rs, (np.random.Generator, np.random.RandomState))):
            rs = _validate.integer(rs, "random_state", low=0)
        return {
            "n_estimators": _validate.integer(self.n_estimators, "n_estimators", low=1, high=MAX_ESTIMATORS),
            "max_depth": (None if self.max_depth is None
                          else _validate.integer(self.max_depth, "max_depth", low=1, high=_INT32_MAX)),
            "max_features": mf,
            "min_samples_leaf": _validate.integer(self.min_samples_leaf, "min_samples_leaf", low=1,
                                                  high=_INT32_MAX),
            "bootstrap": _validate.boolean(self.bootstrap, "bootstrap"),
            "random_state": rs,
            "n_jobs": check_n_jobs(self.n_jobs),
        }

    @staticmethod
    def _resolve_max_features(mf, n_features):
        if mf is None:
            return n_features
        if isinstance(mf, str):
            f = math.sqrt(n_features) if mf == "sqrt" else math.log2(n_features)
            return max(1, int(f))
        if isinstance(mf, float):
            return max(1, int(mf * n_features))
        return min(mf, n_features)

    def fit(self, X, y, progress=None):
        """Grow the forest.

        Parameters
        ----------
        X : (n_samples, n_features) array_like
            Training features (finite; computed in float32 like scikit-learn).
        y : (n_samples,) array_like
            Class labels.
        progress : None, bool or callable
            Progress over the trees (see :mod:`cvcore._progress`): None shows a
            bar on a terminal only, a callable gets ``(done, total, description)``.

        Returns
        -------
        self

        Notes
        -----
        Ctrl-C stops the growth within a fraction of a second (trees are grown
        in pieces), raising ``KeyboardInterrupt``; the estimator is unchanged.
        """
        params = self._checked_params()
        n_trees = params["n_estimators"]
        max_depth = _INT32_MAX if params["max_depth"] is None else params["max_depth"]
        msl = params["min_samples_leaf"]
        threads = n_threads(params["n_jobs"])
        X = _validate.feature_matrix(X, "X", dtype=np.float32)
        classes, codes = _validate.class_targets(y, X.shape[0])
        n, d = X.shape
        if n > _INT32_MAX // 2:
            raise ValueError(f"X has too many samples ({n}); at most {_INT32_MAX // 2} are supported")
        max_features = self._resolve_max_features(params["max_features"], d)
        rng = _validate.random_state(params["random_state"])
        XT = np.empty((d, n), np.float32)  # transposed in row blocks: interruptible on millions of rows
        _blocks.for_blocks(n, lambda a, b: np.copyto(XT[:, a:b], X[a:b].T), first=4096)
        K = classes.shape[0]

        def draws():
            # every tree's sample and seed come from rng in tree order, in this thread:
            # the forest does not depend on n_jobs, and only a few trees' draws are held at once
            for _ in range(n_trees):
                if params["bootstrap"]:
                    weight = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
                    samples = np.flatnonzero(weight).astype(np.intp)
                else:
                    weight = np.ones(n, np.float64)
                    samples = np.arange(n, dtype=np.intp)
                yield weight, samples, int(rng.integers(0, 2**63 - 1))

        # a few trees grow at once, one OpenMP thread each, in budgeted steps (Ctrl-C is
        # served between steps); a finished tree makes room for the next one
        trees = [None] * n_trees
        pending = enumerate(draws())
        active = []
        with progress_reporter(n_trees, "growing trees", progress) as bar:
            while True:
                while len(active) < threads:
                    job = next(pending, None)
                    if job is None:
                        break
                    i, (weight, samples, seed) = job
                    active.append((i, _forest.TreeGrower(XT, codes, weight, samples, K, max_depth, msl,
                                                         max_features, seed)))
                if not active:
                    break
                _forest.grow_steps([g for _, g in active], _GROW_STEP, kernel_threads(min(threads, len(active))))
                for i, g in active:
                    if g.done:
                        trees[i] = g.result()
                        bar.update(1)
                active = [(i, g) for i, g in active if not g.done]

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

        Examples
        --------
        >>> clf = RandomForestClassifier(n_estimators=2, random_state=0).fit([[0.0], [1.0]], [0, 1])
        >>> sorted(clf.to_arrays())
        ['classes', 'feature', 'feature_importances', 'left', 'right', 'roots', 'threshold', 'value']
        """
        self._check_fitted()
        return {"roots": self._roots, "feature": self._feature, "threshold": self._threshold,
                "left": self._left, "right": self._right, "value": self._value,
                "classes": self.classes_, "feature_importances": self.feature_importances_}

    @classmethod
    def from_arrays(cls, arrays, **params):
        """Rebuild a fitted forest from :meth:`to_arrays` output (validated).

        ``params`` are constructor arguments, checked exactly as :meth:`fit`
        checks them; ``n_estimators`` (when given) must equal the number of
        trees. Integer arrays must hold int32 values and float arrays finite
        numbers (no truncation or wrap-around); the node structure is checked so
        that prediction always terminates inside the arrays.

        Raises
        ------
        ValueError
            Naming the array or parameter that is wrong.

        Examples
        --------
        >>> X = np.arange(20.0).reshape(10, 2); y = [0] * 5 + [1] * 5
        >>> a = RandomForestClassifier(n_estimators=3, random_state=1).fit(X, y)
        >>> b = RandomForestClassifier.from_arrays(a.to_arrays(), n_estimators=3)
        >>> bool(np.all(a.predict_proba(X) == b.predict_proba(X)))
        True
        """
        if not isinstance(arrays, dict):
            raise TypeError(f"arrays must be a dict of arrays, got {type(arrays).__name__}")
        model = cls(**params)
        checked = model._checked_params()
        strict = _validate.modelfile.strict_array
        try:
            roots = strict(arrays["roots"], "forest roots", dtype=np.int32, shape=(None,), max_size=MAX_ESTIMATORS)
            feature = strict(arrays["feature"], "forest feature", dtype=np.int32, shape=(None,),
                             max_size=_INT32_MAX)
            n_nodes = feature.shape[0]
            left = strict(arrays["left"], "forest left", dtype=np.int32, shape=(n_nodes,), max_size=n_nodes)
            right = strict(arrays["right"], "forest right", dtype=np.int32, shape=(n_nodes,), max_size=n_nodes)
            threshold = strict(arrays["threshold"], "forest threshold", dtype=np.float64, shape=(n_nodes,),
                               max_size=n_nodes)
            classes = stored_classes(arrays["classes"], "forest classes")
            K = classes.shape[0]
            value = strict(arrays["value"], "forest value", dtype=np.float64, shape=(n_nodes, K),
                           max_size=n_nodes * K)
            importances = strict(arrays["feature_importances"], "forest feature_importances",
                                 dtype=np.float64, shape=(None,), max_size=_INT32_MAX)
        except KeyError as exc:
            raise ValueError(f"forest arrays are missing {exc.args[0]!r}") from None
        if "n_estimators" not in params:
            model.n_estimators = int(roots.shape[0])
        elif roots.shape[0] != checked["n_estimators"]:
            raise ValueError(f"forest has {roots.shape[0]} trees but n_estimators={checked['n_estimators']}")
        d = importances.shape[0]
        if d < 1 or np.any(importances < 0):
            raise ValueError("forest feature_importances must be a non-empty array of non-negative numbers")
        if n_nodes < 1 or roots.shape[0] < 1 or np.any(roots < 0) or np.any(roots >= n_nodes):
            raise ValueError("forest roots must index existing nodes")
        if np.any(value < 0) or not np.allclose(value.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError("forest value rows must be class distributions (non-negative, summing to 1)")
        split = left >= 0
        if np.any((right >= 0) != split) or np.any(feature[split] < 0) or np.any(feature[split] >= d):
            raise ValueError("forest nodes reference invalid features or children")
        # children must point strictly forward: traversal then always terminates
        idx = np.arange(n_nodes)
        if np.any(left[split] <= idx[split]) or np.any(right[split] >= n_nodes):
            raise ValueError("forest children must point to later nodes within the array")
        if np.any(right[split] != left[split] + 1):
            raise ValueError("forest children must be adjacent (right == left + 1)")
        model.classes_ = classes
        model.n_features_in_ = d
        model.feature_importances_ = importances
        model._roots = roots
        model._feature = feature
        model._threshold = threshold
        model._left = left
        model._right = right
        model._value = value
        model._nodes = None
        return model

    # ---- prediction -------------------------------------------------------------

    def _packed(self):
        """The node arrays of the prediction kernel (float32 threshold, feature offset, left child), cached."""
        packed = getattr(self, "_nodes", None)
        n = self._feature.shape[0]
        if packed is None or packed[0].shape[0] != n:
            packed = (np.empty(n, np.float32), np.empty(n, np.int32), np.empty(n, np.int32))
            if not _forest.pack_nodes(self._feature, self._threshold, self._left, self._right, *packed):
                raise ValueError(f"the forest's nodes cannot be packed for prediction (children not adjacent, "
                                 f"or a feature index of {_forest.MAX_PACKED_FEATURES} or more)")
            self._nodes = packed
        return packed

    def predict_proba(self, X):
        """Mean of the trees' leaf class distributions, columns as ``classes_``.

        Rows are processed in blocks from Python (Ctrl-C stops a prediction on
        millions of pixels within a fraction of a second); each row's result
        does not depend on the blocking.

        Examples
        --------
        >>> clf = RandomForestClassifier(n_estimators=5, random_state=0).fit([[0.0], [1.0]], [0, 1])
        >>> clf.predict_proba([[0.1]]).shape
        (1, 2)
        """
        self._check_fitted()
        threads = n_threads(check_n_jobs(self.n_jobs))
        X = _validate.feature_matrix(X, "X", dtype=np.float32, n_features=self.n_features_in_)
        out = np.empty((X.shape[0], self._value.shape[1]), np.float64)
        roots, nodes, value = self._roots, self._packed(), self._value

        def work(a, b):
            _forest.forest_predict_proba(X[a:b], roots, *nodes, value, out[a:b], kernel_threads(threads))

        _blocks.for_blocks(X.shape[0], work, first=256 * threads)
        return out

    def apply(self, X):
        """Index of the leaf reached in each tree, ``(n_samples, n_estimators)`` (global node ids).

        Examples
        --------
        >>> clf = RandomForestClassifier(n_estimators=3, random_state=0).fit([[0.0], [1.0]], [0, 1])
        >>> clf.apply([[0.0], [1.0]]).shape
        (2, 3)
        """
        self._check_fitted()
        X = _validate.feature_matrix(X, "X", dtype=np.float32, n_features=self.n_features_in_)
        out = np.empty((X.shape[0], self._roots.shape[0]), np.int32)
        flat = (self._roots, self._feature, self._threshold, self._left, self._right)

        def work(a, b):
            _forest.forest_apply(X[a:b], *flat, out[a:b])

        _blocks.for_blocks(X.shape[0], work)
        return out
