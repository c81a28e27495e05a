"""``cvcore propose``: selective search object proposals for one image."""
from __future__ import annotations

import os
import time

from . import _common

HELP = "object proposals (selective search) for an image: boxes as JSON, optional drawing"


def add_arguments(p):
    p.add_argument("image", help="image file (any format OpenCV reads)")
    p.add_argument("--mode", default="fast", choices=["single", "fast", "quality"],
                   help="selective search preset (default: fast)")
    p.add_argument("--top", type=_common.integer(0), default=300, metavar="N",
                   help="keep the N best ranked boxes (default: 300; 0 keeps all)")
    p.add_argument("--seed", type=_common.integer(0, 2**32 - 1), default=0,
                   help="seed of the ranking, >= 0 (default: 0)")
    p.add_argument("--out", metavar="PATH.json", help="write the boxes to this JSON file (cvcore.io.read_boxes)")
    p.add_argument("--draw", metavar="PATH", help="write the image with the boxes drawn (best ranked on top)")


def run(args):
    from cvcore.draw import draw_boxes, spread_colours
    from cvcore.io import imread, imwrite, write_boxes
    from cvcore.proposals import selective_search

    path = _common.input_file(args.image, "IMAGE")
    _common.output_file(args.out, "--out", "json")
    _common.output_file(args.draw, "--draw", "image")
    _common.check_no_overwrite([("IMAGE", path)], [("--out", args.out), ("--draw", args.draw)])
    image = imread(path)
    t0 = time.perf_counter()
    boxes = selective_search(image, mode=args.mode, random_state=args.seed, max_boxes=args.top if args.top > 0 else None)
    elapsed = time.perf_counter() - t0
    height, width = image.shape[:2]
    print(f"{args.image}: {len(boxes)} proposals ({args.mode} mode, {width}x{height}) in {elapsed:.2f} s")
    if args.out:
        write_boxes(args.out, boxes, image_size=(width, height),
                    info={"image": os.path.abspath(path), "mode": args.mode, "seed": args.seed})
        print(f"wrote {args.out}")
    else:
        for x, y, w, h in boxes[:10].tolist():
            print(f"{x} {y} {w} {h}")
        if len(boxes) > 10:
            print(f"... ({len(boxes) - 10} more; use --out to save them all)")
    if args.draw:
        # hue follows the rank; drawn worst first so the best ranked boxes end on top
        imwrite(args.draw, draw_boxes(image, boxes[::-1], colour=spread_colours(len(boxes))[::-1], thickness=1))
        print(f"wrote {args.draw}")
    return 0
