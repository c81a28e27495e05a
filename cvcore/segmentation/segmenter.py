"""PixelSegmenter: train a per-pixel classifier on labelled pixels, segment new images."""
from __future__ import annotations

import json
import os

import numpy as np

from .. import _validate
from .features import DEFAULT_SIGMAS, FEATURES, _as_float_image, _check_config, _n_features, \
    feature_margin, pixel_features
from .forest import RandomForestClassifier
from .knn import KNNClassifier

__all__ = ["PixelSegmenter", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "cvcore.PixelSegmenter"
FORMAT_VERSION = 1
_FOREST_KEYS = ("roots", "feature", "threshold", "left", "right", "value", "feature_importances")


def _as_list(value, name):
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{name} must not be empty")
        return list(value)
    return [value]


def _label_map(value, shape, name):
    arr = _validate.array(value, name, ndim=2, kinds="iu", allow_bool=True)
    if arr.shape != shape:
        raise ValueError(f"{name} must have the image's shape {shape}, got {arr.shape}")
    if arr.min() < 0:
        raise ValueError(f"{name} must hold 0 (unlabelled) or positive class labels, got {arr.min()}")
    return arr


class PixelSegmenter:
    """Trainable pixel classifier (as ``skimage.future.fit_segmenter`` / ilastik).

    Label a few strokes (or whole masks) on training images: label 0 means
    unlabelled, 1..K are classes. ``fit`` computes :func:`pixel_features` at the
    labelled pixels and trains the classifier; ``predict`` classifies every pixel
    of a new image. Features are computed in horizontal strips (with enough
    overlap that the result is the same as in one piece), so memory stays bounded
    for large images.

    Parameters
    ----------
    classifier : {"rf", "knn"} or estimator
        ``"rf"``: :class:`RandomForestClassifier` (100 trees); ``"knn"``:
        :class:`KNNClassifier` (5 neighbours, distance weights). Any object with
        ``fit(X, y)`` and ``predict_proba(X)`` (and ``classes_``) works too (it is
        fitted in place), but only cvcore's own classifiers can be saved. KNN
        prediction cost grows with the number of training pixels: keep
        ``max_training_pixels`` modest (a few thousand) with ``"knn"``.
    sigmas, features
        Feature configuration, see :func:`pixel_features`.
    channel_axis : int or None
        Channel axis of 3-D images (see :func:`pixel_features`).
    max_training_pixels : int or None
        Train on at most this many labelled pixels (a seeded random subset).
    random_state : None or int
        Seed for the pixel subset and the forest.
    tile_bytes : int
        Memory budget of the feature array of one strip.
    n_jobs : int or None
        Threads for the built-in forest (None: 1).

    Attributes
    ----------
    classes_ : ndarray
        Class labels seen in training (the label values, e.g. ``[1, 2]``).
    classifier_ : estimator
        The fitted classifier.
    n_channels_ : int
        Channels of the training images.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((40, 40), np.uint8); img[:, 20:] = 200
    >>> strokes = np.zeros((40, 40), np.uint8); strokes[5:35, 5] = 1; strokes[5:35, 35] = 2
    >>> seg = PixelSegmenter("rf", sigmas=(1.0, 2.0), random_state=0).fit(img, strokes)
    >>> seg.predict(img)[20, [2, 10, 30, 38]].tolist()
    [1, 1, 2, 2]
    """

    def __init__(self, classifier="rf", sigmas=DEFAULT_SIGMAS, features=tuple(FEATURES), channel_axis=-1,
                 max_training_pixels=200_000, random_state=None, tile_bytes=256 << 20, n_jobs=None):
        self.classifier = classifier
        self.sigmas = sigmas
        self.features = features
        self.channel_axis = channel_axis
        self.max_training_pixels = max_training_pixels
        self.random_state = random_state
        self.tile_bytes = tile_bytes
        self.n_jobs = n_jobs

    # ---- helpers -------------------------------------------------------------

    def _config(self):
        return _check_config(self.sigmas, self.features)

    def _make_classifier(self):
        clf = self.classifier
        if isinstance(clf, str):
            kind = _validate.choice(clf, "classifier", ("rf", "knn"))
            seed = None if self.random_state is None else _validate.integer(self.random_state, "random_state", low=0)
            if kind == "rf":
                return RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=self.n_jobs)
            return KNNClassifier(n_neighbors=5, weights="distance")
        if not (hasattr(clf, "fit") and hasattr(clf, "predict_proba")):
            raise TypeError("classifier must be 'rf', 'knn' or an estimator with fit() and predict_proba(), "
                            f"got {type(clf).__name__}")
        return clf

    def _strips(self, h, w, c):
        """(core_start, core_stop, read_start, read_stop) row ranges covering the image."""
        sigmas, features = self._config()
        budget = _validate.integer(self.tile_bytes, "tile_bytes", low=1 << 16)
        row_bytes = w * _n_features(c, sigmas, features) * 4
        margin = feature_margin(sigmas, features)
        rows = budget // max(row_bytes, 1)
        if rows >= h:
            return [(0, h, 0, h)]
        core = max(16, rows - 2 * margin)
        out = []
        for y0 in range(0, h, core):
            y1 = min(h, y0 + core)
            out.append((y0, y1, max(0, y0 - margin), min(h, y1 + margin)))
        return out

    def _iter_features(self, img, rows_needed=None):
        """Yield (row_start, row_stop, features of those rows) for a float image (H, W, C).

        With ``rows_needed`` (a boolean per row), strips without a needed row are skipped.
        """
        sigmas, features = self._config()
        h, w, c = img.shape
        for y0, y1, a0, a1 in self._strips(h, w, c):
            if rows_needed is not None and not rows_needed[y0:y1].any():
                continue
            f = pixel_features(img[a0:a1], sigmas, features, channel_axis=-1)
            yield y0, y1, f[y0 - a0:y1 - a0]

    def _image(self, image, name="image"):
        try:
            return _as_float_image(image, self.channel_axis)
        except (TypeError, ValueError) as exc:
            raise type(exc)(str(exc).replace("image", name, 1)) from None

    # ---- training and prediction ---------------------------------------------

    def fit(self, images, labels):
        """Train on the labelled pixels of one or several images.

        Parameters
        ----------
        images : array_like or list of array_like
            One image or a list of images (same number of channels).
        labels : array_like or list of array_like
            Matching ``(H, W)`` integer label maps: 0 = unlabelled, 1..K = class.
            Strokes or full masks.

        Returns
        -------
        self
        """
        imgs = _as_list(images, "images")
        labs = _as_list(labels, "labels")
        if len(imgs) != len(labs):
            raise ValueError(f"got {len(imgs)} images but {len(labs)} label maps")
        cap = self.max_training_pixels
        cap = None if cap is None else _validate.integer(cap, "max_training_pixels", low=1)
        clf = self._make_classifier()
        rng = np.random.default_rng(None if self.random_state is None
                                    else _validate.integer(self.random_state, "random_state", low=0))
        xs, ys = [], []
        channels = None
        prepared = []
        for i, (image, lab) in enumerate(zip(imgs, labs)):
            img = self._image(image, f"images[{i}]")
            if channels is None:
                channels = img.shape[2]
            elif img.shape[2] != channels:
                raise ValueError(f"images[{i}] has {img.shape[2]} channels, images[0] has {channels}")
            lab = _label_map(lab, img.shape[:2], f"labels[{i}]")
            prepared.append((img, lab))
        total = sum(int(np.count_nonzero(lab)) for _, lab in prepared)
        if total == 0:
            raise ValueError("labels contain no labelled pixel (all 0); label at least one class")
        # choose the training pixels up front (seeded), then compute features strip by strip
        keep_all = cap is None or total <= cap
        chosen = None if keep_all else np.sort(rng.choice(total, cap, replace=False))
        offset = 0
        for img, lab in prepared:
            flat = np.flatnonzero(lab.reshape(-1))
            if chosen is not None:
                lo, hi = np.searchsorted(chosen, [offset, offset + flat.size])
                flat = flat[chosen[lo:hi] - offset]
            offset += np.count_nonzero(lab)
            if flat.size == 0:
                continue
            w = img.shape[1]
            rows = flat // w
            needed = np.zeros(img.shape[0], bool)
            needed[rows] = True
            for y0, y1, feats in self._iter_features(img, needed):
                sel = flat[(rows >= y0) & (rows < y1)]
                if sel.size:
                    xs.append(feats.reshape(-1, feats.shape[2])[sel - y0 * w])
                    ys.append(lab.reshape(-1)[sel])
        X = np.concatenate(xs)
        y = np.concatenate(ys)
        clf.fit(X, y)
        self.classifier_ = clf
        self.classes_ = np.asarray(clf.classes_)
        self.n_channels_ = channels
        self.n_features_in_ = X.shape[1]
        return self

    def _check_fitted(self):
        if not hasattr(self, "classifier_"):
            raise ValueError("this PixelSegmenter is not fitted yet; call fit(images, labels) or load()")

    def predict_proba(self, image):
        """Class probabilities of every pixel, ``(H, W, K)`` float32, K = ``len(classes_)``.

        Examples
        --------
        >>> import numpy as np
        >>> img = np.zeros((20, 20), np.uint8); img[:, 10:] = 255
        >>> lab = np.zeros((20, 20), np.uint8); lab[:, 2] = 1; lab[:, 17] = 2
        >>> seg = PixelSegmenter("knn", sigmas=(1.0,)).fit(img, lab)
        >>> seg.predict_proba(img).shape
        (20, 20, 2)
        """
        self._check_fitted()
        img = self._image(image)
        if img.shape[2] != self.n_channels_:
            raise ValueError(f"image has {img.shape[2]} channels, the segmenter was trained on {self.n_channels_}")
        h, w, _ = img.shape
        out = np.empty((h, w, len(self.classes_)), np.float32)
        for y0, y1, feats in self._iter_features(img):
            proba = self.classifier_.predict_proba(feats.reshape(-1, feats.shape[2]))
            out[y0:y1] = np.asarray(proba, dtype=np.float32).reshape(y1 - y0, w, -1)
        return out

    def predict(self, image):
        """Label map of ``image``: the most probable class of every pixel.

        Returns
        -------
        (H, W) ndarray
            Class labels (values of ``classes_``); uint8 when they fit, else a wider integer.

        Examples
        --------
        >>> import numpy as np
        >>> img = np.zeros((20, 20), np.uint8); img[:, 10:] = 255
        >>> lab = np.zeros((20, 20), np.uint8); lab[:, 2] = 1; lab[:, 17] = 2
        >>> PixelSegmenter("knn", sigmas=(1.0,)).fit(img, lab).predict(img)[0, [0, 19]].tolist()
        [1, 2]
        """
        proba = self.predict_proba(image)
        labels = self.classes_[np.argmax(proba, axis=2)]
        top = int(self.classes_.max())
        dtype = np.uint8 if top < 256 else (np.uint16 if top < 65536 else np.int64)
        return labels.astype(dtype)

    # ---- model files -----------------------------------------------------------

    def save(self, path):
        """Write the fitted segmenter to an ``.npz`` file (no pickle).

        The file holds a JSON ``metadata`` string (``format``, ``version``,
        feature configuration, classes, classifier kind and parameters) and the
        classifier's arrays (the forest's flat node arrays, or the KNN training set).

        Examples
        --------
        >>> import numpy as np, os, tempfile
        >>> img = np.zeros((20, 20), np.uint8); img[:, 10:] = 255
        >>> lab = np.zeros((20, 20), np.uint8); lab[:, 2] = 1; lab[:, 17] = 2
        >>> seg = PixelSegmenter("rf", sigmas=(1.0,), random_state=0).fit(img, lab)
        >>> path = os.path.join(tempfile.mkdtemp(), "seg.npz")
        >>> seg.save(path)
        >>> bool(np.array_equal(PixelSegmenter.load(path).predict(img), seg.predict(img)))
        True
        """
        self._check_fitted()
        sigmas, features = self._config()
        clf = self.classifier_
        arrays = {}
        if isinstance(clf, RandomForestClassifier):
            kind = "rf"
            params = {k: v for k, v in clf.get_params().items() if k not in ("random_state", "n_jobs")}
            flat = clf.to_arrays()
            for key in _FOREST_KEYS:
                arrays["rf_" + key] = flat[key]
        elif isinstance(clf, KNNClassifier):
            kind = "knn"
            params = clf.get_params()
            arrays["knn_X"], arrays["knn_y"] = clf._training_set()
        else:
            raise ValueError(f"only cvcore's RandomForestClassifier and KNNClassifier can be saved, "
                             f"not {type(clf).__name__}")
        classes = self.classes_
        if classes.dtype.kind not in "iu":
            raise ValueError("only integer class labels can be saved")
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "sigmas": list(sigmas),
            "features": list(features),
            "channel_axis": self.channel_axis,
            "n_channels": int(self.n_channels_),
            "n_features": int(self.n_features_in_),
            "classes": [int(c) for c in classes],
            "classifier": kind,
            "classifier_params": params,
        }
        arrays["metadata"] = np.array(json.dumps(meta))
        path = os.fspath(path)
        with open(path, "wb") as fh:  # exact path (np.savez would append .npz)
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path):
        """Read a segmenter written by :meth:`save` (validated; never unpickles).

        Raises
        ------
        ValueError
            If the file is not a cvcore PixelSegmenter model or is corrupt.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"model file not found: {path}")
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic != b"PK\x03\x04":
            raise ValueError(f"{path!r} is not a readable .npz model file (not a zip archive)")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except Exception as exc:  # zip/format errors of every kind
            raise ValueError(f"{path!r} is not a readable .npz model file ({type(exc).__name__}: {exc})") from None
        try:
            meta = json.loads(str(arrays["metadata"][()]))
        except (KeyError, ValueError, TypeError):
            raise ValueError(f"{path!r} has no valid JSON metadata; not a cvcore PixelSegmenter file") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise ValueError(f"{path!r} is not a {FORMAT_NAME} file (format={meta.get('format')!r})"
                             if isinstance(meta, dict) else f"{path!r} has malformed metadata")
        if meta.get("version") != FORMAT_VERSION:
            raise ValueError(f"{path!r} has format version {meta.get('version')!r}; this cvcore reads "
                             f"version {FORMAT_VERSION}")
        try:
            sigmas, features = _check_config(meta["sigmas"], meta["features"])
            n_channels = _validate.integer(meta["n_channels"], "n_channels", low=1, high=64)
            n_features = _validate.integer(meta["n_features"], "n_features", low=1)
            classes = np.asarray(meta["classes"], dtype=np.int64)
            kind = meta["classifier"]
            params = dict(meta["classifier_params"])
            channel_axis = meta["channel_axis"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path!r} has invalid metadata: {exc}") from None
        if n_features != _n_features(n_channels, sigmas, features):
            raise ValueError(f"{path!r}: n_features does not match the feature configuration")
        if classes.ndim != 1 or classes.size < 1:
            raise ValueError(f"{path!r}: classes must be a non-empty list")
        try:
            if kind == "rf":
                flat = {key: arrays["rf_" + key] for key in _FOREST_KEYS}
                flat["classes"] = classes
                clf = RandomForestClassifier.from_arrays(flat, **params)
            elif kind == "knn":
                clf = KNNClassifier(**params).fit(arrays["knn_X"], classes[arrays["knn_y"]])
            else:
                raise ValueError(f"unknown classifier kind {kind!r}")
        except KeyError as exc:
            raise ValueError(f"{path!r} is missing array {exc.args[0]!r}") from None
        except (TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"{path!r} has an invalid {kind} classifier: {exc}") from None
        if clf.n_features_in_ != n_features or not np.array_equal(np.asarray(clf.classes_), classes):
            raise ValueError(f"{path!r}: classifier arrays do not match the metadata")
        seg = cls(classifier=kind, sigmas=sigmas, features=features, channel_axis=channel_axis)
        seg.classifier_ = clf
        seg.classes_ = classes
        seg.n_channels_ = n_channels
        seg.n_features_in_ = n_features
        return seg
