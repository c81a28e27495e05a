"""Training of the attentional cascade (Viola & Jones 2004, Table 2).

Private module behind :func:`cvcore.cascade.train_cascade`.

Per stage:

1. positives: a random sample of the training faces that the cascade so far
   still accepts (optionally with their mirror images and mildly transformed
   copies, :func:`jitter_windows`); a held-out validation split of real faces
   (also filtered by the cascade so far) sets the stage threshold;
2. negatives (bootstrapping): windows of the background images, at every
   scale (factor 1.1, random starting scale per pass) and position (step 1),
   horizontally flipped on alternate passes, that the cascade so far accepts;
   a random, bounded number is kept per image and pass so that they spread
   over all images;
3. a random subset of ``features_per_stage`` Haar features (seeded, fresh per
   stage) is evaluated once on all samples in OpenCV's variance-normalised
   units and sorted once (:func:`cvcore.boosting.presort`); Gentle (or
   discrete) AdaBoost adds stumps until the false-alarm rate on the stage's
   negatives, at the threshold that keeps ``min_hit_rate`` of the validation
   faces, is at most ``max_false_alarm``.

Training stops at ``max_stages``, when the product of the stage false-alarm
rates reaches ``target_false_alarm``, or when ``time_budget`` runs out; it
also stops, keeping the stages trained so far and warning
(:class:`TrainingStopped`) with what to change, when it cannot go on: the
backgrounds yield too few negatives, too few faces still pass the cascade to
train a stage at ``min_hit_rate``, or a stage cannot push its false-alarm rate
below 0.95 (that stage is dropped). After every stage the training state
(Haar or LBP) is written to ``checkpoint_dir`` (through the model-file layer,
format ``cvcore-cascade-checkpoint``) together with the settings and a digest
of the data it was made with; a new call with the same directory resumes from
there, and refuses to when any of them differs.
"""
from __future__ import annotations

import hashlib
import os
import time
import warnings

import cv2
import numpy as np

from . import _validate
from ._cascade_model import Cascade, flat_mask
from ._ext import _lbp
from ._haar_core import feature_values, scale_pyramid, stack_tables
from ._progress import progress_reporter
from ._validate import modelfile
from .boosting import CategoryBooster, GentleCategoryBooster, GentleStumpBooster, StumpBooster, presort
from .haar import FEATURE_TYPES, FeatureTable, haar_features

CHECKPOINT_NAME = "cascade_checkpoint.json"
CHECKPOINT_FORMAT = "cvcore-cascade-checkpoint"
CHECKPOINT_VERSION = 2      # 2: stumps keep both leaf values (Gentle AdaBoost); 1: discrete alphas
_MINING_SCALE = 1.1
_EVAL_BLOCK = 1024          # windows per progress step of the feature evaluation
_MIN_POSITIVES = 10         # faces a stage needs to train on, and to set its threshold on
#: A stage that still accepts more than this share of its negatives after max_weak_per_stage
#: stumps is not worth its cost: training stops without it.
_NO_PROGRESS = 0.95
#: Reasons for ``training_log[-1]["stopped"]`` that mean the cascade fell short of its settings.
STOP_PROBLEMS = ("negatives_exhausted", "hit_rate_unreachable", "no_progress")
_LOG_INTS = ("stage", "weak", "negatives", "positives")
_LOG_FLOATS = ("hit_rate", "false_alarm", "cascade_false_alarm", "mined_acceptance", "seconds")


class TrainingStopped(UserWarning):
    """Cascade training stopped before ``max_stages`` or ``target_false_alarm``.

    The message says what happened and what to change; the stages trained so
    far are kept. ``reason`` is one of ``"negatives_exhausted"``,
    ``"hit_rate_unreachable"``, ``"no_progress"`` (as in the cascade's
    ``training_log[-1]["stopped"]``).
    """

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


def _negatives_message(si, found, wanted, rate):
    return (f"stage {si}: the background images yield only {found} of the {wanted} negatives wanted (the cascade "
            f"accepts {rate:.2e} of their windows); add more or more varied face-free images, or lower "
            "negatives_per_stage")


def _positives_message(si, n_train, of_train, n_val, of_val, min_hit_rate):
    return (f"stage {si}: only {n_train} of {of_train} training faces and {n_val} of {of_val} validation faces "
            f"still pass the cascade, too few (< {_MIN_POSITIVES}) to train a stage that keeps min_hit_rate="
            f"{min_hit_rate:g} of them; supply more faces or raise min_hit_rate")


def _no_progress_message(si, n_weak, fa, hit, max_false_alarm, n_neg):
    return (f"stage {si}: after {n_weak} weak classifiers the false-alarm rate is still {fa:.3f} (> "
            f"{_NO_PROGRESS:g}; wanted {max_false_alarm:g}) at hit rate {hit:.4f}: the remaining {n_neg} "
            "negatives look like the faces to these features; raise max_weak_per_stage or features_per_stage, "
            "lower min_hit_rate, or add more varied faces")


