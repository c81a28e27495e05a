"""Exact k-nearest-neighbour classifier with compiled search kernels."""
from __future__ import annotations

import math

import numpy as np

from .. import _validate
from .._threads import get_num_threads, kernel_threads
from .._ext import _knn
from . import _blocks
from ._base import ClassifierBase, stored_classes

__all__ = ["KNNClassifier", "MAX_NEIGHBORS", "MAX_STORED_SAMPLES"]

#: above this many features the k-d tree stops pruning well and brute force wins
#: (the same switch point scikit-learn's ``algorithm="auto"`` uses).
_KD_MAX_FEATURES = 15
#: memory budget (float64 entries) of one Gram block in the brute-force search
_GRAM_BLOCK = 1 << 21
#: largest ``n_neighbors`` accepted (from a user or a model file)
MAX_NEIGHBORS = 10_000
#: largest training set :meth:`KNNClassifier.from_arrays` accepts (rows)
MAX_STORED_SAMPLES = 20_000_000


class KNNClassifier(ClassifierBase):
    """k-nearest-neighbour vote with Euclidean distance, exact search.

    Stores the training set; a query takes the ``n_neighbors`` closest training
    points and votes. Search is a compiled k-d tree for up to 15 features and a
    blocked brute force (Gram blocks from BLAS, a bounded heap per query in
    Cython) above that, following scikit-learn's ``algorithm="auto"`` rule; both
    return identical neighbours. On exact distance ties the lower training index
    is preferred; ties in the vote go to the first class in ``classes_``.
    Queries are searched on :func:`cvcore.get_num_threads` OpenMP threads;
    results do not depend on the number.

    Parameters
    ----------
    n_neighbors : int
        Number of neighbours that vote (``1 <= n_neighbors <= n_samples``).
    weights : {"uniform", "distance"}
        ``"uniform"``: every neighbour counts 1. ``"distance"``: neighbours weigh
        ``1 / distance``; a query that coincides with training points takes the
        vote of those points only (scikit-learn's rule).
    algorithm : {"auto", "kd_tree", "brute"}
        Search strategy (all exact); ``"auto"`` picks by dimension.

    Attributes
    ----------
    classes_ : ndarray
        Sorted class labels seen in ``fit``.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [1.0, 1.0], [0.9, 1.0]])
    >>> clf = KNNClassifier(n_neighbors=1).fit(X, [0, 0, 1, 1])
    >>> clf.predict([[0.2, 0.1], [0.8, 0.9]]).tolist()
    [0, 1]
    """

    classes_: np.ndarray
    n_features_in_: int

    def __init__(self, n_neighbors=5, weights="uniform", algorithm="auto"):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm

    def _checked_params(self):
        k = _validate.integer(self.n_neighbors, "n_neighbors", low=1, high=MAX_NEIGHBORS)
        weights = _validate.choice(self.weights, "weights", ("uniform", "distance"))
        algorithm = _validate.choice(self.algorithm, "algorithm", ("auto", "kd_tree", "brute"))
        return k, weights, algorithm

    def fit(self, X, y):
        """Store the training set (and build the k-d tree when used).

        Parameters
        ----------
        X : (n_samples, n_features) array_like
            Training features (finite).
        y : (n_samples,) array_like
            Class labels.

        Returns
        -------
        self
        """
        k, _, algorithm = self._checked_params()
        X = _validate.feature_matrix(X, "X")
        classes, codes = _validate.class_targets(y, X.shape[0])
        return self._store(X, codes, classes, k, algorithm)

    def _store(self, X, codes, classes, k, algorithm):
        """Keep a validated training set (C-contiguous float64 X, intp codes into classes)."""
        n, d = X.shape
        if k > n:
            raise ValueError(f"n_neighbors must be <= the number of training samples ({n}), got {k}")
        if algorithm == "auto":
            algorithm = "kd_tree" if d <= _KD_MAX_FEATURES and k < max(n // 2, 1) else "brute"
        self.classes_ = classes
        self.n_features_in_ = d
        self._y = codes
        self._method = algorithm
        if algorithm == "brute":
            self._X = X
            self._sq = np.einsum("ij,ij->i", X, X)
        else:
            leaf_size = 30
            n_levels = 1 + int(math.floor(math.log2(max(1.0, (n - 1) / leaf_size))))
            n_nodes = 2 ** n_levels - 1
            perm = np.arange(n, dtype=np.intp)
            start = np.empty(n_nodes, np.intp)
            end = np.empty(n_nodes, np.intp)
            lo = np.empty((n_nodes, d), np.float64)
            hi = np.empty((n_nodes, d), np.float64)
            for level in range(n_levels):  # one call per level: Ctrl-C is served between levels
                _knn.kdtree_build(X, perm, start, end, lo, hi, 2**level - 1, 2 ** (level + 1) - 1)
            self._tree = (np.ascontiguousarray(X[perm]), perm, start, end, lo, hi)
        return self

    # ---- flat representation (for model files) --------------------------------

    def to_arrays(self):
        """The fitted classifier as plain arrays: ``X`` (training set, float64),
        ``y`` (int64 indices into ``classes``) and ``classes``.

        Examples
        --------
        >>> clf = KNNClassifier(n_neighbors=1).fit([[0.0], [1.0]], [3, 5])
        >>> {k: v.tolist() for k, v in clf.to_arrays().items()}
        {'X': [[0.0], [1.0]], 'y': [0, 1], 'classes': [3, 5]}
        """
        self._check_fitted()
        if self._method == "brute":
            X = self._X
        else:
            Xt, perm = self._tree[0], self._tree[1]
            X = np.empty_like(Xt)
            X[perm] = Xt
        return {"X": X, "y": self._y.astype(np.int64), "classes": self.classes_}

    @classmethod
    def from_arrays(cls, arrays, **params):
        """Rebuild a fitted classifier from :meth:`to_arrays` output (validated).

        ``params`` are constructor arguments, checked exactly as :meth:`fit`
        checks them. ``X`` must be finite, ``y`` integers indexing ``classes``
        (no truncation or wrap-around), at most :data:`MAX_STORED_SAMPLES` rows.
        The result predicts exactly as the classifier that was saved.

        Examples
        --------
        >>> a = KNNClassifier(n_neighbors=1).fit([[0.0], [1.0]], [3, 5])
        >>> KNNClassifier.from_arrays(a.to_arrays(), n_neighbors=1).predict([[0.9]]).tolist()
        [5]
        """
        if not isinstance(arrays, dict):
            raise TypeError(f"arrays must be a dict of arrays, got {type(arrays).__name__}")
        model = cls(**params)
        k, _, algorithm = model._checked_params()
        strict = _validate.modelfile.strict_array
        try:
            X = strict(arrays["X"], "knn X", dtype=np.float64, shape=(None, None), max_size=1 << 31)
            n = X.shape[0]
            if not 1 <= n <= MAX_STORED_SAMPLES or X.shape[1] < 1:
                raise ValueError(f"knn X must have 1 to {MAX_STORED_SAMPLES} rows and at least one column, "
                                 f"got shape {X.shape}")
            classes = stored_classes(arrays["classes"], "knn classes")
            y = strict(arrays["y"], "knn y", dtype=np.int64, shape=(n,), max_size=n)
        except KeyError as exc:
            raise ValueError(f"knn arrays are missing {exc.args[0]!r}") from None
        if (y.min() < 0 or y.max() >= classes.shape[0]):
            raise ValueError(f"knn y must index classes (0 to {classes.shape[0] - 1})")
        return model._store(X, y.astype(np.intp), classes, k, algorithm)

    # ---- search -------------------------------------------------------------------

    def _query(self, X):
        """Validated queries, their row blocks, and a search of rows ``a:b`` into given arrays."""
        self._check_fitted()
        k = _validate.integer(self.n_neighbors, "n_neighbors", low=1, high=MAX_NEIGHBORS)
        Q = _validate.feature_matrix(X, "X", n_features=self.n_features_in_)
        n_train = self._y.shape[0]
        if k > n_train:
            raise ValueError(f"n_neighbors must be <= the number of training samples ({n_train}), got {k}")
        nq = Q.shape[0]
        threads = kernel_threads(get_num_threads())
        if self._method == "brute":
            # Gram blocks on a fixed grid: each row's BLAS product (and so its result) is the same
            sq_q = np.einsum("ij,ij->i", Q, Q)
            step = max(1, _GRAM_BLOCK // n_train)
            blocks = ((s, min(nq, s + step)) for s in range(0, nq, step))

            def search(a, b, dist, ind):
                gram = np.ascontiguousarray(Q[a:b] @ self._X.T)
                _knn.select_from_gram(gram, self._sq, sq_q[a:b], 0, dist, ind, threads)
        else:
            blocks = _blocks.timed_blocks(nq, first=256 * threads)
            Xt, perm, start, end, lo, hi = self._tree

            def search(a, b, dist, ind):
                _knn.kdtree_query(Xt, perm, start, end, lo, hi, Q[a:b], dist, ind, threads)
        return nq, k, blocks, search

    def kneighbors(self, X):
        """Distances and training indices of the ``n_neighbors`` nearest points.

        Returns
        -------
        dist : (n_queries, n_neighbors) float64
            Euclidean distances, ascending.
        ind : (n_queries, n_neighbors) intp
            Indices into the training set.

        Examples
        --------
        >>> clf = KNNClassifier(n_neighbors=2).fit([[0.0], [1.0], [3.0]], [0, 1, 1])
        >>> d, i = clf.kneighbors([[0.9]])
        >>> i.tolist(), np.round(d, 3).tolist()
        ([[1, 0]], [[0.1, 0.9]])
        """
        nq, k, blocks, search = self._query(X)
        dist = np.empty((nq, k), np.float64)
        ind = np.empty((nq, k), np.intp)
        for a, b in blocks:
            search(a, b, dist[a:b], ind[a:b])
        return np.sqrt(dist), ind

    def predict_proba(self, X):
        """Vote shares of each class, columns ordered as ``classes_``.

        Queries are searched in blocks from Python, so Ctrl-C stops a
        prediction on millions of pixels within a fraction of a second and
        memory stays bounded by the block.

        Examples
        --------
        >>> clf = KNNClassifier(n_neighbors=3).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        >>> clf.predict_proba([[0.4]]).round(3).tolist()
        [[0.667, 0.333]]
        """
        _, weights, _ = self._checked_params()
        nq, k, blocks, search = self._query(X)
        proba = np.empty((nq, self.classes_.shape[0]), np.float64)
        for a, b in blocks:
            dist = np.empty((b - a, k), np.float64)
            ind = np.empty((b - a, k), np.intp)
            search(a, b, dist, ind)
            _knn.vote(ind, dist, self._y, weights == "distance", proba[a:b])
        return proba
