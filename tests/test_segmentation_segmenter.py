"""PixelSegmenter: strokes and masks, tiling, model files; Weizmann horses vs scikit-image."""
import json
import os

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from cvcore.segmentation import KNNClassifier, PixelSegmenter, RandomForestClassifier, metrics

SIGMAS = (1.0, 2.0, 4.0)


def _scene(seed=0, size=(96, 128)):
    """Two textures: smooth bright disc on a noisy dark background, plus the true mask."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[:h, :w]
    mask = ((yy - h / 2) ** 2 + (xx - w / 2) ** 2) < (min(h, w) / 3) ** 2
    img = np.where(mask, 0.6, 0.35) + rng.normal(0, 0.05, size) * np.where(mask, 0.3, 1.5)
    rgb = np.clip(np.stack([img, img * 0.9, 1 - img], -1), 0, 1)
    return (rgb * 255).astype(np.uint8), mask.astype(np.uint8)


def _strokes(mask, per_class, seed):
    """A few hundred labelled pixels per class along random short strokes."""
    rng = np.random.default_rng(seed)
    lab = np.zeros(mask.shape, np.uint8)
    for cls in (0, 1):
        ys, xs = np.nonzero(mask == cls)
        picked = rng.choice(ys.size, per_class // 10, replace=False)
        for y, x in zip(ys[picked], xs[picked]):
            seg = slice(x, min(x + 10, mask.shape[1]))
            lab[y, seg] = np.where(mask[y, seg] == cls, cls + 1, lab[y, seg])
    return lab


@pytest.mark.parametrize("classifier", ["rf", "knn"])
def test_strokes_only_training_segments_new_image(classifier):
    img, mask = _scene(0)
    lab = _strokes(mask, 300, 1)
    assert 200 <= np.count_nonzero(lab == 1) <= 400 and np.count_nonzero(lab == 2) >= 200
    seg = PixelSegmenter(classifier, sigmas=SIGMAS, random_state=0).fit(img, lab)
    assert seg.classes_.tolist() == [1, 2]
    test_img, test_mask = _scene(5)
    pred = seg.predict(test_img)
    assert pred.dtype == np.uint8 and set(np.unique(pred)) <= {1, 2}
    assert metrics.mean_iou(pred - 1, test_mask, 2) > 0.9
    proba = seg.predict_proba(test_img)
    assert proba.shape == test_img.shape[:2] + (2,)
    assert np.allclose(proba.sum(-1), 1, atol=1e-5)


def test_full_masks_and_several_images_with_label_values():
    (a, ma), (b, mb) = _scene(0), _scene(1)
    # full masks with arbitrary positive label values (3 = object, 7 = background)
    la, lb = np.where(ma, 3, 7), np.where(mb, 3, 7)
    seg = PixelSegmenter("rf", sigmas=SIGMAS, max_training_pixels=3000, random_state=0).fit([a, b], [la, lb])
    assert seg.classes_.tolist() == [3, 7]
    img, mask = _scene(9)
    pred = seg.predict(img)
    assert metrics.pixel_accuracy(pred == 3, mask) > 0.95


def test_tiled_prediction_equals_whole_image():
    img, mask = _scene(2, size=(150, 90))
    lab = _strokes(mask, 300, 3)
    whole = PixelSegmenter("rf", sigmas=SIGMAS, random_state=0).fit(img, lab)
    tiled = PixelSegmenter("rf", sigmas=SIGMAS, random_state=0, tile_bytes=1 << 16).fit(img, lab)
    assert len(tiled._strips(150, 90, 3)) > 3
    assert_array_equal(whole.predict_proba(img), tiled.predict_proba(img))


def test_prediction_in_small_feature_bands_equals_one_band(monkeypatch):
    from cvcore.segmentation import segmenter

    img, mask = _scene(2, size=(150, 90))
    seg = PixelSegmenter("rf", sigmas=SIGMAS, random_state=0).fit(img, _strokes(mask, 300, 3))
    one = seg.predict_proba(img)
    monkeypatch.setattr(segmenter, "_BAND_BYTES", 1 << 14)  # a few rows per band
    assert_array_equal(seg.predict_proba(img), one)


def test_same_seed_same_segmenter():
    img, mask = _scene(0)
    lab = np.where(mask, 1, 2).astype(np.uint8)
    a = PixelSegmenter("rf", sigmas=SIGMAS, max_training_pixels=2000, random_state=4).fit(img, lab)
    b = PixelSegmenter("rf", sigmas=SIGMAS, max_training_pixels=2000, random_state=4).fit(img, lab)
    assert_array_equal(a.predict_proba(img), b.predict_proba(img))


def test_any_estimator_works():
    sklearn_ensemble = pytest.importorskip("sklearn.ensemble")
    img, mask = _scene(0)
    lab = _strokes(mask, 300, 1)
    seg = PixelSegmenter(sklearn_ensemble.ExtraTreesClassifier(20, random_state=0), sigmas=SIGMAS).fit(img, lab)
    assert metrics.mean_iou(seg.predict(img) - 1, mask, 2) > 0.85
    with pytest.raises(ValueError, match="can be saved"):
        seg.save(os.devnull)


def _header(path):
    from cvcore._validate import modelfile

    fields, version, arrays = modelfile.read_npz(path, kind="cvcore-pixel-segmenter", versions=(1,))
    return fields.data, arrays


def _rewrite(path, tmp_path, name, meta=None, **arrays):
    """Copy of model ``path`` with header fields / arrays replaced (None deletes an array)."""
    from cvcore._validate import modelfile

    header, stored = _header(path)
    header = json.loads(json.dumps(header))
    for key, value in (meta or {}).items():
        target = header
        *parents, last = key.split(".")
        for part in parents:
            target = target[part]
        target[last] = value
    for key, value in arrays.items():
        if value is None:
            stored.pop(key)
        else:
            stored[key] = value
    out = tmp_path / name
    fmt, version = header.pop("format"), header.pop("version")
    modelfile.write_npz(out, stored, header, kind=fmt, version=version)
    return out


@pytest.mark.parametrize("classifier", [RandomForestClassifier(10, random_state=0, max_depth=12, n_jobs=2),
                                        KNNClassifier(3), KNNClassifier(40, algorithm="brute")])
def test_save_load_roundtrip(tmp_path, classifier):
    img, mask = _scene(0)
    lab = _strokes(mask, 300, 1)
    seg = PixelSegmenter(classifier, sigmas=SIGMAS, max_training_pixels=5000, tile_bytes=1 << 20,
                         random_state=3).fit(img, lab)
    path = tmp_path / "model.npz"
    seg.save(path)
    loaded = PixelSegmenter.load(path)
    assert_array_equal(loaded.predict_proba(img), seg.predict_proba(img))
    assert loaded.classifier_.get_params() == seg.classifier_.get_params()
    assert loaded.classifier.get_params() == seg.classifier_.get_params()
    refit = loaded.fit(img, lab).predict_proba(img)  # retrains the same kind of classifier
    assert refit.shape == img.shape[:2] + (2,) and loaded.classifier_ is loaded.classifier
    for name in ("sigmas", "max_training_pixels", "tile_bytes", "random_state", "channel_axis"):
        assert list(np.atleast_1d(getattr(loaded, name))) == list(np.atleast_1d(getattr(seg, name))), name
    header, arrays = _header(path)
    assert header["format"] == "cvcore-pixel-segmenter" and header["version"] == 1
    assert arrays["classes"].tolist() == [1, 2] and header["segmenter"]["sigmas"] == list(SIGMAS)


@pytest.fixture(scope="module")
def saved_forest(tmp_path_factory):
    img, mask = _scene(0)
    seg = PixelSegmenter("rf", sigmas=SIGMAS, random_state=0).fit(img, _strokes(mask, 300, 1))
    path = tmp_path_factory.mktemp("model") / "good.npz"
    seg.save(path)
    return path


@pytest.mark.parametrize("meta, match", [
    ({"format": "something"}, "not a cvcore-pixel-segmenter file"),
    ({"version": 99}, "version 99 is not supported"),
    ({"segmenter.sigmas": [1.0]}, "n_features does not match"),
    ({"segmenter.sigmas": ["1.0", 2.0, 4.0]}, "sigmas must be a real number"),
    ({"segmenter.n_jobs": 10**6}, "n_jobs must be <= 256"),
    ({"segmenter.tile_bytes": 2.5e8}, "tile_bytes must be an integer"),
    ({"segmenter.channel_axis": True}, "channel_axis must be an integer"),
    ({"classifier_params.n_jobs": 10**6}, "n_jobs must be <= 256"),
    ({"classifier_params.n_estimators": 11}, "100 trees but n_estimators=11"),
    ({"classifier_params.max_depth": 3.5}, "max_depth must be an integer"),
    ({"classifier_params.bootstrap": "false"}, "bootstrap must be True or False"),
    ({"classifier_params.sneaky": 1}, "unknown parameter"),
    ({"classifier": "svm"}, "classifier must be one of"),
    ({"n_channels": 10**9}, "n_channels must lie in"),
])
def test_load_refuses_hostile_header(saved_forest, tmp_path, meta, match):
    with pytest.raises(ValueError, match=match):
        PixelSegmenter.load(_rewrite(saved_forest, tmp_path, "bad.npz", meta))


def test_load_refuses_hostile_arrays(saved_forest, tmp_path):
    _, arrays = _header(saved_forest)
    left = arrays["rf_left"].copy()
    left[np.flatnonzero(left >= 0)[0]] = 0  # a cycle
    cases = [
        ({"rf_left": left}, "later nodes"),
        ({"rf_left": arrays["rf_left"].astype(np.float64)}, "must hold integers"),
        ({"rf_left": arrays["rf_left"].astype(np.int64) + 2**32}, r"values must lie in"),
        ({"rf_threshold": np.where(np.arange(arrays["rf_threshold"].size) == 0, np.nan, arrays["rf_threshold"])},
         "finite"),
        ({"rf_value": None}, "arrays must be"),
        ({"extra": np.zeros(3)}, "arrays must be"),
        ({"classes": np.array([1.0, 2.0])}, "integer"),
        ({"classes": np.array([2, 1])}, "sorted and unique"),
        ({"classes": np.array([1])}, "do not match|at least two"),
    ]
    for i, (change, match) in enumerate(cases):
        with pytest.raises(ValueError, match=match):
            PixelSegmenter.load(_rewrite(saved_forest, tmp_path, f"bad{i}.npz", **change))


def test_load_refuses_foreign_corrupt_and_legacy_files(saved_forest, tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a cvcore .npz model file"):
        PixelSegmenter.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(ValueError, match="no __model__ header"):
        PixelSegmenter.load(tmp_path / "other.npz")
    data = saved_forest.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError):
        PixelSegmenter.load(tmp_path / "cut.npz")
    # object arrays are refused without unpickling anything
    np.savez(tmp_path / "pickled.npz", __model__=np.frombuffer(b'{"format": "cvcore-pixel-segmenter"}', np.uint8),
             classes=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="not allowed"):
        PixelSegmenter.load(tmp_path / "pickled.npz")
    # the unreleased first format ("metadata" member) is refused with advice
    np.savez(tmp_path / "old.npz", metadata=np.array(json.dumps({"format": "cvcore.PixelSegmenter", "version": 1})))
    with pytest.raises(ValueError, match="development version.*train the segmenter again"):
        PixelSegmenter.load(tmp_path / "old.npz")
    with pytest.raises(FileNotFoundError):
        PixelSegmenter.load(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError):
        PixelSegmenter.load(tmp_path)


def test_segmenter_bad_input():
    img, mask = _scene(0)
    seg = PixelSegmenter("rf", sigmas=SIGMAS)
    with pytest.raises(ValueError, match="no labelled pixel"):
        seg.fit(img, np.zeros(mask.shape, np.uint8))
    with pytest.raises(ValueError, match="shape"):
        seg.fit(img, mask[:10])
    with pytest.raises(ValueError, match="2 images but 1 label"):
        seg.fit([img, img], [mask])
    with pytest.raises(ValueError, match="classifier must be one of"):
        PixelSegmenter("svm").fit(img, mask + 1)
    with pytest.raises(TypeError, match="estimator with fit"):
        PixelSegmenter(object()).fit(img, mask + 1)
    with pytest.raises(ValueError, match="not fitted"):
        seg.predict(img)
    seg.fit(img, _strokes(mask, 300, 1))
    with pytest.raises(ValueError, match="channels"):
        seg.predict(img[..., 0])


def test_fit_refuses_a_01_mask_that_labels_one_class():
    # regression: 0/1 masks (0 = background) used to train a one-class model predicting 1 everywhere
    img, mask = _scene(0)
    with pytest.raises(ValueError, match=r"only class 1 \(0 means unlabelled; classes are 1..K\).*mask \+ 1"):
        PixelSegmenter("rf", sigmas=SIGMAS).fit(img, mask)
    with pytest.raises(ValueError, match="only class 1"):
        PixelSegmenter("knn", sigmas=SIGMAS).fit([img, img], [mask, mask.astype(bool)])
    seg = PixelSegmenter("rf", sigmas=SIGMAS, max_training_pixels=2000, random_state=0).fit(img, mask + 1)
    assert seg.classes_.tolist() == [1, 2]
    assert set(np.unique(seg.predict(img))) == {1, 2}


@pytest.mark.parametrize("channels", [3, 4])
def test_fit_refuses_colour_label_images(channels):
    img, mask = _scene(0)
    lab = np.repeat((mask + 1)[:, :, None], channels, axis=2)
    with pytest.raises(ValueError, match=rf"labels\[0\] is a {channels}-channel \(colour\) image.*single-channel"):
        PixelSegmenter(sigmas=SIGMAS).fit(img, lab)


def test_fit_label_dtypes():
    img, mask = _scene(0)
    lab = _strokes(mask, 300, 1)
    ref = PixelSegmenter("rf", sigmas=SIGMAS, random_state=0).fit(img, lab).predict_proba(img)
    # whole-number floats and a trailing channel of one are label maps too
    for variant in (lab.astype(np.float32), lab[:, :, None], lab.astype(np.int64)):
        got = PixelSegmenter("rf", sigmas=SIGMAS, random_state=0).fit(img, variant).predict_proba(img)
        assert_array_equal(got, ref)
    bad = lab.astype(np.float64)
    bad[0, 0] = 1.5
    with pytest.raises(ValueError, match="non-integer value 1.5"):
        PixelSegmenter(sigmas=SIGMAS).fit(img, bad)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="non-integer"):
        PixelSegmenter(sigmas=SIGMAS).fit(img, bad)
    neg = lab.astype(np.int16)
    neg[0, 0] = -1
    with pytest.raises(ValueError, match="positive class labels 1..K, got -1"):
        PixelSegmenter(sigmas=SIGMAS).fit(img, neg)
    with pytest.raises(ValueError, match=r"must have the image's shape \(96, 128\), got \(96, 127\)"):
        PixelSegmenter(sigmas=SIGMAS).fit(img, lab[:, 1:])
    with pytest.raises(TypeError, match="labels\\[0\\]"):
        PixelSegmenter(sigmas=SIGMAS).fit(img, lab.astype(np.complex64))


def test_subset_that_drops_a_class_is_refused():
    img, mask = _scene(0)
    lab = np.where(mask, 2, 1).astype(np.uint8)
    lab[0, 0] = 3  # one pixel of class 3 among ~12000
    seg = PixelSegmenter("rf", sigmas=SIGMAS, max_training_pixels=50, random_state=0)
    with pytest.raises(ValueError, match=r"kept no pixel of class\(es\) \[3\]; raise max_training_pixels"):
        seg.fit(img, lab)


def test_random_state_int_or_generator():
    img, mask = _scene(0)
    lab = np.where(mask, 1, 2).astype(np.uint8)
    kw = dict(sigmas=SIGMAS, max_training_pixels=500)
    a = PixelSegmenter(random_state=np.random.default_rng(5), **kw).fit(img, lab).predict_proba(img)
    b = PixelSegmenter(random_state=np.random.default_rng(5), **kw).fit(img, lab).predict_proba(img)
    c = PixelSegmenter(random_state=np.random.default_rng(6), **kw).fit(img, lab).predict_proba(img)
    assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError, match="random_state must be >= 0"):
        PixelSegmenter(random_state=-1, **kw).fit(img, lab)
    with pytest.raises(TypeError, match="random_state must be an integer"):
        PixelSegmenter(random_state=1.5, **kw).fit(img, lab)


@pytest.mark.parametrize("kwargs, err, match", [
    ({"n_jobs": 10**6}, ValueError, "n_jobs must be <= 256"),
    ({"n_jobs": 0}, ValueError, "n_jobs must be a positive"),
    ({"tile_bytes": 10}, ValueError, "tile_bytes must be >= 65536"),
    ({"max_training_pixels": 0}, ValueError, "max_training_pixels must be >= 1"),
    ({"channel_axis": 3}, ValueError, "channel_axis must be <= 2"),
    ({"sigmas": "1 2"}, TypeError, "sigmas must be a sequence"),
])
def test_segmenter_bad_params(kwargs, err, match):
    img, mask = _scene(0)
    with pytest.raises(err, match=match):
        PixelSegmenter(**kwargs).fit(img, mask + 1)


def test_rgba_alpha_is_ignored_and_grey_trailing_channel():
    img, mask = _scene(0)
    lab = _strokes(mask, 300, 1)
    seg = PixelSegmenter("rf", sigmas=SIGMAS, random_state=0).fit(img, lab)
    alpha = np.random.default_rng(0).integers(0, 256, mask.shape, dtype=np.uint8)
    rgba = np.dstack([img, alpha])
    assert seg.n_channels_ == 3
    assert_array_equal(seg.predict_proba(rgba), seg.predict_proba(img))


def test_progress_reports_features_trees_and_strips():
    img, mask = _scene(0)
    seen = []
    seg = PixelSegmenter(RandomForestClassifier(4, random_state=0), sigmas=SIGMAS, tile_bytes=1 << 16)
    seg.fit([img, img], [_strokes(mask, 300, 1)] * 2, progress=lambda d, t, s: seen.append((s, d, t)))
    assert [x for x in seen if x[0] == "pixel features"] == [("pixel features", 1, 2), ("pixel features", 2, 2)]
    assert [x for x in seen if x[0] == "growing trees"][-1] == ("growing trees", 4, 4)
    seen.clear()
    seg.predict(img, progress=lambda d, t, s: seen.append((s, d, t)))
    n = len(seg._strips(*img.shape))
    assert n > 1 and seen == [("segmenting", i + 1, n) for i in range(n)]
    with pytest.raises(TypeError, match="progress must be"):
        seg.predict(img, progress="yes")


def test_segmenter_predict_is_interruptible(interrupt_check):
    interrupt_check(
        "import numpy as np\n"
        "from cvcore.segmentation import PixelSegmenter\n"
        "img = np.zeros((64, 64), np.uint8); img[:, 32:] = 200\n"
        "lab = np.zeros((64, 64), np.uint8); lab[:, 5] = 1; lab[:, 60] = 2\n"
        "seg = PixelSegmenter('rf', sigmas=(1.0,), features=('intensity',), random_state=0).fit(img, lab)\n"
        "big = np.random.default_rng(0).integers(0, 256, (3000, 3000), dtype=np.uint8)\n"
        "print('READY', flush=True)\n"
        "seg.predict(big)\n")


# ---------------------------------------------------------------------------
# Weizmann horses: ours vs skimage.future.fit_segmenter on the same pixels
# ---------------------------------------------------------------------------

def horse_split(root, n_train, n_val, seed=0):
    """Seeded split of the 51 horses: a permutation (default_rng(0)); the first
    ``n_train`` names train, the next ``n_val`` validate."""
    names = sorted(os.listdir(root / "images"))
    perm = np.random.default_rng(seed).permutation(len(names))
    return [names[i] for i in perm[:n_train]], [names[i] for i in perm[n_train:n_train + n_val]]


def sampled_labels(mask, per_class, rng):
    """``per_class`` random pixels of each class labelled (1 = background, 2 = horse)."""
    lab = np.zeros(mask.shape, np.uint8)
    for cls in (0, 1):
        idx = np.flatnonzero(mask.reshape(-1) == cls)
        lab.reshape(-1)[rng.choice(idx, min(per_class, idx.size), replace=False)] = cls + 1
    return lab


def _load_horse(root, name, scale):
    import cv2

    from cvcore.io import imread

    im, mask = imread(root / "images" / name), imread(root / "masks" / name, grey=True)
    if scale != 1:
        size = (max(1, round(im.shape[1] * scale)), max(1, round(im.shape[0] * scale)))
        im = cv2.resize(im, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    return im, mask


def compare_on_horses(shared_data, n_train, n_val, per_class, trees, scale=1.0):
    """Mean IoU on the validation horses: (ours, skimage fit_segmenter + sklearn forest)."""
    from skimage.feature import multiscale_basic_features
    from skimage.future import fit_segmenter, predict_segmenter
    from sklearn.ensemble import RandomForestClassifier as SKForest

    root = shared_data / "segmentation" / "weizmann_horses_train"
    train, val = horse_split(root, n_train, n_val)
    rng = np.random.default_rng(1)
    images, labels = [], []
    for name in train:
        im, mask = _load_horse(root, name, scale)
        images.append(im)
        labels.append(sampled_labels(mask, per_class, rng))
    seg = PixelSegmenter(RandomForestClassifier(trees, random_state=0)).fit(images, labels)
    X = np.concatenate([multiscale_basic_features(im, channel_axis=-1)[lab > 0] for im, lab in zip(images, labels)])
    y = np.concatenate([lab[lab > 0] for lab in labels])
    clf = fit_segmenter(y, X, SKForest(trees, random_state=0))
    ours, ref = [], []
    for name in val:
        im, mask = _load_horse(root, name, scale)
        ours.append(metrics.mean_iou(seg.predict(im) - 1, mask, 2))
        ref.append(metrics.mean_iou(predict_segmenter(multiscale_basic_features(im, channel_axis=-1), clf) - 1,
                                    mask, 2))
    return float(np.mean(ours)), float(np.mean(ref))


def test_horses_mean_iou_at_least_skimage_small(shared_data):
    ours, ref = compare_on_horses(shared_data, n_train=12, n_val=8, per_class=200, trees=30, scale=0.5)
    print(f"horses at half size (12 train / 8 val, 200 px/class, 30 trees): ours {ours:.4f}, skimage {ref:.4f}")
    assert ours >= ref


@pytest.mark.slow
def test_horses_mean_iou_at_least_skimage_full(shared_data):
    ours, ref = compare_on_horses(shared_data, n_train=30, n_val=21, per_class=300, trees=50)
    print(f"horses (30 train / 21 val, 300 px/class, 50 trees): ours {ours:.4f}, skimage {ref:.4f}")
    assert ours >= ref


def test_strips_reproduce_whole_image_features_at_default_scales():
    from cvcore.segmentation import pixel_features

    rng = np.random.default_rng(0)
    img = rng.random((300, 40)).astype(np.float32)
    seg = PixelSegmenter("rf", tile_bytes=1 << 16)  # default sigmas up to 10 (margin > 80 rows)
    full = pixel_features(img)
    strips = list(seg._iter_planes(img[:, :, None], seg._checked()))
    assert len(strips) > 2
    rows = []
    for y0, y1, a0, planes in strips:
        for b0, b1, feats in seg._bands(y0, y1, a0, planes):
            assert_array_equal(feats, full[b0:b1])
            rows.extend(range(b0, b1))
        ys, xs = np.arange(y0, y1) - a0, (np.arange(y0, y1) * 7) % 40  # a pixel per row, as training takes them
        at = np.empty((y1 - y0, full.shape[2]), np.float32)
        planes.fill_pixels(ys, xs, at)
        assert_array_equal(at, full[np.arange(y0, y1), xs])
    assert rows == list(range(300))


def test_segmenter_fit_is_interruptible(interrupt_check):
    interrupt_check(
        "import numpy as np\n"
        "from cvcore.segmentation import PixelSegmenter\n"
        "rng = np.random.default_rng(0)\n"
        "img = rng.integers(0, 256, (1500, 1500, 3), dtype=np.uint8)\n"
        "lab = rng.integers(1, 3, (1500, 1500)).astype(np.uint8)\n"
        "print('READY', flush=True)\n"
        "PixelSegmenter('rf', sigmas=(1.0, 2.0), max_training_pixels=None, random_state=0).fit(img, lab)\n")
