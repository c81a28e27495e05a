"""Lens models beyond the pinhole: rational (CALIB_RATIONAL_MODEL) and fisheye (cv2.fisheye), against OpenCV.

Calibrations are compared with OpenCV on the same corners (synthetic views
projected by OpenCV's own functions, views rendered by cvcore.datasets and
detected, OpenCV's left01..14 photographs); standard deviations against the
covariance built from OpenCV's own projection Jacobians; projection,
undistortion of points, maps and new camera matrices against the matching
OpenCV functions; files and errors.
"""
import json

import cv2
import numpy as np
import pytest
from numpy.testing import assert_allclose

from cvcore.calibration import (CameraCalibration, calibrate_camera, chessboard_points, find_chessboard_corners,
                                optimal_camera_matrix, project_points, undistort_image, undistort_maps,
                                undistort_points)
from cvcore.datasets import synthetic_chessboard_views

K_RATIONAL = np.array([[330.0, 0, 322], [0, 333, 236], [0, 0, 1]])     # a wide-angle lens (~90 degrees)
D_RATIONAL = np.array([0.4, 0.05, 0.001, -0.0012, 0.002, 0.75, 0.12, 0.008])    # one-to-one up to 70 degrees
K_FISHEYE = np.array([[300.0, 0, 322], [0, 302, 238], [0, 0, 1]])
D_FISHEYE = np.array([0.05, -0.02, 0.005, -0.001])
BOARD = chessboard_points((9, 6), 1.0)
CONVERGED = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 1000, 1e-15)


def _projected(model, n=10, seed=0, noise=0.1):
    """Corners of ``n`` views projected by OpenCV itself (plus noise), spread over a 640 x 480 image.

    Each board is aimed at a random point of the image from 4-7 units away
    and tilted up to ~40 degrees, so the views reach the image's corners,
    where the lens models differ.
    """
    rng = np.random.default_rng(seed)
    K = K_RATIONAL if model == "rational" else K_FISHEYE
    views = []
    while len(views) < n:
        r = rng.normal(0, 0.35, 3)
        ray = np.linalg.solve(K, [rng.uniform(60, 580), rng.uniform(60, 420), 1.0])
        t = ray / np.linalg.norm(ray) * rng.uniform(4, 7) - cv2.Rodrigues(r)[0] @ [4.0, 2.5, 0]
        if model == "rational":
            p = cv2.projectPoints(BOARD, r, t, K_RATIONAL, D_RATIONAL)[0][:, 0]
        else:
            p = cv2.fisheye.projectPoints(BOARD.reshape(-1, 1, 3), r, t, K_FISHEYE, D_FISHEYE)[0][:, 0]
        if p.min() > 5 and p[:, 0].max() < 635 and p[:, 1].max() < 475:
            views.append(p + rng.normal(0, noise, p.shape))
    return views


def _assert_equal_calibrations(cal, rms, K, d, rtol=1e-6):
    assert cal.rms == pytest.approx(rms, rel=rtol)
    assert_allclose(cal.camera_matrix, K, rtol=rtol, atol=rtol * K[0, 0])
    # coefficients relative to the largest one (a coefficient near zero has no relative digits)
    assert_allclose(cal.dist_coeffs, np.ravel(d)[:cal.dist_coeffs.size], rtol=rtol, atol=rtol * np.abs(d).max())


def _assert_equal_in_a_flat_valley(cal, rms, K, d, corners):
    """Equality where the rational model's radial terms are nearly redundant (a narrow lens).

    The error is flat to 1e-15 along a valley where k1..k6 move by 1e-5
    relative (OpenCV restarted from our solution drifts as far): there the
    coefficients agree to a small fraction of their standard deviation and
    the lens they describe agrees to micro-pixels wherever there are corners.
    """
    d = np.ravel(d)[:8]
    assert cal.rms == pytest.approx(rms, rel=1e-9)
    assert_allclose(cal.camera_matrix, K, rtol=1e-6, atol=1e-6 * K[0, 0])
    assert np.all(np.abs(cal.dist_coeffs - d) <= 1e-3 * cal.std_intrinsics[5:])
    seen = np.concatenate(corners)
    assert_allclose(undistort_points(seen, cal, new_camera_matrix=K), undistort_points(seen, K, d, new_camera_matrix=K),
                    rtol=0, atol=1e-5)


