"""``cvcore undistort``: remove the lens distortion of photos with a saved camera calibration."""
from __future__ import annotations

import os

from . import _common

HELP = "undistort images with a camera calibration (pinhole, rational or fisheye lens)"


def add_arguments(p):
    p.add_argument("images", nargs="+", metavar="IMAGES", help="image files taken with the calibrated camera")
    p.add_argument("--camera", required=True, metavar="CAMERA",
                   help="the calibration: cvcore JSON/YAML (cvcore calibrate --out) or an OpenCV YAML/XML file")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder for the undistorted images (created if needed; same file names)")
    p.add_argument("--alpha", type=_common.real(0.0, 1.0), metavar="A",
                   help="0: crop to valid pixels only, 1: keep every pixel of the photo (black borders), "
                        "in between: a mix (default: keep the camera matrix, as cv2.undistort does)")


def run(args):
    from cvcore.calibration import CameraCalibration, optimal_camera_matrix, undistort_maps
    from cvcore.calibration.camera import remap
    from cvcore.io import imread, imwrite

    camera_path = _common.input_file(args.camera, "--camera")
    files = []
    for item in args.images:
        if os.path.isdir(item):
            raise IsADirectoryError(f"IMAGES: {item} is a folder; give image files (e.g. {item}/*.jpg)")
        files.append(_common.input_file(item, "IMAGES"))
    _common.output_dir(args.out, "--out")
    outputs = [os.path.join(args.out, os.path.basename(f)) for f in files]
    names = {}
    for f, o in zip(files, outputs):
        if o in names:
            raise _common.CLIError(f"IMAGES: {names[o]} and {f} have the same file name; their undistorted "
                                   f"images would overwrite each other in {args.out}")
        names[o] = f
    _common.check_no_overwrite([("--camera", camera_path)] + [("IMAGES", f) for f in files],
                               [("--out", o) for o in outputs])
    camera = CameraCalibration.load(camera_path)
    w, h = camera.image_size
    new_K = camera.camera_matrix if args.alpha is None else optimal_camera_matrix(camera, alpha=args.alpha)
    os.makedirs(args.out, exist_ok=True)
    for path in outputs:
        _common.output_file(path, "--out", "image")
    maps = None
    for path, out in zip(files, outputs):
        image = imread(path)
        if image.shape[1] != w or image.shape[0] != h:
            raise ValueError(f"{path} is {image.shape[1]}x{image.shape[0]} but the camera was calibrated at "
                             f"{w}x{h}; undistort photos of that resolution")
        if maps is None:                 # one map for every photo
            maps = undistort_maps((w, h), camera, new_camera_matrix=new_K)
        imwrite(out, remap(image, *maps))
        print(f"{path} -> {out}")
    print(f"{camera.model} lens; new camera matrix fx={new_K[0, 0]:.3f} fy={new_K[1, 1]:.3f} "
          f"cx={new_K[0, 2]:.3f} cy={new_K[1, 2]:.3f}")
    return 0
