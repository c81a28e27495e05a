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


@pytest.mark.parametrize("classifier", [RandomForestClassifier(10, random_state=0),
                                        KNNClassifier(3), KNNClassifier(40, algorithm="brute")])
def test_save_load_roundtrip(tmp_path, classifier):
    img, mask = _scene(0)
    lab = _strokes(mask, 300, 1)
    seg = PixelSegmenter(classifier, sigmas=SIGMAS).fit(img, lab)
    path = tmp_path / "model.npz"
    seg.save(path)
    loaded = PixelSegmenter.load(path)
    assert_array_equal(loaded.predict_proba(img), seg.predict_proba(img))
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["metadata"][()]))
    assert meta["format"] == "cvcore.PixelSegmenter" and meta["version"] == 1
    assert meta["classes"] == [1, 2] and meta["sigmas"] == list(SIGMAS)


def test_load_rejects_foreign_and_corrupt_files(tmp_path):
    img, mask = _scene(0)
    seg = PixelSegmenter("rf", sigmas=SIGMAS, random_state=0).fit(img, _strokes(mask, 300, 1))
    good = tmp_path / "good.npz"
    seg.save(good)
    with np.load(good, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}

    def variant(name, **changes):
        a = dict(arrays)
        meta = json.loads(str(a["metadata"][()]))
        for k, v in changes.pop("meta", {}).items():
            meta[k] = v
        a["metadata"] = np.array(json.dumps(meta))
        a.update(changes)
        path = tmp_path / name
        np.savez(path, **a)
        return path

    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a readable"):
        PixelSegmenter.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(ValueError, match="no valid JSON metadata"):
        PixelSegmenter.load(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="not a cvcore.PixelSegmenter file"):
        PixelSegmenter.load(variant("f.npz", meta={"format": "something"}))
    with pytest.raises(ValueError, match="version"):
        PixelSegmenter.load(variant("v.npz", meta={"version": 99}))
    with pytest.raises(ValueError, match="n_features does not match"):
        PixelSegmenter.load(variant("s.npz", meta={"sigmas": [1.0]}))
    bad_left = arrays["rf_left"].copy()
    bad_left[0] = 0
    with pytest.raises(ValueError, match="invalid rf classifier"):
        PixelSegmenter.load(variant("c.npz", rf_left=bad_left))
    with pytest.raises(FileNotFoundError):
        PixelSegmenter.load(tmp_path / "missing.npz")


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
    strips = list(seg._iter_features(img[:, :, None]))
    assert len(strips) > 2
    for y0, y1, feats in strips:
        assert_array_equal(feats, full[y0:y1])