def _opencv_rational(objs, imgs, size=(640, 480)):
    rms, K, d, _, _ = cv2.calibrateCamera(objs, [i.reshape(-1, 1, 2) for i in imgs], size, None, None,
                                          flags=cv2.CALIB_RATIONAL_MODEL, criteria=CONVERGED)
    return rms, K, d


def _opencv_fisheye(objs, imgs, flags, size=(640, 480)):
    return cv2.fisheye.calibrate([o.reshape(-1, 1, 3) for o in objs], [i.reshape(-1, 1, 2) for i in imgs], size,
                                 None, None, flags=flags, criteria=CONVERGED)[:3]


FISHEYE_FLAGS = cv2.fisheye.CALIB_FIX_SKEW | cv2.fisheye.CALIB_RECOMPUTE_EXTRINSIC


# --------------------------------------------------------------------------- calibration vs OpenCV

def test_rational_equals_opencv_on_projected_corners():
    views = _projected("rational", n=20)
    cal = calibrate_camera([BOARD] * len(views), views, (640, 480), model="rational")
    assert cal.model == "rational" and cal.dist_coeffs.shape == (8,)
    _assert_equal_calibrations(cal, *_opencv_rational([BOARD] * len(views), views))
    assert cal.rms < 0.2     # the model explains the corners to their noise


def test_rational_equals_opencv_on_rendered_and_detected_views():
    views = synthetic_chessboard_views(8, image_size=(480, 360), supersampling=2, random_state=3,
                                       dist_coeffs=[-0.3, 0.12, 0.001, -0.0005, -0.02])
    corners = [find_chessboard_corners(im, views.pattern_size) for im in views.images]
    objs = [views.object_points] * len(corners)
    cal = calibrate_camera(objs, corners, views.image_size, model="rational")
    _assert_equal_in_a_flat_valley(cal, *_opencv_rational(objs, corners, views.image_size), corners)


def test_fisheye_equals_opencv_where_opencv_converges():
    views = _projected("fisheye", n=12, seed=1)
    objs = [BOARD] * len(views)
    cal = calibrate_camera(objs, views, (640, 480), model="fisheye")
    assert cal.model == "fisheye" and cal.dist_coeffs.shape == (4,)
    _assert_equal_calibrations(cal, *_opencv_fisheye(objs, views, FISHEYE_FLAGS))
    assert_allclose(cal.camera_matrix, K_FISHEYE, rtol=0.01)


def test_fisheye_converges_where_opencv_stops_short():
    # Without CALIB_RECOMPUTE_EXTRINSIC OpenCV keeps the poses it computed for its
    # starting camera (f = max(w, h) / 2, k = 0) and only moves the intrinsics:
    # it ends far from the minimum. Ours reaches the minimum from the same corners.
    views = _projected("fisheye", n=12, seed=1)
    objs = [BOARD] * len(views)
    rms_short = _opencv_fisheye(objs, views, cv2.fisheye.CALIB_FIX_SKEW)[0]
    cal = calibrate_camera(objs, views, (640, 480), model="fisheye")
    assert rms_short > 10 * cal.rms
    assert cal.rms < 0.2
    assert_allclose(cal.dist_coeffs, D_FISHEYE, atol=0.01)


def test_fisheye_with_skew_equals_opencv():
    views = _projected("fisheye", n=12, seed=4)
    objs = [BOARD] * len(views)
    cal = calibrate_camera(objs, views, (640, 480), model="fisheye", estimate_skew=True)
    rms, K, d = _opencv_fisheye(objs, views, cv2.fisheye.CALIB_RECOMPUTE_EXTRINSIC)
    _assert_equal_calibrations(cal, rms, K, d)


