"""``cvcore segment``: train a pixel segmenter on labelled images, or apply one."""
from __future__ import annotations

import time

from . import _common

HELP = "trainable pixel segmentation: 'train' a model from labelled strokes/masks, 'predict' a label map"

_LABELS_HELP = ("label images (lossless grey PNG/TIFF of the image's size, one per image, in the same order): "
                "0 = unlabelled, 1..K = class")


def add_arguments(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    t = sub.add_parser("train", help="train a model from images and label images",
                       description="Train a PixelSegmenter. Label images are grey PNGs of the "
                       "images' size: 0 = unlabelled, 1..K = class (strokes or full masks).")
    t.add_argument("--images", nargs="+", required=True, metavar="IMAGE", help="training images")
    t.add_argument("--labels", nargs="+", required=True, metavar="LABELS", help=_LABELS_HELP)
    t.add_argument("--classifier", default="rf", choices=["rf", "knn"],
                   help="random forest (default) or k nearest neighbours")
    t.add_argument("--out", required=True, metavar="MODEL.npz", help="model file to write (.npz)")
    t.add_argument("--trees", type=_common.integer(1, 100_000), default=100, help="forest size (default: 100)")
    t.add_argument("--max-depth", type=_common.integer(1, 1000), default=None,
                   help="forest tree depth limit (default: none)")
    t.add_argument("--neighbors", type=_common.integer(1, 10_000), default=5,
                   help="k for --classifier knn (default: 5)")
    t.add_argument("--sigmas", type=_common.real(0.0, 1000.0, low_inclusive=False), nargs="+", default=None,
                   metavar="S", help="feature scales, > 0 (default: 0.7 1 1.6 3.5 5 10)")
    t.add_argument("--max-pixels", type=_common.integer(1), default=200_000,
                   help="train on at most this many labelled pixels (default: 200000)")
    t.add_argument("--seed", type=_common.integer(0, 2**32 - 1), default=0, help="random seed (default: 0)")
    t.add_argument("--jobs", type=_common.integer(1, 1024), default=None, help="threads for the forest (default: 1)")

    q = sub.add_parser("predict", help="segment an image with a trained model",
                       description="Apply a model written by 'cvcore segment train'.")
    q.add_argument("model", help="model file (.npz) from 'cvcore segment train'")
    q.add_argument("image", help="image to segment")
    q.add_argument("--out", required=True, metavar="MASK.png",
                   help="label map to write (class values; a lossless format such as .png)")
    q.add_argument("--overlay", metavar="PATH", help="also write the image with classes colour-blended")
    q.add_argument("--alpha", type=_common.real(0.0, 1.0, low_inclusive=False), default=0.5,
                   help="overlay opacity in (0, 1] (default: 0.5)")


def _image(path, opt):
    from cvcore.io import imread

    return imread(_common.input_file(path, opt))  # alpha and channels: the segmenter's input policy


def _train(args):
    from cvcore.io import imread_labels
    from cvcore.segmentation import KNNClassifier, PixelSegmenter, RandomForestClassifier
    from cvcore.segmentation.features import DEFAULT_SIGMAS
    from cvcore.segmentation.metrics import label_counts

    if len(args.images) != len(args.labels):
        raise _common.CLIError(f"got {len(args.images)} --images but {len(args.labels)} --labels")
    _common.output_file(args.out, "--out", "npz")
    _common.check_no_overwrite([("--images", p) for p in args.images] + [("--labels", p) for p in args.labels],
                               [("--out", args.out)])
    for path in args.images:
        _common.input_file(path, "--images")
    for path in args.labels:
        _common.input_file(path, "--labels")
    if args.classifier == "rf":
        clf = RandomForestClassifier(n_estimators=args.trees, max_depth=args.max_depth,
                                     random_state=args.seed, n_jobs=args.jobs)
    else:
        clf = KNNClassifier(n_neighbors=args.neighbors, weights="distance")
    images, labels = [], []
    for img_path, lab_path in zip(args.images, args.labels):
        img = _image(img_path, "--images")
        lab = imread_labels(lab_path)
        if lab.shape != img.shape[:2]:
            raise _common.CLIError(f"{lab_path}: label image is {lab.shape[1]}x{lab.shape[0]}, "
                                   f"but {img_path} is {img.shape[1]}x{img.shape[0]}")
        images.append(img)
        labels.append(lab)
    classes, counts = label_counts(labels)
    print(f"{len(images)} image(s); labelled pixels: "
          + ", ".join(f"class {c}: {n}" for c, n in zip(classes.tolist(), counts.tolist())))
    seg = PixelSegmenter(clf, sigmas=tuple(args.sigmas) if args.sigmas else DEFAULT_SIGMAS,
                         max_training_pixels=args.max_pixels, random_state=args.seed)
    t0 = time.perf_counter()
    seg.fit(images, labels)
    print(f"trained {args.classifier} on {seg.n_features_in_} features, classes "
          f"{seg.classes_.tolist()} in {time.perf_counter() - t0:.2f} s")
    seg.save(args.out)
    print(f"wrote {args.out}")
    return 0


def _predict(args):
    import numpy as np

    from cvcore.draw import overlay_labels
    from cvcore.io import imwrite
    from cvcore.segmentation.metrics import label_counts
    from cvcore.segmentation import PixelSegmenter

    _common.input_file(args.model, "MODEL")
    _common.output_file(args.out, "--out", "labels")
    _common.output_file(args.overlay, "--overlay", "image")
    _common.check_no_overwrite([("MODEL", args.model), ("IMAGE", args.image)],
                               [("--out", args.out), ("--overlay", args.overlay)])
    seg = PixelSegmenter.load(args.model)
    image = _image(args.image, "IMAGE")
    t0 = time.perf_counter()
    labels = seg.predict(image)
    elapsed = time.perf_counter() - t0
    if labels.dtype != np.uint8:
        if labels.size and (labels.min() < 0 or labels.max() > 65535):
            raise _common.CLIError("class labels outside 0..65535 cannot be written to an image file")
        labels = labels.astype(np.uint16)
    imwrite(args.out, labels)
    classes, counts = label_counts(labels)
    fractions = ", ".join(f"class {c}: {n / labels.size:.1%}" for c, n in zip(classes.tolist(), counts.tolist()))
    print(f"{args.image}: {image.shape[1]}x{image.shape[0]} segmented in {elapsed:.2f} s ({fractions})")
    print(f"wrote {args.out}")
    if args.overlay:
        imwrite(args.overlay, overlay_labels(image, labels, alpha=args.alpha))
        print(f"wrote {args.overlay}")
    return 0


def run(args):
    if args.action == "train":
        return _train(args)
    return _predict(args)
