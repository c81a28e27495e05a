"""Exact k-nearest-neighbour classifier with compiled search kernels."""
from __future__ import annotations

import math

import numpy as np

from .. import _validate
from .._ext import _knn
from ._base import ClassifierBase

__all__ = ["KNNClassifier"]

#: above this many features the k-d tree stops pruning well and brute force wins
#: (the same switch point scikit-learn's ``algorithm="auto"`` uses).
_KD_MAX_FEATURES = 15
#: memory budget (float64 entries) of one Gram block in the brute-force search
_GRAM_BLOCK = 1 << 21


class KNNClassifier(ClassifierBase):
    """k-nearest-neighbour vote with Euclidean distance, exact search.

    Stores the training set; a query takes the ``n_neighbors`` closest training
    points and votes. Search is a compiled k-d tree for up to 15 features and a
    blocked brute force (Gram blocks from BLAS, a bounded heap per query in
    Cython) above that, following scikit-learn's ``algorithm="auto"`` rule; both
    return identical neighbours. On exact distance ties the lower training index
    is preferred; ties in the vote go to the first class in ``classes_``.

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

    def __init__(self, n_neighbors=5, weights="uniform", algorithm="auto"):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm

    def _checked_params(self):
        k = _validate.integer(self.n_neighbors, "n_neighbors", low=1)
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
            _knn.kdtree_build(X, perm, n_levels, start, end, lo, hi)
            self._tree = (np.ascontiguousarray(X[perm]), perm, start, end, lo, hi)
        return self

    def _training_set(self):
        """(X, y codes) in the original order (for model files)."""
        self._check_fitted()
        if self._method == "brute":
            return self._X, self._y
        Xt, perm = self._tree[0], self._tree[1]
        X = np.empty_like(Xt)
        X[perm] = Xt
        return X, self._y

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
        sq, ind = self._kneighbors_sq(X)
        return np.sqrt(sq), ind

    def _kneighbors_sq(self, X):
        self._check_fitted()
        k = _validate.integer(self.n_neighbors, "n_neighbors", low=1)
        Q = _validate.feature_matrix(X, "X", n_features=self.n_features_in_)
        n_train = self._y.shape[0]
        if k > n_train:
            raise ValueError(f"n_neighbors must be <= the number of training samples ({n_train}), got {k}")
        nq = Q.shape[0]
        dist = np.empty((nq, k), np.float64)
        ind = np.empty((nq, k), np.intp)
        if self._method == "brute":
            sq_q = np.einsum("ij,ij->i", Q, Q)
            block = max(1, _GRAM_BLOCK // n_train)
            for s in range(0, nq, block):
                gram = Q[s:s + block] @ self._X.T
                _knn.select_from_gram(np.ascontiguousarray(gram), self._sq, sq_q, s, dist, ind)
        else:
            Xt, perm, start, end, lo, hi = self._tree
            _knn.kdtree_query(Xt, perm, start, end, lo, hi, Q, dist, ind)
        return dist, ind

    def predict_proba(self, X):
        """Vote shares of each class, columns ordered as ``classes_``.

        Examples
        --------
        >>> clf = KNNClassifier(n_neighbors=3).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        >>> clf.predict_proba([[0.4]]).round(3).tolist()
        [[0.667, 0.333]]
        """
        _, weights, _ = self._checked_params()
        sq, ind = self._kneighbors_sq(X)
        proba = np.empty((ind.shape[0], self.classes_.shape[0]), np.float64)
        _knn.vote(ind, sq, self._y, weights == "distance", proba)
        return proba