def test_fisheye_of_a_wide_lens_converges_from_far(rng):
    # corners up to ~80 degrees off axis: a pinhole start (Zhang) would not even exist
    K = np.array([[180.0, 0, 320], [0, 180, 240], [0, 0, 1]])
    D = np.array([0.02, -0.01, 0.002, 0.0])
    views = []
    while len(views) < 10:
        r, t = rng.normal(0, 0.5, 3), np.array([-4.0, -2.5, 3.0]) + rng.normal(0, [2, 2, 0.5])
        p = cv2.fisheye.projectPoints(BOARD.reshape(-1, 1, 3), r, t, K, D)[0][:, 0]
        Xc = BOARD @ cv2.Rodrigues(r)[0].T + t
        if Xc[:, 2].min() > 0.2 and p.min() > 0 and p[:, 0].max() < 640 and p[:, 1].max() < 480:
            views.append(p + rng.normal(0, 0.05, p.shape))
    cal = calibrate_camera([BOARD] * 10, views, (640, 480), model="fisheye")
    assert cal.rms < 0.08
    assert_allclose(cal.camera_matrix, K, rtol=2e-3, atol=0.5)


@pytest.fixture(scope="module")
def left_corners(shared_data):
    corners = []
    for f in sorted((shared_data / "calib" / "opencv_left_right").glob("left*.jpg")):
        g = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        ok, c = cv2.findChessboardCorners(g, (9, 6))
        assert ok
        corners.append(cv2.cornerSubPix(g, c, (11, 11), (-1, -1), (3, 30, 1e-3)).reshape(-1, 2).astype(np.float64))
    return corners


def test_real_views_equal_opencv_for_both_models(left_corners):
    objs = [chessboard_points((9, 6), 30.0)] * len(left_corners)
    cal = calibrate_camera(objs, left_corners, (640, 480), model="rational")
    _assert_equal_in_a_flat_valley(cal, *_opencv_rational(objs, left_corners), left_corners)
    fish = calibrate_camera(objs, left_corners, (640, 480), model="fisheye")
    _assert_equal_calibrations(fish, *_opencv_fisheye(objs, left_corners, FISHEYE_FLAGS))


# --------------------------------------------------------------------------- standard deviations

def _opencv_jacobian(cal, model):
    """The full Jacobian (intrinsics then poses) from OpenCV's own projection, at our optimum."""
    blocks, res = [], []
    n = cal.n_views
    for v, (o, i) in enumerate(zip(cal.object_points, cal.image_points)):
        r, t = cal.rvecs[v], cal.tvecs[v]
        if model == "fisheye":
            p, J = cv2.fisheye.projectPoints(o.reshape(-1, 1, 3), r, t, cal.camera_matrix, cal.dist_coeffs)
            intr, pose = J[:, :8], J[:, 8:14]             # f, c, k | om, T
        else:
            p, J = cv2.projectPoints(o, r, t, cal.camera_matrix, cal.dist_coeffs)
            intr, pose = J[:, 6:], J[:, :6]               # f, c, k1..k6 | r, t
        full = np.zeros((J.shape[0], intr.shape[1] + 6 * n))
        full[:, :intr.shape[1]] = intr
        full[:, intr.shape[1] + 6 * v:intr.shape[1] + 6 * v + 6] = pose
        blocks.append(full)
        res.append((p.reshape(-1, 2) - i).ravel())
    J, e = np.concatenate(blocks), np.concatenate(res)
    scale = np.linalg.norm(J, axis=0)         # columns to unit length, then QR: no squared condition number
    Rinv = np.linalg.inv(np.linalg.qr(J / scale, mode="r"))
    var = np.sum(Rinv * Rinv, axis=1) / scale ** 2
    return np.sqrt(var * (e @ e) / (J.shape[0] - J.shape[1]))


