"""Pixel segmentation: cvcore vs scikit-image + scikit-learn on the same photo and pixels.

* The whole trainable-segmentation pipeline on a 640x480 photo: features, forest fit
  on the same labelled pixels, prediction of every pixel. Peer: scikit-image's
  ``multiscale_basic_features`` + ``future.fit_segmenter``/``predict_segmenter``
  with scikit-learn's ``RandomForestClassifier`` (same number of trees).
  Each side uses its own default feature set (cvcore: 144 features; scikit-image: 72).
* KNN prediction of 100k query pixels from 20k training pixels (pixel features of the
  same photo), against scikit-learn's ``KNeighborsClassifier`` (algorithm "auto",
  same threads): identical predictions are checked first.
* scikit-learn's ``n_jobs`` and scikit-image's ``workers`` follow each row's thread setting
  (1 on the single-thread row, all cores on the default row).

* Full-size Weizmann horse photos (``../shared/data`` or ``$CVCORE_SHARED_DATA``; the case
  is left out when the data is absent): :class:`PixelSegmenter` (default features, forest
  of 100 trees) trained on 300 random pixels per class of each training photo, then
  predicting every pixel of the test photos, against ``multiscale_basic_features`` +
  ``fit_segmenter``/``predict_segmenter`` with scikit-learn's forest (same trees, unlimited
  depth like ours; ``n_jobs`` and ``workers`` follow the row's thread setting). The check
  asks for a mean IoU at least the peer's.
* Forest fit and predict, and KNN, each with a thread-scaling row (1 thread vs all).

Other inputs come from ``skimage.data`` (no external data needed).
"""
import os
import pathlib

import numpy as np

from ._harness import Case


def _photo():
    import cv2
    from skimage import data

    return cv2.resize(data.astronaut(), (640, 480), interpolation=cv2.INTER_AREA)


def _labels(img, n_pixels, rng):
    """``n_pixels`` random labelled pixels: 1 = dark, 2 = bright-warm, 3 = other (strokes stand-in)."""
    rgb = img.reshape(-1, 3).astype(np.int64)
    cls = np.where(rgb.sum(1) < 180, 1, np.where(rgb[:, 0] > rgb[:, 2] + 30, 2, 3))
    lab = np.zeros(img.shape[:2], np.uint8)
    idx = rng.choice(cls.size, n_pixels, replace=False)
    lab.reshape(-1)[idx] = cls[idx]
    return lab


def _agree(min_fraction):
    def check(ours, peer):
        agree = float(np.mean(np.asarray(ours) == np.asarray(peer)))
        if agree < min_fraction:
            raise AssertionError(f"segmentations agree on {agree:.1%} of pixels (< {min_fraction:.0%})")
    return check


def _same(ours, peer):
    diff = int(np.count_nonzero(np.asarray(ours) != np.asarray(peer)))
    if diff:
        raise AssertionError(f"{diff} predictions differ")


def _horses_root():
    env = os.environ.get("CVCORE_SHARED_DATA")
    here = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"
    for data in ([pathlib.Path(env)] if env else []) + [here, pathlib.Path.cwd().parent / "shared" / "data"]:
        if (data / "segmentation" / "weizmann_horses_train" / "images").is_dir():
            return data / "segmentation" / "weizmann_horses_train"
    return None


def _horse_case(quick, trees):
    """PixelSegmenter on full-size horse photos vs scikit-image + scikit-learn, or None without the data."""
    root = _horses_root()
    if root is None:
        return None
    import cvcore
    from cvcore.io import imread
    from cvcore.segmentation import PixelSegmenter, RandomForestClassifier, metrics
    from skimage.feature import multiscale_basic_features
    from skimage.future import fit_segmenter, predict_segmenter
    from sklearn.ensemble import RandomForestClassifier as SKForest

    names = sorted(os.listdir(root / "images"))
    order = np.random.default_rng(0).permutation(len(names))  # the split of the horse tests
    n_train, n_test = 6, 6  # fewer photos make the IoU comparison a coin toss; --quick halves their size
    rng = np.random.default_rng(1)
    train, labels, test, truth = [], [], [], []
    for k, i in enumerate(order[:n_train + n_test]):
        image, mask = imread(root / "images" / names[i]), imread(root / "masks" / names[i], grey=True)
        if quick:
            image, mask = image[::2, ::2].copy(), mask[::2, ::2].copy()
        if k < n_train:
            lab = np.zeros(mask.shape, np.uint8)
            for cls in (0, 1):  # 300 random pixels of each class: 1 = background, 2 = horse
                idx = np.flatnonzero(mask.reshape(-1) == cls)
                lab.reshape(-1)[rng.choice(idx, min(300, idx.size), replace=False)] = cls + 1
            train.append(image)
            labels.append(lab)
        else:
            test.append(image)
            truth.append(mask)
    pixels = sum(im.shape[0] * im.shape[1] for im in train + test) / 1e6

    def ours():
        seg = PixelSegmenter(RandomForestClassifier(trees, random_state=0)).fit(train, labels)
        return [seg.predict(im) for im in test]

    def peer():
        n = cvcore.get_num_threads()  # the row's setting: 1, or all cores (as for ours)
        X = np.concatenate([multiscale_basic_features(im, channel_axis=-1, workers=n)[lab > 0]
                            for im, lab in zip(train, labels)])
        y = np.concatenate([lab[lab > 0] for lab in labels])
        clf = fit_segmenter(y, X, SKForest(trees, random_state=0, n_jobs=n))
        return [predict_segmenter(multiscale_basic_features(im, channel_axis=-1, workers=n), clf) for im in test]

    def check(ours_pred, peer_pred):
        iou = [np.mean([metrics.mean_iou(p - 1, t, 2) for p, t in zip(pred, truth)])
               for pred in (ours_pred, peer_pred)]
        print(f"    horses mean IoU: cvcore {iou[0]:.4f}, skimage + sklearn {iou[1]:.4f}")
        if iou[0] < iou[1]:
            raise AssertionError(f"mean IoU {iou[0]:.4f} below the peer's {iou[1]:.4f}")

    size = "half-size" if quick else "full-size"
    return Case(f"horses {size} fit {n_train}+predict {n_test} rf {trees} {pixels:.1f} Mpx", ours, peer,
                "skimage mbf+fit_segmenter, sklearn RF", min_speedup=2.0, check=check)


