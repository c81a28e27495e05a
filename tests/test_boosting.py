"""cvcore.boosting: optimal stumps (checked by brute force) and the Viola-Jones update."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from cvcore.boosting import AdaBoost, StumpBooster, presort


def _brute_force(X, y, w):
    best = (np.inf, None)
    for f in range(X.shape[1]):
        vals = np.unique(X[:, f])
        cands = np.concatenate([[vals[0] - 1], (vals[:-1] + vals[1:]) / 2, [vals[-1] + 1]])
        for t in cands:
            for pol in (1, -1):
                pred = X[:, f] < t if pol > 0 else X[:, f] >= t
                err = w[pred != y].sum()
                if err < best[0] - 1e-12:
                    best = (err, (f, t, pol))
    return best


def _reference_adaboost(X, y, rounds):
    """Plain NumPy Viola-Jones AdaBoost (Table 1 of the paper)."""
    m, l = (y == 0).sum(), (y == 1).sum()
    w = np.where(y == 1, 1 / (2 * l), 1 / (2 * m))
    alphas, errors = [], []
    for _ in range(rounds):
        w = w / w.sum()
        err, (f, t, pol) = _brute_force(X, y, w)
        pred = X[:, f] < t if pol > 0 else X[:, f] >= t
        beta = err / (1 - err)
        w = np.where(pred == y, w * beta, w)
        alphas.append(np.log(1 / beta))
        errors.append(err)
    return np.array(alphas), np.array(errors)


def test_presort():
    X = np.array([[3.0, 1.0], [2.0, 5.0], [2.5, -1.0]])
    sv, order = presort(X)
    assert_array_equal(order, [[1, 2, 0], [2, 0, 1]])
    assert_array_equal(sv, np.sort(X, axis=0).T)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rounds_match_reference(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 6)).astype(np.float32)
    X[:, 3] = np.round(X[:, 3], 1)          # ties
    y = (X[:, 0] + 0.8 * X[:, 2] + 0.5 * rng.normal(size=80) > 0.2).astype(int)
    booster = StumpBooster(*presort(X), labels=y)
    ref_alpha, ref_err = _reference_adaboost(X.astype(np.float64), y, 8)
    alphas = []
    for _ in range(8):
        f, t, pol, alpha = booster.step()
        alphas.append(alpha)
    assert_allclose(alphas, ref_alpha, rtol=1e-6)


def test_weights_stay_normalised_and_separable_data_is_learnt():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 5))
    y = (X[:, 2] > 0.3).astype(int)
    clf = AdaBoost(n_estimators=3).fit(X, y)
    assert_array_equal(clf.predict(X), y)
    assert clf.stumps_[0][0] == 2
    b = StumpBooster(*presort(X), labels=y)
    b.step()
    b.step()
    b.weights /= b.weights.sum()
    assert b.weights.sum() == pytest.approx(1.0)


def test_initial_weights_are_the_papers():
    b = StumpBooster(*presort(np.arange(5.0)[:, None]), labels=[1, 0, 0, 0, 1])
    assert_allclose(b.weights, [0.25, 1 / 6, 1 / 6, 1 / 6, 0.25])


def test_errors():
    with pytest.raises(ValueError, match="both positives"):
        StumpBooster(*presort(np.zeros((3, 2))), labels=[1, 1, 1])
    with pytest.raises(ValueError, match="only 0 and 1"):
        StumpBooster(*presort(np.zeros((3, 2))), labels=[1, 2, 0])
    with pytest.raises(ValueError, match="length 3"):
        StumpBooster(*presort(np.zeros((3, 2))), labels=[1, 0])
    with pytest.raises(ValueError, match="at most 65535"):
        presort(np.zeros((70000, 1), np.float32))
    with pytest.raises(ValueError, match="finite"):
        presort([[np.nan]])
    with pytest.raises(ValueError, match="not fitted"):
        AdaBoost().predict(np.zeros((1, 1)))


def test_booster_refuses_what_the_kernel_cannot_index():
    """Issue 9: StumpBooster handed `order` straight to the kernel (indices past the samples read garbage)."""
    sv, order = presort(np.arange(8.0).reshape(4, 2))
    bad = order.copy()
    bad[0, 0] = 60000
    with pytest.raises(ValueError, match="order"):
        StumpBooster(sv, bad, [1, 1, 0, 0])
    with pytest.raises(ValueError, match="order"):
        StumpBooster(sv, order.astype(np.int64) - 1, [1, 1, 0, 0])
    with pytest.raises(ValueError, match="sorted_values"):
        StumpBooster(np.zeros((0, 4), np.float32), np.zeros((0, 4), np.uint16), [1, 1, 0, 0])
    with pytest.raises(ValueError, match="finite"):
        StumpBooster(np.full_like(sv, np.nan), order, [1, 1, 0, 0])
    booster = StumpBooster(sv, order, [1, 1, 0, 0])
    with pytest.raises(ValueError, match="feature"):
        booster.predict_stump(5, 0.0, 1)
    with pytest.raises(ValueError, match="polarity"):
        booster.predict_stump(0, 0.0, 0)


def test_chunked_stump_search_equals_one_kernel_call(monkeypatch):
    """The search runs over feature blocks (Ctrl-C between them); the result is the one-call result."""
    import cvcore.boosting as boosting

    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 40))
    y = (X[:, 7] + 0.3 * rng.normal(size=300) > 0).astype(int)
    whole = AdaBoost(n_estimators=6).fit(X, y).stumps_
    monkeypatch.setattr(boosting, "_CHUNK_VALUES", 300 * 3)        # blocks of 3 features
    assert AdaBoost(n_estimators=6).fit(X, y).stumps_ == whole


def test_adaboost_attributes_are_declared():
    clf = AdaBoost(3)
    assert clf.stumps_ is None and clf.threshold_ is None and clf.n_features_in_ is None
    with pytest.raises(ValueError, match="finite"):
        clf.fit([[0.0], [1.0]], [0, 1]).decision_function([[np.nan]])
