"""``cvcore demo``: live webcam face detection (boxes and frames per second).

With a display, frames are shown in a window (press q or Esc to quit). Without
one (headless OpenCV, no $DISPLAY), the annotated frames are written to a video
file instead. With no camera, the command says so and suggests ``--video``.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time

from . import _common
from .detect import add_detection_arguments, detect, load_cascade

HELP = "webcam face-detection demo (live window, or an annotated video when there is no display)"

_DEFAULT_OUT = "demo_faces.mp4"


def add_arguments(p):
    p.add_argument("--camera", type=_common.integer(0, 99, "a camera index"), default=0,
                   help="camera index, 0..99 (default 0)")
    p.add_argument("--video", metavar="FILE", help="run on a video file instead of a camera")
    p.add_argument("--out", metavar="FILE", default=None,
                   help=f"annotated video to write, .mp4 or .avi (default {_DEFAULT_OUT} when there is no display)")
    p.add_argument("--no-display", action="store_true", help="never open a window; write --out instead")
    add_detection_arguments(p, scale_factor=1.2, min_size=40)


def _display_available():
    import cv2

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        cv2.namedWindow("cvcore demo")
        cv2.destroyWindow("cvcore demo")
        return True
    except cv2.error:  # headless OpenCV build
        return False


def _open(args):
    from cvcore.io import VideoReader

    if args.video is not None:
        return VideoReader(_common.input_file(args.video, "--video")), args.video
    try:
        return VideoReader(args.camera), f"camera {args.camera}"
    except ValueError as exc:
        raise _common.CLIError(f"{exc}; use --video FILE to run the demo on a video file") from None


def run(args):
    import cv2

    from cvcore.draw import draw_boxes, draw_text
    from cvcore.io import VideoWriter

    show = not args.no_display and _display_available()
    out_path = _common.output_file(args.out if args.out or show else _DEFAULT_OUT, "--out", "video")
    _common.check_no_overwrite([("--video", args.video)], [("--out", out_path)])
    cascade = load_cascade(args)
    frames = faces = 0
    fps = 0.0
    t_start = time.perf_counter()
    video, source = _open(args)
    try:
        with video, VideoWriter(out_path, fps=video.fps) if out_path else contextlib.nullcontext() as writer:
            for rgb in video:
                if args.max_frames is not None and frames >= args.max_frames:
                    break
                t0 = time.perf_counter()
                boxes, scores = detect(cascade, rgb, args)
                dt = max(time.perf_counter() - t0, 1e-6)
                fps = 1.0 / dt if fps == 0 else 0.9 * fps + 0.1 / dt
                annotated = draw_boxes(rgb, boxes, scores)
                draw_text(annotated, f"{fps:.1f} fps  {len(boxes)} face(s)", (8, 20), colour=(255, 255, 0),
                          font_scale=0.6, thickness=2, out=annotated)
                frames += 1
                faces += len(boxes)
                if writer is not None:
                    writer.write(annotated)
                if show:
                    cv2.imshow("cvcore demo", annotated[:, :, ::-1])  # the window wants BGR
                    if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                        break
    finally:
        if show:
            cv2.destroyAllWindows()
    if frames == 0:
        raise ValueError(f"no frames could be read from {source}")
    elapsed = time.perf_counter() - t_start
    print(f"{source}: {frames} frames, {faces} face detections, {frames / elapsed:.1f} frames per second"
          + (f"; annotated video written to {out_path}" if out_path else ""))
    return 0
