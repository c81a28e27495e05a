"""Camera calibration: cvcore vs OpenCV on the same corners and the same images.

Inputs are rendered by cvcore's own synthetic chessboard renderer, so the suite
runs anywhere; when OpenCV's sample images are present (``$CVCORE_SHARED_DATA``
or ``../shared/data`` beside the checkout) the cases on ``left01..14`` are
added too. The rational and fisheye lens models are timed on corners that
OpenCV's own projections place (a wide-angle and a fisheye lens, 0.1 px noise)
against ``cv2.calibrateCamera(..., CALIB_RATIONAL_MODEL)`` and
``cv2.fisheye.calibrate`` (with ``CALIB_RECOMPUTE_EXTRINSIC``, without which it
stops short of the minimum), each at its default stopping rule.
"""
import os
import pathlib

import cv2
import numpy as np

from ._harness import Case
from cvcore.calibration import calibrate_camera, chessboard_points, find_chessboard_corners
from cvcore.datasets import synthetic_chessboard_views

CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 30, 1e-3)


def _shared_left():
    env = os.environ.get("CVCORE_SHARED_DATA")
    roots = [pathlib.Path(env)] if env else []
    roots.append(pathlib.Path(__file__).resolve().parents[2] / "shared" / "data")
    for root in roots:
        folder = root / "calib" / "opencv_left_right"
        files = sorted(folder.glob("left*.jpg"))
        if files:
            return files
    return []


def _opencv_corners(grey, pattern):
    ok, c = cv2.findChessboardCorners(grey, pattern)
    if not ok:
        return None
    return cv2.cornerSubPix(grey, c, (11, 11), (-1, -1), CRITERIA)


def _calibration_case(name, corners, size):
    board = chessboard_points((9, 6), 30.0)
    obj64 = [board] * len(corners)
    img64 = [np.asarray(c, np.float64).reshape(-1, 2) for c in corners]
    obj32 = [board.astype(np.float32)] * len(corners)
    img32 = [np.asarray(c, np.float32).reshape(-1, 1, 2) for c in corners]

    def ours():
        return calibrate_camera(obj64, img64, size)

    def peer():
        return cv2.calibrateCamera(obj32, img32, size, None, None)

    def check(a, b):
        np.testing.assert_allclose(a.camera_matrix, b[1], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(a.rms, b[0], rtol=1e-6)

    return Case(name, ours, peer, "OpenCV calibrateCamera", min_speedup=1.0, check=check)


#: The lenses of the model cases: a wide-angle rational lens and a fisheye (cv2.fisheye's model).
_LENSES = {"rational": (np.array([[330.0, 0, 322], [0, 333, 236], [0, 0, 1]]),
                        np.array([0.4, 0.05, 0.001, -0.0012, 0.002, 0.75, 0.12, 0.008])),
           "fisheye": (np.array([[300.0, 0, 322], [0, 302, 238], [0, 0, 1]]),
                       np.array([0.05, -0.02, 0.005, -0.001]))}


def _lens_views(model, n, seed=0):
    """``n`` views of a 9x6 board projected through the model's lens by OpenCV, all inside 640 x 480."""
    K, d = _LENSES[model]
    board = chessboard_points((9, 6), 1.0)
    rng = np.random.default_rng(seed)
    views = []
    while len(views) < n:
        r = rng.normal(0, 0.35, 3)
        ray = np.linalg.solve(K, [rng.uniform(60, 580), rng.uniform(60, 420), 1.0])
        t = ray / np.linalg.norm(ray) * rng.uniform(4, 7) - cv2.Rodrigues(r)[0] @ [4.0, 2.5, 0]
        if model == "fisheye":
            p = cv2.fisheye.projectPoints(board.reshape(-1, 1, 3), r, t, K, d)[0][:, 0]
        else:
            p = cv2.projectPoints(board, r, t, K, d)[0][:, 0]
        if p.min() > 5 and p[:, 0].max() < 635 and p[:, 1].max() < 475:
            views.append(p + rng.normal(0, 0.1, p.shape))
    return board, views


def _model_case(model, n):
    board, views = _lens_views(model, n)
    obj3 = [board.reshape(-1, 1, 3)] * n
    img2 = [v.reshape(-1, 1, 2) for v in views]

    def ours():
        return calibrate_camera([board] * n, views, (640, 480), model=model)

    if model == "fisheye":
        flags = cv2.fisheye.CALIB_FIX_SKEW | cv2.fisheye.CALIB_RECOMPUTE_EXTRINSIC

        def peer():
            return cv2.fisheye.calibrate(obj3, img2, (640, 480), None, None, flags=flags)
        peer_name = "OpenCV fisheye.calibrate (RECOMPUTE_EXTRINSIC)"
    else:
        def peer():
            return cv2.calibrateCamera([board] * n, img2, (640, 480), None, None, flags=cv2.CALIB_RATIONAL_MODEL)
        peer_name = "OpenCV calibrateCamera (RATIONAL_MODEL)"

    def check(a, b):
        np.testing.assert_allclose(a.rms, b[0], rtol=1e-6)
        np.testing.assert_allclose(a.camera_matrix, b[1], rtol=1e-6, atol=1e-6 * b[1][0, 0])

    return Case(f"calibrate_camera {model} {n} views 9x6", ours, peer, peer_name, min_speedup=1.0, check=check)


def _detection_case(name, grey):
    def check(a, b):
        if a is None or b is None:
            raise AssertionError("board not found by both detectors")
        rms = np.sqrt(np.mean(np.sum((a - b.reshape(-1, 2)) ** 2, axis=1)))
        if rms > 0.05:
            raise AssertionError(f"corners differ by {rms:.3f} px RMS")

    return Case(name, lambda: find_chessboard_corners(grey, (9, 6)), lambda: _opencv_corners(grey, (9, 6)),
                "OpenCV findChessboardCorners + cornerSubPix", min_speedup=0.5, check=check)


def cases(quick):
    n = 8 if quick else 14
    views = synthetic_chessboard_views(n, image_size=(640, 480), random_state=3)
    rng = np.random.default_rng(0)
    noisy = [p + rng.normal(0, 0.2, p.shape) for p in views.image_points]
    out = [_calibration_case(f"calibrate_camera {n} synthetic views 9x6", noisy, views.image_size),
           _model_case("rational", 20), _model_case("fisheye", 12),
           _detection_case("find_chessboard_corners synthetic 640x480", views.images[0])]
    files = _shared_left()
    if files:
        greys = [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files]
        corners = [c for c in (_opencv_corners(g, (9, 6)) for g in greys) if c is not None]
        out.append(_calibration_case(f"calibrate_camera left01..14 ({len(corners)} views)", corners, (640, 480)))
        out.append(_detection_case("find_chessboard_corners left01 640x480", greys[0]))
        if not quick:
            out.append(_detection_case("find_chessboard_corners left07 640x480", greys[6]))
    return out