@pytest.mark.parametrize("model", ["pinhole", "rational", "fisheye"])
def test_standard_deviations_match_opencvs_jacobians(model):
    views = _projected("fisheye" if model == "fisheye" else "rational", n=10, seed=5, noise=0.2)
    cal = calibrate_camera([BOARD] * len(views), views, (640, 480), model=model)
    cal = cal.replace(object_points=[BOARD] * len(views), image_points=views)
    std = _opencv_jacobian(cal, model)
    ours = np.delete(cal.std_intrinsics, 4)                  # OpenCV's order without the (fixed) skew
    assert cal.std_intrinsics[4] == 0
    # the rational model's six radial terms are nearly collinear (condition ~1e6): through J'J,
    # as the solver has it, its deviations keep about 4 digits; the others keep 5 and more
    rtol = 1e-3 if model == "rational" else 1e-5
    assert_allclose(ours, std[:ours.size], rtol=rtol)
    assert_allclose(cal.std_extrinsics.ravel(), std[ours.size:], rtol=rtol)
    assert len(cal.intrinsic_names) == len(cal.std_intrinsics)
    assert set(cal.intrinsics()) == set(cal.intrinsic_names)


# --------------------------------------------------------------------------- projection and undistortion

def test_project_points_equals_opencv_for_every_model(rng):
    pts = rng.uniform(-1, 1, (50, 3)) + [0, 0, 3]
    r, t = rng.normal(0, 0.2, 3), rng.normal(0, 0.2, 3)
    assert_allclose(project_points(pts, r, t, K_RATIONAL, D_RATIONAL, model="rational"),
                    cv2.projectPoints(pts, r, t, K_RATIONAL, D_RATIONAL)[0][:, 0], rtol=0, atol=1e-9)
    # 8 coefficients mean the rational model, as in OpenCV
    assert_allclose(project_points(pts, r, t, K_RATIONAL, D_RATIONAL),
                    cv2.projectPoints(pts, r, t, K_RATIONAL, D_RATIONAL)[0][:, 0], rtol=0, atol=1e-9)
    assert_allclose(project_points(pts, r, t, K_FISHEYE, D_FISHEYE, model="fisheye"),
                    cv2.fisheye.projectPoints(pts.reshape(-1, 1, 3), r, t, K_FISHEYE, D_FISHEYE)[0][:, 0],
                    rtol=0, atol=1e-9)


def test_undistort_points_equals_opencv_for_every_model(rng):
    px = rng.uniform([20, 20], [620, 460], (200, 2))
    R = cv2.Rodrigues(np.array([0.02, -0.03, 0.01]))[0]
    P = np.array([[500.0, 0, 300], [0, 500, 250], [0, 0, 1]])
    want = cv2.undistortPoints(px.reshape(-1, 1, 2), K_RATIONAL, D_RATIONAL, R=R, P=P, criteria=CONVERGED)[:, 0]
    got = undistort_points(px, K_RATIONAL, D_RATIONAL, model="rational", rotation=R, new_camera_matrix=P)
    assert_allclose(got, want, rtol=0, atol=1e-7)
    want = cv2.fisheye.undistortPoints(px.reshape(-1, 1, 2), K_FISHEYE, D_FISHEYE, R=R, P=P,
                                       criteria=CONVERGED)[:, 0]
    got = undistort_points(px, K_FISHEYE, D_FISHEYE, model="fisheye", rotation=R, new_camera_matrix=P)
    assert_allclose(got, want, rtol=0, atol=1e-7)
    # round trip through the projection
    xy = undistort_points(px, K_FISHEYE, D_FISHEYE, model="fisheye")
    back = project_points(np.c_[xy, np.ones(len(xy))], np.zeros(3), np.zeros(3), K_FISHEYE, D_FISHEYE,
                          model="fisheye")
    assert_allclose(back, px, rtol=0, atol=1e-9)