def cases(quick):
    try:
        from skimage.feature import multiscale_basic_features
        from skimage.future import fit_segmenter, predict_segmenter
        from sklearn.ensemble import RandomForestClassifier as SKForest
        from sklearn.neighbors import KNeighborsClassifier
    except ImportError:  # bench extra not installed
        return []
    from cvcore.segmentation import KNNClassifier, PixelSegmenter, RandomForestClassifier, pixel_features
    import cvcore

    sk_jobs = cvcore.get_num_threads  # the peers' threads follow the row's setting

    rng = np.random.default_rng(0)
    img = _photo()
    if quick:
        img = img[::2, ::2].copy()
    trees = 10 if quick else 50
    n_train = 2000 if quick else 10000
    lab = _labels(img, n_train, rng)
    size = f"{img.shape[1]}x{img.shape[0]}"

    def ours_pipeline():
        # the same steps as the peer: features once, fit on the labelled pixels, predict all
        feats = pixel_features(img)
        flat = feats.reshape(-1, feats.shape[-1])
        mask = lab.reshape(-1) > 0
        clf = RandomForestClassifier(trees, random_state=0).fit(flat[mask], lab.reshape(-1)[mask])
        return clf.classes_[np.argmax(clf.predict_proba(flat), axis=1)].reshape(lab.shape)

    def ours_segmenter():
        # PixelSegmenter computes the features in fit and again in predict
        seg = PixelSegmenter(RandomForestClassifier(trees, random_state=0), max_training_pixels=None)
        return seg.fit(img, lab).predict(img)

    def peer_pipeline():
        feats = multiscale_basic_features(img, channel_axis=-1, workers=sk_jobs())
        clf = fit_segmenter(lab, feats, SKForest(trees, random_state=0, n_jobs=sk_jobs()))
        return predict_segmenter(feats, clf)

    # KNN: 20k training pixels, 100k queries, 12 features (RGB intensity and gradient at 2 scales)
    cfg = dict(sigmas=(1.0, 4.0), features=("intensity", "gradient"))
    X = pixel_features(img, **cfg).reshape(-1, 12).astype(np.float64)
    y = _labels(img, img.shape[0] * img.shape[1], rng).reshape(-1)
    n_fit, n_query = (5000, 20000) if quick else (20000, 100000)
    perm = rng.permutation(X.shape[0])
    Xf, yf = X[perm[:n_fit]], y[perm[:n_fit]]
    Q = X[perm[n_fit:n_fit + n_query]]
    ours_knn = KNNClassifier(5).fit(Xf, yf)
    peer_knn = KNeighborsClassifier(5).fit(Xf, yf)
    ours_knn_d = KNNClassifier(5, weights="distance").fit(Xf, yf)
    peer_knn_d = KNeighborsClassifier(5, weights="distance").fit(Xf, yf)

    # forest alone on pixel features of the photo: fit on the labelled pixels, predict every pixel
    feats = pixel_features(img).reshape(-1, 144)
    mask = lab.reshape(-1) > 0
    Xfit, yfit = feats[mask], lab.reshape(-1)[mask]
    fitted = RandomForestClassifier(trees, random_state=0).fit(Xfit, yfit)
    sk_fitted = SKForest(trees, random_state=0).fit(Xfit, yfit)

    horses = _horse_case(quick, 100)
    return ([horses] if horses is not None else []) + [
        Case(f"forest fit {trees} trees {n_train} px 144 f", lambda: RandomForestClassifier(trees, random_state=0).fit(
            Xfit, yfit), lambda: SKForest(trees, random_state=0, n_jobs=sk_jobs()).fit(Xfit, yfit),
            "sklearn RandomForestClassifier", scaling=1.6),
        Case(f"forest predict {trees} trees {feats.shape[0] // 1000}k px", lambda: fitted.predict_proba(feats),
             lambda: sk_fitted.set_params(n_jobs=sk_jobs()).predict_proba(feats), "sklearn RandomForestClassifier",
             scaling=1.6),
        Case(f"features+fit+predict rf {trees} trees {n_train} px {size}", ours_pipeline, peer_pipeline,
             "skimage fit_segmenter + sklearn RF", min_speedup=1.0, check=_agree(0.8)),
        Case(f"PixelSegmenter fit+predict {trees} trees {size}", ours_segmenter, peer_pipeline,
             "skimage fit_segmenter + sklearn RF", check=_agree(0.8)),
        Case(f"knn predict {n_query // 1000}k q / {n_fit // 1000}k train 12 f", lambda: ours_knn.predict(Q),
             lambda: peer_knn.set_params(n_jobs=sk_jobs()).predict(Q), "sklearn KNeighborsClassifier",
             min_speedup=1.0, check=_same, scaling=1.6),
        Case(f"knn distance {n_query // 1000}k q / {n_fit // 1000}k 12 f", lambda: ours_knn_d.predict(Q),
             lambda: peer_knn_d.set_params(n_jobs=sk_jobs()).predict(Q), "sklearn KNeighborsClassifier", min_speedup=1.0, check=_same),
    ]
