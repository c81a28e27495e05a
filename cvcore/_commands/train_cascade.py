"""``cvcore train-cascade``: train a Viola-Jones cascade from face windows and background images."""
from __future__ import annotations

import glob
import os

from . import _common

HELP = "train a Haar or LBP cascade (AdaBoost stages, hard-negative bootstrapping, checkpoints)"

_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".pgm", ".ppm", ".bmp", ".tif", ".tiff")


def add_arguments(p):
    p.add_argument("--positives", required=True, metavar="PATH",
                   help=".npz holding an (N, H, W) uint8 array (named 'faces' or the only array), "
                        "or a directory of face images (resized to the window)")
    p.add_argument("--backgrounds", required=True, metavar="DIR", help="directory of face-free images")
    p.add_argument("--out", required=True, metavar="PATH", help="cascade file to write (.json, or .xml for OpenCV)")
    p.add_argument("--window", type=_common.integer(3, 64), nargs=2, default=(24, 24), metavar=("W", "H"),
                   help="detection window in pixels, 3..64 each (default 24 24)")
    p.add_argument("--max-stages", type=_common.integer(1, 1000), default=20)
    p.add_argument("--min-hit-rate", type=_common.real(0.5, 1.0), default=0.995,
                   help="per-stage hit rate to keep, in [0.5, 1] (default 0.995)")
    p.add_argument("--max-false-alarm", type=_common.real(0.0, 1.0, low_inclusive=False, high_inclusive=False),
                   default=0.5, help="per-stage false alarm rate, in (0, 1) (default 0.5)")
    p.add_argument("--target-false-alarm", type=_common.real(0.0, 1.0, low_inclusive=False), default=1e-6,
                   help="stop when the cascade's false alarm rate is below this, in (0, 1] (default 1e-6)")
    p.add_argument("--positives-per-stage", type=_common.integer(10, 65535), default=2000)
    p.add_argument("--negatives-per-stage", type=_common.integer(10, 65535), default=2000)
    p.add_argument("--features-per-stage", type=_common.integer(1, 10_000_000), default=6000)
    p.add_argument("--max-weak-per-stage", type=_common.integer(1, 10_000), default=150)
    p.add_argument("--features", choices=("haar", "lbp"), default="haar",
                   help="feature type: Haar rectangles (default) or multi-block LBP (faster detection)")
    p.add_argument("--boosting", choices=("gentle", "discrete"), default="gentle",
                   help="Gentle AdaBoost with real-valued leaves (default: fewer stumps per stage) or discrete AdaBoost")
    p.add_argument("--mirror", action="store_true", help="also train on the horizontal mirror of every face")
    p.add_argument("--augment", type=_common.integer(0, 20), default=0, metavar="K",
                   help="also train on K mildly rotated, scaled, shifted and blurred copies of every face")
    p.add_argument("--checkpoint", metavar="DIR", help="write a checkpoint per stage here and resume from it")
    p.add_argument("--time-budget", type=_common.real(0.0, low_inclusive=False), default=None, metavar="SECONDS")
    p.add_argument("--seed", type=_common.integer(0, 2**32 - 1), default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar (shown by default on a terminal)")


def _images(directory):
    paths = sorted(p for p in glob.glob(os.path.join(directory, "*")) if p.lower().endswith(_IMAGE_EXT))
    if not paths:
        raise ValueError(f"no images ({', '.join(_IMAGE_EXT)}) found in {directory!r}")
    from cvcore.io import imread

    return [imread(p, grey=True) for p in paths]


def _positives(path, window):
    import numpy as np

    if os.path.isdir(path):
        from cvcore.cascade import resize_windows

        return resize_windows(_images(path), tuple(window))
    path = _common.input_file(path, "--positives")
    if not path.lower().endswith((".npz", ".npy")):
        raise ValueError(f"--positives must be a .npz/.npy file or a folder of face images, got {path}")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        reason = str(exc).split(". ")[0]  # numpy's pickle hint is long; its first sentence says enough
        raise ValueError(f"{path} is not a readable .npz/.npy file ({reason})") from None
    if isinstance(data, np.ndarray):
        return data
    with data:
        names = list(data.files)
        name = "faces" if "faces" in names else (names[0] if len(names) == 1 else None)
        if name is None:
            raise ValueError(f"{path!r} holds several arrays ({', '.join(names)}) and none is named 'faces'")
        return data[name]


def run(args):
    _common.input_dir(args.backgrounds, "--backgrounds")
    _common.output_file(args.out, "--out", "cascade")
    if args.checkpoint is not None:
        _common.output_dir(args.checkpoint, "--checkpoint")
    positives = _positives(args.positives, args.window)
    backgrounds = _images(args.backgrounds)
    from cvcore._cascade_training import STOP_PROBLEMS
    from cvcore.cascade import train_cascade

    cascade = train_cascade(
        positives, backgrounds, window=tuple(args.window), max_stages=args.max_stages,
        min_hit_rate=args.min_hit_rate, max_false_alarm=args.max_false_alarm,
        target_false_alarm=args.target_false_alarm, negatives_per_stage=args.negatives_per_stage,
        positives_per_stage=args.positives_per_stage, features_per_stage=args.features_per_stage,
        max_weak_per_stage=args.max_weak_per_stage, mirror_positives=args.mirror,
        augment_positives=args.augment, checkpoint_dir=args.checkpoint,
        time_budget=args.time_budget, random_state=args.seed, progress=False if args.quiet else None,
        feature_type=args.features, boosting=args.boosting)
    if args.out.lower().endswith(".xml"):
        cascade.to_opencv_xml(args.out)
    else:
        cascade.save(args.out)
    # a training that cannot go on has already warned why (one line on stderr); its stages are written
    stopped = cascade.training_log[-1].get("stopped") if cascade.training_log else None
    early = f"; stopped early ({stopped})" if stopped in STOP_PROBLEMS else ""
    print(f"wrote {cascade} to {args.out}{early}")
    return 0
