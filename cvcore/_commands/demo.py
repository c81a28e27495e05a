"""``cvcore demo``: live webcam face detection (boxes and frames per second).

With a display, frames are shown in a window (press q or Esc to quit). Without
one (headless OpenCV, no $DISPLAY), the annotated frames are written to a video
file instead. With no camera, the command says so and suggests ``--video``.
"""
from __future__ import annotations

import os
import sys
import time

HELP = "webcam face-detection demo (live window, or an annotated video when there is no display)"


def add_arguments(p):
    p.add_argument("--camera", type=int, default=0, help="camera index (default 0)")
    p.add_argument("--video", metavar="FILE", help="run on a video file instead of a camera")
    p.add_argument("--cascade", metavar="PATH", help="cascade file (default: the shipped face cascade)")
    p.add_argument("--out", metavar="FILE", default=None,
                   help="annotated video to write (default demo_faces.mp4 when there is no display)")
    p.add_argument("--no-display", action="store_true", help="never open a window; write --out instead")
    p.add_argument("--max-frames", type=int, default=None, metavar="N", help="stop after N frames")
    p.add_argument("--scale-factor", type=float, default=1.2, help="ratio between scales (default 1.2)")
    p.add_argument("--min-neighbors", type=int, default=3, help="grouping threshold (default 3)")
    p.add_argument("--min-size", type=int, default=40, metavar="PX", help="smallest face side (default 40)")


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


def run(args):
    import cv2

    from cvcore.cli import CLIError

    from .detect import draw, load_cascade, open_writer

    cascade = load_cascade(args.cascade)
    if args.video is not None:
        if not os.path.isfile(args.video):
            raise FileNotFoundError(f"video file not found: {args.video}")
        cap = cv2.VideoCapture(args.video)
        if not cap.isOpened():
            raise ValueError(f"cannot open {args.video!r} as a video")
        source = args.video
    else:
        cap = cv2.VideoCapture(args.camera)
        if not cap.isOpened():
            cap.release()
            raise CLIError(f"no camera found at index {args.camera} (is one connected and free?); "
                           "use --video FILE to run the demo on a video file")
        source = f"camera {args.camera}"
    show = not args.no_display and _display_available()
    out_path = args.out if args.out else (None if show else "demo_faces.mp4")
    fps_in = cap.get(cv2.CAP_PROP_FPS) or 25.0
    writer = None
    frames = faces = 0
    fps = 0.0
    t_start = time.perf_counter()
    try:
        while args.max_frames is None or frames < args.max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            t0 = time.perf_counter()
            grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
            boxes, scores = cascade.detect(grey, scale_factor=args.scale_factor,
                                           min_neighbors=args.min_neighbors, min_size=args.min_size)
            dt = time.perf_counter() - t0
            fps = 1.0 / dt if fps == 0 else 0.9 * fps + 0.1 / max(dt, 1e-6)
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            annotated = cv2.cvtColor(draw(rgb, boxes, scores, f"{fps:.1f} fps  {len(boxes)} face(s)"),
                                     cv2.COLOR_RGB2BGR)
            frames += 1
            faces += len(boxes)
            if out_path:
                if writer is None:
                    writer = open_writer(out_path, fps_in, (bgr.shape[1], bgr.shape[0]))
                writer.write(annotated)
            if show:
                cv2.imshow("cvcore demo", annotated)
                if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                    break
    finally:
        cap.release()
        if writer is not None:
            writer.release()
        if show:
            cv2.destroyAllWindows()
    if frames == 0:
        raise ValueError(f"no frames could be read from {source}")
    elapsed = time.perf_counter() - t_start
    print(f"{source}: {frames} frames, {faces} face detections, {frames / elapsed:.1f} frames per second"
          + (f"; annotated video written to {out_path}" if out_path else ""))
    return 0
