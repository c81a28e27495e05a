"""``cvcore train-cascade``: train a Viola-Jones cascade from face windows and background images."""
from __future__ import annotations

import glob
import os

HELP = "train a Haar cascade (AdaBoost stages, hard-negative bootstrapping, checkpoints)"

_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".pgm", ".ppm", ".bmp", ".tif", ".tiff")


def add_arguments(p):
    p.add_argument("--positives", required=True, metavar="PATH",
                   help=".npz holding an (N, H, W) uint8 array (named 'faces' or the only array), "
                        "or a directory of face images (resized to the window)")
    p.add_argument("--backgrounds", required=True, metavar="DIR", help="directory of face-free images")
    p.add_argument("--out", required=True, metavar="PATH", help="cascade file to write (.json, or .xml for OpenCV)")
    p.add_argument("--window", type=int, nargs=2, default=(24, 24), metavar=("W", "H"))
    p.add_argument("--max-stages", type=int, default=20)
    p.add_argument("--min-hit-rate", type=float, default=0.995)
    p.add_argument("--max-false-alarm", type=float, default=0.5)
    p.add_argument("--target-false-alarm", type=float, default=1e-6)
    p.add_argument("--positives-per-stage", type=int, default=2000)
    p.add_argument("--negatives-per-stage", type=int, default=2000)
    p.add_argument("--features-per-stage", type=int, default=6000)
    p.add_argument("--max-weak-per-stage", type=int, default=150)
    p.add_argument("--checkpoint", metavar="DIR", help="write a checkpoint per stage here and resume from it")
    p.add_argument("--time-budget", type=float, default=None, metavar="SECONDS")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no per-stage progress lines")


def _images(directory):
    paths = sorted(p for p in glob.glob(os.path.join(directory, "*")) if p.lower().endswith(_IMAGE_EXT))
    if not paths:
        raise ValueError(f"no images ({', '.join(_IMAGE_EXT)}) found in {directory!r}")
    from cvcore.io import imread

    return [imread(p, grey=True) for p in paths]


def _positives(path, window):
    import cv2
    import numpy as np

    if os.path.isdir(path):
        return np.stack([cv2.resize(im, tuple(window), interpolation=cv2.INTER_AREA) for im in _images(path)])
    if not os.path.isfile(path):
        raise FileNotFoundError(f"positives not found: {path}")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ValueError(f"{path!r} is not a readable .npz/.npy file ({exc})") from None
    if isinstance(data, np.ndarray):
        return data
    names = list(data.files)
    name = "faces" if "faces" in names else (names[0] if len(names) == 1 else None)
    if name is None:
        raise ValueError(f"{path!r} holds several arrays ({', '.join(names)}) and none is named 'faces'")
    return data[name]


def run(args):
    from cvcore.cascade import train_cascade

    if not os.path.isdir(args.backgrounds):
        raise FileNotFoundError(f"backgrounds directory not found: {args.backgrounds}")
    positives = _positives(args.positives, args.window)
    backgrounds = _images(args.backgrounds)
    cascade = train_cascade(
        positives, backgrounds, window=tuple(args.window), max_stages=args.max_stages,
        min_hit_rate=args.min_hit_rate, max_false_alarm=args.max_false_alarm,
        target_false_alarm=args.target_false_alarm, negatives_per_stage=args.negatives_per_stage,
        positives_per_stage=args.positives_per_stage, features_per_stage=args.features_per_stage,
        max_weak_per_stage=args.max_weak_per_stage, checkpoint_dir=args.checkpoint,
        time_budget=args.time_budget, random_state=args.seed, progress=not args.quiet)
    if args.out.lower().endswith(".xml"):
        cascade.to_opencv_xml(args.out)
    else:
        cascade.save(args.out)
    print(f"wrote {cascade} to {args.out}")
    return 0
