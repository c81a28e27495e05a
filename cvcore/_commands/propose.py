"""``cvcore propose``: selective search object proposals for one image."""
from __future__ import annotations

import json
import os
import time

HELP = "object proposals (selective search) for an image: boxes as JSON, optional drawing"


def add_arguments(p):
    p.add_argument("image", help="image file (any format OpenCV reads)")
    p.add_argument("--mode", default="fast", choices=["single", "fast", "quality"],
                   help="selective search preset (default: fast)")
    p.add_argument("--top", type=int, default=300, metavar="N",
                   help="keep the N best ranked boxes (default: 300; 0 keeps all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the ranking (default: 0)")
    p.add_argument("--out", metavar="PATH", help="write the boxes to this JSON file")
    p.add_argument("--draw", metavar="PATH", help="write the image with the boxes drawn")


def run(args):
    import numpy as np

    from cvcore.cli import CLIError
    from cvcore.io import imread, imwrite
    from cvcore.proposals import selective_search

    if args.top < 0:
        raise CLIError(f"--top must be >= 0 (0 keeps all boxes), got {args.top}")
    for opt in ("out", "draw"):
        path = getattr(args, opt)
        if path:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise CLIError(f"--{opt}: directory does not exist: {folder}")
    image = imread(args.image)
    t0 = time.perf_counter()
    boxes = selective_search(image, mode=args.mode, seed=args.seed,
                             max_boxes=args.top if args.top > 0 else None)
    elapsed = time.perf_counter() - t0
    print(f"{args.image}: {len(boxes)} proposals ({args.mode} mode, "
          f"{image.shape[1]}x{image.shape[0]}) in {elapsed:.2f} s")
    if args.out:
        doc = {"format": "cvcore-proposals", "version": 1, "image": os.path.abspath(args.image),
               "width": int(image.shape[1]), "height": int(image.shape[0]), "mode": args.mode,
               "seed": args.seed, "box_format": "x y w h", "boxes": boxes.tolist()}
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
        print(f"wrote {args.out}")
    else:
        for x, y, w, h in boxes[:10].tolist():
            print(f"{x} {y} {w} {h}")
        if len(boxes) > 10:
            print(f"... ({len(boxes) - 10} more; use --out to save them all)")
    if args.draw:
        import cv2

        canvas = image[:, :, :3] if image.ndim == 3 else np.dstack([image] * 3)
        if canvas.dtype != np.uint8:
            canvas = (canvas / max(1, int(canvas.max())) * 255).astype(np.uint8)
        canvas = np.ascontiguousarray(canvas)
        rng = np.random.default_rng(0)
        for x, y, w, h in boxes.tolist()[::-1]:  # best ranked drawn last (on top)
            colour = tuple(int(c) for c in rng.integers(64, 256, 3))
            cv2.rectangle(canvas, (x, y), (x + w - 1, y + h - 1), colour, 1)
        imwrite(args.draw, canvas)
        print(f"wrote {args.draw}")
    return 0
