"""``cvcore segment``: train a pixel segmenter on labelled images, or apply one."""
from __future__ import annotations

import os
import time

HELP = "trainable pixel segmentation: 'train' a model from labelled strokes/masks, 'predict' a label map"

#: overlay colours (RGB) of classes 1, 2, ... (class k uses entry (k - 1) % len)
PALETTE = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (255, 225, 25), (145, 30, 180),
           (70, 240, 240), (245, 130, 48), (240, 50, 230), (210, 245, 60), (128, 128, 128))


def add_arguments(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    t = sub.add_parser("train", help="train a model from images and label images",
                       description="Train a PixelSegmenter. Label images are grey PNGs of the "
                       "images' size: 0 = unlabelled, 1..K = class (strokes or full masks).")
    t.add_argument("--images", nargs="+", required=True, metavar="IMAGE", help="training images")
    t.add_argument("--labels", nargs="+", required=True, metavar="LABELS",
                   help="label images, one per image, in the same order")
    t.add_argument("--classifier", default="rf", choices=["rf", "knn"],
                   help="random forest (default) or k nearest neighbours")
    t.add_argument("--out", required=True, metavar="MODEL.npz", help="model file to write")
    t.add_argument("--trees", type=int, default=100, help="forest size (default: 100)")
    t.add_argument("--max-depth", type=int, default=None, help="forest tree depth limit (default: none)")
    t.add_argument("--neighbors", type=int, default=5, help="k for --classifier knn (default: 5)")
    t.add_argument("--sigmas", type=float, nargs="+", default=None, metavar="S",
                   help="feature scales (default: 0.7 1 1.6 3.5 5 10)")
    t.add_argument("--max-pixels", type=int, default=200_000,
                   help="train on at most this many labelled pixels (default: 200000)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    t.add_argument("--jobs", type=int, default=None, help="threads for the forest (default: 1)")

    q = sub.add_parser("predict", help="segment an image with a trained model",
                       description="Apply a model written by 'cvcore segment train'.")
    q.add_argument("model", help="model file (.npz) from 'cvcore segment train'")
    q.add_argument("image", help="image to segment")
    q.add_argument("--out", required=True, metavar="MASK.png", help="label map to write (class values)")
    q.add_argument("--overlay", metavar="PATH", help="also write the image with classes colour-blended")
    q.add_argument("--alpha", type=float, default=0.5, help="overlay opacity in (0, 1] (default: 0.5)")


def _check_out_dir(path, opt):
    from cvcore.cli import CLIError

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CLIError(f"{opt}: directory does not exist: {folder}")


def overlay(image, labels, alpha=0.5):
    """RGB uint8 image with each class's pixels blended with its palette colour."""
    import numpy as np

    img = np.asarray(image)
    if img.ndim == 2:
        img = np.dstack([img] * 3)
    img = img[:, :, :3]
    if img.dtype != np.uint8:
        top = float(img.max()) if img.size else 1.0
        img = (img.astype(np.float64) / (top if top > 0 else 1.0) * 255).astype(np.uint8)
    palette = np.array(PALETTE, np.float64)
    colours = palette[(labels.astype(np.int64) - 1) % len(PALETTE)]
    out = (1 - alpha) * img + alpha * colours
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _train(args):
    import numpy as np

    from cvcore.cli import CLIError
    from cvcore.io import imread
    from cvcore.segmentation import KNNClassifier, PixelSegmenter, RandomForestClassifier
    from cvcore.segmentation.features import DEFAULT_SIGMAS

    if len(args.images) != len(args.labels):
        raise CLIError(f"got {len(args.images)} --images but {len(args.labels)} --labels")
    _check_out_dir(args.out, "--out")
    if args.classifier == "rf":
        clf = RandomForestClassifier(n_estimators=args.trees, max_depth=args.max_depth,
                                     random_state=args.seed, n_jobs=args.jobs)
    else:
        clf = KNNClassifier(n_neighbors=args.neighbors, weights="distance")
    images, labels = [], []
    for img_path, lab_path in zip(args.images, args.labels):
        img = imread(img_path)
        lab = imread(lab_path, grey=True)
        if lab.shape != img.shape[:2]:
            raise CLIError(f"{lab_path}: label image is {lab.shape[1]}x{lab.shape[0]}, "
                           f"but {img_path} is {img.shape[1]}x{img.shape[0]}")
        images.append(img)
        labels.append(lab)
    counts = np.bincount(np.concatenate([lab.ravel() for lab in labels]))
    summary = ", ".join(f"class {c}: {n}" for c, n in enumerate(counts) if c > 0 and n > 0)
    print(f"{len(images)} image(s); labelled pixels: {summary or 'none'}")
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

    from cvcore.cli import CLIError
    from cvcore.io import imread, imwrite
    from cvcore.segmentation import PixelSegmenter

    _check_out_dir(args.out, "--out")
    if args.overlay:
        _check_out_dir(args.overlay, "--overlay")
    if not 0 < args.alpha <= 1:
        raise CLIError(f"--alpha must be in (0, 1], got {args.alpha}")
    seg = PixelSegmenter.load(args.model)
    image = imread(args.image)
    if image.ndim == 3 and image.shape[2] == 4 and seg.n_channels_ == 3:
        image = image[:, :, :3]  # drop alpha
    elif image.ndim == 2 and seg.n_channels_ == 3:
        image = np.dstack([image] * 3)
    t0 = time.perf_counter()
    labels = seg.predict(image)
    elapsed = time.perf_counter() - t0
    if labels.dtype not in (np.uint8, np.uint16):
        raise CLIError("class labels above 65535 cannot be written to an image file")
    imwrite(args.out, labels)
    fractions = ", ".join(f"class {c}: {np.mean(labels == c):.1%}" for c in seg.classes_.tolist())
    print(f"{args.image}: {image.shape[1]}x{image.shape[0]} segmented in {elapsed:.2f} s ({fractions})")
    print(f"wrote {args.out}")
    if args.overlay:
        imwrite(args.overlay, overlay(image, labels, args.alpha))
        print(f"wrote {args.overlay}")
    return 0


def run(args):
    if args.action == "train":
        return _train(args)
    return _predict(args)
