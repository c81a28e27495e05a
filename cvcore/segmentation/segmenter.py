"""PixelSegmenter: train a per-pixel classifier on labelled pixels, segment new images.

Label maps are 2-D integer arrays of the image's height and width: 0 means
unlabelled and 1..K are the classes (strokes or full masks). Images follow the
input policy of :func:`cvcore.segmentation.pixel_features`.

Model files are compressed ``.npz`` archives written and read through
:mod:`cvcore._validate.modelfile` (format ``"cvcore-pixel-segmenter"``,
version 1, never pickled): a JSON header with the segmenter's and the
classifier's constructor arguments, which are checked on loading exactly as
they are when given by a user, and the classifier's arrays.
"""
from __future__ import annotations

import zipfile
import zlib

import numpy as np

from .. import _validate
from .._progress import check_progress, progress_reporter
from . import _blocks
from ._base import MAX_CLASSES, check_n_jobs, stored_classes
from ._pixels import DEFAULT_SIGMAS, FEATURES, MAX_CHANNELS, Planes, check_channel_axis, check_config, margin, \
    n_features, plane_bytes, unit_channels
from .forest import RandomForestClassifier
from .knn import KNNClassifier

__all__ = ["PixelSegmenter", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "cvcore-pixel-segmenter"
FORMAT_VERSION = 1
#: format name of the unreleased development files (refused with a clear message)
_LEGACY_FORMAT = "cvcore.PixelSegmenter"
_FOREST_KEYS = ("roots", "feature", "threshold", "left", "right", "value", "feature_importances")
_KNN_KEYS = ("X", "y")
#: largest strip budget ``tile_bytes`` may set
MAX_TILE_BYTES = 1 << 34
#: bytes of feature rows computed at once for prediction: small enough to stay in cache
#: until the classifier reads them, large enough that per-call costs do not matter
_BAND_BYTES = 4 << 20
#: largest ``max_training_pixels`` (the forest indexes samples with int32)
MAX_TRAINING_PIXELS = 1 << 30
_SEGMENTER_PARAMS = ("sigmas", "features", "channel_axis", "max_training_pixels", "random_state", "tile_bytes",
                     "n_jobs")


def _as_list(value, name):
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{name} must not be empty")
        return list(value)
    return [value]


def _label_map(value, shape, name):
    """A validated integer label map of ``shape`` (0 = unlabelled, 1..K = class)."""
    arr = _validate.array(value, name, kinds="iuf", allow_bool=True)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        raise ValueError(
            f"{name} is a {arr.shape[2]}-channel (colour) image, but a label map has one integer per pixel "
            "(0 = unlabelled, 1..K = class): save the labels as a single-channel (grey) image, or map each "
            "colour to its class number first")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D label map (H, W), got shape {arr.shape}")
    if arr.shape != shape:
        raise ValueError(f"{name} must have the image's shape {shape}, got {arr.shape}")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if np.any(bad):
            raise ValueError(f"{name} must hold integer class labels, got the non-integer value "
                             f"{float(arr[bad].flat[0])} (a float label map must hold whole numbers)")
        if arr.size and np.abs(arr).max() >= 2.0**53:
            raise ValueError(f"{name} holds labels too large to be exact in floating point")
        arr = arr.astype(np.int64)
    low = arr.min()
    if low < 0:
        raise ValueError(f"{name} must hold 0 (unlabelled) or positive class labels 1..K, got {low}")
    if arr.dtype == np.uint64 and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} holds labels above the int64 range")
    return arr


