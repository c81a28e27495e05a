"""``cvcore detect``: Viola-Jones face (or object) detection on an image or a video."""
from __future__ import annotations

import contextlib
import json
import os

from . import _common

HELP = "detect faces (or any cascade's objects) in an image or video; print boxes and scores"

_VIDEO_EXT = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv"}


def add_detection_arguments(p, *, scale_factor, min_size, video=True):
    """Options shared with ``cvcore demo`` and ``cvcore evaluate-detector`` (``video=False``: no --max-frames)."""
    p.add_argument("--cascade", metavar="PATH",
                   help="cascade file: cvcore JSON or OpenCV Haar/LBP XML (default: a shipped face cascade)")
    p.add_argument("--kind", choices=("haar", "lbp"), default=None,
                   help="which shipped face cascade when there is no --cascade: Haar features (default, fewer "
                        "false positives) or LBP features (faster, finds more faces)")
    p.add_argument("--scale-factor", type=_common.real(1.0, 10.0, low_inclusive=False), default=scale_factor,
                   help=f"ratio between scales, > 1 (default {scale_factor})")
    p.add_argument("--min-neighbors", type=_common.integer(0, 1000), default=3,
                   help="grouping threshold, >= 0 (default 3)")
    p.add_argument("--min-size", type=_common.integer(1, 100_000), default=min_size, metavar="PX",
                   help="smallest detection side in pixels" + (f" (default {min_size})" if min_size else ""))
    if video:
        p.add_argument("--max-frames", type=_common.integer(1), default=None, metavar="N",
                       help="videos: stop after N frames (N >= 1)")


def add_arguments(p):
    p.add_argument("input", metavar="IMAGE|VIDEO", help="image file, or video file (by extension)")
    p.add_argument("--out", metavar="PATH", help="write an annotated copy (.png/.jpg for images, .mp4/.avi for videos)")
    p.add_argument("--json", action="store_true", help="print the detections as JSON")
    add_detection_arguments(p, scale_factor=1.1, min_size=None)


def load_cascade(args):
    """The cascade of ``--cascade``, or the shipped face cascade of ``--kind``."""
    from cvcore.cascade import Cascade, default_face_cascade

    if args.cascade is None:
        return default_face_cascade(args.kind or "haar")
    if args.kind is not None:
        raise _common.CLIError("--kind chooses a shipped face cascade; leave it out when --cascade gives one")
    return Cascade.load(_common.input_file(args.cascade, "--cascade"))


def detect(cascade, rgb, args):
    """Boxes and scores of one image or frame with the command's options."""
    return cascade.detect(rgb, scale_factor=args.scale_factor, min_neighbors=args.min_neighbors,
                          min_size=args.min_size)


def _print(records, as_json):
    if as_json:
        print(json.dumps(records, indent=None))
        return
    for rec in records:
        prefix = f"frame {rec['frame']}: " if "frame" in rec else ""
        if not rec["boxes"]:
            print(f"{prefix}no detections")
        for (x, y, w, h), s in zip(rec["boxes"], rec["scores"]):
            print(f"{prefix}x={x} y={y} w={w} h={h} score={s:g}")


def run(args):
    from cvcore import io
    from cvcore.draw import draw_boxes

    path = _common.input_file(args.input, "IMAGE|VIDEO")
    is_video = os.path.splitext(path)[1].lower() in _VIDEO_EXT
    _common.output_file(args.out, "--out", "video" if is_video else "image")
    _common.check_no_overwrite([("IMAGE|VIDEO", path)], [("--out", args.out)])
    cascade = load_cascade(args)
    if not is_video:
        rgb = io.imread(path)
        boxes, scores = detect(cascade, rgb, args)
        _print([{"file": args.input, "boxes": boxes.tolist(), "scores": scores.tolist()}], args.json)
        if args.out:
            io.imwrite(args.out, draw_boxes(rgb, boxes, scores))
        return 0
    records = []
    with io.VideoReader(path) as video:
        with io.VideoWriter(args.out, fps=video.fps) if args.out else contextlib.nullcontext() as writer:
            for index, rgb in enumerate(video):
                if args.max_frames is not None and index >= args.max_frames:
                    break
                boxes, scores = detect(cascade, rgb, args)
                records.append({"frame": index, "boxes": boxes.tolist(), "scores": scores.tolist()})
                if writer is not None:
                    writer.write(draw_boxes(rgb, boxes, scores))
    if not records:
        raise ValueError(f"{args.input} contains no readable video frames")
    _print(records, args.json)
    return 0