def test_points_beyond_the_fold_of_a_rational_lens_are_nan():
    # r * rad(r) rises to 0.924 at r = 1.4 and falls beyond (to rise again past r = 2.5): a larger
    # distorted radius has no preimage before the fold
    K = np.eye(3)
    d = [0.3, -0.1, 0, 0, 0.01, 0.5, -0.05, 0.02]
    xy = undistort_points([[0.9, 0.0], [0.95, 0.0]], K, d)
    assert np.isfinite(xy[0]).all() and np.isnan(xy[1]).all()
    assert project_points(np.r_[xy[0], 1.0][None], np.zeros(3), np.zeros(3), K, d)[0] == pytest.approx([0.9, 0])


def test_fisheye_points_beyond_90_degrees_are_nan():
    # theta_d = f theta reaches pi/2 at 300 * pi / 2 = 471 px from the centre
    got = undistort_points([[322 + 400, 238], [322 + 480, 238]], K_FISHEYE, [0, 0, 0, 0], model="fisheye")
    assert np.all(np.isfinite(got[0])) and np.all(np.isnan(got[1]))


def test_undistort_maps_equal_opencv_for_every_model():
    R = cv2.Rodrigues(np.array([0.01, 0.02, -0.01]))[0]
    P = np.array([[420.0, 0, 310], [0, 425, 245], [0, 0, 1]])
    mx, my = undistort_maps((640, 480), K_RATIONAL, D_RATIONAL, P, model="rational", rotation=R)
    cx, cy = cv2.initUndistortRectifyMap(K_RATIONAL, D_RATIONAL, R, P, (640, 480), cv2.CV_32FC1)
    assert_allclose(mx, cx, rtol=0, atol=2e-3)
    assert_allclose(my, cy, rtol=0, atol=2e-3)
    mx, my = undistort_maps((640, 480), K_FISHEYE, D_FISHEYE, P, model="fisheye", rotation=R)
    cx, cy = cv2.fisheye.initUndistortRectifyMap(K_FISHEYE, D_FISHEYE, R, P, (640, 480), cv2.CV_32FC1)
    assert_allclose(mx, cx, rtol=0, atol=2e-3)
    assert_allclose(my, cy, rtol=0, atol=2e-3)


def test_undistort_image_takes_the_model_from_a_calibration(rng):
    cal = CameraCalibration(K_FISHEYE, D_FISHEYE, [], [], None, None, None, None, (640, 480), model="fisheye")
    img = (rng.random((480, 640, 3)) * 255).astype(np.uint8)
    P = optimal_camera_matrix(cal, alpha=0.5)
    ours = undistort_image(img, cal, new_camera_matrix=P)
    theirs = cv2.fisheye.undistortImage(img, K_FISHEYE, D_FISHEYE, Knew=P)
    # OpenCV's fixed-point remap (1/32 px) against ours (float): compare where both are inside
    inside = (ours > 0).all(axis=2) & (theirs > 0).all(axis=2)
    assert inside.mean() > 0.5
    diff = np.abs(ours.astype(int) - theirs.astype(int))[inside]
    assert np.median(diff) <= 3
    with pytest.raises(ValueError, match="dist_coeffs must be None"):
        undistort_image(img, cal, D_FISHEYE)
    with pytest.raises(ValueError, match="model is 'pinhole'"):
        undistort_image(img, cal, model="pinhole")


def _optimal_reference(K, d, size, alpha):
    """getOptimalNewCameraMatrix's definition with OpenCV's undistortion run to convergence."""
    w, h = size
    g = np.linspace(0, 1, 9)
    yy, xx = np.meshgrid(g * (h - 1), g * (w - 1), indexing="ij")
    xy = cv2.undistortPoints(np.stack([xx, yy], -1).reshape(-1, 1, 2), K, d, criteria=CONVERGED).reshape(9, 9, 2)
    x, y = xy[..., 0], xy[..., 1]
    rects = [(x[:, 0].max(), y[0].max(), x[:, -1].min(), y[-1].min()), (x.min(), y.min(), x.max(), y.max())]
    f = [np.array([(w - 1) / (x1 - x0), (h - 1) / (y1 - y0), -(w - 1) / (x1 - x0) * x0, -(h - 1) / (y1 - y0) * y0])
         for x0, y0, x1, y1 in rects]
    m = f[0] * (1 - alpha) + f[1] * alpha
    return np.array([[m[0], 0, m[2]], [0, m[1], m[3]], [0, 0, 1]])