def _stages_to_cascade(window, table, stage_list, log):
    used = sorted({f for st in stage_list for f in st["features"]})
    remap = {f: i for i, f in enumerate(used)}
    sub = table[np.array(used, dtype=np.int64)]
    stages = []
    for st in stage_list:
        trees = [{"nodes": [[remap[f], thr, 0, -1]], "leaves": [float(np.float32(v)) for v in leaves]}
                 for f, thr, leaves in zip(st["features"], st["thresholds"], st["leaves"])]
        stages.append({"threshold": st["threshold"], "trees": trees})
    return Cascade(window, sub.rects, sub.weights, np.zeros(len(used), bool), stages, training_log=log)


def _haar_step(booster):
    """One boosting round of a Haar stage: ``(feature, threshold, left leaf, right leaf)``."""
    if isinstance(booster, GentleStumpBooster):
        return booster.step()
    f, t, pol, alpha = booster.step()
    return (f, t, alpha, 0.0) if pol > 0 else (f, t, 0.0, alpha)


def _lbp_step(booster):
    """One boosting round of an LBP stage: ``(feature, subset, leaf in, leaf out)``."""
    if isinstance(booster, GentleCategoryBooster):
        return booster.step()
    f, subset, alpha = booster.step()
    return f, subset, alpha, 0.0


