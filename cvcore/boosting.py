"""Boosting of decision stumps: discrete AdaBoost (Viola & Jones 2001, Table 1) and Gentle AdaBoost.

Discrete AdaBoost: each round picks the single feature, threshold and polarity with the smallest
weighted error, found exactly from the feature values sorted once up front
(:func:`presort`; the sort is reused by every round). Sample weights start at
``1 / (2 m)`` for each of the ``m`` negatives and ``1 / (2 l)`` for each of the
``l`` positives, are normalised to sum to one before every round, and are
multiplied by ``beta = err / (1 - err)`` when a sample is classified correctly.
The strong classifier is ``sum_t alpha_t h_t(x) >= threshold`` with
``alpha_t = log(1 / beta_t)``; the paper's default threshold is half the sum
of the alphas.

Gentle AdaBoost (:class:`GentleStumpBooster`, :class:`GentleCategoryBooster`;
Friedman, Hastie & Tibshirani 2000) fits regression stumps with real-valued
leaves instead. Stumps over threshold features search the sorted values; over
categorical features (LBP codes) the 256 categories are split into two
subsets. The searches run on cvcore's threads and do not depend on their
number.
"""
from __future__ import annotations

import numpy as np

from . import _validate
from ._ext import _boost
from ._threads import get_num_threads, kernel_threads

__all__ = ["presort", "StumpBooster", "GentleStumpBooster", "CategoryBooster", "GentleCategoryBooster", "AdaBoost"]

_MAX_SAMPLES = 65535   # sample indices are stored as uint16 to halve memory traffic
#: Values handled per sort or stump-search call: bounded memory, and Ctrl-C is seen between calls.
_CHUNK_VALUES = 1 << 22