def test_new_camera_matrix_equals_opencv_for_every_model():
    mild = np.array([-0.2, 0.05, 0.001, -0.001, 0.0])
    for alpha in (0.0, 0.4, 1.0):
        # OpenCV undistorts its 9 x 9 grid approximately (5 fixed-point steps): close on a mild lens,
        # and equal to its definition run to convergence on the wide-angle one
        assert_allclose(optimal_camera_matrix(K_RATIONAL, mild, (640, 480), alpha),
                        cv2.getOptimalNewCameraMatrix(K_RATIONAL, mild, (640, 480), alpha)[0], rtol=2e-3)
        assert_allclose(optimal_camera_matrix(K_RATIONAL, D_RATIONAL, (640, 480), alpha, model="rational"),
                        _optimal_reference(K_RATIONAL, D_RATIONAL, (640, 480), alpha), rtol=1e-7)
        want = cv2.fisheye.estimateNewCameraMatrixForUndistortRectify(K_FISHEYE, D_FISHEYE, (640, 480), np.eye(3),
                                                                       balance=alpha)
        assert_allclose(optimal_camera_matrix(K_FISHEYE, D_FISHEYE, (640, 480), alpha, model="fisheye"), want,
                        rtol=1e-6)


def test_alpha_zero_leaves_no_border_and_one_keeps_every_pixel():
    img = np.full((480, 640), 200, np.uint8)
    none_lost = undistort_image(img, K_RATIONAL, D_RATIONAL, alpha=0.0)
    assert (none_lost[2:-2, 2:-2] > 0).all()
    P1 = optimal_camera_matrix(K_RATIONAL, D_RATIONAL, (640, 480), 1.0)
    border = np.array([[x, y] for x in np.linspace(0, 639, 30) for y in (0, 479)]
                      + [[x, y] for y in np.linspace(0, 479, 30) for x in (0, 639)])
    out = undistort_points(border, K_RATIONAL, D_RATIONAL, new_camera_matrix=P1)
    assert out.min() > -1 and out[:, 0].max() < 640 and out[:, 1].max() < 480


# --------------------------------------------------------------------------- files

@pytest.mark.parametrize("model", ["rational", "fisheye"])
def test_files_round_trip_and_opencv_reads_them(tmp_path, model):
    views = _projected("fisheye" if model == "fisheye" else "rational", n=6, seed=2)
    cal = calibrate_camera([BOARD] * 6, views, (640, 480), model=model)
    for name in ("c.json", "c.yml"):
        cal.save(tmp_path / name)
        back = CameraCalibration.load(tmp_path / name)
        assert back == cal and back.model == model
    assert json.loads((tmp_path / "c.json").read_text())["version"] == 3
    fs = cv2.FileStorage(str(tmp_path / "c.yml"), cv2.FILE_STORAGE_READ)
    assert fs.getNode("model").string() == model
    assert_allclose(fs.getNode("distortion_coefficients").mat().ravel(), cal.dist_coeffs, rtol=0, atol=0)
    fs.release()


def test_opencv_files_give_their_model(tmp_path):
    path = str(tmp_path / "cv.yml")
    fs = cv2.FileStorage(path, cv2.FILE_STORAGE_WRITE)
    fs.write("image_width", 640)
    fs.write("image_height", 480)
    fs.write("camera_matrix", K_RATIONAL)
    fs.write("distortion_coefficients", D_RATIONAL.reshape(1, 8))
    fs.release()
    assert CameraCalibration.load(path).model == "rational"
    fs = cv2.FileStorage(path, cv2.FILE_STORAGE_WRITE)
    for key, value in (("image_width", 640), ("image_height", 480), ("camera_matrix", K_FISHEYE),
                       ("distortion_coefficients", D_FISHEYE.reshape(1, 4)), ("distortion_model", "equidistant")):
        fs.write(key, value)
    fs.release()
    cal = CameraCalibration.load(path)
    assert cal.model == "fisheye" and np.array_equal(cal.dist_coeffs, D_FISHEYE)


