"""KNNClassifier against scikit-learn's KNeighborsClassifier."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from cvcore.segmentation import KNNClassifier

sklearn = pytest.importorskip("sklearn")
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402


@pytest.mark.parametrize("n_features", [2, 7, 24])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("k", [1, 5, 8])
def test_knn_identical_to_sklearn_on_random_data(n_features, weights, k):
    rng = np.random.default_rng(n_features * 100 + k)
    X = rng.normal(size=(700, n_features))
    y = rng.integers(0, 4, 700)
    Q = rng.normal(size=(600, n_features))
    ours = KNNClassifier(n_neighbors=k, weights=weights).fit(X, y)
    ref = KNeighborsClassifier(n_neighbors=k, weights=weights).fit(X, y)
    assert_array_equal(ours.predict(Q), ref.predict(Q))
    assert_allclose(ours.predict_proba(Q), ref.predict_proba(Q), atol=1e-9)
    d, i = ours.kneighbors(Q)
    rd, ri = ref.kneighbors(Q)
    assert_array_equal(i, ri)
    assert_allclose(d, rd, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
def test_kd_tree_and_brute_agree(algorithm):
    rng = np.random.default_rng(3)
    X = rng.random((500, 5))
    y = rng.integers(0, 3, 500)
    Q = rng.random((300, 5))
    a = KNNClassifier(6, algorithm=algorithm).fit(X, y)
    ref = KNeighborsClassifier(6, algorithm="brute").fit(X, y)
    assert_array_equal(a.kneighbors(Q)[1], ref.kneighbors(Q)[1])


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_knn_on_pixel_features_matches_sklearn(weights):
    from skimage import data

    from cvcore.segmentation import pixel_features

    img = data.astronaut()[::4, ::4]
    feats = pixel_features(img, sigmas=(1.0, 4.0), features=("intensity", "gradient", "hessian"))
    X = feats.reshape(-1, feats.shape[-1])  # 24 features: brute-force path
    y = np.digitize(img.reshape(-1, 3)[:, 0], [85, 170])  # red-channel tertiles
    rng = np.random.default_rng(0)
    train = rng.choice(X.shape[0], 2000, replace=False)
    ours = KNNClassifier(5, weights=weights).fit(X[train], y[train])
    ref = KNeighborsClassifier(5, weights=weights).fit(X[train], y[train])
    assert_array_equal(ours.predict(X), ref.predict(X))
    # a low-dimensional subset goes through the k-d tree
    ours = KNNClassifier(5, weights=weights).fit(X[train, :6], y[train])
    ref = KNeighborsClassifier(5, weights=weights).fit(X[train, :6], y[train])
    assert ours._method == "kd_tree" and ref._fit_method == "kd_tree"
    assert_array_equal(ours.predict(X[:, :6]), ref.predict(X[:, :6]))


def test_knn_classes_keep_label_values():
    X = np.array([[0.0], [1.0], [5.0], [6.0]])
    clf = KNNClassifier(1).fit(X, np.array(["cat", "cat", "dog", "dog"]))
    assert clf.classes_.tolist() == ["cat", "dog"]
    assert clf.predict([[5.5], [0.2]]).tolist() == ["dog", "cat"]


def test_knn_read_only_and_float32_input():
    rng = np.random.default_rng(1)
    X = rng.random((200, 3)).astype(np.float32)
    X.setflags(write=False)
    y = rng.integers(0, 2, 200)
    assert_array_equal(KNNClassifier(3).fit(X, y).predict(X), KNeighborsClassifier(3).fit(X, y).predict(X))


def test_knn_works_with_clone_and_cross_val_score():
    from sklearn.base import clone
    from sklearn.datasets import load_iris
    from sklearn.model_selection import cross_val_score

    clf = KNNClassifier(n_neighbors=7, weights="distance")
    c2 = clone(clf)
    assert c2.get_params() == clf.get_params() and c2 is not clf
    X, y = load_iris(return_X_y=True)
    ours = cross_val_score(clf, X, y, cv=5)
    ref = cross_val_score(KNeighborsClassifier(7, weights="distance"), X, y, cv=5)
    assert_allclose(ours, ref)


@pytest.mark.parametrize("kwargs, X, y, match", [
    ({"n_neighbors": 0}, [[0.0], [1.0]], [0, 1], "n_neighbors must be >= 1"),
    ({"n_neighbors": 3}, [[0.0], [1.0]], [0, 1], "n_neighbors must be <="),
    ({"weights": "gauss"}, [[0.0], [1.0]], [0, 1], "weights must be one of"),
    ({}, [0.0, 1.0], [0, 1], "X must be 2-D"),
    ({}, [[np.nan], [1.0]], [0, 1], "finite"),
    ({"n_neighbors": 1}, [[0.0], [1.0]], [0, 1, 1], "y has 3 labels"),
])
def test_knn_bad_input_raises_clear_errors(kwargs, X, y, match):
    with pytest.raises(ValueError, match=match):
        KNNClassifier(**kwargs).fit(X, y)


def test_knn_predict_checks_fitted_and_width():
    with pytest.raises(ValueError, match="not fitted"):
        KNNClassifier().predict([[0.0]])
    clf = KNNClassifier(1).fit([[0.0, 1.0]], [0])
    with pytest.raises(ValueError, match="fitted with 2"):
        clf.predict([[0.0]])
    with pytest.raises(ValueError, match="invalid parameter"):
        clf.set_params(k=3)


@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
def test_knn_arrays_roundtrip(algorithm):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 4))
    y = rng.choice([3, 8, 9], 300)
    a = KNNClassifier(4, weights="distance", algorithm=algorithm).fit(X, y)
    arrays = a.to_arrays()
    assert_array_equal(arrays["X"], X)
    b = KNNClassifier.from_arrays(arrays, **a.get_params())
    Q = rng.normal(size=(200, 4))
    assert_array_equal(a.predict_proba(Q), b.predict_proba(Q))
    assert_array_equal(a.kneighbors(Q)[1], b.kneighbors(Q)[1])


def test_knn_from_arrays_validates_like_fit():
    arrays = KNNClassifier(2).fit([[0.0], [1.0], [2.0]], [1, 2, 2]).to_arrays()
    for params, match in [({"n_neighbors": 10**6}, "n_neighbors must be <= 10000"),
                          ({"n_neighbors": 4}, "n_neighbors must be <= the number of training samples"),
                          ({"weights": "gauss"}, "weights must be one of")]:
        with pytest.raises(ValueError, match=match):
            KNNClassifier.from_arrays(arrays, **params)
    for key, bad, match in [("y", np.array([0, 1, 2]), "knn y must index classes"),
                            ("y", np.array([0.0, 1.0, 1.0]), "must hold integers"),
                            ("X", np.array([[0.0], [np.nan], [1.0]]), "finite"),
                            ("X", np.zeros(3), "shape"),
                            ("classes", np.array([2, 1]), "sorted and unique")]:
        with pytest.raises(ValueError, match=match):
            KNNClassifier.from_arrays({**arrays, key: bad})
    with pytest.raises(ValueError, match="missing 'y'"):
        KNNClassifier.from_arrays({"X": arrays["X"], "classes": arrays["classes"]})


def test_knn_predict_is_interruptible(interrupt_check):
    interrupt_check(
        "import numpy as np\n"
        "from cvcore.segmentation import KNNClassifier\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(200_000, 12))\n"
        "clf = KNNClassifier(5).fit(X, rng.integers(0, 2, 200_000))\n"
        "Q = rng.normal(size=(200_000, 12))\n"
        "print('READY', flush=True)\n"
        "clf.predict(Q)\n")


def test_knn_brute_predict_is_interruptible(interrupt_check):
    interrupt_check(
        "import numpy as np\n"
        "from cvcore.segmentation import KNNClassifier\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(50_000, 24))\n"
        "clf = KNNClassifier(5, algorithm='brute').fit(X, rng.integers(0, 2, 50_000))\n"
        "Q = rng.normal(size=(300_000, 24))\n"
        "print('READY', flush=True)\n"
        "clf.predict(Q)\n")


def test_knn_fit_is_interruptible(interrupt_check):
    # building the k-d tree over millions of points takes seconds: it stops between levels
    interrupt_check(
        "import numpy as np\n"
        "from cvcore.segmentation import KNNClassifier\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(4_000_000, 6))\n"
        "y = rng.integers(0, 2, 4_000_000)\n"
        "print('READY', flush=True)\n"
        "KNNClassifier(5).fit(X, y)\n")


@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
def test_knn_bit_identical_for_1_2_3_threads(algorithm):
    import cvcore

    rng = np.random.default_rng(31)
    X = rng.normal(size=(1203, 5))
    X[::7] = X[1::7]  # exact distance ties: the lower training index must win on every thread
    y = rng.integers(0, 3, 1203)
    Q = np.concatenate([rng.normal(size=(2001, 5)), X[:50]])
    clf = KNNClassifier(6, weights="distance", algorithm=algorithm).fit(X, y)
    with cvcore.num_threads(1):
        ref = clf.kneighbors(Q), clf.predict_proba(Q)
    for n in (2, 3):
        with cvcore.num_threads(n):
            (d, i), p = clf.kneighbors(Q), clf.predict_proba(Q)
        assert_array_equal(d, ref[0][0])
        assert_array_equal(i, ref[0][1])
        assert_array_equal(p, ref[1])
