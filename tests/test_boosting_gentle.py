"""Gentle AdaBoost (cvcore.boosting): optimal regression stumps checked by brute force, the
weight update, thread independence, and cascade training with it (fewer stumps, checkpoints)."""
import json
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import cvcore
from cvcore.boosting import (CategoryBooster, GentleCategoryBooster, GentleStumpBooster, StumpBooster,
                             presort)
from cvcore.cascade import train_cascade


def _data(seed, n=300, f=6, levels=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f))
    if levels:
        X = np.round(X * levels) / levels            # ties inside features
    y = (X[:, 1] + 0.5 * X[:, 3] + 0.4 * rng.normal(size=n) > 0.2).astype(np.int8)
    return X.astype(np.float32), y


def _lsq_stump(X, y, w):
    """Brute force: the split minimising sum w (t - f(x))^2 with t = +-1 and mean leaves."""
    t = np.where(y == 1, 1.0, -1.0)
    best = (np.inf, None)
    for f in range(X.shape[1]):
        vals = np.unique(X[:, f])
        for thr in (vals[:-1] + vals[1:]) / 2:
            left = X[:, f] < thr
            a = np.sum(w[left] * t[left]) / np.sum(w[left])
            b = np.sum(w[~left] * t[~left]) / np.sum(w[~left])
            err = np.sum(w * (t - np.where(left, a, b)) ** 2)
            if err < best[0] - 1e-12:
                best = (err, (f, a, b, left))
    return best


