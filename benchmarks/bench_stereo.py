"""Stereo calibration: cvcore's ``stereo_calibrate`` vs OpenCV's ``stereoCalibrate`` on the same corners.

The synthetic rig (exact projections through two distorting cameras plus
0.2 px noise) runs anywhere; OpenCV's left/right sample pairs
(``$CVCORE_SHARED_DATA`` or ``../shared/data`` beside the checkout) add the
cases on real corners. Both sides get the same cameras (calibrated once,
beforehand) and the same float32-representable corners; the check compares
the results before timing.
"""
import cv2
import numpy as np

from ._harness import Case
from .bench_calibration import _shared_left
from cvcore.calibration import calibrate_camera, chessboard_points, find_chessboard_corners, project_points, rodrigues
from cvcore.calibration.stereo import stereo_calibrate

BOARD = chessboard_points((9, 6), 30.0)


def _shared_pairs():
    return [(f, f.with_name(f.name.replace("left", "right"))) for f in _shared_left()]


def _synthetic(n, rng):
    K = [np.array([[540.0, 0, 325], [0, 538, 236], [0, 0, 1]]), np.array([[530.0, 0, 318], [0, 531, 245], [0, 0, 1]])]
    d = [np.array([-0.28, 0.09, 0.001, -0.0004, 0.0]), np.array([-0.27, 0.08, -0.0007, 0.0006, 0.0])]
    Rr, Tr = rodrigues([0.01, -0.03, 0.005]), np.array([-100.0, 1.5, 0.8])
    left, right = [], []
    for _ in range(n):
        r, t = rng.normal(0, 0.35, 3), np.array([rng.uniform(-150, 0), rng.uniform(-110, -40), rng.uniform(550, 800)])
        R = Rr @ rodrigues(r)
        rv = cv2.Rodrigues(R)[0].ravel()
        left.append(project_points(BOARD, r, t, K[0], d[0]) + rng.normal(0, 0.2, (54, 2)))
        right.append(project_points(BOARD, rv, Rr @ t + Tr, K[1], d[1]) + rng.normal(0, 0.2, (54, 2)))
    return left, right


def _case(name, left, right, fix_intrinsics):
    left = [np.asarray(p, np.float32).astype(np.float64) for p in left]
    right = [np.asarray(p, np.float32).astype(np.float64) for p in right]
    n = len(left)
    objs = [BOARD] * n
    cl, cr = calibrate_camera(objs, left, (640, 480)), calibrate_camera(objs, right, (640, 480))
    obj32 = [BOARD.astype(np.float32)] * n
    l32 = [p.astype(np.float32) for p in left]
    r32 = [p.astype(np.float32) for p in right]
    flags = cv2.CALIB_FIX_INTRINSIC if fix_intrinsics else cv2.CALIB_USE_INTRINSIC_GUESS

    def ours():
        return stereo_calibrate(objs, left, right, (640, 480), left=cl, right=cr, fix_intrinsics=fix_intrinsics)

    def peer():
        return cv2.stereoCalibrate(obj32, l32, r32, cl.camera_matrix.copy(), cl.dist_coeffs.copy(),
                                   cr.camera_matrix.copy(), cr.dist_coeffs.copy(), (640, 480), flags=flags)

    def check(a, b):
        np.testing.assert_allclose(a.rms, b[0], rtol=1e-8)
        if a.rms > b[0] * (1 + 1e-12):
            raise AssertionError(f"cvcore's error {a.rms!r} is above OpenCV's {b[0]!r}")
        rig = np.r_[cv2.Rodrigues(b[5])[0].ravel(), b[6].ravel()]
        # with intrinsics refined OpenCV stops short of the minimum along its flat directions:
        # the rigs then agree to a hundredth of their standard deviations
        tol = 1e-6 * np.abs(rig) if fix_intrinsics else 1e-2 * a.std_rig
        if np.any(np.abs(np.r_[a.rvec, a.T] - rig) > tol + 1e-12):
            raise AssertionError(f"rig differs: {np.r_[a.rvec, a.T]} vs {rig}")

    what = "fixed intrinsics" if fix_intrinsics else "intrinsics refined"
    return Case(f"stereo_calibrate {name}, {what}", ours, peer,
                "OpenCV stereoCalibrate " + ("CALIB_FIX_INTRINSIC" if fix_intrinsics else "CALIB_USE_INTRINSIC_GUESS"),
                min_speedup=1.0, check=check)


def cases(quick):
    n = 8 if quick else 14
    left, right = _synthetic(n, np.random.default_rng(1))
    out = [_case(f"{n} synthetic pairs 9x6", left, right, True), _case(f"{n} synthetic pairs 9x6", left, right, False)]
    pairs = _shared_pairs()
    if pairs:
        found = []
        for lf, rf in pairs:
            a = find_chessboard_corners(cv2.imread(str(lf), cv2.IMREAD_GRAYSCALE), (9, 6))
            b = find_chessboard_corners(cv2.imread(str(rf), cv2.IMREAD_GRAYSCALE), (9, 6))
            if a is not None and b is not None:
                found.append((a, b))
        name = f"OpenCV left/right samples ({len(found)} pairs)"
        out.append(_case(name, [f[0] for f in found], [f[1] for f in found], True))
        if not quick:
            out.append(_case(name, [f[0] for f in found], [f[1] for f in found], False))
    return out