def _feature_chunks(n_features, n_samples):
    step = max(1, _CHUNK_VALUES // max(n_samples, 1))
    return [(start, min(start + step, n_features)) for start in range(0, n_features, step)]


def _initial_weights(labels, n):
    """Validated int8 0/1 labels of ``n`` samples and Viola-Jones's initial weights (half per class)."""
    labels = np.asarray(labels)
    if labels.dtype == np.bool_:
        labels = labels.astype(np.int8)
    y = _validate.vector(labels, "labels", n)
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must contain only 0 and 1")
    y = y.astype(np.int8)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("labels must contain both positives (1) and negatives (0)")
    return y, np.where(y == 1, 1.0 / (2 * n_pos), 1.0 / (2 * n_neg))


def presort(values):
    """Sort every feature column once, for reuse by all boosting rounds.

    Parameters
    ----------
    values : (n_samples, n_features) array_like
        Feature values (converted to float32), ``n_samples <= 65535``.

    Returns
    -------
    sorted_values : (n_features, n_samples) float32 ndarray
        Each feature's values in increasing order.
    order : (n_features, n_samples) uint16 ndarray
        The sample index of each sorted value.

    Examples
    --------
    >>> sv, order = presort([[3.0, 1.0], [2.0, 5.0]])
    >>> sv.tolist(), order.tolist()
    ([[2.0, 3.0], [1.0, 5.0]], [[1, 0], [0, 1]])
    """
    x = _validate.array(values, "values", ndim=2)
    n, f = x.shape
    if n > _MAX_SAMPLES:
        raise ValueError(f"values must have at most {_MAX_SAMPLES} rows (samples), got {n}")
    x = np.asarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError("values must contain only finite values")
    sorted_values = np.empty((f, n), np.float32)
    order = np.empty((f, n), np.uint16)
    threads = kernel_threads(get_num_threads())
    for start, stop in _feature_chunks(f, n):
        # a stable radix sort per feature (ties keep sample order, as numpy's stable argsort)
        _boost.presort_rows(np.ascontiguousarray(x[:, start:stop].T), sorted_values[start:stop],
                            order[start:stop], threads)
    return sorted_values, order


class _Weights:
    """Sample weights shared by the boosters: labels, Viola-Jones's initial weights (half per class),
    normalised to sum one before every round."""

    def _init_weights(self, labels, n):
        self.labels, self.weights = _initial_weights(labels, n)
        self._sign = np.where(self.labels == 1, 1.0, -1.0)

    def _normalise(self):
        self.weights /= self.weights.sum()

    def _discrete_update(self, predicted, err):
        """Discrete AdaBoost: correctly classified samples' weights times ``beta``; returns ``alpha``."""
        err = float(np.clip(err, 1e-10, 1 - 1e-10))
        beta = err / (1.0 - err)
        self.weights[predicted == self.labels] *= beta
        return float(np.log(1.0 / beta))

    def _gentle_update(self, values):
        """Gentle AdaBoost: ``w *= exp(-y f(x))`` with labels ``y = +-1``."""
        self.weights *= np.exp(-self._sign * values)


class _SortedStumps(_Weights):
    """Stump search over pre-sorted values (validated once), in feature blocks so that Ctrl-C is seen
    between kernel calls; a later block wins only with a strictly smaller error, as inside a call."""

    _gentle = False

    def __init__(self, sorted_values, order, labels):
        sv = _validate.array(sorted_values, "sorted_values", ndim=2)
        order = _validate.array(order, "order", ndim=2, kinds="ui")
        if sv.shape != order.shape:
            raise ValueError("sorted_values and order must be 2-D arrays of the same shape (from presort)")
        if sv.shape[1] > _MAX_SAMPLES:
            raise ValueError(f"sorted_values must have at most {_MAX_SAMPLES} columns (samples), got {sv.shape[1]}")
        # the kernel indexes samples by `order`: every value must be a sample index
        if order.min() < 0 or order.max() >= order.shape[1]:
            raise ValueError(f"order must hold sample indices in [0, {order.shape[1] - 1}] (from presort)")
        with np.errstate(over="ignore", invalid="ignore"):
            self.sorted_values = np.ascontiguousarray(sv, dtype=np.float32)
        if not np.all(np.isfinite(self.sorted_values)):
            raise ValueError("sorted_values must contain only finite values (in float32)")
        self.order = np.ascontiguousarray(order, dtype=np.uint16)
        self._init_weights(labels, self.sorted_values.shape[1])
        self.stumps = []
        self._result = np.zeros(5)

    def below(self, feature, threshold):
        """Boolean ``value < threshold`` of feature ``feature`` (a row of ``sorted_values``) on the
        training samples: the samples a stump sends to its first leaf."""
        feature = _validate.integer(feature, "feature", low=0, high=self.order.shape[0] - 1)
        threshold = _validate.real(threshold, "threshold")
        below = np.zeros(self.labels.size, bool)
        k = np.searchsorted(self.sorted_values[feature], np.float32(threshold), side="left")
        below[self.order[feature][:k]] = True
        return below

    def _search(self):
        """``(feature, threshold, a, b, error)`` of the best stump (see ``_boost.best_stump``)."""
        self._normalise()
        threads = kernel_threads(get_num_threads())
        best = None
        for start, stop in _feature_chunks(*self.sorted_values.shape):
            _boost.best_stump(self.sorted_values[start:stop], self.order[start:stop], self.weights,
                              self.labels, self._gentle, threads, self._result)
            if best is None or self._result[4] < best[4]:
                best = (start + int(self._result[0]), *self._result[1:])
        if not np.isfinite(best[4]):
            raise ValueError("no feature takes two different values on the samples: nothing to split on")
        return best[0], float(np.float32(best[1])), best[2], best[3], best[4]


class StumpBooster(_SortedStumps):
    """Round-by-round discrete AdaBoost over pre-sorted feature values.

    Parameters
    ----------
    sorted_values, order : ndarray
        From :func:`presort`.
    labels : (n_samples,) array_like of {0, 1}
        1 for positives (faces).

    Attributes
    ----------
    weights : (n_samples,) float64 ndarray
        Current sample weights (normalised before each round).
    stumps : list of tuple
        ``(feature, threshold, polarity, alpha)`` per round; polarity +1 means
        "positive when value < threshold", -1 "positive when value >= threshold".

    Notes
    -----
    The search runs on cvcore's threads (:func:`cvcore.set_num_threads`); the
    stump found does not depend on their number.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> booster = StumpBooster(*presort(X), labels=[1, 1, 0, 0])
    >>> feature, threshold, polarity, alpha = booster.step()
    >>> feature, threshold, polarity
    (0, 1.5, 1)
    """

    def predict_stump(self, feature, threshold, polarity):
        """0/1 output of a stump on the training samples.

        ``feature`` indexes the rows of ``sorted_values``; ``polarity`` is +1
        (face below the threshold) or -1.
        """
        polarity = _validate.choice(polarity, "polarity", (1, -1))
        return self._predict(feature, threshold, polarity)

    def _predict(self, feature, threshold, polarity):
        below = self.below(feature, threshold)
        return (below if polarity > 0 else ~below).astype(np.int8)

    def step(self):
        """Run one boosting round; returns ``(feature, threshold, polarity, alpha)``."""
        feature, threshold, polarity, _, err = self._search()
        polarity = int(polarity)
        alpha = self._discrete_update(self._predict(feature, threshold, polarity), err)
        stump = (feature, threshold, polarity, alpha)
        self.stumps.append(stump)
        return stump


class GentleStumpBooster(_SortedStumps):
    """Round-by-round Gentle AdaBoost (Friedman, Hastie & Tibshirani 2000) of regression stumps.

    Each round fits the stump ``f(x) = left if value < threshold else right``
    that minimises the weighted squared error to the labels ``y = +-1``
    (each leaf is the weighted mean label of its samples), then multiplies
    every weight by ``exp(-y f(x))``. The strong classifier is
    ``sum_t f_t(x) >= threshold``. Real-valued leaves let a cascade stage reach
    its hit and false-alarm rates with fewer stumps than discrete AdaBoost
    (OpenCV's ``traincascade`` default, ``-bt GAB``).

    Parameters
    ----------
    sorted_values, order : ndarray
        From :func:`presort`.
    labels : (n_samples,) array_like of {0, 1}
        1 for positives (faces).

    Attributes
    ----------
    weights : (n_samples,) float64 ndarray
        Current sample weights (normalised before each round).
    stumps : list of tuple
        ``(feature, threshold, left, right)`` per round.

    Raises
    ------
    ValueError
        From :meth:`step`, when no feature takes two values on the samples.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> booster = GentleStumpBooster(*presort(X), labels=[1, 1, 0, 1])
    >>> feature, threshold, left, right = booster.step()
    >>> feature, threshold, round(left, 3), round(right, 3)
    (0, 1.5, 1.0, -0.5)
    """

    _gentle = True

    def values(self, feature, threshold, left, right):
        """The stump's output ``f(x)`` on the training samples."""
        return np.where(self.below(feature, threshold), _validate.real(left, "left"), _validate.real(right, "right"))

    def step(self):
        """Run one boosting round; returns ``(feature, threshold, left, right)``."""
        feature, threshold, left, right, _ = self._search()
        self._gentle_update(np.where(self.below(feature, threshold), left, right))
        stump = (feature, threshold, float(left), float(right))
        self.stumps.append(stump)
        return stump


class _CategoryStumps(_Weights):
    def __init__(self, codes, labels):
        c = _validate.array(codes, "codes", ndim=2, kinds="u")
        if c.dtype != np.uint8:
            raise TypeError(f"codes must have dtype uint8, got {c.dtype}")
        self.codes = np.ascontiguousarray(c)
        self._init_weights(labels, self.codes.shape[1])
        self.rounds = []

    def _histograms(self, start, stop, both):
        """Signed and (with ``both``) absolute weight per category of features ``start .. stop``."""
        k = stop - start
        hs = np.empty((k, 256))
        hw = np.empty((k if both else 0, 256))
        _boost.category_histograms(self.codes[start:stop], self._sign * self.weights, self.weights, hs, hw,
                                   kernel_threads(get_num_threads()))
        return hs, hw

    def predict(self, feature, subset):
        """0/1 output of ``subset`` (256 booleans) on feature ``feature`` of the training samples."""
        return np.asarray(subset, bool)[self.codes[feature]].astype(np.int8)


class CategoryBooster(_CategoryStumps):
    """Round-by-round discrete AdaBoost over categorical features (LBP codes, 256 categories).

    The same weighting as :class:`StumpBooster`; a weak classifier says
    "positive" when the feature's category is in a subset. For a feature, the
    subset with the smallest weighted error holds the categories where the
    positives' weight exceeds the negatives', and that error is
    ``(1 - sum_c |W+(c) - W-(c)|) / 2`` (weights normalised to sum 1).

    Parameters
    ----------
    codes : (n_features, n_samples) uint8 array_like
        Category of every sample for every feature (feature-major).
    labels : (n_samples,) array_like of {0, 1}
        1 for positives.

    Examples
    --------
    >>> codes = np.array([[3, 3, 7, 9], [1, 2, 1, 2]], np.uint8)
    >>> booster = CategoryBooster(codes, labels=[1, 1, 0, 0])
    >>> feature, subset, alpha = booster.step()
    >>> feature, np.flatnonzero(subset).tolist(), alpha > 10
    (0, [3], True)
    """

    def step(self):
        """Run one boosting round; returns ``(feature, subset (256,) bool, alpha)``."""
        self._normalise()
        best_f, best_err, best_hist = 0, np.inf, None
        for start, stop in _feature_chunks(*self.codes.shape):
            hist, _ = self._histograms(start, stop, False)
            err = 0.5 * (1.0 - np.abs(hist).sum(axis=1))
            f = int(np.argmin(err))
            if err[f] < best_err:     # a later block wins only with a strictly smaller error
                best_f, best_err, best_hist = start + f, float(err[f]), hist[f]
        subset = best_hist > 0
        alpha = self._discrete_update(self.predict(best_f, subset), best_err)
        self.rounds.append((best_f, subset, alpha))
        return best_f, subset, alpha


class GentleCategoryBooster(_CategoryStumps):
    """Round-by-round Gentle AdaBoost of two-leaf regression stumps over categorical features.

    The weighting of :class:`GentleStumpBooster`; a stump gives ``value_in``
    to the categories of a subset and ``value_out`` to the others. The best
    two-way split of a feature's categories under weighted squared error is
    one of the splits of the categories ordered by their weighted mean label
    (Fisher 1958; Breiman et al. 1984, Theorem 4.5), so each feature costs a
    histogram and a sort of 256 means. Categories no training sample has go
    to the lower-valued leaf.

    Parameters
    ----------
    codes : (n_features, n_samples) uint8 array_like
        Category of every sample for every feature (feature-major).
    labels : (n_samples,) array_like of {0, 1}
        1 for positives.

    Examples
    --------
    >>> codes = np.array([[3, 3, 7, 9], [1, 2, 1, 2]], np.uint8)
    >>> booster = GentleCategoryBooster(codes, labels=[1, 1, 0, 0])
    >>> feature, subset, value_in, value_out = booster.step()
    >>> feature, np.flatnonzero(subset).tolist(), value_in, value_out
    (0, [3], 1.0, -1.0)
    """

    def step(self):
        """Run one boosting round; returns ``(feature, subset (256,) bool, value_in, value_out)``."""
        self._normalise()
        stot = float(np.dot(self._sign, self.weights))
        wtot = float(self.weights.sum())
        best = None
        for start, stop in _feature_chunks(*self.codes.shape):
            hs, hw = self._histograms(start, stop, True)
            with np.errstate(divide="ignore", invalid="ignore"):
                mean = np.where(hw > 0, hs / hw, -np.inf)     # empty categories first: the lower leaf
            order = np.argsort(mean, axis=1, kind="stable")
            sl = np.cumsum(np.take_along_axis(hs, order, axis=1), axis=1)[:, :-1]
            wl = np.cumsum(np.take_along_axis(hw, order, axis=1), axis=1)[:, :-1]
            sr, wr = stot - sl, wtot - wl
            with np.errstate(divide="ignore", invalid="ignore"):
                gain = np.where((wl > 0) & (wr > 0), sl * sl / wl + sr * sr / wr, -np.inf)
            flat = int(np.argmax(gain))            # the first largest gain: the smallest squared error
            f, cut = divmod(flat, gain.shape[1])
            if not np.isfinite(gain[f, cut]):
                continue
            err = wtot - float(gain[f, cut])
            if best is None or err < best[0]:     # a later block wins only with a strictly smaller error
                subset = np.zeros(256, bool)
                subset[order[f, cut + 1:]] = True
                best = (err, start + f, subset, float(sr[f, cut] / wr[f, cut]), float(sl[f, cut] / wl[f, cut]))
        if best is None:
            raise ValueError("no feature takes two different categories on the samples: nothing to split on")
        _, f, subset, value_in, value_out = best
        self._gentle_update(np.where(subset[self.codes[f]], value_in, value_out))
        self.rounds.append((f, subset, value_in, value_out))
        return f, subset, value_in, value_out


class AdaBoost:
    """Discrete AdaBoost classifier of decision stumps (Viola-Jones).

    Parameters
    ----------
    n_estimators : int
        Number of boosting rounds (stumps).

    Attributes
    ----------
    stumps_ : list of (feature, threshold, polarity, alpha) or None
        None until :meth:`fit`.
    threshold_ : float or None
        Decision threshold, ``0.5 * sum(alpha)`` as in the paper.
    n_features_in_ : int or None
        Number of feature columns seen by :meth:`fit`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5)); y = (X[:, 2] > 0.3).astype(int)
    >>> clf = AdaBoost(n_estimators=5).fit(X, y)
    >>> float((clf.predict(X) == y).mean())
    1.0
    """

    def __init__(self, n_estimators=50):
        self.n_estimators = _validate.integer(n_estimators, "n_estimators", low=1, high=100_000)
        self.stumps_ = None
        self.threshold_ = None
        self.n_features_in_ = None

    def fit(self, X, y):
        """Fit on ``X`` (n_samples, n_features), finite, and 0/1 labels ``y``; returns ``self``."""
        sv, order = presort(X)
        booster = StumpBooster(sv, order, y)
        for _ in range(self.n_estimators):
            booster.step()
        self.stumps_ = list(booster.stumps)
        self.n_features_in_ = sv.shape[0]
        self.threshold_ = 0.5 * sum(s[3] for s in self.stumps_)
        return self

    def decision_function(self, X):
        """``sum_t alpha_t h_t(x) - threshold`` per sample."""
        if self.stumps_ is None:
            raise ValueError("this AdaBoost instance is not fitted yet; call fit first")
        x = _validate.feature_matrix(X, "X", n_features=self.n_features_in_).astype(np.float32)
        score = np.zeros(x.shape[0])
        for f, thr, pol, alpha in self.stumps_:
            below = x[:, f] < np.float32(thr)
            score += alpha * (below if pol > 0 else ~below)
        return score - self.threshold_

    def predict(self, X):
        """0/1 prediction."""
        return (self.decision_function(X) >= 0).astype(np.int64)
