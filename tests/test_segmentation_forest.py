"""RandomForestClassifier against scikit-learn's RandomForestClassifier."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from cvcore.segmentation import RandomForestClassifier

sklearn = pytest.importorskip("sklearn")
from sklearn.ensemble import RandomForestClassifier as SKForest  # noqa: E402


@pytest.fixture(scope="module")
def digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.mark.parametrize("params", [
    {},
    {"max_depth": 8},
    {"min_samples_leaf": 4, "max_features": "log2", "bootstrap": False},
])
def test_forest_within_one_percent_of_sklearn_on_digits(digits_split, params):
    Xa, Xb, ya, yb = digits_split
    ours, ref = [], []
    for seed in range(3):  # average over seeds: a single forest's accuracy is noisy
        ours.append(RandomForestClassifier(n_estimators=40, random_state=seed, **params).fit(Xa, ya).score(Xb, yb))
        ref.append(SKForest(n_estimators=40, random_state=seed, **params).fit(Xa, ya).score(Xb, yb))
    assert np.mean(ours) >= np.mean(ref) - 0.01, (ours, ref)


def test_forest_within_one_percent_of_sklearn_on_pixel_features():
    from skimage import data

    from cvcore.segmentation import pixel_features

    img = data.astronaut()[::3, ::3]
    X = pixel_features(img, sigmas=(1.0, 3.0)).reshape(-1, 48)
    # classes: skin-ish / dark / other, from the raw colours (a structured, learnable rule)
    rgb = img.reshape(-1, 3).astype(int)
    y = np.where(rgb.sum(1) < 150, 0, np.where(rgb[:, 0] > rgb[:, 2] + 40, 1, 2))
    rng = np.random.default_rng(0)
    idx = rng.permutation(y.size)
    train, test = idx[:4000], idx[4000:12000]
    ours = np.mean([RandomForestClassifier(30, random_state=s).fit(X[train], y[train]).score(X[test], y[test])
                    for s in range(2)])
    ref = np.mean([SKForest(30, random_state=s).fit(X[train], y[train]).score(X[test], y[test]) for s in range(2)])
    assert ours >= ref - 0.01, (ours, ref)


def test_forest_importances_agree_with_sklearn(digits_split):
    Xa, _, ya, _ = digits_split
    ours = RandomForestClassifier(n_estimators=100, random_state=0).fit(Xa, ya).feature_importances_
    ref = SKForest(n_estimators=100, random_state=0).fit(Xa, ya).feature_importances_
    assert_allclose(ours.sum(), 1.0)
    assert np.corrcoef(ours, ref)[0, 1] > 0.95
    assert_array_equal(ours[ref == 0], 0)  # features constant over the data never split


def test_forest_deterministic_for_seed_and_threads():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)
    a = RandomForestClassifier(n_estimators=12, random_state=7).fit(X, y)
    b = RandomForestClassifier(n_estimators=12, random_state=7, n_jobs=2).fit(X, y)
    c = RandomForestClassifier(n_estimators=12, random_state=8).fit(X, y)
    Q = rng.normal(size=(300, 6))
    assert_array_equal(a.predict_proba(Q), b.predict_proba(Q))
    assert not np.array_equal(a.predict_proba(Q), c.predict_proba(Q))
    assert_allclose(a.predict_proba(Q).sum(axis=1), 1.0)


def test_forest_respects_max_depth_and_min_samples_leaf():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 4))
    y = rng.integers(0, 3, 500)  # noise: trees grow as deep as allowed
    clf = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    assert clf.to_arrays()["roots"].shape == (5,)
    assert clf.to_arrays()["feature"].shape[0] <= 5 * 15  # at most 2^4 - 1 nodes per tree
    clf = RandomForestClassifier(n_estimators=5, min_samples_leaf=9, bootstrap=False, random_state=0).fit(X, y)
    leaves = clf.apply(X)
    for t in range(5):
        assert np.bincount(leaves[:, t])[np.unique(leaves[:, t])].min() >= 9
    # a fully grown tree on all samples fits the training data exactly
    full = RandomForestClassifier(n_estimators=1, bootstrap=False, max_features=None, random_state=0).fit(X, y)
    assert full.score(X, y) == 1.0


def test_forest_single_class_and_string_labels():
    X = np.arange(10.0).reshape(5, 2)
    clf = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, ["a"] * 5)
    assert clf.predict(X).tolist() == ["a"] * 5
    clf = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, ["b", "b", "b", "a", "a"])
    assert clf.classes_.tolist() == ["a", "b"]
    assert clf.predict_proba(X).shape == (5, 2)


def test_forest_arrays_roundtrip_and_validation():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 3))
    y = (X[:, 2] > 0).astype(int)
    a = RandomForestClassifier(n_estimators=4, random_state=0).fit(X, y)
    arrays = a.to_arrays()
    b = RandomForestClassifier.from_arrays(arrays)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    bad = dict(arrays)
    bad["left"] = arrays["left"].copy()
    split = np.flatnonzero(bad["left"] >= 0)[0]
    bad["left"][split] = split  # a cycle
    with pytest.raises(ValueError, match="later nodes"):
        RandomForestClassifier.from_arrays(bad)
    bad = dict(arrays)
    del bad["value"]
    with pytest.raises(ValueError, match="missing 'value'"):
        RandomForestClassifier.from_arrays(bad)


def test_forest_works_with_clone_and_cross_val_score():
    from sklearn.base import clone
    from sklearn.datasets import load_iris
    from sklearn.model_selection import cross_val_score

    clf = RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0)
    c2 = clone(clf)
    assert c2.get_params() == clf.get_params()
    X, y = load_iris(return_X_y=True)
    scores = cross_val_score(clf, X, y, cv=5)
    ref = cross_val_score(SKForest(n_estimators=20, max_depth=5, random_state=0), X, y, cv=5)
    assert scores.mean() >= ref.mean() - 0.02


@pytest.mark.parametrize("kwargs, match", [
    ({"n_estimators": 0}, "n_estimators must be >= 1"),
    ({"max_depth": 0}, "max_depth must be >= 1"),
    ({"min_samples_leaf": 0}, "min_samples_leaf must be >= 1"),
    ({"max_features": "cube"}, "max_features must be one of"),
    ({"max_features": 1.5}, "max_features must be <= 1"),
])
def test_forest_bad_params(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomForestClassifier(**kwargs).fit([[0.0], [1.0]], [0, 1])


def test_forest_bad_input():
    with pytest.raises(ValueError, match="not fitted"):
        RandomForestClassifier().predict([[0.0]])
    with pytest.raises(ValueError, match="finite"):
        RandomForestClassifier().fit([[np.inf], [1.0]], [0, 1])
    with pytest.raises(ValueError, match="finite"):
        RandomForestClassifier().fit([[1e300], [1.0]], [0, 1])  # overflows float32
    clf = RandomForestClassifier(n_estimators=2).fit([[0.0, 1.0], [1.0, 0.0]], [0, 1])
    with pytest.raises(ValueError, match="fitted with 2"):
        clf.predict([[0.0, 1.0, 2.0]])


def test_forest_degenerate_data():
    # constant features / duplicated rows with conflicting labels: no split possible
    X = np.ones((50, 3))
    y = np.arange(50) % 2
    clf = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    assert clf.to_arrays()["feature"].max() == -1  # every tree is a single leaf
    assert_allclose(clf.feature_importances_, 0)
    assert_allclose(clf.predict_proba(X).sum(1), 1)
    # one sample
    one = RandomForestClassifier(n_estimators=2, random_state=0).fit([[1.0, 2.0]], [5])
    assert one.predict([[0.0, 0.0]]).tolist() == [5]
    # many ties in a large node (radix-sort path) still give a perfect fit
    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, (3000, 2)).astype(np.float32)
    y = (X[:, 0] * 4 + X[:, 1]).astype(int) % 3
    full = RandomForestClassifier(1, bootstrap=False, max_features=None, random_state=0).fit(X, y)
    assert full.score(X, y) == 1.0


def test_single_tree_root_split_matches_sklearn_decision_tree():
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(5)
    X = rng.normal(size=(2000, 4)).astype(np.float32)  # negative values: radix keys of both signs
    y = ((X[:, 2] > -0.3) ^ (X[:, 0] > 1.2)).astype(int)
    ours = RandomForestClassifier(1, bootstrap=False, max_features=None, max_depth=1, random_state=0).fit(X, y)
    ref = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    arrays = ours.to_arrays()
    assert arrays["feature"][0] == ref.tree_.feature[0]
    assert arrays["threshold"][0] == ref.tree_.threshold[0]
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X))


@pytest.mark.parametrize("kwargs, err, match", [
    ({"n_jobs": 10**6}, ValueError, "n_jobs must be <= 256"),
    ({"n_jobs": 0}, ValueError, "n_jobs must be a positive"),
    ({"n_jobs": 1.0}, TypeError, "n_jobs must be an integer"),
    ({"bootstrap": "false"}, TypeError, "bootstrap must be True or False"),
    ({"bootstrap": 0}, TypeError, "bootstrap must be True or False"),
    ({"n_estimators": 10**6}, ValueError, "n_estimators must be <= 100000"),
    ({"random_state": -3}, ValueError, "random_state must be >= 0"),
])
def test_forest_bad_params_types(kwargs, err, match):
    with pytest.raises(err, match=match):
        RandomForestClassifier(**kwargs).fit([[0.0], [1.0]], [0, 1])


def test_forest_random_state_generator_and_progress():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4))
    y = (X[:, 1] > 0).astype(int)
    a = RandomForestClassifier(6, random_state=np.random.default_rng(11)).fit(X, y)
    b = RandomForestClassifier(6, random_state=np.random.default_rng(11), n_jobs=2).fit(X, y)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    seen = []
    RandomForestClassifier(3, random_state=0, n_jobs=2).fit(X, y, progress=lambda d, t, s: seen.append((d, t, s)))
    assert seen == [(1, 3, "growing trees"), (2, 3, "growing trees"), (3, 3, "growing trees")]


def test_forest_from_arrays_validates_like_fit():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] > 0).astype(int)
    arrays = RandomForestClassifier(3, random_state=0).fit(X, y).to_arrays()
    with pytest.raises(ValueError, match="n_jobs must be <= 256"):
        RandomForestClassifier.from_arrays(arrays, n_jobs=10**6)
    with pytest.raises(ValueError, match="3 trees but n_estimators=4"):
        RandomForestClassifier.from_arrays(arrays, n_estimators=4)
    assert RandomForestClassifier.from_arrays(arrays).n_estimators == 3
    for key, bad, match in [
        ("feature", arrays["feature"].astype(np.float32), "must hold integers"),
        ("left", arrays["left"].astype(np.int64) - 2**40, "values must lie in"),
        ("value", arrays["value"] * 2, "class distributions"),
        ("value", np.full_like(arrays["value"], np.inf), "finite"),
        ("roots", arrays["roots"] + arrays["feature"].size, "roots must index"),
        ("feature_importances", -arrays["feature_importances"] - 1, "non-negative"),
        ("classes", arrays["classes"][::-1], "sorted and unique"),
        ("threshold", arrays["threshold"][:-1], "shape"),
    ]:
        with pytest.raises(ValueError, match=match):
            RandomForestClassifier.from_arrays({**arrays, key: bad})
    with pytest.raises(TypeError, match="arrays must be a dict"):
        RandomForestClassifier.from_arrays([arrays])


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_forest_fit_is_interruptible(interrupt_check, n_jobs):
    # one tree on a million samples takes seconds: growth must stop inside the tree
    interrupt_check(
        "import numpy as np\n"
        "from cvcore.segmentation import RandomForestClassifier\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.random((1_000_000, 16), dtype=np.float32)\n"
        "y = rng.integers(0, 2, 1_000_000)\n"
        "print('READY', flush=True)\n"
        f"RandomForestClassifier(3, bootstrap=False, random_state=0, n_jobs={n_jobs}).fit(X, y)\n")


def test_forest_predict_is_interruptible(interrupt_check):
    interrupt_check(
        "import numpy as np\n"
        "from cvcore.segmentation import RandomForestClassifier\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.random((20000, 8), dtype=np.float32)\n"
        "y = rng.integers(0, 3, 20000)\n"
        "clf = RandomForestClassifier(100, random_state=0).fit(X, y)\n"
        "Q = rng.random((3_000_000, 8), dtype=np.float32)\n"
        "print('READY', flush=True)\n"
        "clf.predict_proba(Q)\n")


def test_forest_blocked_and_threaded_prediction_is_bit_identical():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(2000, 5)).astype(np.float32)
    y = rng.integers(0, 3, 2000)
    one = RandomForestClassifier(8, random_state=0).fit(X, y)
    Q = rng.normal(size=(20000, 5)).astype(np.float32)
    out = np.empty((Q.shape[0], 3))
    packed = one._packed()
    from cvcore._ext import _forest

    _forest.forest_predict_proba(Q, one._roots, *packed, one._value, out)  # one kernel call, no blocks
    assert_array_equal(one.predict_proba(Q), out)
    two = RandomForestClassifier.from_arrays(one.to_arrays(), n_jobs=2)
    assert_array_equal(two.predict_proba(Q), out)
    assert_array_equal(two.apply(Q), one.apply(Q))


def _sequential_proba(clf, Q):
    """Reference soft vote: leaves from apply() (float64 thresholds), summed tree by tree in order."""
    leaves = clf.apply(Q)
    value = clf.to_arrays()["value"]
    acc = np.zeros((Q.shape[0], value.shape[1]))
    for t in range(leaves.shape[1]):
        acc += value[leaves[:, t]]
    return acc * (1.0 / leaves.shape[1])


def test_forest_fit_and_predict_bit_identical_for_1_2_3_threads():
    import cvcore

    rng = np.random.default_rng(21)
    X = rng.normal(size=(1501, 7)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.normal(size=1501) > 0).astype(int) + (X[:, 3] > 1)
    Q = rng.normal(size=(4099, 7)).astype(np.float32)
    ref = _sequential_proba(RandomForestClassifier(9, random_state=5, n_jobs=1).fit(X, y), Q)
    for n in (1, 2, 3):
        by_jobs = RandomForestClassifier(9, random_state=5, n_jobs=n).fit(X, y)
        with cvcore.num_threads(n):  # n_jobs unset follows cvcore's setting
            by_setting = RandomForestClassifier(9, random_state=5).fit(X, y)
            assert_array_equal(by_setting.predict_proba(Q), ref)
        for key, val in by_jobs.to_arrays().items():
            assert_array_equal(val, by_setting.to_arrays()[key])
        assert_array_equal(by_jobs.predict_proba(Q), ref)


def test_forest_float32_thresholds_decide_like_float64():
    # samples exactly at, just below and just above each stored float64 threshold
    rng = np.random.default_rng(22)
    X = rng.random((300, 2)).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(int)
    clf = RandomForestClassifier(5, random_state=0).fit(X, y)
    arrays = clf.to_arrays()
    thr = arrays["threshold"][arrays["left"] >= 0]
    vals = np.concatenate([thr.astype(np.float32), np.nextafter(thr.astype(np.float32), np.float32(-1)),
                           np.nextafter(thr.astype(np.float32), np.float32(2))])
    Q = np.stack([vals, vals[::-1]], axis=1).astype(np.float32)
    assert_array_equal(clf.predict_proba(Q), _sequential_proba(clf, Q))


def test_forest_predict_any_row_count_matches_tree_walk():
    # rows are descended in lane groups with a padded last group: every count must give the reference
    import cvcore

    rng = np.random.default_rng(23)
    X = rng.normal(size=(400, 3)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    clf = RandomForestClassifier(7, random_state=2).fit(X, y)
    Q = rng.normal(size=(70, 3)).astype(np.float32)
    ref = _sequential_proba(clf, Q)
    for n in (1, 2, 15, 16, 17, 33, 70):
        for threads in (1, 3):
            with cvcore.num_threads(threads):
                assert_array_equal(clf.predict_proba(Q[:n]), ref[:n])


@pytest.mark.parametrize("n", [60, 700, 6000])  # introsort, 8-bit and 11-bit radix digits
def test_forest_stump_finds_the_best_gini_split(n):
    rng = np.random.default_rng(24)
    x = np.round(rng.normal(size=n) * 50) / 7  # negatives and ties
    y = (x + rng.normal(size=n) * 3 > 1).astype(int)
    clf = RandomForestClassifier(1, max_depth=1, max_features=None, bootstrap=False, random_state=0)
    clf.fit(x[:, None].astype(np.float32), y)
    xs = np.unique(x.astype(np.float32))
    best, thr = -1.0, None
    for lo, hi in zip(xs[:-1], xs[1:]):  # brute force over the gaps between distinct values
        left = x.astype(np.float32) <= lo
        proxy = sum(np.bincount(y[m], minlength=2).astype(float) @ np.bincount(y[m], minlength=2) / m.sum()
                    for m in (left, ~left))
        if proxy > best + 1e-12:
            best, thr = proxy, (float(lo) + float(hi)) / 2
    assert clf.to_arrays()["threshold"][0] == pytest.approx(thr, abs=1e-6)
