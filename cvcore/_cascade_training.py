"""Training of the attentional cascade (Viola & Jones 2004, Table 2).

Private module behind :func:`cvcore.cascade.train_cascade`.

Per stage:

1. positives: a random sample of the training faces that the cascade so far
   still accepts; a held-out validation split of faces (also filtered by the
   cascade so far) sets the stage threshold;
2. negatives (bootstrapping): windows of the background images, at every
   scale (factor 1.1, random starting scale per pass) and position (step 1),
   horizontally flipped on alternate passes, that the cascade so far accepts;
   a random, bounded number is kept per image and pass so that they spread
   over all images;
3. a random subset of ``features_per_stage`` Haar features (seeded, fresh per
   stage) is evaluated once on all samples in OpenCV's variance-normalised
   units and sorted once (:func:`cvcore.boosting.presort`); discrete AdaBoost
   adds stumps until the false-alarm rate on the stage's negatives, at the
   threshold that keeps ``min_hit_rate`` of the validation faces, is at most
   ``max_false_alarm``.

Training stops at ``max_stages``, when the product of the stage false-alarm
rates reaches ``target_false_alarm``, when the backgrounds yield too few
negatives, or when ``time_budget`` runs out. After every stage the cascade and
the training state are written to ``checkpoint_dir``; a new call with the same
directory and arguments resumes from there.
"""
from __future__ import annotations

import json
import os
import sys
import time

import cv2
import numpy as np

from . import _validate
from .boosting import StumpBooster, presort
from .haar import FEATURE_TYPES, haar_feature_values, haar_features

CHECKPOINT_NAME = "cascade_checkpoint.json"


def _not_flat(windows):
    """OpenCV's window check: the normalisation factor must satisfy A/nf < 0.1."""
    inner = windows[:, 1:-1, 1:-1].astype(np.float64)
    area = inner.shape[1] * inner.shape[2]
    s = inner.sum(axis=(1, 2))
    q = (inner * inner).sum(axis=(1, 2))
    nf = area * q - s * s
    ok = nf > 0
    ok[ok] = area / np.sqrt(nf[ok]) < 0.1
    return ok


def _stages_to_cascade(window, table, stage_list):
    from .cascade import Cascade

    used = sorted({f for st in stage_list for f, _, _, _ in st["stumps"]})
    remap = {f: i for i, f in enumerate(used)}
    sub = table[np.array(used, dtype=np.int64)]
    stages = []
    for st in stage_list:
        trees = []
        for f, thr, pol, alpha in st["stumps"]:
            a = float(np.float32(alpha))
            leaves = [a, 0.0] if pol > 0 else [0.0, a]
            trees.append({"nodes": [[remap[f], thr, 0, -1]], "leaves": leaves})
        stages.append({"threshold": st["threshold"], "trees": trees})
    return Cascade(window, sub.rects, sub.weights, np.zeros(len(used), bool), stages)


class _Miner:
    """Hard-negative windows from background images, accepted by a cascade."""

    def __init__(self, images, window, rng):
        self.images = images
        self.window = window
        self.rng = rng
        self.passes = 0

    def mine(self, cascade, n_wanted, max_passes=6):
        ww, wh = self.window
        found = []
        scanned = 0
        accepted = 0
        per_image = max(4, int(np.ceil(2.0 * n_wanted / len(self.images))))
        engine = cascade._get_engine() if cascade is not None else None
        for p in range(max_passes):
            flip = (self.passes + p) % 2 == 1
            order = self.rng.permutation(len(self.images))
            for i in order:
                img = self.images[i]
                if flip:
                    img = np.ascontiguousarray(img[:, ::-1])
                H, W = img.shape
                start = 1.0 + 0.1 * self.rng.random()
                sc = start
                levels, hits = [], []
                while round(ww * sc) <= W and round(wh * sc) <= H:
                    sw, sh = int(round(W / sc)), int(round(H / sc))
                    if sw < ww or sh < wh:
                        break
                    res = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_LINEAR_EXACT) if sc != 1 else img
                    res = np.ascontiguousarray(res)
                    nwin = (sh - wh + 1) * (sw - ww + 1)
                    scanned += nwin
                    if engine is None:
                        k = min(nwin, 4 * per_image)
                        xy = np.stack([self.rng.integers(0, sw - ww + 1, k),
                                       self.rng.integers(0, sh - wh + 1, k)], 1).astype(np.int32)
                        wins = np.stack([res[y:y + wh, x:x + ww] for x, y in xy])
                        ok = _not_flat(wins)
                        accepted += int(round(ok.sum() * nwin / max(k, 1)))
                        xy = xy[ok]
                    else:
                        xy = np.empty((nwin, 2), np.int32)
                        mg = np.empty(nwin, np.float32)
                        n = engine.scan(res, 1, False, xy, mg)
                        accepted += n
                        xy = xy[:n]
                    if xy.shape[0]:
                        levels.append(res)
                        hits.append(np.column_stack([np.full(xy.shape[0], len(levels) - 1), xy]))
                    sc *= 1.1
                if hits:
                    hits = np.concatenate(hits)
                    take = self.rng.permutation(hits.shape[0])[:per_image]
                    found.extend(levels[l][y:y + wh, x:x + ww].copy() for l, x, y in hits[take])
                if len(found) >= n_wanted:
                    break
            if len(found) >= n_wanted:
                break
            per_image *= 2
        self.passes += p + 1
        rate = accepted / max(scanned, 1)
        if not found:
            return np.zeros((0, wh, ww), np.uint8), rate
        arr = np.stack(found[:n_wanted]).astype(np.uint8)
        return arr, rate