def lbp_feature_blocks(window):
    """Every multi-block LBP feature of a ``(width, height)`` window: ``(F, 4)`` int32 ``(x, y, w, h)``
    cells whose 3x3 grid fits the window (8,464 for 24x24)."""
    ww, wh = window
    out = [(x, y, w, h) for w in range(1, ww // 3 + 1) for h in range(1, wh // 3 + 1)
           for y in range(wh - 3 * h + 1) for x in range(ww - 3 * w + 1)]
    return np.array(out, np.int32).reshape(-1, 4)


def _lbp_codes(windows, blocks, report=None):
    """``(F, n)`` uint8 LBP codes of ``blocks`` on a uint8 ``(n, H, W)`` window stack (the engine's arithmetic)."""
    n, h, _ = windows.shape
    table = stack_tables(windows, squared=False)[0][0]
    out = np.empty((blocks.shape[0], n), np.uint8)
    step = max(1, (1 << 22) // max(n, 1))   # feature blocks: Ctrl-C is seen between kernel calls
    for start in range(0, blocks.shape[0], step):
        _lbp.codes(table, h, np.ascontiguousarray(blocks[start:start + step]), out[start:start + step])
        if report is not None:
            report.update(min(step, blocks.shape[0] - start) * n)
    return out


def _subset_words(subset):
    """256 booleans as OpenCV's 8 int32 words (bit ``c & 31`` of word ``c >> 5``)."""
    bits = subset.reshape(8, 32).astype(np.uint64) << np.arange(32, dtype=np.uint64)
    return bits.sum(axis=1).astype(np.uint32).view(np.int32).tolist()


def _lbp_stages_to_cascade(window, blocks, stage_list, log):
    used = sorted({f for st in stage_list for f in st["features"]})
    remap = {f: i for i, f in enumerate(used)}
    stages = [{"threshold": st["threshold"],
               "trees": [{"feature": remap[f], "subset": words, "leaves": [float(np.float32(v)) for v in leaves]}
                         for f, words, leaves in zip(st["features"], st["subsets"], st["leaves"])]}
              for st in stage_list]
    return Cascade.lbp(window, blocks[np.array(used, dtype=np.int64)], stages, training_log=log)


class _Status:
    """Within-stage progress shown as the status of the stage bar (no extra bars on a terminal)."""

    def __init__(self, bar, total, description):
        self.bar, self.total, self.description, self.done = bar, total, description, 0

    def update(self, n=1):
        self.done += n
        self.bar.update(0, status=f"{self.description} {self.done}/{self.total}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _phase(progress, bar, total, description):
    """A reporter for one phase of a stage: its own callback reports, or the stage bar's status."""
    if callable(progress) and not isinstance(progress, bool):
        return progress_reporter(total, description, progress)
    return _Status(bar, total, description)


class _Miner:
    """Hard-negative windows from background images, accepted by a cascade."""

    def __init__(self, images, window, rng):
        self.images = images
        self.window = window
        self.rng = rng
        self.passes = 0

    def mine(self, cascade, n_wanted, report, max_passes=6):
        ww, wh = self.window
        found = []
        scanned = 0
        accepted = 0
        per_image = max(4, int(np.ceil(2.0 * n_wanted / len(self.images))))
        for p in range(max_passes):
            flip = (self.passes + p) % 2 == 1
            order = self.rng.permutation(len(self.images))
            for i in order:
                img = self.images[i]
                if flip:
                    img = np.ascontiguousarray(img[:, ::-1])
                H, W = img.shape
                start = 1.0 + 0.1 * self.rng.random()
                levels, hits = [], []
                for _, (sw, sh) in scale_pyramid((W, H), self.window, _MINING_SCALE, start=start):
                    res = img if (sw, sh) == (W, H) else cv2.resize(img, (sw, sh), interpolation=cv2.INTER_LINEAR_EXACT)
                    res = np.ascontiguousarray(res)
                    nwin = (sh - wh + 1) * (sw - ww + 1)
                    scanned += nwin
                    if cascade is None:
                        k = min(nwin, 4 * per_image)
                        xy = np.stack([self.rng.integers(0, sw - ww + 1, k),
                                       self.rng.integers(0, sh - wh + 1, k)], 1).astype(np.int32)
                        ok = ~flat_mask(np.stack([res[y:y + wh, x:x + ww] for x, y in xy]))
                        accepted += int(round(ok.sum() * nwin / max(k, 1)))
                        xy = xy[ok]
                    else:
                        xy, _ = cascade._scan(res, 1, False)
                        accepted += xy.shape[0]
                    if xy.shape[0]:
                        levels.append(res)
                        hits.append(np.column_stack([np.full(xy.shape[0], len(levels) - 1), xy]))
                if hits:
                    hits = np.concatenate(hits)
                    take = self.rng.permutation(hits.shape[0])[:per_image]
                    before = len(found)
                    found.extend(levels[lv][y:y + wh, x:x + ww].copy() for lv, x, y in hits[take])
                    report.update(min(len(found), n_wanted) - min(before, n_wanted))
                if len(found) >= n_wanted:
                    break
            if len(found) >= n_wanted:
                break
            per_image *= 2
        self.passes += p + 1
        rate = accepted / max(scanned, 1)
        if not found:
            return np.zeros((0, wh, ww), np.uint8), rate
        return np.stack(found[:n_wanted]).astype(np.uint8), rate


def jitter_windows(windows, copies=1, *, max_rotation=5.0, max_scale=0.05, max_shift=1.0, max_blur=0.6,
                   random_state=None):
    """Mildly transformed copies of training windows (data augmentation for :func:`train_cascade`).

    Each copy is the window rotated about its centre by up to ``max_rotation``
    degrees, scaled by a factor within ``1 +- max_scale``, shifted by up to
    ``max_shift`` pixels in x and y (bilinear, border pixels reflected), and
    blurred by a Gaussian of standard deviation up to ``max_blur`` pixels (the
    softening a face gets when the detector's image pyramid resizes it); every
    amount is drawn uniformly and independently per copy. Such copies stand
    for the faces a detector meets between the positions and scales of its
    scan, so a cascade trained with them keeps faces that are a little off
    the window's grid.

    Parameters
    ----------
    windows : (N, H, W) uint8 array_like
        Training windows (grey, 8 bits).
    copies : int
        Transformed copies of each window, 1..100.
    max_rotation : float
        Degrees, in [0, 45].
    max_scale : float
        Relative scale change, in [0, 0.5].
    max_shift : float
        Pixels, in [0, min(H, W) / 4].
    max_blur : float
        Gaussian standard deviation in pixels, in [0, 5]; 0 leaves the copies unblurred.
    random_state : int, numpy.random.Generator or None
        The same int gives the same copies.

    Returns
    -------
    (N * copies, H, W) uint8 ndarray
        The copies of window ``i`` are rows ``i * copies`` to ``(i + 1) * copies - 1``.

    Examples
    --------
    >>> faces = np.tile(np.arange(24, dtype=np.uint8) * 10, (5, 24, 1))
    >>> jitter_windows(faces, 3, random_state=0).shape
    (15, 24, 24)
    >>> np.array_equal(jitter_windows(faces, random_state=1), jitter_windows(faces, random_state=1))
    True
    """
    win = _validate.array(windows, "windows", ndim=3)
    if win.dtype != np.uint8:
        raise TypeError(f"windows must have dtype uint8, got {win.dtype}")
    n, h, w = win.shape
    if h < 2 or w < 2:
        raise ValueError(f"windows must be at least 2x2 pixels, got shape {win.shape}")
    copies = _validate.integer(copies, "copies", low=1, high=100)
    max_rotation = _validate.real(max_rotation, "max_rotation", low=0.0, high=45.0)
    max_scale = _validate.real(max_scale, "max_scale", low=0.0, high=0.5)
    max_shift = _validate.real(max_shift, "max_shift", low=0.0, high=min(h, w) / 4)
    max_blur = _validate.real(max_blur, "max_blur", low=0.0, high=5.0)
    rng = _validate.random_state(random_state)
    m = n * copies
    angle = rng.uniform(-max_rotation, max_rotation, m)
    scale = rng.uniform(1.0 - max_scale, 1.0 + max_scale, m)
    shift = rng.uniform(-max_shift, max_shift, (m, 2))
    sigma = rng.uniform(0.0, max_blur, m)
    centre = ((w - 1) / 2.0, (h - 1) / 2.0)
    out = np.empty((m, h, w), np.uint8)
    src = np.ascontiguousarray(win)
    for j in range(m):              # one OpenCV call per window: the pixel work is OpenCV's
        M = cv2.getRotationMatrix2D(centre, float(angle[j]), float(scale[j]))
        M[:, 2] += shift[j]
        img = cv2.warpAffine(src[j // copies], M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        if sigma[j] >= 0.05:        # below that the 3-tap kernel is the identity at 8 bits
            img = cv2.GaussianBlur(img, (0, 0), float(sigma[j]), borderType=cv2.BORDER_REFLECT_101)
        out[j] = img
    return out


def _digest(*arrays):
    """SHA-256 of arrays' shapes, dtypes and bytes (what a checkpoint's data must match)."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def _checkpoint_dir(value):
    """The checkpoint folder (created now, so that a bad path fails before any training)."""
    try:
        path = os.fsdecode(os.fspath(bytes(value) if isinstance(value, bytearray) else value))
    except TypeError:
        raise TypeError(f"checkpoint_dir must be a path (str or os.PathLike), got {type(value).__name__}") from None
    if not path:
        raise ValueError("checkpoint_dir must not be empty")
    if os.path.exists(path) and not os.path.isdir(path):
        raise NotADirectoryError(f"checkpoint_dir: {path} is a file, not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise OSError(f"checkpoint_dir: cannot create {path} ({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK):
        raise PermissionError(f"checkpoint_dir: cannot write to {path} (permission denied)")
    return path


def _read_checkpoint(path, settings, n_table, lbp):
    """Stages, log, generator states and mining passes of a checkpoint made with ``settings``.

    Version 1 checkpoints (discrete AdaBoost only) keep one ``alpha`` per stump and, for Haar, its
    polarity; they resume as ``boosting="discrete"`` with the leaves those imply."""
    fields, version = modelfile.read_json(path, kind=CHECKPOINT_FORMAT, versions=(1, CHECKPOINT_VERSION),
                                          name="checkpoint")
    saved = fields.sub("settings").data
    if version == 1 and isinstance(saved, dict):
        saved = {**saved, "boosting": "discrete"}
    if isinstance(saved, dict):     # written before augmentation existed: none
        saved = {"augment_positives": 0, **saved}
    modelfile.check_settings(saved, settings, where=path)
    stages = []
    for st in fields.items("stages", max_len=1000):
        feats = st.array("features", dtype=np.int64, shape=(None,), max_size=100_000)
        n = feats.shape[0]
        if n == 0 or feats.min() < 0 or feats.max() >= n_table:
            raise ValueError(f"{st.where}: needs at least one stump and features in [0, {n_table})")
        if version == 1:
            alpha = st.array("alphas", dtype=np.float64, shape=(n,))
            left_in = np.ones(n, bool)
            if not lbp:
                pol = st.array("polarities", dtype=np.int64, shape=(n,))
                if not np.all(np.abs(pol) == 1):
                    raise ValueError(f"{st.where}: polarities must be +1 or -1")
                left_in = pol > 0
            leaves = np.where(left_in[:, None], np.column_stack([alpha, np.zeros(n)]),
                              np.column_stack([np.zeros(n), alpha]))
        else:
            leaves = st.array("leaves", dtype=np.float64, shape=(n, 2))
        stage = {"threshold": st.float("threshold"), "features": feats.tolist(), "leaves": leaves.tolist()}
        if lbp:
            words = st.array("subsets", dtype=np.int64, shape=(n, 8))
            if words.min() < -2**31 or words.max() >= 2**31:
                raise ValueError(f"{st.where}: subsets must be 8 int32 words per stump")
            stage["subsets"] = words.tolist()
        else:
            stage["thresholds"] = st.array("thresholds", dtype=np.float64, shape=(n,)).tolist()
        stages.append(stage)
    log = []
    for rec in fields.items("log", max_len=1000):
        log.append({**{k: rec.int(k, low=0) for k in _LOG_INTS}, **{k: rec.float(k, low=0) for k in _LOG_FLOATS}})
    if len(log) != len(stages):
        raise ValueError(f"{path}: log has {len(log)} records for {len(stages)} stages")
    return stages, log, fields.sub("rng").data, fields.sub("rng_start").data, fields.int("passes", low=0)


def _set_state(rng, state, path, field):
    try:
        rng.bit_generator.state = state
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ValueError(f"{path}: {field} is not a state of this random generator ({exc})") from None


def _write_checkpoint(path, settings, stage_list, log, rng, rng_start, passes):
    payload = {"settings": settings, "stages": stage_list, "log": log,
               "rng": rng.bit_generator.state, "rng_start": rng_start, "passes": passes}
    modelfile.write_json(path, payload, kind=CHECKPOINT_FORMAT, version=CHECKPOINT_VERSION, name="checkpoint")


def train_cascade(positives, negative_images, *, window=(24, 24), max_stages=20, min_hit_rate=0.995,
                  max_false_alarm=0.5, target_false_alarm=1e-6, negatives_per_stage=2000,
                  positives_per_stage=2000, validation_fraction=0.15, features_per_stage=10000,
                  max_weak_per_stage=150, feature_types=tuple(FEATURE_TYPES), extra_negatives=None,
                  positive_groups=None, mirror_positives=False, augment_positives=0, checkpoint_dir=None, time_budget=None,
                  random_state=None, progress=None, seed=None, feature_type="haar", boosting="gentle"):
    """Train an attentional cascade of boosted Haar stumps (or LBP stumps, ``feature_type="lbp"``).

    Parameters
    ----------
    positives : (N, H, W) uint8 array_like
        Face windows of the window size (``window`` is ``(W, H)``).
    negative_images : sequence of 2-D uint8 arrays
        Face-free images; negatives are mined from them at every scale.
    window : (int, int)
        ``(width, height)`` of the detection window, each in ``[3, 64]``.
    max_stages : int
        Upper bound on the number of stages.
    min_hit_rate : float
        Fraction of the (still accepted) validation faces each stage must keep.
    max_false_alarm : float
        Each stage adds stumps until its false-alarm rate is at most this.
    target_false_alarm : float
        Stop once the product of the stage false-alarm rates reaches this.
    negatives_per_stage, positives_per_stage : int
        Training samples per stage (their sum must be <= 65535).
    validation_fraction : float
        Share of the faces held out to set stage thresholds.
    features_per_stage : int
        Size of the random feature subset evaluated (and pre-sorted) per stage.
    max_weak_per_stage : int
        Upper bound on the stumps of one stage.
    feature_types : sequence of str
        Haar feature types (see :func:`cvcore.haar.haar_features`).
    extra_negatives : (M, H, W) uint8 array_like, optional
        Fixed non-face windows added to the mining pool (when the cascade accepts them).
    positive_groups : (N,) int array_like, optional
        Source of each positive (e.g. two face collections cropped differently).
        Each stage threshold then keeps ``min_hit_rate`` of the validation faces
        of every group, not only of all of them together.
    mirror_positives : bool
        Add the horizontal mirror image of every face (after the training /
        validation split, so a face and its mirror stay on the same side).
    augment_positives : int
        Add this many mildly transformed copies (:func:`jitter_windows` with its
        default amounts) of every training face (and mirror); 0..20. The
        validation faces that set the stage thresholds are not augmented: the
        hit rates are measured on real faces only.
    checkpoint_dir : str or os.PathLike, optional
        Folder for the per-stage checkpoint (created if missing). A later call
        with the same folder resumes after the last finished stage. The
        checkpoint records every setting that changes the stages (window,
        feature types, mirroring, augmentation, hit and false-alarm rates per stage, sample
        counts, feature and stump budgets, ``random_state``) and digests of
        the data; a resume with any of them different raises ``ValueError``
        naming the setting. ``max_stages``, ``target_false_alarm`` and
        ``time_budget`` only decide when to stop and may change on resume.
    time_budget : float, optional
        Seconds; no new stage starts once it is exhausted.
    random_state : int, numpy.random.Generator or None
        Randomness: the same int and inputs give the same cascade; None draws
        fresh randomness.
    progress : None, bool or callable
        cvcore's progress convention: a bar over the stages on a terminal (its
        status shows negatives mined, feature values evaluated and stumps
        added within the stage), silent otherwise; a callable receives
        ``(done, total, description)`` for the stages and for each phase of
        a stage (``"stage 3: negatives mined"``, ``"stage 3: feature values
        evaluated"``, ``"stage 3: weak classifiers"``).
    seed : int, optional
        Deprecated alias of ``random_state``.
    feature_type : {"haar", "lbp"}
        ``"lbp"``: multi-block LBP features (every 3x3 grid of cells that fits
        the window, :meth:`Cascade.lbp`) with categorical stumps (a 256-bit
        subset each, boosted as ``boosting`` says);
        windows are not variance-normalised, so flat faces are kept.
        ``feature_types`` applies to Haar training only.
    boosting : {"gentle", "discrete"}
        How each stage's stumps are boosted. ``"gentle"`` (the default, as in
        OpenCV's ``traincascade``): Gentle AdaBoost of regression stumps with
        two real-valued leaves (:class:`cvcore.boosting.GentleStumpBooster`,
        :class:`cvcore.boosting.GentleCategoryBooster`); stages need fewer
        stumps for the same hit and false-alarm rates, so both training and
        detection are faster. ``"discrete"``: Viola and Jones's discrete
        AdaBoost (one ``alpha`` per stump).

    Returns
    -------
    Cascade
        Its ``training_log`` holds one dict per stage (``stage``, ``weak``,
        ``hit_rate``, ``false_alarm``, ``cascade_false_alarm``,
        ``mined_acceptance`` (the share of background windows the cascade
        accepted before this stage), ``negatives``, ``positives``, ``seconds``);
        the last one also says why training ended, ``stopped``:
        ``"max_stages"``, ``"target_false_alarm"``, ``"time_budget"``, or one
        of the problems below.

    Warns
    -----
    TrainingStopped
        When training cannot go on and returns the stages trained so far:
        ``"negatives_exhausted"`` (the cascade accepts too few background
        windows to mine ``max(10, negatives_per_stage / 20)`` negatives),
        ``"hit_rate_unreachable"`` (fewer than 10 training or validation faces
        still pass the cascade), ``"no_progress"`` (after ``max_weak_per_stage``
        stumps the stage still accepts more than 95 % of its negatives at
        ``min_hit_rate``; it is dropped). The message names the settings or
        data to change.

    Raises
    ------
    ValueError
        For invalid arguments, a checkpoint made with other settings or data,
        and when one of the problems above happens before the first stage.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> faces = rng.normal(140, 35, (200, 24, 24))
    >>> faces[:, 6:10, 3:21] -= 25                       # a faint dark band: "eyes"
    >>> faces = np.clip(faces, 0, 255).astype(np.uint8)
    >>> backgrounds = [np.clip(rng.normal(140, 35, (80, 90)), 0, 255).astype(np.uint8) for _ in range(3)]
    >>> c = train_cascade(faces, backgrounds, max_stages=2, positives_per_stage=100,
    ...                   negatives_per_stage=100, features_per_stage=2000, random_state=0, progress=False)
    >>> c.n_stages, c.training_log[-1]["stopped"]      # one stump already rejects every negative
    (1, 'target_false_alarm')
    """
    rs = _validate.random_state_alias(random_state, seed, where="train_cascade")
    lbp = _validate.choice(feature_type, "feature_type", ("haar", "lbp")) == "lbp"
    gentle = _validate.choice(boosting, "boosting", ("gentle", "discrete")) == "gentle"
    if lbp and tuple(feature_types) != tuple(FEATURE_TYPES):
        raise ValueError("feature_types selects Haar features; leave it out with feature_type='lbp'")
    table = haar_features(window, feature_types)          # validates window and feature_types
    window = table.window
    blocks = lbp_feature_blocks(window) if lbp else None
    n_table = len(blocks) if lbp else len(table)
    ww, wh = window
    if ww < 3 or wh < 3:
        raise ValueError(f"window must be at least 3x3 (OpenCV's normalisation shrinks it by a pixel), got {window}")
    pos = _validate.array(positives, "positives", ndim=3)
    if pos.dtype != np.uint8:
        raise TypeError(f"positives must have dtype uint8, got {pos.dtype}")
    if pos.shape[1:] != (wh, ww):
        raise ValueError(f"positives must have shape (N, {wh}, {ww}), got {pos.shape}")
    if isinstance(negative_images, np.ndarray) and negative_images.ndim == 2:
        negative_images = [negative_images]
    if isinstance(negative_images, (str, bytes)) or not hasattr(negative_images, "__iter__"):
        raise TypeError(f"negative_images must be a sequence of images, got {type(negative_images).__name__}")
    images = []
    for i, img in enumerate(negative_images):
        arr = _validate.grey_uint8(img, f"negative_images[{i}]")
        if arr.shape[0] >= wh and arr.shape[1] >= ww:
            images.append(arr)
    if not images:
        raise ValueError(f"negative_images must contain at least one image of at least {ww}x{wh} pixels")
    max_stages = _validate.integer(max_stages, "max_stages", low=1, high=1000)
    min_hit_rate = _validate.real(min_hit_rate, "min_hit_rate", low=0.5, high=1.0)
    max_false_alarm = _validate.real(max_false_alarm, "max_false_alarm", low=0.0, high=1.0,
                                     low_inclusive=False, high_inclusive=False)
    target_false_alarm = _validate.real(target_false_alarm, "target_false_alarm", low=0.0, high=1.0,
                                        low_inclusive=False)
    n_neg = _validate.integer(negatives_per_stage, "negatives_per_stage", low=10)
    n_pos = _validate.integer(positives_per_stage, "positives_per_stage", low=10)
    if n_neg + n_pos > 65535:
        raise ValueError("positives_per_stage + negatives_per_stage must be <= 65535")
    validation_fraction = _validate.real(validation_fraction, "validation_fraction", low=0.01, high=0.9)
    n_feat = _validate.integer(features_per_stage, "features_per_stage", low=1)
    max_weak = _validate.integer(max_weak_per_stage, "max_weak_per_stage", low=1, high=10000)
    if time_budget is not None:
        time_budget = _validate.positive(time_budget, "time_budget")
    mirror_positives = _validate.boolean(mirror_positives, "mirror_positives")
    augment_positives = _validate.integer(augment_positives, "augment_positives", low=0, high=20)
    if n_feat * (n_neg + n_pos) > 200_000_000:
        raise ValueError("features_per_stage * (positives_per_stage + negatives_per_stage) must be "
                         "<= 2e8 (memory bound of about 2 GB)")
    if positive_groups is None:
        groups = np.zeros(pos.shape[0], np.int64)
    else:
        groups = _validate.vector(positive_groups, "positive_groups", pos.shape[0], dtype=np.int64)
    extra = None
    if extra_negatives is not None:
        extra = _validate.array(extra_negatives, "extra_negatives", ndim=3)
        if extra.dtype != np.uint8 or extra.shape[1:] != (wh, ww):
            raise ValueError(f"extra_negatives must be uint8 of shape (M, {wh}, {ww})")
    rng = _validate.random_state(rs)
    ckpt = os.path.join(_checkpoint_dir(checkpoint_dir), CHECKPOINT_NAME) if checkpoint_dir is not None else None

    with progress_reporter(max_stages, "cascade stages", progress) as bar:
        settings = {
            "window": list(window),
            "feature_types": ["lbp"] if lbp else [FeatureTable.TYPE_NAMES[c]
                                                  for c in dict.fromkeys(table.types.tolist())],
            "mirror_positives": mirror_positives, "augment_positives": augment_positives, "min_hit_rate": min_hit_rate, "max_false_alarm": max_false_alarm,
            "negatives_per_stage": n_neg, "positives_per_stage": n_pos, "validation_fraction": validation_fraction,
            "features_per_stage": n_feat, "max_weak_per_stage": max_weak, "boosting": "gentle" if gentle else "discrete",
            "random_state": int(rs) if rs is not None and not isinstance(rs, np.random.Generator) else None,
            "positives": _digest(np.ascontiguousarray(pos)), "positive_groups": _digest(groups),
            "negative_images": _digest(*images), "extra_negatives": None if extra is None else _digest(extra),
        }
        rng_start = rng.bit_generator.state
        stage_list, log, resume = [], [], None
        if ckpt and os.path.exists(ckpt):
            resume = _read_checkpoint(ckpt, settings, n_table, lbp)
            stage_list, log = resume[0], resume[1]
            _set_state(rng, resume[3], ckpt, "rng_start")   # the same split as the first run
            rng_start = resume[3]

        n_feat = min(n_feat, n_table)
        keep = np.ones(pos.shape[0], bool) if lbp else ~flat_mask(np.ascontiguousarray(pos))
        pos, groups = pos[keep], groups[keep]
        if pos.shape[0] < 20:
            raise ValueError("positives must contain at least 20 non-flat windows")
        perm = rng.permutation(pos.shape[0])
        n_val = max(10, int(round(validation_fraction * pos.shape[0])))
        val_pos, train_pos = pos[perm[:n_val]], pos[perm[n_val:]]
        val_groups = groups[perm[:n_val]]
        if mirror_positives:
            train_pos = np.concatenate([train_pos, train_pos[:, :, ::-1]])
            val_pos = np.concatenate([val_pos, val_pos[:, :, ::-1]])
            val_groups = np.concatenate([val_groups, val_groups])
        if augment_positives:
            extra_pos = jitter_windows(train_pos, augment_positives, random_state=rng)
            if not lbp:     # as for the originals: a flat window has no variance to normalise by
                extra_pos = extra_pos[~flat_mask(extra_pos)]
            train_pos = np.concatenate([train_pos, extra_pos])
        train_pos, val_pos = np.ascontiguousarray(train_pos), np.ascontiguousarray(val_pos)
        if extra is not None:
            extra = np.ascontiguousarray(extra[~flat_mask(np.ascontiguousarray(extra))])

        miner = _Miner(images, window, rng)
        t_start = time.perf_counter()
        if resume is not None:
            _set_state(rng, resume[2], ckpt, "rng")
            miner.passes = resume[4]
            t_start -= sum(r["seconds"] for r in log)
            bar.write(f"resuming from {ckpt} after {len(stage_list)} stages")
            bar.update(min(len(stage_list), max_stages), status="resumed")

        def to_cascade():
            if lbp:
                return _lbp_stages_to_cascade(window, blocks, stage_list, log)
            return _stages_to_cascade(window, table, stage_list, log)

        cascade = to_cascade() if stage_list else None
        overall_fa = float(np.prod([r["false_alarm"] for r in log])) if log else 1.0
        stop = None                  # (reason, message): why training ended
        while True:
            if len(stage_list) >= max_stages:
                stop = ("max_stages", f"max_stages={max_stages} reached")
                break
            if overall_fa <= target_false_alarm:
                stop = ("target_false_alarm", f"target_false_alarm={target_false_alarm:g} reached")
                break
            if time_budget is not None and time.perf_counter() - t_start > time_budget:
                stop = ("time_budget", f"time_budget={time_budget:g} s exhausted")
                break
            t0 = time.perf_counter()
            si = len(stage_list)
            if cascade is not None:
                tp = train_pos[cascade._classify(train_pos) == 1]
                accepted = cascade._classify(val_pos) == 1
                vp, vg = val_pos[accepted], val_groups[accepted]
            else:
                tp, vp, vg = train_pos, val_pos, val_groups
            if tp.shape[0] < _MIN_POSITIVES or vp.shape[0] < _MIN_POSITIVES:
                stop = ("hit_rate_unreachable", _positives_message(si, tp.shape[0], train_pos.shape[0], vp.shape[0],
                                                                   val_pos.shape[0], min_hit_rate))
                break
            tp = tp[rng.permutation(tp.shape[0])[:n_pos]]
            with _phase(progress, bar, n_neg, f"stage {si}: negatives mined") as report:
                negs, mined_rate = miner.mine(cascade, n_neg, report)
            if extra is not None:
                ex = extra if cascade is None else extra[cascade._classify(extra) == 1]
                if ex.shape[0]:
                    ex = ex[rng.permutation(ex.shape[0])[: max(1, n_neg // 4)]]
                    negs = np.concatenate([negs, ex])[: n_neg] if negs.shape[0] else ex
            if negs.shape[0] < max(10, n_neg // 20):
                stop = ("negatives_exhausted", _negatives_message(si, negs.shape[0], n_neg, mined_rate))
                break
            feat_idx = np.sort(rng.choice(n_table, size=n_feat, replace=False))
            samples = np.concatenate([tp, negs])
            labels = np.concatenate([np.ones(tp.shape[0], np.int8), np.zeros(negs.shape[0], np.int8)])
            with _phase(progress, bar, samples.shape[0] * n_feat, f"stage {si}: feature values evaluated") as report:
                if lbp:
                    booster = (GentleCategoryBooster if gentle else CategoryBooster)(
                        _lbp_codes(samples, blocks[feat_idx], report), labels)
                else:
                    sub = table[feat_idx]
                    values = np.empty((samples.shape[0], n_feat), np.float32)
                    for start in range(0, samples.shape[0], _EVAL_BLOCK):
                        block = samples[start:start + _EVAL_BLOCK]
                        feature_values(block, False, sub.rects, sub.weights, window, True,
                                       values[start:start + block.shape[0]])
                        report.update(block.shape[0] * n_feat)
                    booster = (GentleStumpBooster if gentle else StumpBooster)(*presort(values), labels)
                    del values
            score = np.zeros(samples.shape[0])
            val_score = np.zeros(vp.shape[0])
            vvals = np.empty((vp.shape[0], 1), np.float32)
            stumps = ({"features": [], "subsets": [], "leaves": []} if lbp else
                      {"features": [], "thresholds": [], "leaves": []})
            fa, thr, hit = 1.0, 0.0, 1.0
            with _phase(progress, bar, max_weak, f"stage {si}: weak classifiers") as report:
                while len(stumps["features"]) < max_weak:
                    # a stump sends a sample to leaf 0 ("in": LBP code in the subset, Haar value below the
                    # threshold) or leaf 1; scores add the float32 leaves, as detection does
                    if lbp:
                        f, subset, *leaves = _lbp_step(booster)
                        passed = subset[booster.codes[f]]
                        val_passed = subset[_lbp_codes(vp, blocks[feat_idx[f:f + 1]])[0]]
                        record = (int(feat_idx[f]), _subset_words(subset), leaves)
                    else:
                        f, t, *leaves = _haar_step(booster)
                        passed = booster.below(f, t)
                        feature_values(vp, False, sub.rects[f:f + 1], sub.weights[f:f + 1], window, True, vvals)
                        val_passed = vvals[:, 0] < np.float32(t)
                        record = (int(feat_idx[f]), t, leaves)
                    l0, l1 = (float(np.float32(v)) for v in leaves)
                    score += np.where(passed, l0, l1)
                    val_score += np.where(val_passed, l0, l1)
                    for key, v in zip(stumps, record):
                        stumps[key].append(v)
                    thr = np.inf
                    for g in np.unique(vg):
                        srt = np.sort(val_score[vg == g])
                        k = int(np.floor((1.0 - min_hit_rate) * srt.size))
                        thr = min(thr, float(srt[k]) - 1e-4)
                    hit = float(np.mean(val_score >= thr))
                    fa = float(np.mean(score[labels == 0] >= thr))
                    report.update(1)
                    if fa <= max_false_alarm:
                        break
            del booster
            if fa > max(max_false_alarm, _NO_PROGRESS):      # max_weak stumps were not enough
                stop = ("no_progress", _no_progress_message(si, len(stumps["features"]), fa, hit, max_false_alarm,
                                                            negs.shape[0]))
                break
            stage_list.append({"threshold": thr, **stumps})
            overall_fa *= fa
            log.append({"stage": si, "weak": len(stumps["features"]), "hit_rate": hit, "false_alarm": fa,
                        "cascade_false_alarm": overall_fa, "mined_acceptance": mined_rate,
                        "negatives": int(negs.shape[0]), "positives": int(tp.shape[0]),
                        "seconds": time.perf_counter() - t0})
            cascade = to_cascade()
            bar.write(f"stage {si:2d}: {len(stumps['features']):3d} stumps  hit {hit:.4f}  false alarm {fa:.4f}  "
                      f"cascade FA {overall_fa:.2e}  bg acceptance before stage {mined_rate:.2e}  "
                      f"{log[-1]['seconds']:.1f} s")
            bar.update(1, status=f"cascade FA {overall_fa:.1e}")
            if ckpt:
                _write_checkpoint(ckpt, settings, stage_list, log, rng, rng_start, miner.passes)
        if stop[0] not in STOP_PROBLEMS:
            bar.write(f"stopped: {stop[1]}")
    reason, message = stop
    if not stage_list:
        raise ValueError(f"training produced no stage: {message}")
    log[-1]["stopped"] = reason
    cascade = to_cascade()
    if reason in STOP_PROBLEMS:
        warnings.warn(TrainingStopped(reason, f"training stopped after {len(stage_list)} stages, which are kept: "
                                              + message), stacklevel=2)
    return cascade