class PixelSegmenter:
    """Trainable pixel classifier (as ``skimage.future.fit_segmenter`` / ilastik).

    Label a few strokes (or whole masks) on training images: label 0 means
    unlabelled, 1..K are classes, and at least two classes are needed. ``fit``
    computes :func:`pixel_features` at the labelled pixels and trains the
    classifier; ``predict`` classifies every pixel of a new image. Features are
    computed in horizontal strips (with enough overlap that the result is the
    same as in one piece), so memory stays bounded for large images, and
    Ctrl-C stops ``fit`` and ``predict`` within about a second.

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
        Channel axis of 3-D images (see :func:`pixel_features`: with -1, an
        RGBA image's alpha is ignored).
    max_training_pixels : int or None
        Train on at most this many labelled pixels (a seeded random subset;
        None: all).
    random_state : None, int or numpy.random.Generator
        Randomness of the pixel subset and of the built-in forest; an int
        gives the same segmenter every time.
    tile_bytes : int
        Memory budget of one strip's smoothed images, from which the features
        are computed (64 KiB to 16 GiB): 12 floats per pixel and scale for RGB
        and every feature kind, against 24 feature columns. Prediction then
        computes the features of a few rows at a time, and training only at the
        labelled pixels it uses.
    n_jobs : int or None
        Threads for the built-in forest: None follows :func:`cvcore.get_num_threads`, 1 to 256,
        or -1 for all cores (results do not depend on it).

    Attributes
    ----------
    classes_ : ndarray
        Class labels seen in training (the label values, e.g. ``[1, 2]``).
    classifier_ : estimator
        The fitted classifier.
    n_channels_ : int
        Channels of the training images (after dropping alpha).
    n_features_in_ : int
        Feature columns per pixel.

    Examples
    --------
    >>> img = np.zeros((40, 40), np.uint8); img[:, 20:] = 200
    >>> strokes = np.zeros((40, 40), np.uint8); strokes[5:35, 5] = 1; strokes[5:35, 35] = 2
    >>> seg = PixelSegmenter("rf", sigmas=(1.0, 2.0), random_state=0).fit(img, strokes)
    >>> seg.predict(img)[20, [2, 10, 30, 38]].tolist()
    [1, 1, 2, 2]

    A 0/1 mask (0 = background) labels a single class, since 0 means
    unlabelled; shift it by one:

    >>> mask = (img > 0).astype(np.uint8)
    >>> PixelSegmenter(sigmas=(1.0,)).fit(img, mask)
    Traceback (most recent call last):
    ...
    ValueError: labels hold only class 1 ... pass mask + 1 ...
    >>> PixelSegmenter(sigmas=(1.0,), random_state=0).fit(img, mask + 1).classes_.tolist()
    [1, 2]
    """

    classes_: np.ndarray
    classifier_: object
    n_channels_: int
    n_features_in_: int

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

    def _checked(self):
        """The constructor arguments, validated (for ``fit`` and model files alike)."""
        sigmas, features = check_config(self.sigmas, self.features)
        clf = self.classifier
        if isinstance(clf, str):
            clf = _validate.choice(clf, "classifier", ("rf", "knn"))
        elif not (hasattr(clf, "fit") and hasattr(clf, "predict_proba")):
            raise TypeError("classifier must be 'rf', 'knn' or an estimator with fit() and predict_proba(), "
                            f"got {type(clf).__name__}")
        cap = self.max_training_pixels
        rs = self.random_state
        if not (rs is None or isinstance(rs, np.random.Generator)):
            rs = _validate.integer(rs, "random_state", low=0)
        return {
            "classifier": clf, "sigmas": sigmas, "features": features,
            "channel_axis": check_channel_axis(self.channel_axis),
            "max_training_pixels": (None if cap is None else
                                    _validate.integer(cap, "max_training_pixels", low=1, high=MAX_TRAINING_PIXELS)),
            "random_state": rs,
            "tile_bytes": _validate.integer(self.tile_bytes, "tile_bytes", low=1 << 16, high=MAX_TILE_BYTES),
            "n_jobs": check_n_jobs(self.n_jobs),
        }

    @staticmethod
    def _make_classifier(p):
        kind = p["classifier"]
        if not isinstance(kind, str):
            return kind
        if kind == "rf":
            return RandomForestClassifier(n_estimators=100, random_state=p["random_state"], n_jobs=p["n_jobs"])
        return KNNClassifier(n_neighbors=5, weights="distance")

    def _strips(self, h, w, c, p=None):
        """(core_start, core_stop, read_start, read_stop) row ranges covering the image."""
        p = self._checked() if p is None else p
        row_bytes = plane_bytes(w, c, p["sigmas"], p["features"])
        reach = margin(p["sigmas"], p["features"])
        rows = p["tile_bytes"] // max(row_bytes, 1)
        if rows >= h:
            return [(0, h, 0, h)]
        core = max(16, rows - 2 * reach)
        out = []
        for y0 in range(0, h, core):
            y1 = min(h, y0 + core)
            out.append((y0, y1, max(0, y0 - reach), min(h, y1 + reach)))
        return out

    def _iter_planes(self, img, p, rows_needed=None):
        """Yield (row_start, row_stop, read_start, :class:`Planes` of the read rows) per strip of a
        float32 image (H, W, C). With ``rows_needed`` (a boolean per row), strips without a needed
        row are skipped."""
        h, w, c = img.shape
        for y0, y1, a0, a1 in self._strips(h, w, c, p):
            if rows_needed is not None and not rows_needed[y0:y1].any():
                continue
            yield y0, y1, a0, Planes(img[a0:a1], p["sigmas"], p["features"])

    @staticmethod
    def _bands(y0, y1, a0, planes):
        """Yield (row_start, row_stop, features) of rows ``y0 .. y1 - 1`` in blocks of about
        :data:`_BAND_BYTES`, one buffer reused: the classifier reads them from cache."""
        w = planes.shape[1]
        rows = max(1, min(y1 - y0, _BAND_BYTES // (w * planes.n_features * 4)))
        band = np.empty((rows, w, planes.n_features), np.float32)
        for b0 in range(y0, y1, rows):
            b1 = min(y1, b0 + rows)
            planes.fill(b0 - a0, b1 - a0, band)
            yield b0, b1, band[:b1 - b0]

    # ---- training and prediction ---------------------------------------------

    def fit(self, images, labels, progress=None):
        """Train on the labelled pixels of one or several images.

        Parameters
        ----------
        images : array_like or list of array_like
            One image or a list of images (same number of channels).
        labels : array_like or list of array_like
            Matching ``(H, W)`` integer label maps: 0 = unlabelled, 1..K =
            class; strokes or full masks, at least two classes in all. Float
            maps must hold whole numbers; colour (3- or 4-channel) images are
            refused.
        progress : None, bool or callable
            Progress of the feature computation (one step per image) and of the
            built-in forest (one step per tree), see :mod:`cvcore._progress`.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For fewer than two classes (e.g. a 0/1 mask: 0 means unlabelled),
            negative, non-integer or colour label maps, mismatched shapes, or
            images with different channel counts.
        """
        p = self._checked()
        check_progress(progress)
        imgs = _as_list(images, "images")
        labs = _as_list(labels, "labels")
        if len(imgs) != len(labs):
            raise ValueError(f"got {len(imgs)} images but {len(labs)} label maps")
        clf = self._make_classifier(p)
        channels = None
        prepared = []
        for i, (image, lab) in enumerate(zip(imgs, labs)):
            img = unit_channels(image, p["channel_axis"], f"images[{i}]")
            if channels is None:
                channels = img.shape[2]
            elif img.shape[2] != channels:
                raise ValueError(f"images[{i}] has {img.shape[2]} channels, images[0] has {channels}")
            prepared.append((img, _label_map(lab, img.shape[:2], f"labels[{i}]")))
        labelled = self._labelled_classes([lab for _, lab in prepared])
        rng = _validate.random_state(p["random_state"])
        X, y = self._training_pixels(prepared, p, rng, progress)
        missing = np.setdiff1d(labelled, y)
        if missing.size:
            raise ValueError(f"the random subset of max_training_pixels={p['max_training_pixels']} pixels kept no "
                             f"pixel of class(es) {missing.tolist()}; raise max_training_pixels or label more "
                             "pixels of those classes")
        if isinstance(clf, RandomForestClassifier):
            clf.fit(X, y, progress=progress)
        else:
            clf.fit(X, y)
        self.classifier_ = clf
        self.classes_ = np.asarray(clf.classes_)
        self.n_channels_ = channels
        self.n_features_in_ = X.shape[1]
        return self

    @staticmethod
    def _labelled_classes(labels):
        present = [np.flatnonzero(np.bincount(lab.reshape(-1))) if lab.dtype in (np.uint8, np.uint16)
                   else np.unique(lab) for lab in labels]  # counting is much faster than sorting
        classes = np.unique(np.concatenate(present))
        classes = classes[classes > 0]
        if classes.size == 0:
            raise ValueError("labels contain no labelled pixel (all 0, and 0 means unlabelled); "
                             "label pixels of at least two classes 1..K")
        if classes.size == 1:
            raise ValueError(
                f"labels hold only class {classes[0]} (0 means unlabelled; classes are 1..K): a segmenter needs "
                "at least two classes. For a 0/1 mask whose 0 is background, pass mask + 1 (background = class "
                "1, object = class 2)")
        if classes.size > MAX_CLASSES:
            raise ValueError(f"labels hold {classes.size} classes; at most {MAX_CLASSES} are supported")
        return classes

    def _training_pixels(self, prepared, p, rng, progress):
        """Features and labels of the (seeded subset of) labelled pixels, image by image."""
        cap = p["max_training_pixels"]
        counts = [int(np.count_nonzero(lab)) for _, lab in prepared]
        total = sum(counts)
        # choose the training pixels up front (seeded), then compute features strip by strip
        chosen = None if cap is None or total <= cap else np.sort(rng.choice(total, cap, replace=False))
        n_train = total if chosen is None else cap
        n_feats = n_features(prepared[0][0].shape[2], p["sigmas"], p["features"])
        # filled in place, strip by strip: no list of pieces to concatenate (half the peak memory)
        X = np.empty((n_train, n_feats), np.float32)
        y = np.empty(n_train, np.result_type(*[lab.dtype for _, lab in prepared]))
        offset = pos = 0
        with progress_reporter(len(prepared), "pixel features", progress) as bar:
            for (img, lab), count in zip(prepared, counts):
                flat = np.flatnonzero(lab.reshape(-1))  # ascending, so each strip's pixels are a run
                if chosen is not None:
                    lo, hi = np.searchsorted(chosen, [offset, offset + flat.size])
                    flat = flat[chosen[lo:hi] - offset]
                offset += count
                if flat.size:
                    w = img.shape[1]
                    rows = flat // w
                    needed = np.zeros(img.shape[0], bool)
                    needed[rows] = True
                    for y0, y1, a0, planes in self._iter_planes(img, p, needed):
                        # features at the chosen pixels only, straight into their rows of X
                        lo, hi = np.searchsorted(rows, [y0, y1])
                        ys, xs, dst = rows[lo:hi] - a0, flat[lo:hi] % w, X[pos:pos + hi - lo]
                        _blocks.for_blocks(hi - lo, lambda a, b: planes.fill_pixels(ys[a:b], xs[a:b], dst[a:b]))
                        y[pos:pos + hi - lo] = lab.reshape(-1)[flat[lo:hi]]
                        pos += hi - lo
                bar.update(1)
        return X, y

    def _check_fitted(self):
        if not hasattr(self, "classifier_"):
            raise ValueError("this PixelSegmenter is not fitted yet; call fit(images, labels) or load()")

    def predict_proba(self, image, progress=None):
        """Class probabilities of every pixel, ``(H, W, K)`` float32, K = ``len(classes_)``.

        ``progress`` reports one step per strip (see :mod:`cvcore._progress`).

        Examples
        --------
        >>> img = np.zeros((20, 20), np.uint8); img[:, 10:] = 255
        >>> lab = np.zeros((20, 20), np.uint8); lab[:, 2] = 1; lab[:, 17] = 2
        >>> seg = PixelSegmenter("knn", sigmas=(1.0,)).fit(img, lab)
        >>> seg.predict_proba(img).shape
        (20, 20, 2)
        """
        self._check_fitted()
        p = self._checked()
        check_progress(progress)
        img = unit_channels(image, p["channel_axis"])
        if img.shape[2] != self.n_channels_:
            raise ValueError(f"image has {img.shape[2]} channels, the segmenter was trained on {self.n_channels_}")
        h, w, c = img.shape
        out = np.empty((h, w, len(self.classes_)), np.float32)
        with progress_reporter(len(self._strips(h, w, c, p)), "segmenting", progress) as bar:
            for y0, y1, a0, planes in self._iter_planes(img, p):
                for b0, b1, feats in self._bands(y0, y1, a0, planes):
                    proba = self.classifier_.predict_proba(feats.reshape(-1, feats.shape[2]))
                    out[b0:b1] = np.asarray(proba, dtype=np.float32).reshape(b1 - b0, w, -1)
                bar.update(1)
        return out

    def predict(self, image, progress=None):
        """Label map of ``image``: the most probable class of every pixel.

        Returns
        -------
        (H, W) ndarray
            Class labels (values of ``classes_``); uint8 when they fit, else a wider integer.

        Examples
        --------
        >>> img = np.zeros((20, 20), np.uint8); img[:, 10:] = 255
        >>> lab = np.zeros((20, 20), np.uint8); lab[:, 2] = 1; lab[:, 17] = 2
        >>> PixelSegmenter("knn", sigmas=(1.0,)).fit(img, lab).predict(img)[0, [0, 19]].tolist()
        [1, 2]
        """
        proba = self.predict_proba(image, progress)
        labels = self.classes_[np.argmax(proba, axis=2)]
        top = int(self.classes_.max())
        dtype = np.uint8 if top < 256 else (np.uint16 if top < 65536 else np.int64)
        return labels.astype(dtype)

    # ---- model files -----------------------------------------------------------

    def save(self, path):
        """Write the fitted segmenter to an ``.npz`` model file (no pickle).

        The file (format ``"cvcore-pixel-segmenter"``, version 1) holds a JSON
        header (the segmenter's constructor arguments, the classifier kind and
        its constructor arguments, channel and feature counts) and the arrays
        ``classes`` and the classifier's (``rf_*``: the forest's flat node
        arrays, see :meth:`RandomForestClassifier.to_arrays`; ``knn_X``,
        ``knn_y``: the KNN training set). A ``random_state`` that is a
        Generator is stored as null. The write is atomic.

        Examples
        --------
        >>> import os, tempfile
        >>> img = np.zeros((20, 20), np.uint8); img[:, 10:] = 255
        >>> lab = np.zeros((20, 20), np.uint8); lab[:, 2] = 1; lab[:, 17] = 2
        >>> seg = PixelSegmenter("rf", sigmas=(1.0,), random_state=0).fit(img, lab)
        >>> path = os.path.join(tempfile.mkdtemp(), "seg.npz")
        >>> seg.save(path)
        >>> bool(np.array_equal(PixelSegmenter.load(path).predict(img), seg.predict(img)))
        True
        """
        self._check_fitted()
        p = self._checked()
        clf = self.classifier_
        if isinstance(clf, RandomForestClassifier):
            kind, prefix, keys = "rf", "rf_", _FOREST_KEYS
        elif isinstance(clf, KNNClassifier):
            kind, prefix, keys = "knn", "knn_", _KNN_KEYS
        else:
            raise ValueError(f"only cvcore's RandomForestClassifier and KNNClassifier can be saved, "
                             f"not {type(clf).__name__}")
        classes = self.classes_
        if classes.dtype.kind not in "iu":
            raise ValueError("only integer class labels can be saved")
        flat = clf.to_arrays()
        arrays = {prefix + key: flat[key] for key in keys}
        arrays["classes"] = classes.astype(np.int64)
        if kind == "rf":
            cparams = clf._checked_params()  # plain Python values, checked as load will check them
            if not isinstance(cparams["random_state"], (int, type(None))):
                cparams["random_state"] = None  # a Generator cannot be stored
        else:
            cparams = dict(zip(("n_neighbors", "weights", "algorithm"), clf._checked_params()))
        settings = {"sigmas": list(p["sigmas"]), "features": list(p["features"]),
                    "channel_axis": p["channel_axis"], "max_training_pixels": p["max_training_pixels"],
                    "random_state": p["random_state"] if isinstance(p["random_state"], int) else None,
                    "tile_bytes": p["tile_bytes"], "n_jobs": p["n_jobs"]}
        meta = {"segmenter": settings, "n_channels": int(self.n_channels_),
                "n_features": int(self.n_features_in_), "classifier": kind, "classifier_params": cparams}
        _validate.modelfile.write_npz(path, arrays, meta, kind=FORMAT_NAME, version=FORMAT_VERSION, name="path")

    @classmethod
    def load(cls, path):
        """Read a segmenter written by :meth:`save` (validated; never unpickles).

        Sizes are checked before anything is decompressed, every constructor
        argument in the file is checked as if a user had given it, and the
        classifier arrays must be consistent; the loaded segmenter predicts
        exactly as the saved one. Its ``classifier`` is an unfitted classifier
        with the saved one's parameters, so ``fit`` retrains the same kind.

        Raises
        ------
        FileNotFoundError, IsADirectoryError, OSError
            If ``path`` cannot be read.
        ValueError
            If the file is not a cvcore pixel-segmenter model, is corrupt, or
            holds an invalid setting (the message names the file and field).
        """
        modelfile = _validate.modelfile
        try:
            fields, _, arrays = modelfile.read_npz(path, kind=FORMAT_NAME, versions=(FORMAT_VERSION,), name="path")
        except ValueError as exc:
            if "no __model__ header" in str(exc) and _is_legacy(path):
                raise ValueError(
                    f"{path}: written by a development version of cvcore (format {_LEGACY_FORMAT!r}) that was "
                    "never released and is no longer read; train the segmenter again and save it") from None
            raise
        except (zlib.error, NotImplementedError, RuntimeError) as exc:
            # damaged zip members that read_npz does not translate yet (corrupt deflate data,
            # a flipped compression-method or encryption flag)
            raise ValueError(f"{path}: not a readable model file (damaged archive: {exc})") from None
        where = fields.where
        settings = fields.sub("segmenter")
        kind = fields.str("classifier", choices=("rf", "knn"))
        seg = cls(classifier=kind, **{key: settings.raw(key) for key in _SEGMENTER_PARAMS})
        try:
            p = seg._checked()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: segmenter: {exc}") from None
        n_channels = fields.int("n_channels", low=1, high=MAX_CHANNELS)
        n_feats = fields.int("n_features", low=1, high=1 << 20)
        if n_feats != n_features(n_channels, p["sigmas"], p["features"]):
            raise ValueError(f"{where}: n_features does not match the feature configuration")
        estimator = RandomForestClassifier if kind == "rf" else KNNClassifier
        prefix, keys = ("rf_", _FOREST_KEYS) if kind == "rf" else ("knn_", _KNN_KEYS)
        cparams = fields.sub("classifier_params").data
        unknown = sorted(set(cparams) - set(estimator._param_names()))
        if unknown:
            raise ValueError(f"{where}: classifier_params has unknown parameter(s) {', '.join(unknown)}")
        expected = {"classes"} | {prefix + key for key in keys}
        if set(arrays) != expected:
            raise ValueError(f"{where}: arrays must be {', '.join(sorted(expected))}; "
                             f"got {', '.join(sorted(arrays)) or 'none'}")
        try:
            classes = stored_classes(arrays["classes"], "classes")
            if classes.dtype.kind not in "iu" or classes.shape[0] < 2 or classes[0] < 1:
                raise ValueError("classes must be at least two integer labels >= 1")
            flat = {key: arrays[prefix + key] for key in keys}
            flat["classes"] = classes
            clf = estimator.from_arrays(flat, **cparams)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: invalid {kind} classifier: {exc}") from None
        if clf.n_features_in_ != n_feats:
            raise ValueError(f"{where}: the classifier takes {clf.n_features_in_} features, the header says "
                             f"{n_feats}")
        seg.classifier = estimator(**clf.get_params())  # refitting trains the same kind of classifier
        seg.classifier_ = clf
        seg.classes_ = classes.astype(np.int64)
        seg.n_channels_ = n_channels
        seg.n_features_in_ = n_feats
        return seg


def _is_legacy(path):
    """True for an .npz of the unreleased first format (a ``metadata`` member, no header)."""
    try:  # only asked of an archive read_npz has opened (bounded size and member count)
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except Exception:  # noqa: BLE001 - a probe: any failure means "not the legacy format"
        return False
    return "metadata.npy" in names and "__model__.npy" not in names