def train_cascade(positives, negative_images, *, window=(24, 24), max_stages=20, min_hit_rate=0.995,
                  max_false_alarm=0.5, target_false_alarm=1e-6, negatives_per_stage=2000,
                  positives_per_stage=2000, validation_fraction=0.15, features_per_stage=10000,
                  max_weak_per_stage=150, feature_types=tuple(FEATURE_TYPES), extra_negatives=None,
                  positive_groups=None, mirror_positives=False, checkpoint_dir=None, time_budget=None,
                  random_state=0, progress=True):
    """Train an attentional cascade of boosted Haar stumps.

    Parameters
    ----------
    positives : (N, H, W) uint8 array_like
        Face windows of the window size (``window`` is ``(W, H)``).
    negative_images : sequence of 2-D uint8 arrays
        Face-free images; negatives are mined from them at every scale.
    window : (int, int)
        ``(width, height)`` of the detection window.
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
    positive_groups : (N,) int array_like, optional
        Source of each positive (e.g. two face collections cropped differently).
        Each stage threshold then keeps ``min_hit_rate`` of the validation faces
        of every group, not only of all of them together.
    mirror_positives : bool
        Add the horizontal mirror image of every face (after the training /
        validation split, so a face and its mirror stay on the same side).
    extra_negatives : (M, H, W) uint8 array_like, optional
        Fixed non-face windows added to the mining pool (when the cascade accepts them).
    checkpoint_dir : str, optional
        Where to write (and resume from) the per-stage checkpoint.
    time_budget : float, optional
        Seconds; no new stage starts once it is exhausted.
    random_state : int or numpy Generator
        Seed; the same seed and inputs give the same cascade.
    progress : bool
        Print one line per stage (stage, stumps, hit rate, false alarm, time) to stderr.

    Returns
    -------
    Cascade
        With a ``training_log`` attribute: one dict per stage (``stage``,
        ``weak``, ``hit_rate``, ``false_alarm``, ``cascade_false_alarm``,
        ``mined_acceptance`` (the share of background windows the cascade
        accepted before this stage), ``seconds``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> faces = rng.normal(140, 35, (200, 24, 24))
    >>> faces[:, 6:10, 3:21] -= 25                       # a faint dark band: "eyes"
    >>> faces = np.clip(faces, 0, 255).astype(np.uint8)
    >>> backgrounds = [np.clip(rng.normal(140, 35, (80, 90)), 0, 255).astype(np.uint8) for _ in range(3)]
    >>> c = train_cascade(faces, backgrounds, max_stages=2, positives_per_stage=100,
    ...                   negatives_per_stage=100, features_per_stage=300, progress=False)
    >>> c.n_stages
    2
    """
    from .cascade import Cascade

    window = _validate.window_size(window, "window", low=3, high=64)
    ww, wh = window
    pos = _validate.array(positives, "positives", ndim=3)
    if pos.dtype != np.uint8:
        raise TypeError(f"positives must have dtype uint8, got {pos.dtype}")
    if pos.shape[1:] != (wh, ww):
        raise ValueError(f"positives must have shape (N, {wh}, {ww}), got {pos.shape}")
    if isinstance(negative_images, np.ndarray) and negative_images.ndim == 2:
        negative_images = [negative_images]
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
    if not isinstance(mirror_positives, (bool, np.bool_)):
        raise TypeError(f"mirror_positives must be a bool, got {type(mirror_positives).__name__}")
    rng = _validate.random_state(random_state)
    if n_feat * (n_neg + n_pos) > 200_000_000:
        raise ValueError("features_per_stage * (positives_per_stage + negatives_per_stage) must be "
                         "<= 2e8 (memory bound of about 2 GB)")

    table = haar_features(window, feature_types)
    n_feat = min(n_feat, len(table))
    if positive_groups is None:
        groups = np.zeros(pos.shape[0], np.int64)
    else:
        groups = _validate.vector(positive_groups, "positive_groups", pos.shape[0], dtype=np.int64)
    keep = _not_flat(pos)
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
    extra = None
    if extra_negatives is not None:
        extra = _validate.array(extra_negatives, "extra_negatives", ndim=3)
        if extra.dtype != np.uint8 or extra.shape[1:] != (wh, ww):
            raise ValueError(f"extra_negatives must be uint8 of shape (M, {wh}, {ww})")
        extra = extra[_not_flat(extra)]

    miner = _Miner(images, window, rng)
    stage_list, log = [], []
    t_start = time.perf_counter()
    ckpt = os.path.join(checkpoint_dir, CHECKPOINT_NAME) if checkpoint_dir else None
    if ckpt and os.path.isfile(ckpt):
        with open(ckpt, encoding="utf-8") as fh:
            state = json.load(fh)
        stage_list = [{"threshold": s["threshold"], "stumps": [tuple(x) for x in s["stumps"]]}
                      for s in state["stages"]]
        log = state["log"]
        rng.bit_generator.state = state["rng"]
        miner.passes = state["passes"]
        t_start -= sum(r["seconds"] for r in log)
        if progress:
            print(f"resuming from {ckpt} after {len(stage_list)} stages", file=sys.stderr)

    cascade = _stages_to_cascade(window, table, stage_list) if stage_list else None
    overall_fa = float(np.prod([r["false_alarm"] for r in log])) if log else 1.0
    while len(stage_list) < max_stages and overall_fa > target_false_alarm:
        if time_budget is not None and time.perf_counter() - t_start > time_budget:
            if progress:
                print("time budget exhausted", file=sys.stderr)
            break
        t0 = time.perf_counter()
        si = len(stage_list)
        if cascade is not None:
            tp = train_pos[cascade.classify_windows(train_pos) == 1]
            accepted = cascade.classify_windows(val_pos) == 1
            vp, vg = val_pos[accepted], val_groups[accepted]
        else:
            tp, vp, vg = train_pos, val_pos, val_groups
        if tp.shape[0] < 10 or vp.shape[0] < 10:
            if progress:
                print("too few positives left", file=sys.stderr)
            break
        tp = tp[rng.permutation(tp.shape[0])[:n_pos]]
        negs, mined_rate = miner.mine(cascade, n_neg)
        if extra is not None:
            ex = extra if cascade is None else extra[cascade.classify_windows(extra) == 1]
            if ex.shape[0]:
                ex = ex[rng.permutation(ex.shape[0])[: max(1, n_neg // 4)]]
                negs = np.concatenate([negs, ex])[: n_neg] if negs.shape[0] else ex
        if negs.shape[0] < max(10, n_neg // 20):
            if progress:
                print(f"stage {si}: backgrounds exhausted ({negs.shape[0]} negatives found)", file=sys.stderr)
            break
        feat_idx = np.sort(rng.choice(len(table), size=n_feat, replace=False))
        sub = table[feat_idx]
        samples = np.concatenate([tp, negs])
        labels = np.concatenate([np.ones(tp.shape[0], np.int8), np.zeros(negs.shape[0], np.int8)])
        values = haar_feature_values(samples, sub, normalize=True)
        sv, order = presort(values)
        del values
        booster = StumpBooster(sv, order, labels)
        score = np.zeros(samples.shape[0])
        val_score = np.zeros(vp.shape[0])
        stumps = []
        fa = 1.0
        thr = 0.0
        hit = 1.0
        while len(stumps) < max_weak:
            f, t, pol, alpha = booster.step()
            a32 = float(np.float32(alpha))
            h = booster.predict_stump(f, t, pol)
            score += a32 * h
            vvals = haar_feature_values(vp, sub[[f]], normalize=True)[:, 0]
            below = vvals < np.float32(t)
            val_score += a32 * (below if pol > 0 else ~below)
            stumps.append((int(feat_idx[f]), t, pol, alpha))
            thr = np.inf
            for g in np.unique(vg):
                srt = np.sort(val_score[vg == g])
                k = int(np.floor((1.0 - min_hit_rate) * srt.size))
                thr = min(thr, float(srt[k]) - 1e-4)
            hit = float(np.mean(val_score >= thr))
            fa = float(np.mean(score[labels == 0] >= thr))
            if fa <= max_false_alarm:
                break
        del sv, order, booster
        stage_list.append({"threshold": thr, "stumps": stumps})
        cascade = _stages_to_cascade(window, table, stage_list)
        overall_fa *= fa
        rec = {"stage": si, "weak": len(stumps), "hit_rate": hit, "false_alarm": fa,
               "cascade_false_alarm": overall_fa, "mined_acceptance": mined_rate,
               "negatives": int(negs.shape[0]), "positives": int(tp.shape[0]),
               "seconds": time.perf_counter() - t0}
        log.append(rec)
        if progress:
            print(f"stage {si:2d}: {len(stumps):3d} stumps  hit {hit:.4f}  false alarm {fa:.4f}  "
                  f"cascade FA {overall_fa:.2e}  bg acceptance before stage {mined_rate:.2e}  "
                  f"{rec['seconds']:.1f} s", file=sys.stderr, flush=True)
        if ckpt:
            os.makedirs(checkpoint_dir, exist_ok=True)
            state = {"stages": [{"threshold": s["threshold"], "stumps": [list(x) for x in s["stumps"]]}
                                for s in stage_list],
                     "log": log, "rng": rng.bit_generator.state, "passes": miner.passes}
            tmp = ckpt + ".tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(state, fh)
            os.replace(tmp, ckpt)
    if not stage_list:
        raise ValueError("training produced no stage (too few positives or negatives)")
    cascade = _stages_to_cascade(window, table, stage_list)
    cascade.training_log = log
    return cascade