def test_version_2_files_are_still_read_as_pinhole(tmp_path):
    cal = CameraCalibration(K_RATIONAL, [0.1, 0, 0, 0, 0], [], [], 0.5, None, None, None, (640, 480))
    doc = {"format": "cvcore-camera-calibration", "version": 2, **cal.to_dict()}
    del doc["model"]
    (tmp_path / "v2.json").write_text(json.dumps(doc))
    back = CameraCalibration.load(tmp_path / "v2.json")
    assert back.model == "pinhole" and back == cal


@pytest.mark.parametrize("change, match", [
    ({"model": "kannala"}, "model must be one of"),
    ({"model": 3}, "model must be one of"),
    ({"model": "fisheye"}, "must hold 4 coefficients"),
    ({"dist_coeffs": [0.1] * 7}, "must hold 4 or 5 or 8 coefficients"),
    ({"std_intrinsics": [0.1] * 10}, "std_intrinsics"),
])
def test_load_validates_the_model(tmp_path, change, match):
    cal = CameraCalibration(K_RATIONAL, D_RATIONAL, [], [], 0.5, None, np.ones(13), None, (640, 480),
                            model="rational")
    doc = {"format": "cvcore-camera-calibration", "version": 3, **cal.to_dict(), **change}
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=match):
        CameraCalibration.load(tmp_path / "bad.json")


def test_thin_prism_files_are_refused(tmp_path):
    path = str(tmp_path / "cv.yml")
    fs = cv2.FileStorage(path, cv2.FILE_STORAGE_WRITE)
    for key, value in (("image_width", 640), ("image_height", 480), ("camera_matrix", K_RATIONAL),
                       ("distortion_coefficients", np.zeros((1, 12)))):
        fs.write(key, value)
    fs.release()
    with pytest.raises(ValueError, match="thin-prism"):
        CameraCalibration.load(path)


# --------------------------------------------------------------------------- argument errors

@pytest.mark.parametrize("kwargs, exc, match", [
    ({"model": "equidistant"}, ValueError, "model must be one of"),
    ({"model": None}, TypeError, "model must be one of"),
    ({"model": "fisheye", "zero_tangent_dist": True}, ValueError, "no tangential terms"),
    ({"model": "fisheye", "fix_k3": True}, ValueError, "no tangential terms"),
    ({"model": "fisheye", "intrinsic_guess": (K_FISHEYE, D_RATIONAL)}, ValueError, "must hold 4 coefficients"),
])
def test_calibrate_rejects_bad_model_options(kwargs, exc, match):
    views = _projected("rational", n=3)
    with pytest.raises(exc, match=match):
        calibrate_camera([BOARD] * 3, views, (640, 480), **kwargs)


def test_functions_reject_mismatched_coefficients():
    with pytest.raises(ValueError, match="must hold 4 coefficients"):
        project_points(BOARD, np.zeros(3), [0, 0, 5], K_FISHEYE, D_RATIONAL, model="fisheye")
    with pytest.raises(ValueError, match="pass model='rational'"):
        undistort_points([[1, 2]], K_RATIONAL, D_RATIONAL, model="pinhole")
    with pytest.raises(ValueError, match="alpha must"):
        optimal_camera_matrix(K_RATIONAL, D_RATIONAL, (640, 480), 1.5)
    with pytest.raises(TypeError, match="image_size is required"):
        optimal_camera_matrix(K_RATIONAL, D_RATIONAL)
    with pytest.raises(ValueError, match="rotation must be a rotation"):
        undistort_maps((64, 48), K_RATIONAL, D_RATIONAL, rotation=np.ones((3, 3)))


