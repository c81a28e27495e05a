"""Pixel segmentation: cvcore vs scikit-image + scikit-learn on the same photo and pixels.

* The whole trainable-segmentation pipeline on a 640x480 photo: features, forest fit
  on the same labelled pixels, prediction of every pixel. Peer: scikit-image's
  ``multiscale_basic_features`` + ``future.fit_segmenter``/``predict_segmenter``
  with scikit-learn's ``RandomForestClassifier`` (same number of trees, n_jobs=1).
  Each side uses its own default feature set (cvcore: 144 features; scikit-image: 72).
* KNN prediction of 100k query pixels from 20k training pixels (pixel features of the
  same photo), against scikit-learn's ``KNeighborsClassifier`` (algorithm "auto",
  n_jobs=1): identical predictions are checked first.

Inputs come from ``skimage.data`` (no external data needed).
"""
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


def cases(quick):
    try:
        from skimage.feature import multiscale_basic_features
        from skimage.future import fit_segmenter, predict_segmenter
        from sklearn.ensemble import RandomForestClassifier as SKForest
        from sklearn.neighbors import KNeighborsClassifier
    except ImportError:  # bench extra not installed
        return []
    from cvcore.segmentation import KNNClassifier, PixelSegmenter, RandomForestClassifier, pixel_features

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
        feats = multiscale_basic_features(img, channel_axis=-1, workers=1)
        clf = fit_segmenter(lab, feats, SKForest(trees, random_state=0, n_jobs=1))
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
    peer_knn = KNeighborsClassifier(5, n_jobs=1).fit(Xf, yf)
    ours_knn_d = KNNClassifier(5, weights="distance").fit(Xf, yf)
    peer_knn_d = KNeighborsClassifier(5, weights="distance", n_jobs=1).fit(Xf, yf)

    return [
        Case(f"features+fit+predict rf {trees} trees {n_train} px {size} {trees} trees {n_train} px {size}", ours_pipeline, peer_pipeline,
             "skimage fit_segmenter + sklearn RF", min_speedup=1.0, check=_agree(0.8)),
        Case(f"PixelSegmenter fit+predict {trees} trees {size}", ours_segmenter, peer_pipeline,
             "skimage fit_segmenter + sklearn RF", check=_agree(0.8)),
        Case(f"knn predict {n_query // 1000}k q / {n_fit // 1000}k train 12 f", lambda: ours_knn.predict(Q),
             lambda: peer_knn.predict(Q), "sklearn KNeighborsClassifier", min_speedup=1.0, check=_same),
        Case(f"knn distance {n_query // 1000}k q / {n_fit // 1000}k 12 f", lambda: ours_knn_d.predict(Q),
             lambda: peer_knn_d.predict(Q), "sklearn KNeighborsClassifier", min_speedup=1.0, check=_same),
    ]
