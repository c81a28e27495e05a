"""``cvcore calibrate``: camera calibration from chessboard photos (or ``--sample``)."""
from __future__ import annotations

import argparse
import glob
import math
import os
import re
import sys

from . import _common

HELP = "calibrate a camera from photos of a chessboard (Zhang's method + Levenberg-Marquardt)"

_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm", ".webp")
_UNITS = {"": 1.0, "mm": 1.0, "cm": 1.0, "m": 1.0, "in": 1.0, "px": 1.0}


def add_arguments(p):
    p.add_argument("images", nargs="*", metavar="IMAGES",
                   help="image files, directories or glob patterns (all from one camera)")
    p.add_argument("--pattern", metavar="COLSxROWS", type=_common.pair_of_ints,
                   help="inner corners per row x per column, e.g. 9x6 (a board of 10x7 squares)")
    p.add_argument("--square", default=(1.0, "units"), type=_square, metavar="SIZE",
                   help="side of one square, e.g. 30mm, 2.5cm (poses are given in that unit; default 1)")
    p.add_argument("--out", metavar="PATH.json", help="write the calibration as JSON")
    p.add_argument("--yaml", metavar="PATH.yml",
                   help="also write it as OpenCV-compatible YAML (cv2.FileStorage), .yml or .yaml")
    p.add_argument("--report", metavar="PNG",
                   help="write a report figure (errors, residuals, coverage, uncertainty, distortion, verdict)")
    p.add_argument("--sample", action="store_true",
                   help="calibrate synthetic views rendered with a known camera and compare")
    p.add_argument("--no-reject", action="store_true", help="keep outlier views")
    p.add_argument("--robust", action="store_true",
                   help="leave out outlier corners (iterated 4-sigma rejection) and list them")
    p.add_argument("--fix-k3", action="store_true", help="do not estimate k3 (pinhole and rational models)")
    p.add_argument("--zero-tangent", action="store_true", help="fix p1 = p2 = 0 (pinhole and rational models)")
    p.add_argument("--fix-principal-point", action="store_true", help="keep the principal point at the centre")
    p.add_argument("--fix-aspect-ratio", action="store_true", help="estimate one focal length (fx = fy)")
    p.add_argument("--skew", action="store_true", help="also estimate the skew (Zhang's gamma)")
    p.add_argument("--model", default="pinhole", choices=["pinhole", "rational", "fisheye"],
                   help="lens model: pinhole (k1, k2, p1, p2, k3; default), rational (adds k4, k5, k6: OpenCV's "
                        "CALIB_RATIONAL_MODEL, wide-angle lenses) or fisheye (cv2.fisheye's Kannala-Brandt k1..k4)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (shown by default on a terminal)")


def _square(text):
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS or not 0 < float(m.group(1)) < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive length like 30mm, 2.5cm or 1, got {text!r}")
    return float(m.group(1)), m.group(2).lower() or "units"


def _pattern(value):
    from cvcore import _validate

    if value is None:
        raise _common.CLIError("--pattern is required (inner corners, e.g. --pattern 9x6 for a board of 10x7 "
                               "squares)")
    return _validate.pattern_size(value, "--pattern")  # the ranges, in the option's name


def _check_outputs(args):
    from cvcore.calibration import CameraCalibration

    for path, opt, fmt in ((args.out, "--out", "json"), (args.yaml, "--yaml", "yaml")):
        if path:
            _common.output_file(path, opt, fmt)
            CameraCalibration.output_format(path, fmt)
    _common.output_file(args.report, "--report", "image")


