"""``cvcore calibrate-stereo``: a stereo rig from pairs of chessboard photos."""
from __future__ import annotations

import os
import re
import sys

from . import _common
from .calibrate import _expand, _pattern, _square

HELP = "calibrate a stereo rig (both cameras, R, T, E, F) from pairs of chessboard photos"

#: The side marker removed from a file name to pair it by name (left01.jpg ~ right01.jpg, cam_L_3 ~ cam_R_3).
_SIDE = re.compile(r"left|right|(?<![a-z])[lr](?![a-z])", re.IGNORECASE)


def add_arguments(p):
    p.add_argument("left", nargs="+", metavar="LEFT",
                   help="left-camera image files, directories or glob patterns")
    p.add_argument("--right", nargs="+", metavar="RIGHT", required=True,
                   help="right-camera image files, directories or glob patterns")
    p.add_argument("--pattern", metavar="COLSxROWS", type=_common.pair_of_ints,
                   help="inner corners per row x per column, e.g. 9x6 (a board of 10x7 squares)")
    p.add_argument("--square", default=(1.0, "units"), type=_square, metavar="SIZE",
                   help="side of one square, e.g. 30mm (T and the poses are given in that unit; default 1)")
    p.add_argument("--pair-by", choices=("auto", "name", "order"), default="auto",
                   help="pair left and right images by name (left01 ~ right01), by order, or by name when the "
                        "names pair up and by order otherwise (default)")
    p.add_argument("--out", metavar="PATH.json", help="write the stereo calibration as JSON")
    p.add_argument("--yaml", metavar="PATH.yml",
                   help="also write it as OpenCV YAML (M1 D1 M2 D2 R T E F R1 R2 P1 P2 Q, as stereo_calib.cpp)")
    p.add_argument("--report", metavar="PNG",
                   help="write the first pair rectified side by side, with epipolar lines")
    p.add_argument("--alpha", type=_common.real(0.0, 1.0), default=None, metavar="A",
                   help="rectification scaling for --yaml and --report: 0 keeps only valid pixels, 1 every "
                        "source pixel (default: OpenCV's default scale)")
    p.add_argument("--refine-intrinsics", action="store_true",
                   help="refine both cameras' intrinsics with the rig (default: calibrate each camera alone, "
                        "then keep them fixed, as OpenCV's CALIB_FIX_INTRINSIC)")
    p.add_argument("--reject", action="store_true",
                   help="leave out, one at a time, pairs whose error is over 3 times the median of the others "
                        "(and 0.5 px), recalibrating each time (default: only warn)")
    p.add_argument("--fix-k3", action="store_true", help="do not estimate k3")
    p.add_argument("--zero-tangent", action="store_true", help="fix p1 = p2 = 0")


def _key(path):
    return _SIDE.sub("", os.path.splitext(os.path.basename(path))[0].lower())


def pair_files(left, right, how):
    """``[(left, right), ...]`` paired by name or by order (``how``: auto, name, order)."""
    if how != "order":
        lk = {_key(f): f for f in left}
        rk = {_key(f): f for f in right}
        if len(lk) == len(left) and len(rk) == len(right) and set(lk) == set(rk):
            return [(lk[k], rk[k]) for k in sorted(lk)], "name"
        if how == "name":
            missing = sorted(set(lk) ^ set(rk))[:3]
            raise ValueError(f"--pair-by name: the left and right file names do not pair up (no partner for "
                             f"{', '.join(repr(m) for m in missing) or 'repeated names'})")
    if len(left) != len(right):
        raise ValueError(f"{len(left)} left and {len(right)} right images: pair them one to one (or name them "
                         "left01/right01 ... to pair by name)")
    return list(zip(left, right)), "order"


def _check_outputs(args):
    _common.output_file(args.out, "--out", "json")
    _common.output_file(args.yaml, "--yaml", "yaml")
    _common.output_file(args.report, "--report", "image")


def _find(pairs, pattern):
    """Corners of every pair where both sides show the board, and the pairs skipped with the reason (printed)."""
    from cvcore.calibration import find_chessboard_corners
    from cvcore.io import imread

    found, skipped, size = [], [], None
    for lf, rf in pairs:
        name = f"{os.path.basename(lf)} + {os.path.basename(rf)}"
        reasons, corners = [], []
        for side, f in (("left", lf), ("right", rf)):
            img = imread(f, grey=True)
            if size is None:
                size = (img.shape[1], img.shape[0])
            if (img.shape[1], img.shape[0]) != size:
                reasons.append(f"{side}: image is {img.shape[1]}x{img.shape[0]}, the others {size[0]}x{size[1]}")
                continue
            c, why = find_chessboard_corners(img, pattern, return_reason=True)
            if c is None:
                reasons.append(f"{side}: {why.message}")
            corners.append(c)
        if reasons:
            skipped.append((name, "; ".join(reasons)))
            print(f"skipped {name}: {skipped[-1][1]}")
            continue
        found.append((name, lf, rf, corners[0], corners[1]))
    return found, skipped, size