def test_fisheye_intrinsic_guess_is_used():
    views = _projected("fisheye", n=8, seed=7)
    cal = calibrate_camera([BOARD] * 8, views, (640, 480), model="fisheye",
                           intrinsic_guess=(K_FISHEYE * [[1.05], [1.05], [1]], [0.0, 0, 0, 0]))
    free = calibrate_camera([BOARD] * 8, views, (640, 480), model="fisheye")
    assert cal.flags["intrinsic_guess"]
    assert_allclose(cal.camera_matrix, free.camera_matrix, rtol=1e-7)


# --------------------------------------------------------------------------- cvcore undistort

@pytest.fixture
def cli(monkeypatch, capsys):
    """``cvcore ...`` in this process, with the undistort command registered (as cli.py will)."""
    from cvcore import cli as cli_module

    monkeypatch.setitem(cli_module.COMMANDS, "undistort", "undistort")

    def run(*argv):
        code = cli_module.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def photos(tmp_path):
    """Two photos of a fisheye camera and its calibration file."""
    cal = CameraCalibration(K_FISHEYE, D_FISHEYE, [], [], None, None, None, None, (640, 480), model="fisheye")
    cal.save(tmp_path / "camera.json")
    rng = np.random.default_rng(3)
    for name in ("a.png", "b.png"):
        assert cv2.imwrite(str(tmp_path / name), rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))
    return tmp_path, cal


def test_undistort_command_writes_what_the_library_gives(cli, photos):
    d, cal = photos
    code, out, err = cli("undistort", d / "a.png", d / "b.png", "--camera", d / "camera.json", "--out", d / "flat",
                         "--alpha", "0.3")
    assert code == 0 and err == "" and "fisheye lens" in out
    P = optimal_camera_matrix(cal, alpha=0.3)
    for name in ("a.png", "b.png"):
        got = cv2.imread(str(d / "flat" / name))
        want = undistort_image(cv2.imread(str(d / name)), cal, new_camera_matrix=P)
        assert np.array_equal(got, want)


@pytest.mark.parametrize("argv, match", [
    (["a.png", "--camera", "nothere.json", "--out", "o"], "nothere.json"),
    (["a.png", "--camera", "a.png", "--out", "o"], "not a camera calibration"),
    (["a.png", "--camera", "camera.json", "--out", "o", "--alpha", "1.5"], "--alpha must be"),
    (["a.png", "--camera", "camera.json", "--out", "o", "--alpha", "nan"], "--alpha must be"),
    (["a.png", "--camera", "camera.json"], "--out"),
    (["missing.png", "--camera", "camera.json", "--out", "o"], "missing.png"),
    (["sub", "--camera", "camera.json", "--out", "o"], "is a folder"),
    (["a.png", "--camera", "camera.json", "--out", "a.png"], "is a file"),
    (["a.png", "--camera", "camera.json", "--out", "."], "would overwrite"),
    (["a.png", "sub/a.png", "--camera", "camera.json", "--out", "o"], "same file name"),
    (["small.png", "--camera", "camera.json", "--out", "o"], "calibrated at 640x480"),
    (["a.png", "--camera", "camera.json", "--out", "o.png/x"], "is a file|cannot create"),
])
def test_undistort_command_errors_are_one_line(cli, photos, monkeypatch, argv, match):
    d, _ = photos
    (d / "sub").mkdir(exist_ok=True)
    assert cv2.imwrite(str(d / "sub" / "a.png"), np.zeros((480, 640), np.uint8))
    assert cv2.imwrite(str(d / "small.png"), np.zeros((48, 64), np.uint8))
    assert cv2.imwrite(str(d / "o.png"), np.zeros((4, 4), np.uint8))
    monkeypatch.chdir(d)
    code, out, err = cli("undistort", *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert __import__("re").search(match, err), err
    assert not (d / "o").exists() or not any((d / "o").iterdir())