def _expand(items):
    files = []
    for item in items:
        if os.path.isdir(item):
            found = sorted(os.path.join(item, f) for f in os.listdir(item) if f.lower().endswith(_IMAGE_EXT))
            if not found:
                raise ValueError(f"no image files ({', '.join(_IMAGE_EXT)}) in the folder {item}")
            files += found
        elif any(ch in item for ch in "*?["):
            found = sorted(f for f in glob.glob(item) if os.path.isfile(f))
            if not found:
                raise FileNotFoundError(f"no image file matches {item}")
            files += found
        else:
            if not os.path.exists(item):
                raise FileNotFoundError(f"no such image file: {item}")
            files.append(_common.input_file(item, "IMAGES"))
    if not files:
        raise ValueError("no image files given (pass files, a directory or a glob pattern, or use --sample)")
    return files


def _print_outliers(cal):
    if cal.outliers is None:
        return
    if not len(cal.outliers):
        print("robust: no outlier corners")
        return
    by_view = {}
    for v, j in cal.outliers.tolist():
        by_view.setdefault(v, []).append(j)
    print(f"robust: left out {len(cal.outliers)} outlier corner(s) (view: corner indices in OpenCV's order)")
    for v, idx in by_view.items():
        name = cal.view_names[v] if cal.view_names else f"view {v}"
        print(f"  {name}: {', '.join(map(str, idx))}")


def _progress(args):
    return False if args.quiet else None  # None: the library's bar, on a terminal only


def _options(args):
    if args.model == "fisheye":
        given = [opt for opt, on in (("--fix-k3", args.fix_k3), ("--zero-tangent", args.zero_tangent)) if on]
        if given:
            raise _common.CLIError(f"{' and '.join(given)} only apply to the pinhole and rational models: the "
                                   "fisheye model has no tangential terms and its k3 is another coefficient")
    return {"model": args.model, "fix_k3": args.fix_k3, "zero_tangent_dist": args.zero_tangent,
            "fix_principal_point": args.fix_principal_point, "fix_aspect_ratio": args.fix_aspect_ratio,
            "estimate_skew": args.skew, "robust": args.robust}


def _print_result(cal, unit):
    print(f"\nRMS reprojection error: {cal.rms:.4f} px over {cal.n_views} views")
    print(f"lens model: {cal.model} ({', '.join(cal.intrinsic_names[5:])})")
    print("intrinsics (value +/- standard deviation):")
    for name, (v, sd) in cal.intrinsics().items():
        if name == "skew" and v == 0 and sd == 0:
            continue
        print(f"  {name:>5} = {v:14.6f} +/- {sd:.6f}")
    print("per-view RMS error (px):")
    for name, e in zip(cal.view_names or [str(i + 1) for i in range(cal.n_views)], cal.per_view_rms):
        print(f"  {name:<32} {e:8.4f}")
    print(f"(translations are in {unit})")


def _save(cal, args):
    if args.out:
        cal.save(args.out, format="json")
        print(f"wrote {args.out}")
    if args.yaml:
        cal.save(args.yaml, format="yaml")
        print(f"wrote {args.yaml}")
    if args.report:
        from cvcore.calibration.report import draw_report

        draw_report(cal, cal.object_points, cal.image_points, args.report, warnings=cal.warnings)
        print(f"wrote {args.report}")