@pytest.mark.parametrize("seed, levels", [(0, None), (1, 4), (2, 2)])
def test_gentle_stumps_are_the_least_squares_ones_and_weights_follow_exp_minus_yf(seed, levels):
    X, y = _data(seed, levels=levels)
    booster = GentleStumpBooster(*presort(X), y)
    t = np.where(y == 1, 1.0, -1.0)
    w = np.where(y == 1, 1 / (2 * y.sum()), 1 / (2 * (y == 0).sum()))
    for _ in range(4):
        w = w / w.sum()
        err, (f_ref, a_ref, b_ref, left) = _lsq_stump(X.astype(np.float64), y, w)
        f, thr, a, b = booster.step()
        assert f == f_ref
        assert_allclose([a, b], [a_ref, b_ref], rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(X[:, f] < np.float32(thr), left)
        w = w * np.exp(-t * np.where(left, a_ref, b_ref))
        assert_allclose(booster.weights / booster.weights.sum(), w / w.sum(), rtol=1e-9)


def _subset_error(codes, t, w, subset):
    inside = subset[codes]
    err = 0.0
    for side in (inside, ~inside):
        if side.any():
            m = np.sum(w[side] * t[side]) / np.sum(w[side])
            err += np.sum(w[side] * (t[side] - m) ** 2)
    return err


def test_gentle_category_stumps_are_the_best_of_every_subset():
    rng = np.random.default_rng(3)
    n = 400
    codes = rng.integers(0, 6, (3, n)).astype(np.uint8)    # 6 categories: 2**6 subsets to try
    codes[1] += 100
    y = ((codes[1] % 3 == 0) ^ (rng.random(n) < 0.15)).astype(np.int8)
    t = np.where(y == 1, 1.0, -1.0)
    booster = GentleCategoryBooster(codes, y)
    w = np.where(y == 1, 1 / (2 * y.sum()), 1 / (2 * (y == 0).sum()))
    for _ in range(3):
        w = w / w.sum()
        best = min((_subset_error(codes[f], t, w, s), f)
                   for f in range(3) for bits in range(1, 63)
                   for s in [np.isin(np.arange(256), np.unique(codes[f])[[(bits >> i) & 1 == 1 for i in range(6)]])])
        f, subset, v_in, v_out = booster.step()
        assert f == best[1]
        assert _subset_error(codes[f], t, w, subset) == pytest.approx(best[0], rel=1e-9, abs=1e-15)
        assert v_in > v_out                       # the subset is the face-like side
        assert not subset[np.setdiff1d(np.arange(256), codes[f])].any()   # unseen codes: the lower leaf
        w = w * np.exp(-t * np.where(subset[codes[f]], v_in, v_out))


@pytest.mark.parametrize("make", [
    lambda X, y: StumpBooster(*presort(X), y), lambda X, y: GentleStumpBooster(*presort(X), y),
    lambda X, y: CategoryBooster((np.abs(X.T) * 40).astype(np.uint8), y),
    lambda X, y: GentleCategoryBooster((np.abs(X.T) * 40).astype(np.uint8), y)])
def test_boosters_do_not_depend_on_the_thread_count(make):
    X, y = _data(4, n=501, f=37, levels=8)
    runs = []
    for threads in (1, 2, 3):
        with cvcore.num_threads(threads):
            b = make(X, y)
            runs.append([tuple(np.asarray(v).tolist() if isinstance(v, np.ndarray) else v for v in b.step())
                         for _ in range(5)])
    assert runs[0] == runs[1] == runs[2]


def test_gentle_boosters_refuse_samples_they_cannot_split():
    X = np.ones((10, 3), np.float32)
    y = np.array([0, 1] * 5)
    with pytest.raises(ValueError, match="nothing to split"):
        GentleStumpBooster(*presort(X), y).step()
    with pytest.raises(ValueError, match="nothing to split"):
        GentleCategoryBooster(np.full((2, 10), 7, np.uint8), y).step()
    booster = GentleStumpBooster(*presort(np.arange(20.0).reshape(10, 2)), y)
    with pytest.raises(ValueError, match="feature"):
        booster.below(2, 0.5)
    with pytest.raises(ValueError, match="threshold"):
        booster.values(0, float("nan"), 1.0, -1.0)


def _faces(rng, n=300):
    """Synthetic 24x24 "faces": two darker eye bands and a mouth band on noise."""
    pos = rng.normal(130, 35, (n, 24, 24))
    pos[:, 7:10, 4:10] -= 25
    pos[:, 7:10, 14:20] -= 25
    pos[:, 16:18, 8:16] -= 25
    return np.clip(pos, 0, 255).astype(np.uint8)


def _noise(rng, shape):
    return np.clip(rng.normal(130, 35, shape), 0, 255).astype(np.uint8)


_KW = dict(positives_per_stage=150, negatives_per_stage=300, features_per_stage=300, max_weak_per_stage=30,
           random_state=0, progress=False)


def _lfw():
    """scikit-image's LFW subset: 100 faces (24x24) and 100 non-faces; a few textured images as backgrounds."""
    data = pytest.importorskip("skimage.data")
    cv2 = pytest.importorskip("cv2")
    lfw = (data.lfw_subset() * 255).astype(np.uint8)
    small = [cv2.resize(w, (24, 24), interpolation=cv2.INTER_AREA) for w in lfw]
    bgs = []
    for name in ("coins", "moon", "page", "text", "brick", "grass", "gravel"):
        img = getattr(data, name)()
        img = (img * 255).astype(np.uint8) if img.dtype != np.uint8 else img
        bgs.append(cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    return np.stack(small[:100]), np.stack(small[100:]), bgs


@pytest.mark.parametrize("feature_type", ["haar", "lbp"])
@pytest.mark.parametrize("boosting", ["gentle", "discrete"])
def test_cascades_of_either_boosting_keep_faces_and_reject_non_faces(feature_type, boosting):
    faces, non_faces, bgs = _lfw()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = train_cascade(faces, bgs, max_stages=3, feature_type=feature_type, boosting=boosting,
                          mirror_positives=True, **{**_KW, "features_per_stage": 400})
    leaves = [tuple(t["leaves"]) for st in c.to_dict()["stages"] for t in st["trees"]]
    # discrete stumps have one zero leaf (alpha or nothing); gentle ones two real values
    assert all(0.0 in lv for lv in leaves) == (boosting == "discrete")
    assert c.classify_windows(faces).mean() >= 0.9
    assert c.classify_windows(non_faces).mean() <= 0.6


def test_training_refuses_an_unknown_boosting_and_a_resume_with_another(tmp_path):
    rng = np.random.default_rng(8)
    pos, bgs = _faces(rng), [_noise(rng, (90, 100)) for _ in range(3)]
    with pytest.raises(ValueError, match="boosting"):
        train_cascade(pos, bgs, boosting="real", **_KW)
    train_cascade(pos, bgs, max_stages=1, checkpoint_dir=tmp_path, **_KW)
    with pytest.raises(ValueError, match=r"cannot resume.*boosting \(checkpoint 'gentle', this run 'discrete'\)"):
        train_cascade(pos, bgs, max_stages=2, checkpoint_dir=tmp_path, boosting="discrete", **_KW)


@pytest.mark.parametrize("feature_type", ["haar", "lbp"])
def test_a_version_1_checkpoint_resumes_as_discrete_boosting(tmp_path, feature_type):
    rng = np.random.default_rng(9)
    pos, bgs = _faces(rng), [_noise(rng, (90, 100)) for _ in range(3)]
    kw = dict(_KW, feature_type=feature_type, boosting="discrete", max_weak_per_stage=8)
    full = train_cascade(pos, bgs, max_stages=3, **kw)
    train_cascade(pos, bgs, max_stages=2, checkpoint_dir=tmp_path, **kw)
    path = tmp_path / "cascade_checkpoint.json"
    doc = json.loads(path.read_text())
    # rewrite it as version 1 wrote it: one alpha per stump (and a polarity for Haar), no boosting setting
    doc["version"] = 1
    del doc["settings"]["boosting"]
    for st in doc["stages"]:
        leaves = np.array(st.pop("leaves"))
        st["alphas"] = leaves.max(axis=1).tolist()
        if feature_type == "haar":
            st["polarities"] = np.where(leaves[:, 0] > 0, 1, -1).tolist()
    path.write_text(json.dumps(doc))
    resumed = train_cascade(pos, bgs, max_stages=3, checkpoint_dir=tmp_path, **kw)
    assert resumed.to_dict() == full.to_dict()


def test_presort_equals_numpys_stable_argsort_for_any_thread_count():
    rng = np.random.default_rng(11)
    cases = [rng.normal(size=(301, 17)), np.round(rng.normal(size=(257, 9)) * 2),    # many ties
             rng.normal(size=(40, 3)) * 1e35, rng.integers(-2, 3, (65535, 2))]
    for X in cases:
        X = X.astype(np.float32)
        X[::7, 0] = -0.0                          # equal to +0.0: ties keep the sample order
        X[1::7, 0] = 0.0
        ref = np.argsort(X.T, axis=1, kind="stable")
        for threads in (1, 2, 3):
            with cvcore.num_threads(threads):
                sv, order = presort(X)
            np.testing.assert_array_equal(order, ref)
            np.testing.assert_array_equal(sv.view(np.uint32), np.take_along_axis(X.T, ref, axis=1).view(np.uint32))