def run(args):
    from cvcore.calibration.stereo import draw_rectified_pair

    _check_outputs(args)
    cols, rows = _pattern(args.pattern)
    square, unit = args.square
    left, right = _expand(args.left), _expand(args.right)
    _common.check_no_overwrite([("LEFT", f) for f in left] + [("--right", f) for f in right],
                               [("--out", args.out), ("--yaml", args.yaml), ("--report", args.report)])
    pairs, how = pair_files(left, right, args.pair_by)
    print(f"{len(pairs)} pairs (matched by {how})")
    found, skipped, size = _find(pairs, (cols, rows))
    if len(found) < 3:
        raise _common.CLIError(f"a board was found in both images of {len(found)} pair(s); at least 3 are needed")
    while True:
        stereo = _calibrate(args, found, skipped, size, (cols, rows), square, unit)
        bad = stereo.outlier_views()
        if not bad or not args.reject or len(found) <= 3:
            break
        worst = found.pop(bad[0])
        a, b = stereo.per_view_rms[bad[0]]
        skipped.append((worst[0], f"outlier: RMS error {a:.2f} / {b:.2f} px, over 3 times the other pairs'"))
        print(f"rejected {worst[0]}: {skipped[-1][1]}")
    names = [f[0] for f in found]
    for v in bad:
        a, b = stereo.per_view_rms[v]
        print(f"warning: {names[v]} fits worse than the other pairs (RMS error {a:.2f} / {b:.2f} px): check its "
              "corners or use --reject", file=sys.stderr)
    _print(stereo, names, unit)
    if args.out:
        stereo.save(args.out, format="json")
        print(f"wrote {args.out}")
    if args.yaml:
        stereo.save(args.yaml, format="yaml", alpha=args.alpha)
        print(f"wrote {args.yaml}")
    if args.report:
        from cvcore.io import imread

        draw_rectified_pair(stereo, imread(found[0][1]), imread(found[0][2]), alpha=args.alpha, path=args.report)
        print(f"wrote {args.report}")
    return 0


def _calibrate(args, found, skipped, size, pattern, square, unit):
    """Each camera alone on the pairs found, then the rig."""
    from cvcore.calibration import calibrate_camera, chessboard_points
    from cvcore.calibration.stereo import stereo_calibrate

    objs = [chessboard_points(pattern, square)] * len(found)
    options = {"fix_k3": args.fix_k3, "zero_tangent_dist": args.zero_tangent}
    cams = []
    for side, k in (("left", 3), ("right", 4)):
        cam = calibrate_camera(objs, [f[k] for f in found], size, **options)
        cams.append(cam.replace(pattern_size=pattern, square_size=square, unit=None if unit == "units" else unit,
                                skipped=skipped))
        print(f"{side} camera alone: RMS {cam.rms:.4f} px, fx {cam.fx:.3f}, fy {cam.fy:.3f}, "
              f"cx {cam.cx:.3f}, cy {cam.cy:.3f}")
    return stereo_calibrate(objs, [f[3] for f in found], [f[4] for f in found], size, left=cams[0], right=cams[1],
                            fix_intrinsics=not args.refine_intrinsics, view_names=[f[0] for f in found], **options)


def _print(stereo, names, unit):
    import math

    r, t = stereo.rvec, stereo.T
    sr = stereo.std_rig if stereo.std_rig is not None else [math.nan] * 6
    print(f"\nstereo RMS reprojection error: {stereo.rms:.4f} px over {stereo.n_views} pairs "
          f"({'intrinsics refined' if not stereo.fix_intrinsics else 'intrinsics fixed'})")
    print(f"baseline |T| = {stereo.baseline:.4f} {unit}")
    print("rig (value +/- standard deviation), right = R left + T:")
    for i, axis in enumerate("xyz"):
        print(f"  r{axis} = {math.degrees(r[i]):12.6f} deg +/- {math.degrees(sr[i]):.6f}")
    for i, axis in enumerate("xyz"):
        print(f"  T{axis} = {t[i]:12.6f} {unit} +/- {sr[3 + i]:.6f}")
    for side, cam in (("left", stereo.left), ("right", stereo.right)):
        print(f"{side}: fx {cam.fx:.3f} fy {cam.fy:.3f} cx {cam.cx:.3f} cy {cam.cy:.3f} "
              f"k1 {cam.dist_coeffs[0]:.5f} k2 {cam.dist_coeffs[1]:.5f}")
    print("per-pair RMS error (px): left, right")
    for name, (a, b) in zip(names, stereo.per_view_rms):
        print(f"  {name:<40} {a:8.4f} {b:8.4f}")
