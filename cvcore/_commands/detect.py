"""``cvcore detect``: Viola-Jones face (or object) detection on an image or a video."""
from __future__ import annotations

import json
import os

HELP = "detect faces (or any cascade's objects) in an image or video; print boxes and scores"

_VIDEO_EXT = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv"}


def add_arguments(p):
    p.add_argument("input", metavar="IMAGE|VIDEO", help="image file, or video file (by extension)")
    p.add_argument("--cascade", metavar="PATH",
                   help="cascade file: cvcore JSON or OpenCV Haar XML (default: the shipped face cascade)")
    p.add_argument("--out", metavar="PATH", help="write an annotated copy (.png/.jpg for images, .mp4/.avi for videos)")
    p.add_argument("--json", action="store_true", help="print the detections as JSON")
    p.add_argument("--scale-factor", type=float, default=1.1, help="ratio between scales (default 1.1)")
    p.add_argument("--min-neighbors", type=int, default=3, help="grouping threshold (default 3)")
    p.add_argument("--min-size", type=int, default=None, metavar="PX", help="smallest detection side in pixels")
    p.add_argument("--max-frames", type=int, default=None, metavar="N", help="videos: stop after N frames")


def load_cascade(path):
    from cvcore.cascade import Cascade, default_face_cascade

    return default_face_cascade() if path is None else Cascade.load(path)


def draw(frame_rgb, boxes, scores, text=None):
    """Boxes (and an optional caption) drawn on a copy of an RGB frame."""
    import cv2

    out = frame_rgb.copy()
    for (x, y, w, h), s in zip(boxes.tolist(), scores.tolist()):
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), (0, 255, 0), 2)
        cv2.putText(out, f"{s:g}", (x, max(12, y - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 255, 0), 1)
    if text:
        cv2.putText(out, text, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0), 2)
    return out


def open_writer(path, fps, size):
    import cv2

    ext = os.path.splitext(path)[1].lower()
    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if ext == ".avi" else "mp4v"))
    writer = cv2.VideoWriter(path, fourcc, fps, size)
    if not writer.isOpened():
        raise ValueError(f"cannot write a video to {path!r} (try a .avi or .mp4 file name)")
    return writer


def _detect(cascade, rgb, args):
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    return cascade.detect(grey, scale_factor=args.scale_factor, min_neighbors=args.min_neighbors,
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
    import cv2

    from cvcore.io import imread, imwrite

    if not os.path.isfile(args.input):
        raise FileNotFoundError(f"input file not found: {args.input}")
    if args.min_neighbors < 0:
        raise ValueError("--min-neighbors must be >= 0")
    cascade = load_cascade(args.cascade)
    is_video = os.path.splitext(args.input)[1].lower() in _VIDEO_EXT
    if not is_video:
        rgb = imread(args.input)
        if rgb.dtype != "uint8":
            raise ValueError(f"{args.input}: only 8-bit images are supported, got {rgb.dtype}")
        if rgb.ndim == 3 and rgb.shape[2] == 4:
            rgb = rgb[:, :, :3].copy()
        boxes, scores = _detect(cascade, rgb, args)
        _print([{"file": args.input, "boxes": boxes.tolist(), "scores": scores.tolist()}], args.json)
        if args.out:
            imwrite(args.out, draw(rgb if rgb.ndim == 3 else cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB), boxes, scores))
        return 0
    cap = cv2.VideoCapture(args.input)
    if not cap.isOpened():
        raise ValueError(f"cannot open {args.input!r} as a video")
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    writer = None
    records = []
    index = 0
    try:
        while args.max_frames is None or index < args.max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            boxes, scores = _detect(cascade, rgb, args)
            records.append({"frame": index, "boxes": boxes.tolist(), "scores": scores.tolist()})
            if args.out:
                if writer is None:
                    writer = open_writer(args.out, fps, (rgb.shape[1], rgb.shape[0]))
                writer.write(cv2.cvtColor(draw(rgb, boxes, scores), cv2.COLOR_RGB2BGR))
            index += 1
    finally:
        cap.release()
        if writer is not None:
            writer.release()
    if index == 0:
        raise ValueError(f"{args.input!r} contains no readable video frames")
    _print(records, args.json)
    return 0