def _run_sample(args):
    from cvcore.calibration import calibrate_images
    from cvcore.datasets import synthetic_chessboard_views

    if args.model == "fisheye":
        raise _common.CLIError("--sample renders a pinhole (Brown-Conrady) lens, which the fisheye model cannot "
                               "reproduce: use --sample with --model pinhole or rational")
    options = _options(args)
    print("rendering 15 synthetic views of a 9x6 chessboard (30 mm squares) with a known camera ...")
    views = synthetic_chessboard_views(15, random_state=0, supersampling=4)
    cal = calibrate_images(views.images, views.pattern_size, views.square_size, unit="mm", progress=_progress(args),
                           **options)
    if not cal.skipped:
        cal = cal.replace(view_names=[f"synthetic{i + 1:02d}" for i in range(cal.n_views)])
    K, d = views.camera_matrix, views.dist_coeffs
    true = {"fx": K[0, 0], "fy": K[1, 1], "cx": K[0, 2], "cy": K[1, 2], "k1": d[0], "k2": d[1], "p1": d[2],
            "p2": d[3], "k3": d[4]}
    if args.model == "rational":
        true.update(k4=0.0, k5=0.0, k6=0.0)           # the rendered lens, as a rational one
    print(f"\nRMS reprojection error: {cal.rms:.4f} px over {cal.n_views} views")
    print(f"  {'':>5} {'true':>12} {'recovered':>12} {'+/- std':>10} {'error':>10}")
    for name, (v, sd) in cal.intrinsics().items():
        if name not in true:
            continue
        print(f"  {name:>5} {true[name]:12.5f} {v:12.5f} {sd:10.5f} {v - true[name]:10.5f}")
    rel = abs(cal.fx / K[0, 0] - 1)
    pp = math.hypot(cal.cx - K[0, 2], cal.cy - K[1, 2])
    print(f"focal length error {100 * rel:.3f} %, principal point error {pp:.3f} px")
    from cvcore.calibration.report import projection_gap

    median, p95 = projection_gap(cal, K, d, model="pinhole")
    print(f"the same rays through the recovered and the true camera: {median:.3f} px apart (median over the image), "
          f"{p95:.3f} px (95th percentile)")
    for w in cal.warnings:
        print(f"warning: {w}")
    _save(cal, args)
    if args.model == "rational":
        # a mild lens leaves the rational numerator and denominator free to trade radial terms: those
        # coefficients are not unique (the line above compares the lens itself), the others are
        print("(the rational model's k1..k6 are not unique for a lens this mild; the verdict leaves them out)")
        true = {k: v for k, v in true.items() if k not in ("k1", "k2", "k3", "k4", "k5", "k6")}
    print(sample_verdict(cal, true))
    return 0



#: A recovered parameter agrees with the truth when within this many of its standard deviations.
AGREE_SIGMAS = 3.0


def sample_verdict(cal, true):
    """One line: do the recovered parameters match the ``true`` ones within their standard deviations?"""
    off = []
    for name, (v, sd) in cal.intrinsics().items():
        if name in true and sd > 0 and math.isfinite(sd):
            off.append((abs(v - true[name]) / sd, name))
        elif name in true and v != true[name]:
            off.append((math.inf, name))       # fixed or undetermined, yet not the true value
    if not off:
        return "verdict: no standard deviations to compare the recovered parameters with"
    worst, name = max(off)
    beyond = [n for z, n in off if z > AGREE_SIGMAS]
    if not beyond:
        return (f"verdict: recovered parameters agree with the truth: all {len(off)} within "
                f"{AGREE_SIGMAS:.0f} standard deviations (largest: {name} at {worst:.1f} sd)")
    return (f"verdict: {len(beyond)} of {len(off)} recovered parameters beyond {AGREE_SIGMAS:.0f} standard "
            f"deviations of the truth: {', '.join(beyond)} (largest: {name} at {worst:.1f} sd)")


def run(args):
    from cvcore.calibration import calibrate_images

    _check_outputs(args)
    if args.sample:
        if args.images:
            raise _common.CLIError("--sample uses synthetic views: do not pass IMAGES with it")
        return _run_sample(args)
    cols, rows = _pattern(args.pattern)
    square, unit = args.square
    files = _expand(args.images)
    cal = calibrate_images(files, (cols, rows), square, unit=None if unit == "units" else unit,
                           reject_outliers=not args.no_reject, progress=_progress(args), **_options(args))
    for name, reason in cal.skipped:
        print(f"skipped {name}: {reason}")
    _print_outliers(cal)
    _print_result(cal, unit)
    for w in cal.warnings:
        print(f"warning: {w}", file=sys.stderr)
    _save(cal, args)
    from cvcore.calibration.report import assess_calibration

    print(f"verdict: {assess_calibration(cal).verdict}")
    return 0
