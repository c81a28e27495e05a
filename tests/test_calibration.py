"""Calibration core: homography, camera model, Zhang + LM, uncertainty, file formats.

References: Zhang's published results on his own data, cv2.calibrateCamera(Extended),
cv2.projectPoints / undistortPoints / initUndistortRectifyMap / findHomography / Rodrigues.
"""
import json

import cv2
import numpy as np
import pytest
from numpy.testing import assert_allclose

from cvcore.calibration import (CameraCalibration, calibrate_camera, chessboard_points, find_homography,
                                project_points, rodrigues, undistort_image, undistort_points)
from cvcore.calibration.camera import distort_normalized, rotation_to_rvec, undistort_maps

K_TRUE = np.array([[820.0, 0.0, 331.0], [0.0, 818.0, 242.0], [0.0, 0.0, 1.0]])
D_TRUE = np.array([-0.21, 0.09, 0.0012, -0.0007, 0.02])


def _poses(n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        r = rng.uniform(-0.45, 0.45, 3)
        r[2] = rng.uniform(-0.3, 0.3)
        t = np.array([-4.0, -2.5, 14.0]) + rng.uniform(-1.5, 1.5, 3)
        out.append((r, t))
    return out


def _synthetic(n=8, noise=0.0, seed=0, K=K_TRUE, d=D_TRUE):
    board = chessboard_points((9, 6), 1.0)
    rng = np.random.default_rng(seed + 100)
    views = [project_points(board, r, t, K, d) + rng.normal(0, noise, (len(board), 2)) for r, t in _poses(n, seed)]
    return [board] * n, views


# --------------------------------------------------------------------------- camera model

def test_rodrigues_matches_opencv_and_inverts():
    rng = np.random.default_rng(1)
    for r in [*rng.uniform(-2, 2, (20, 3)), np.zeros(3), np.array([np.pi - 1e-9, 0, 0]),
              np.array([0, 3.0, 0.5])]:
        R = rodrigues(r)
        assert_allclose(R, cv2.Rodrigues(r)[0], atol=1e-12)
        assert_allclose(rodrigues(rotation_to_rvec(R)), R, atol=1e-9)


def test_rodrigues_derivative_matches_finite_differences():
    from cvcore._ext import _calib

    r = np.array([0.3, -0.7, 1.1])
    R, dR = np.empty((3, 3)), np.empty((3, 3, 3))
    _calib.rodrigues(r, R, dR)
    eps = 1e-7
    for k in range(3):
        dr = np.zeros(3)
        dr[k] = eps
        num = (rodrigues(r + dr) - rodrigues(r - dr)) / (2 * eps)
        assert_allclose(dR[k], num, atol=1e-7)


def test_project_points_matches_opencv():
    rng = np.random.default_rng(2)
    obj = rng.uniform(-1, 1, (50, 3))
    r, t = np.array([0.2, -0.1, 0.3]), np.array([0.1, -0.2, 6.0])
    ours = project_points(obj, r, t, K_TRUE, D_TRUE)
    ref = cv2.projectPoints(obj, r, t, K_TRUE, D_TRUE)[0].reshape(-1, 2)
    assert_allclose(ours, ref, atol=1e-9)
    # 4 coefficients and (N, 2) board points (Z = 0)
    ours4 = project_points(obj[:, :2], r, t, K_TRUE, D_TRUE[:4])
    ref4 = cv2.projectPoints(np.c_[obj[:, :2], np.zeros(50)], r, t, K_TRUE, D_TRUE[:4])[0].reshape(-1, 2)
    assert_allclose(ours4, ref4, atol=1e-9)


def _lm_problem(n_views, skew):
    """The LM problem of noisy synthetic views with its normal equations filled at a fixed camera."""
    from cvcore.calibration import _lm as lm

    objs, imgs = _synthetic(n_views, noise=0.3)
    prob = lm.Problem(objs, imgs)
    q = np.array([800.0, 790, 320, 240, skew, -0.2, 0.1, 0.001, -0.002, 0.03])
    poses = np.array([[*r, *t] for r, t in _poses(n_views)])
    prob.evaluate(q, poses, True)
    return lm, prob, q, poses


def test_lm_jacobian_matches_finite_differences():
    lm, prob, q, poses = _lm_problem(3, 0.7)
    U, W, gi, ge = prob.U.copy(), prob.W.copy(), prob.gi.copy(), prob.ge.copy()

    def residual(q, poses):
        prob.evaluate(q, poses, False)
        return prob.res.ravel().copy()

    r0 = residual(q, poses)
    Jq = np.empty((r0.size, 10))
    for k in range(10):
        h = 1e-6 * max(1.0, abs(q[k]))
        dq = np.zeros(10)
        dq[k] = h
        Jq[:, k] = (residual(q + dq, poses) - residual(q - dq, poses)) / (2 * h)
    assert_allclose(Jq.T @ Jq, U, rtol=1e-5, atol=1e-6 * np.abs(U).max())
    assert_allclose(Jq.T @ r0, gi, rtol=1e-5, atol=1e-6 * np.abs(gi).max())
    v = 1
    Je = np.empty((r0.size, 6))
    for k in range(6):
        dp = np.zeros_like(poses)
        dp[v, k] = 1e-7
        Je[:, k] = (residual(q, poses + dp) - residual(q, poses - dp)) / 2e-7
    assert_allclose(Je.T @ r0, ge[v], rtol=1e-5, atol=1e-6 * np.abs(ge[v]).max())
    assert_allclose(Jq.T @ Je, W[v], rtol=1e-4, atol=1e-5 * np.abs(W[v]).max())


def test_undistort_points_inverts_projection_and_matches_opencv():
    rng = np.random.default_rng(3)
    pts = rng.uniform([20, 20], [620, 460], (200, 2))
    ours = undistort_points(pts, K_TRUE, D_TRUE)
    ref = cv2.undistortPoints(pts.reshape(-1, 1, 2), K_TRUE, D_TRUE, None, None, None,
                                  (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 200, 1e-14)).reshape(-1, 2)
    assert_allclose(ours, ref, atol=1e-9)
    # round trip through the model
    back = project_points(np.c_[ours, np.ones(len(ours))], np.zeros(3), np.zeros(3), K_TRUE, D_TRUE)
    assert_allclose(back, pts, atol=1e-8)
    pix = undistort_points(pts, K_TRUE, D_TRUE, new_camera_matrix=K_TRUE)
    assert_allclose(pix, ours * [K_TRUE[0, 0], K_TRUE[1, 1]] + K_TRUE[:2, 2], atol=1e-9)


def test_undistort_maps_and_image_match_opencv():
    newK = K_TRUE.copy()
    newK[0, 0] *= 0.9
    mx, my = undistort_maps((640, 480), K_TRUE, D_TRUE, newK)
    rx, ry = cv2.initUndistortRectifyMap(K_TRUE, D_TRUE, None, newK, (640, 480), cv2.CV_32FC1)
    assert_allclose(mx, rx, atol=2e-3)
    assert_allclose(my, ry, atol=2e-3)
    rng = np.random.default_rng(4)
    img = cv2.GaussianBlur((rng.random((480, 640, 3)) * 255).astype(np.uint8), (0, 0), 3)
    ours = undistort_image(img, K_TRUE, D_TRUE)
    ref = cv2.undistort(img, K_TRUE, D_TRUE)
    assert ours.shape == img.shape and ours.dtype == np.uint8
    diff = np.abs(ours.astype(int) - ref.astype(int))
    assert diff.mean() < 0.3 and np.percentile(diff, 99.9) <= 2
    grey = undistort_image(img[:, :, 0].astype(np.float32), K_TRUE, D_TRUE)
    assert grey.dtype == np.float32 and grey.shape == (480, 640)


def test_one_distortion_model_for_points_maps_and_projection():
    # the polynomial is written once (kernels' _distortion.pxd); every use agrees with OpenCV
    rng = np.random.default_rng(6)
    xy = rng.uniform(-0.5, 0.5, (100, 2))
    ref = cv2.projectPoints(np.c_[xy, np.ones(100)], np.zeros(3), np.zeros(3), np.eye(3), D_TRUE)[0].reshape(-1, 2)
    assert_allclose(distort_normalized(xy, D_TRUE), ref, rtol=0, atol=1e-15)
    assert_allclose(undistort_points(ref, np.eye(3), D_TRUE), xy, rtol=0, atol=1e-13)
    mx, my = undistort_maps((64, 2100), K_TRUE, D_TRUE)           # several row chunks
    v, u = 2099, 63
    x, y = (u - K_TRUE[0, 2]) / K_TRUE[0, 0], (v - K_TRUE[1, 2]) / K_TRUE[1, 1]
    p = project_points([[x, y, 1.0]], np.zeros(3), np.zeros(3), K_TRUE, D_TRUE)[0]
    assert_allclose([mx[v, u], my[v, u]], p, rtol=1e-6)
    assert distort_normalized(np.zeros((0, 2)), D_TRUE).shape == (0, 2)


def test_undistort_points_without_preimage_are_nan():
    # regression: beyond the fold of strong barrel distortion Newton returned a wrong point silently
    d = [-0.5, 0.0, 0.0, 0.0, 0.0]                 # r_d = r (1 - r^2 / 2): at most 0.544 (at r = 0.816)
    out = undistort_points([[0.5, 0.0], [0.55, 0.0], [0.3, 0.3], [0.0, -0.6]], np.eye(3), d)
    r = out[0, 0]
    assert abs(r * (1 - 0.5 * r * r) - 0.5) < 1e-14 and r < 0.816
    assert np.isnan(out[1]).all() and np.isfinite(out[2]).all() and np.isnan(out[3]).all()


def test_rotation_to_rvec_validates():
    with pytest.raises(ValueError, match="rotation matrix"):
        rotation_to_rvec(np.ones((3, 3)))
    with pytest.raises(ValueError, match="3x3"):
        rotation_to_rvec(np.eye(2))


# --------------------------------------------------------------------------- homography

def test_find_homography_matches_opencv():
    rng = np.random.default_rng(5)
    H = np.array([[1.2, 0.1, 30], [-0.05, 0.9, 12], [1e-3, 2e-4, 1]])
    src = rng.uniform(0, 300, (40, 2))
    dst = cv2.perspectiveTransform(src.reshape(-1, 1, 2), H).reshape(-1, 2)
    assert_allclose(find_homography(src, dst), H, rtol=1e-8, atol=1e-10)
    noisy = dst + rng.normal(0, 0.5, dst.shape)
    ref = cv2.findHomography(src, noisy, 0)[0]
    ours = find_homography(src, noisy)
    proj = lambda M: cv2.perspectiveTransform(src.reshape(-1, 1, 2), M).reshape(-1, 2)  # noqa: E731
    err_ours = np.sum((proj(ours) - noisy) ** 2)
    err_ref = np.sum((proj(ref) - noisy) ** 2)
    assert err_ours <= err_ref * (1 + 1e-9)
    assert_allclose(proj(ours), proj(ref), atol=0.05)


def test_find_homography_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 4"):
        find_homography(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="collinear"):
        find_homography([[0, 0], [1, 1], [2, 2], [3, 3]], [[0, 0], [1, 0], [0, 1], [1, 1]])
    with pytest.raises(ValueError, match="same number"):
        find_homography(np.zeros((5, 2)), np.zeros((4, 2)))


def test_one_dlt_for_single_and_stacked_views():
    # the DLT is written once: find_homography and the calibration's stacked homographies agree
    from cvcore.calibration._homography import homographies

    rng = np.random.default_rng(8)
    H = np.array([[1.1, 0.2, 5], [-0.1, 0.95, 3], [2e-4, -1e-4, 1]])
    srcs = [rng.uniform(0, 100, (n, 2)) for n in (4, 4, 4)]
    dsts = [cv2.perspectiveTransform(p.reshape(-1, 1, 2), H).reshape(-1, 2) for p in srcs]
    stacked = homographies(srcs, dsts)
    for s, d, Hs in zip(srcs, dsts, stacked):
        assert_allclose(find_homography(s, d, refine=False), Hs, rtol=1e-12, atol=1e-14)
        assert_allclose(Hs, H, rtol=1e-9, atol=1e-12)                 # 4 points: exact
    mixed = homographies([srcs[0], rng.uniform(0, 100, (7, 2))], [dsts[0], dsts[0][:1].repeat(7, 0) + rng.normal(0, 5, (7, 2))])
    assert_allclose(mixed[0], stacked[0], rtol=1e-12)
    with pytest.raises(ValueError, match="view 1 are .*collinear"):
        homographies(srcs[:2], [dsts[0], np.c_[np.arange(4.0), np.arange(4.0)]])
    with pytest.raises(TypeError, match="refine"):
        find_homography(srcs[0], dsts[0], refine="no")


# --------------------------------------------------------------------------- Zhang's data

def _zhang(shared_data):
    root = shared_data / "calib" / "zhang1998"
    model = np.loadtxt(root / "points" / "Model.txt").reshape(-1, 2)
    views = [np.loadtxt(root / "points" / f"data{i}.txt").reshape(-1, 2) for i in range(1, 6)]
    ref = np.array(open(root / "reference_results" / "calibration-result-zhang-withdistortion.txt").read().split(),
                   float)
    return model, views, ref


def test_zhang_published_results(shared_data):
    model, views, ref = _zhang(shared_data)
    cal = calibrate_camera([model] * 5, views, (640, 480), estimate_skew=True, zero_tangent_dist=True,
                           fix_k3=True)
    alpha, gamma, beta, u0, v0, k1, k2 = ref[:7]
    K = cal.camera_matrix
    # to the precision Zhang printed (one unit of his last digit)
    assert abs(K[0, 0] - alpha) <= 0.1      # 832.5
    assert abs(K[1, 1] - beta) <= 0.01      # 832.53
    assert abs(K[0, 2] - u0) <= 0.001       # 303.959
    assert abs(K[1, 2] - v0) <= 0.001       # 206.585
    assert abs(cal.dist_coeffs[0] - k1) <= 1e-6   # -0.228601
    # gamma and k2 agree to 5e-6 and 1.1e-6: our optimum has a slightly lower error than his
    # printed parameters (checked below), so the last digit is his optimiser's stopping point.
    assert abs(K[0, 1] - gamma) <= 5e-6
    assert abs(cal.dist_coeffs[1] - k2) <= 1.2e-6
    assert_allclose(cal.dist_coeffs[2:], 0.0)
    # per-view poses agree with his R, t
    poses = ref[7:].reshape(5, 12)
    sse_zhang = 0.0
    for v in range(5):
        R = poses[v, :9].reshape(3, 3)
        t = poses[v, 9:]
        assert_allclose(rodrigues(cal.rvecs[v]), R, atol=2e-5)
        assert_allclose(cal.tvecs[v], t, atol=2e-4)
        p = project_points(model, rotation_to_rvec(R), t, [[alpha, gamma, u0], [0, beta, v0], [0, 0, 1]],
                           [k1, k2, 0, 0])
        sse_zhang += np.sum((p - views[v]) ** 2)
    assert cal.rms ** 2 * 1280 <= sse_zhang


def test_zhang_without_distortion_matches_his_other_result(shared_data):
    root = shared_data / "calib" / "zhang1998" / "reference_results"
    model, views, _ = _zhang(shared_data)
    words = open(root / "all-calibration-results.txt").read().split()
    ref = np.array(words[words.index("result:") + 1:][:5], float)
    # with distortion fixed to zero the optimum is Zhang's "without distortion" solution
    cal0 = _calibrate_no_distortion(model, views)
    alpha, gamma, beta, u0, v0 = ref
    assert_allclose([cal0.camera_matrix[0, 0], cal0.camera_matrix[1, 1]], [alpha, beta], atol=0.01)
    assert_allclose([cal0.camera_matrix[0, 2], cal0.camera_matrix[1, 2]], [u0, v0], atol=0.01)
    assert abs(cal0.camera_matrix[0, 1] - gamma) < 1e-3


def _calibrate_no_distortion(model, views):
    from cvcore.calibration import _lm as lm
    from cvcore.calibration.calibrate import calibrate_camera as cc

    cal = cc([model] * 5, views, (640, 480), estimate_skew=True, zero_tangent_dist=True, fix_k3=True)
    prob = lm.Problem([np.c_[model, np.zeros(len(model))]] * 5, views)
    K = cal.camera_matrix
    q0 = np.array([K[0, 0], K[1, 1], K[0, 2], K[1, 2], K[0, 1], 0, 0, 0, 0, 0])
    free = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], bool)
    poses = np.c_[cal.rvecs, cal.tvecs]
    q, poses, _ = lm.levenberg_marquardt(prob, q0, poses, free)
    return CameraCalibration([[q[0], q[4], q[2]], [0, q[1], q[3]], [0, 0, 1]], q[5:], poses[:, :3], poses[:, 3:],
                             0.0, np.zeros(5), np.zeros(10), np.zeros((5, 6)), (640, 480))


# --------------------------------------------------------------------------- OpenCV's left01..14

@pytest.fixture(scope="module")
def left_corners(shared_data):
    files = sorted((shared_data / "calib" / "opencv_left_right").glob("left*.jpg"))
    assert len(files) == 14
    corners = []
    for f in files:
        g = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        ok, c = cv2.findChessboardCorners(g, (9, 6))
        assert ok
        c = cv2.cornerSubPix(g, c, (11, 11), (-1, -1), (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 30, 1e-3))
        corners.append(c.reshape(-1, 2))
    return corners


def _opencv(corners, flags=0, K0=None):
    board = chessboard_points((9, 6), 30.0).astype(np.float32)
    return cv2.calibrateCameraExtended([board] * len(corners), corners, (640, 480),
                                       None if K0 is None else K0.copy(), None, flags=flags)


def test_left_images_equal_opencv(left_corners):
    board = chessboard_points((9, 6), 30.0)
    cal = calibrate_camera([board] * 14, left_corners, (640, 480))
    rms, K, d, rvecs, tvecs, std_i, std_e, per_view = _opencv(left_corners)
    assert_allclose(cal.rms, rms, rtol=1e-6)
    assert_allclose(cal.camera_matrix, K, rtol=1e-6, atol=1e-12)
    assert_allclose(cal.dist_coeffs, d.ravel(), rtol=1e-6, atol=1e-9)
    assert_allclose(cal.per_view_rms, per_view.ravel(), rtol=1e-5)
    assert_allclose(cal.rvecs, np.array(rvecs).reshape(-1, 3), atol=1e-7)
    assert_allclose(cal.tvecs, np.array(tvecs).reshape(-1, 3), rtol=1e-6, atol=1e-6)
    # standard deviations: OpenCV's order is fx, fy, cx, cy, k1, k2, p1, p2, k3
    ours_std = cal.std_intrinsics[[0, 1, 2, 3, 5, 6, 7, 8, 9]]
    assert_allclose(ours_std, std_i.ravel()[:9], rtol=1e-3)
    assert_allclose(cal.std_extrinsics, std_e.reshape(-1, 6), rtol=1e-3, atol=1e-12)
    assert cal.std_intrinsics[4] == 0.0


@pytest.mark.parametrize("kw, flags", [
    ({"fix_principal_point": True}, cv2.CALIB_FIX_PRINCIPAL_POINT),
    ({"fix_aspect_ratio": True}, cv2.CALIB_FIX_ASPECT_RATIO),
    ({"zero_tangent_dist": True, "fix_k3": True}, cv2.CALIB_ZERO_TANGENT_DIST | cv2.CALIB_FIX_K3),
])
def test_left_images_flags_equal_opencv(left_corners, kw, flags):
    board = chessboard_points((9, 6), 30.0)
    cal = calibrate_camera([board] * 14, left_corners, (640, 480), **kw)
    K0 = np.eye(3) if flags & cv2.CALIB_FIX_ASPECT_RATIO else None
    rms, K, d, *_ = _opencv(left_corners, flags, K0)
    assert_allclose(cal.rms, rms, rtol=1e-6)
    assert_allclose(cal.camera_matrix, K, rtol=1e-6, atol=1e-12)
    assert_allclose(cal.dist_coeffs, d.ravel(), rtol=1e-5, atol=1e-8)


def test_intrinsic_guess_reaches_same_optimum(left_corners):
    board = chessboard_points((9, 6), 30.0)
    ref = calibrate_camera([board] * 14, left_corners, (640, 480))
    guess = np.array([[600.0, 0, 320], [0, 600, 240], [0, 0, 1]])
    cal = calibrate_camera([board] * 14, left_corners, (640, 480), intrinsic_guess=guess)
    assert_allclose(cal.camera_matrix, ref.camera_matrix, rtol=1e-7)
    cal2 = calibrate_camera([board] * 14, left_corners, (640, 480), intrinsic_guess=(guess, np.zeros(5)))
    assert_allclose(cal2.dist_coeffs, ref.dist_coeffs, rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- synthetic truth

def test_synthetic_exact_and_noisy_recovery():
    objs, imgs = _synthetic(8)
    cal = calibrate_camera(objs, imgs, (640, 480))
    assert_allclose(cal.camera_matrix, K_TRUE, atol=1e-6)
    assert_allclose(cal.dist_coeffs, D_TRUE, atol=1e-8)
    assert cal.rms < 1e-8
    objs, imgs = _synthetic(12, noise=0.1, seed=1)
    cal = calibrate_camera(objs, imgs, (640, 480))
    assert abs(cal.fx / K_TRUE[0, 0] - 1) < 1e-3 and abs(cal.fy / K_TRUE[1, 1] - 1) < 1e-3
    assert np.hypot(cal.cx - K_TRUE[0, 2], cal.cy - K_TRUE[1, 2]) < 1.0
    # the stated uncertainty is honest: the true values lie within 4 sigma
    z = (np.array([cal.fx, cal.fy, cal.cx, cal.cy]) - K_TRUE[[0, 1, 0, 1], [0, 1, 2, 2]]) / cal.std_intrinsics[:4]
    assert np.all(np.abs(z) < 4)
    assert 0.12 < cal.rms < 0.16  # sqrt(2) * 0.1: rms sums both coordinates


def test_skew_is_estimated():
    K = K_TRUE.copy()
    K[0, 1] = 1.5
    objs, imgs = _synthetic(6, K=K, d=np.zeros(5))
    cal = calibrate_camera(objs, imgs, (640, 480), estimate_skew=True)
    assert_allclose(cal.camera_matrix, K, atol=1e-5)


def test_degenerate_and_bad_inputs():
    board = chessboard_points((9, 6), 1.0)
    r, t = np.array([0.2, 0.1, 0.0]), np.array([-4.0, -2.5, 14.0])
    parallel = [project_points(board, r, t + [dx, dy, dz], K_TRUE) for dx, dy, dz in
                [(0, 0, 0), (1, 0, 2), (-1, 1, 4), (0.5, -1, 1)]]
    with pytest.raises(ValueError, match="parallel"):
        calibrate_camera([board] * 4, parallel, (640, 480))
    objs, imgs = _synthetic(3)
    with pytest.raises(ValueError, match="same number of views"):
        calibrate_camera(objs, imgs[:2], (640, 480))
    with pytest.raises(ValueError, match="same number of points"):
        calibrate_camera(objs, [imgs[0][:-1]] + imgs[1:], (640, 480))
    with pytest.raises(ValueError, match="planar"):
        bad = board.copy()
        bad[3, 2] = 1.0
        calibrate_camera([bad] * 3, imgs, (640, 480))
    with pytest.raises(ValueError, match="finite"):
        bad = imgs[0].copy()
        bad[0, 0] = np.nan
        calibrate_camera(objs, [bad] + imgs[1:], (640, 480))
    with pytest.raises(TypeError, match="image_size"):
        calibrate_camera(objs, imgs, 640)
    with pytest.raises(ValueError, match="at least 4"):
        calibrate_camera([board[:3]] * 3, [i[:3] for i in imgs], (640, 480))
    with pytest.raises(ValueError, match="skew"):
        calibrate_camera(objs, imgs, (640, 480), intrinsic_guess=[[800, 2, 320], [0, 800, 240], [0, 0, 1]])
    with pytest.raises(ValueError, match="camera_matrix|intrinsic_guess"):
        calibrate_camera(objs, imgs, (640, 480), intrinsic_guess=[[-800, 0, 320], [0, 800, 240], [0, 0, 1]])


def test_chessboard_points_order_and_validation():
    p = chessboard_points((4, 3), 2.0)
    assert p.shape == (12, 3)
    assert p[1].tolist() == [2.0, 0.0, 0.0] and p[4].tolist() == [0.0, 2.0, 0.0]
    assert_allclose(chessboard_points("4x3", 2.0), p)
    with pytest.raises(ValueError, match="inner corners"):
        chessboard_points((1, 3))
    with pytest.raises(ValueError, match="square_size"):
        chessboard_points((4, 3), -1)


# --------------------------------------------------------------------------- files

@pytest.fixture(scope="module")
def calibration():
    objs, imgs = _synthetic(5, noise=0.2, seed=3)
    cal = calibrate_camera(objs, imgs, (640, 480))
    return cal.replace(view_names=[f"view{i}.png" for i in range(5)], pattern_size=(9, 6), square_size=30.0,
                       unit="mm", skipped=[("blur.png", "no complete chessboard found"), ('odd "name".png', "x")])


@pytest.mark.parametrize("ext", ["json", "yml", "yaml"])
def test_save_load_round_trip_exact(tmp_path, calibration, ext):
    path = tmp_path / f"camera.{ext}"
    calibration.save(path)
    back = CameraCalibration.load(path)
    assert back == calibration                      # every saved attribute, bit for bit
    assert back.rms == calibration.rms and back.view_names == calibration.view_names
    assert back.flags["fix_k3"] is False
    assert back.pattern_size == (9, 6) and back.square_size == 30.0 and back.unit == "mm"
    assert back.skipped == calibration.skipped
    assert back.cvcore_version == calibration.cvcore_version and back.date == calibration.date
    assert back.object_points is None and back.warnings == []      # not saved


def test_calibrations_record_version_and_date(calibration):
    import re

    import cvcore

    assert calibration.cvcore_version == cvcore.__version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", calibration.date)


def test_yaml_is_read_by_opencv_filestorage(tmp_path, calibration):
    path = tmp_path / "camera.yml"
    calibration.save(path)
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    assert fs.isOpened()
    assert_allclose(fs.getNode("camera_matrix").mat(), calibration.camera_matrix, rtol=0, atol=0)
    assert_allclose(fs.getNode("distortion_coefficients").mat().ravel(), calibration.dist_coeffs, rtol=0, atol=0)
    assert fs.getNode("image_width").real() == 640
    assert fs.getNode("rms").real() == calibration.rms
    assert_allclose(fs.getNode("rvecs").mat(), calibration.rvecs, rtol=0, atol=0)
    assert fs.getNode("format").string() == "cvcore-camera-calibration" and fs.getNode("version").real() == 3
    assert (fs.getNode("board_width").real(), fs.getNode("board_height").real()) == (9, 6)
    assert fs.getNode("square_size").real() == 30.0 and fs.getNode("unit").string() == "mm"
    assert fs.getNode("date").string() == calibration.date
    names = fs.getNode("view_names")
    assert [names.at(i).string() for i in range(names.size())] == calibration.view_names
    skipped = fs.getNode("skipped_views")
    assert skipped.at(1).string() == 'odd "name".png'
    fs.release()


def _opencv_file(path, dist, **extra):
    """A camera written by cv2.FileStorage (YAML or XML by the extension), as OpenCV's sample writes it."""
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)
    for key, value in {"image_width": 640, "image_height": 480, "camera_matrix": K_TRUE,
                       "distortion_coefficients": dist, **extra}.items():
        fs.write(key, value)
    fs.release()
    return path


def test_load_opencv_written_yaml(tmp_path):
    path = _opencv_file(tmp_path / "cv.yml", D_TRUE.reshape(1, 5), avg_reprojection_error=0.25,
                        extrinsic_parameters=np.array([[0.1, 0.2, 0.3, 1.0, 2.0, 30.0]]),
                        image_points=np.zeros((1, 54, 2), np.float32))      # other nodes are left alone
    cal = CameraCalibration.load(path)
    assert_allclose(cal.camera_matrix, K_TRUE)
    assert_allclose(cal.dist_coeffs, D_TRUE)
    assert cal.image_size == (640, 480) and cal.n_views == 1 and cal.rms == 0.25
    assert_allclose(cal.tvecs, [[1.0, 2.0, 30.0]])
    assert cal.std_intrinsics is None and np.isnan(cal.intrinsics()["fx"][1])


def test_load_opencv_written_xml(tmp_path):
    cal = CameraCalibration.load(_opencv_file(tmp_path / "cv.xml", D_TRUE[:4].reshape(4, 1)))
    assert_allclose(cal.camera_matrix, K_TRUE, rtol=0, atol=0)
    assert_allclose(cal.dist_coeffs, [*D_TRUE[:4], 0.0], rtol=0, atol=0)
    assert cal.image_size == (640, 480) and cal.n_views == 0 and cal.rms is None


def test_load_real_opencv_xml_intrinsics(shared_data):
    # the Learning OpenCV 3 book's intrinsics.xml, written by cv::FileStorage
    cal = CameraCalibration.load(shared_data / "calib" / "learning_opencv3_12x12" / "birdseye" / "intrinsics.xml")
    assert cal.image_size == (1600, 1200)
    assert_allclose(cal.camera_matrix, [[1747.3845059199218, 0, 800], [0, 1752.3330232672765, 600], [0, 0, 1]])
    assert_allclose(cal.dist_coeffs, [0.10558825619798969, -1.2250501555283355, 0, 0, 4.230251436151784])


def test_load_previous_version_files(tmp_path, calibration):
    # version 1 (cvcore 0.1): format "cvcore.camera_calibration", NaN written as null / .nan
    v1 = {"format": "cvcore.camera_calibration", "version": 1, "image_size": [640, 480],
          "camera_matrix": calibration.camera_matrix.tolist(), "dist_coeffs": calibration.dist_coeffs.tolist(),
          "rms": None, "per_view_rms": [None] * 5, "rvecs": calibration.rvecs.tolist(),
          "tvecs": calibration.tvecs.tolist(), "std_intrinsics": calibration.std_intrinsics.tolist(),
          "std_extrinsics": calibration.std_extrinsics.tolist(), "intrinsic_names": list(CameraCalibration.intrinsic_names),
          "view_names": [], "flags": {"fix_k3": False}, "iterations": 7}
    p = tmp_path / "v1.json"
    p.write_text(json.dumps(v1))
    cal = CameraCalibration.load(p)
    assert_allclose(cal.camera_matrix, calibration.camera_matrix, rtol=0, atol=0)
    assert cal.rms is None and cal.per_view_rms is None and cal.iterations == 7 and cal.flags == {"fix_k3": False}
    y = tmp_path / "v1.yml"
    y.write_text('%YAML:1.0\n---\nformat: "cvcore.camera_calibration"\nversion: 1\nimage_width: 640\n'
                 'image_height: 480\ncamera_matrix: !!opencv-matrix\n   rows: 3\n   cols: 3\n   dt: d\n'
                 '   data: [ 800.0, 0.0, 320.0,\n       0.0, 800.0, 240.0,\n       0.0, 0.0, 1.0 ]\n'
                 'distortion_coefficients: !!opencv-matrix\n   rows: 1\n   cols: 5\n   dt: d\n'
                 '   data: [ -0.1, 0.0, 0.0,\n       0.0, 0.0 ]\nrms: .nan\niterations: 0\n'
                 'std_intrinsics: !!opencv-matrix\n   rows: 1\n   cols: 10\n   dt: d\n'
                 '   data: [ 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0 ]\nflag_fix_k3: 1\n')
    cal = CameraCalibration.load(y)
    assert cal.fx == 800.0 and cal.rms is None and cal.flags == {"fix_k3": True}


def _write(path, text):
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_load_rejects_foreign_and_corrupt_files(tmp_path, calibration):
    p = tmp_path / "x.json"
    good = {"format": "cvcore-camera-calibration", "version": 3, **calibration.to_dict()}
    cases = [
        ({"format": "something-else", "version": 1}, "not a cvcore camera calibration"),
        ({**good, "version": 99}, "version 99 is not supported"),
        ({**good, "version": 3.0}, "version must be an integer"),
        ({**good, "camera_matrix": [[1, 2], [3, 4]]}, "camera_matrix must have shape"),
        ({**good, "camera_matrix": [[800, 0, 320], [0, -1, 240], [0, 0, 1]]}, "positive focal"),
        ({**good, "dist_coeffs": [0.1, 0.2, 0.3]}, "4 or 5 coefficients"),
        ({**good, "dist_coeffs": ["0.1", 0, 0, 0, 0]}, "numbers only"),
        ({**good, "image_size": [640.5, 480]}, "must be an integer"),
        ({**good, "image_size": [True, 480]}, "must be an integer"),
        ({**good, "iterations": "7"}, "iterations must be an integer"),
        ({**good, "flags": {"fix_k3": "false"}}, "true or false"),
        ({**good, "rvecs": [[0, 0]] * 5}, "rvecs must have shape"),
        ({**good, "tvecs": good["tvecs"][:4]}, "same views"),
        ({**good, "per_view_rms": [1.0]}, "per_view_rms must have length 5"),
        ({**good, "view_names": [1, 2, 3, 4, 5]}, r"view_names\[0\] must be a string"),
        ({**good, "skipped": [["a"]]}, r"skipped\[0\]"),
        ({**good, "unit": "x" * 100}, "longer than 32"),
        ({k: v for k, v in good.items() if k != "rvecs"}, "missing field 'rvecs'"),
        ({**good, "rvecs": [[0.0, 0.0, 0.0]] * 1_000_000}, "more than"),
    ]
    for doc, match in cases:
        p.write_text(json.dumps(doc))
        with pytest.raises(ValueError, match=match):
            CameraCalibration.load(p)
    for text, match in [("{ not json", "not valid JSON"), ('{"format": NaN}', "not valid JSON"),
                        (json.dumps(good).replace("0.0", "NaN", 1), "not valid JSON"),
                        ('{"a": ' * 100 + "1" + "}" * 100, "nested"), (json.dumps(good)[:200], "not valid JSON")]:
        _write(p, text)
        with pytest.raises(ValueError, match=match):
            CameraCalibration.load(p)
    with pytest.raises(ValueError, match="not a camera calibration"):
        CameraCalibration.load(_write(tmp_path / "x.bin", b"\x89PNG\x00\xff\xfe"))
    with pytest.raises(FileNotFoundError):
        CameraCalibration.load(tmp_path / "missing.json")
    with pytest.raises(IsADirectoryError):
        CameraCalibration.load(tmp_path)


def test_load_rejects_hostile_yaml_and_xml(tmp_path, calibration):
    y = tmp_path / "x.yml"
    calibration.save(y)
    text = y.read_text()
    cases = [
        (text.replace("rows: 3", "rows: 4", 1), "holds 9 numbers, not rows x cols = 12"),
        (text.replace("rows: 3", "rows: 1000000000", 1), "declares 3000000000 elements"),
        (text.replace("rows: 3", "rows: -3", 1), "rows must be a non-negative integer"),
        (text.replace("dt: d", "dt: q", 1), "unsupported element type"),
        (text.replace("image_width: 640", "image_width: .nan"), "must be an integer"),
        (text.replace("image_width: 640", "image_width: &a 640"), "unsupported YAML construct"),
        (text.replace("image_width: 640", "image_width: !!python/object:os.system 640"), "unsupported YAML tag"),
        (text.replace("image_width: 640", "image_width: 640\nimage_width: 640"), "appears twice"),
        (text.replace("version: 3", "version: 4"), "version 4 is not supported"),
        (text.replace("format: ", "format: x").replace('x"cvcore', '"other'), "not a cvcore camera calibration"),
        (text[:text.index("distortion_coefficients")], "missing 'distortion_coefficients'"),
        (text.replace("   data: [ 8", "   data: [ .nan, 8").replace("rows: 3", "rows: 3", 1)
         .replace("cols: 3", "cols: 3", 1), "holds 10 numbers"),
        ("%YAML:1.0\n  indented: 1\n", "unexpected indentation"),
        ("%YAML:1.0\njust text\n", "expected 'key: value'"),
    ]
    nan_k = text.replace("data: [ ", "data: [ .nan, ", 1).replace("rows: 3\n   cols: 3", "rows: 1\n   cols: 10", 1)
    cases.append((nan_k, "camera_matrix must have shape|finite"))
    nan_rms = text.replace(f"rms: {calibration.rms!r}", "rms: .nan")
    cases.append((nan_rms, "rms must be finite"))
    for bad, match in cases:
        y.write_text(bad)
        with pytest.raises(ValueError, match=match):
            CameraCalibration.load(y)
    x = tmp_path / "x.xml"
    bomb = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><opencv_storage><unit>&c;</unit></opencv_storage>')
    for doc, match in [
        (bomb, "refused unsafe XML"),
        ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><opencv_storage>'
         '<unit>&e;</unit></opencv_storage>', "refused unsafe XML"),
        ("<opencv_storage><image_width>640", "not valid XML"),
        ("<other/>", "not an OpenCV FileStorage"),
        ('<opencv_storage><image_width>640</image_width><image_height>480</image_height><camera_matrix '
         'type_id="opencv-matrix"><rows>100000</rows><cols>100000</cols><dt>d</dt><data>1</data></camera_matrix>'
         '<distortion_coefficients type_id="opencv-matrix"><rows>1</rows><cols>4</cols><dt>d</dt>'
         '<data>0 0 0 0</data></distortion_coefficients></opencv_storage>', "declares 10000000000 elements"),
        ('<opencv_storage><image_width>640</image_width><image_height>480</image_height><camera_matrix '
         'type_id="opencv-matrix"><rows>3</rows><cols>3</cols><dt>d</dt><data>1 0 0 0 1 0 0 0 .Nan</data>'
         '</camera_matrix><distortion_coefficients type_id="opencv-matrix"><rows>1</rows><cols>4</cols><dt>d</dt>'
         '<data>0 0 0 0</data></distortion_coefficients></opencv_storage>', "finite"),
    ]:
        x.write_text(doc)
        with pytest.raises(ValueError, match=match):
            CameraCalibration.load(x)


def test_save_checks_the_output_path_first(tmp_path, calibration):
    with pytest.raises(IsADirectoryError):
        calibration.save(tmp_path)
    with pytest.raises(ValueError, match=r"must end in \.json or \.yml or \.yaml"):
        calibration.save(tmp_path / "cam.txt")
    with pytest.raises(ValueError, match=r"must end in \.json"):
        calibration.save(tmp_path / "cam.yml", format="json")
    with pytest.raises(ValueError, match="format must be one of"):
        calibration.save(tmp_path / "cam.json", format="xml")
    with pytest.raises(FileNotFoundError, match="folder does not exist"):
        calibration.save(tmp_path / "no" / "cam.json")
    assert not list(tmp_path.iterdir())
    path, fmt = CameraCalibration.output_format(tmp_path / "cam.YAML")
    assert fmt == "yaml" and path.endswith("cam.YAML")
    many = calibration.replace(rvecs=np.zeros((10_001, 3)), tvecs=np.ones((10_001, 3)), per_view_rms=None,
                               std_extrinsics=None, view_names=None)
    with pytest.raises(ValueError, match="at most 10000 views"):       # load would refuse it
        many.save(tmp_path / "many.json")


def test_constructor_validates_and_declares_every_attribute(calibration):
    from cvcore.calibration._assemble import ARGUMENTS

    args = {a: getattr(calibration, a) for a in ARGUMENTS}
    assert set(vars(calibration)) == set(ARGUMENTS)
    assert CameraCalibration(**args) == calibration
    for change, exc, match in [
        ({"camera_matrix": np.eye(2)}, ValueError, "camera_matrix"),
        ({"rms": float("nan")}, ValueError, "rms"),
        ({"rms": -1.0}, ValueError, "rms"),
        ({"per_view_rms": np.zeros(4)}, ValueError, "per_view_rms"),
        ({"std_intrinsics": np.full(10, np.nan)}, ValueError, "std_intrinsics"),
        ({"view_names": ["a"]}, ValueError, "view_names"),
        ({"flags": {"fix_k3": 1}}, TypeError, "flags"),
        ({"image_size": (0, 480)}, ValueError, "image_size"),
        ({"skipped": [("a", 1)]}, TypeError, r"skipped\[0\]\[1\]"),
        ({"object_points": [np.zeros((4, 3))]}, ValueError, "together"),
    ]:
        with pytest.raises(exc, match=match):
            calibration.replace(**change)
    with pytest.raises(TypeError, match="unknown"):
        calibration.replace(colour="red")


def test_schur_step_equals_dense_solve():
    from cvcore._ext import _calib

    lm, prob, q, poses = _lm_problem(4, 0.0)
    free = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 1], bool)
    T, *_ = lm.parametrisation(free, q)
    A = np.ascontiguousarray(T.T @ prob.U @ T)
    Wt = np.ascontiguousarray(np.einsum("im,vij->vmj", T, prob.W))
    gz = np.ascontiguousarray(T.T @ prob.gi)
    m, nv, lam = A.shape[0], 4, 1e-2
    dz, dp, Y = np.empty(m), np.empty((nv, 6)), np.empty((nv, 6, m))
    assert _calib.schur_step(A, Wt, prob.V, gz, prob.ge, lam, dz, dp, Y)
    n = m + 6 * nv
    J = np.zeros((n, n))
    J[:m, :m] = A
    for v in range(nv):
        s = slice(m + 6 * v, m + 6 * v + 6)
        J[:m, s] = Wt[v]
        J[s, :m] = Wt[v].T
        J[s, s] = prob.V[v]
    J += lam * np.diag(np.diag(J))
    full = np.linalg.solve(J, -np.concatenate([gz, prob.ge.ravel()]))
    np.testing.assert_allclose(np.concatenate([dz, dp.ravel()]), full, rtol=1e-7, atol=1e-12 * np.abs(full).max())


# --------------------------------------------------------------------------- properties

from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(f=st.floats(300, 2000), cx=st.floats(200, 440), cy=st.floats(150, 330), k1=st.floats(-0.4, 0.3),
       k2=st.floats(-0.1, 0.1), p1=st.floats(-0.003, 0.003), p2=st.floats(-0.003, 0.003),
       seed=st.integers(0, 2**31 - 1))
def test_undistort_inverts_projection(f, cx, cy, k1, k2, p1, p2, seed):
    K = np.array([[f, 0, cx], [0, f * 1.01, cy], [0, 0, 1]])
    d = [k1, k2, p1, p2, 0.0]
    xy = np.random.default_rng(seed).uniform(-0.4, 0.4, (30, 2))
    pix = project_points(np.c_[xy, np.ones(30)], np.zeros(3), np.zeros(3), K, d)
    np.testing.assert_allclose(undistort_points(pix, K, d), xy, atol=1e-9)
    ref = cv2.projectPoints(np.c_[xy, np.ones(30)], np.zeros(3), np.zeros(3), K, np.array(d))[0].reshape(-1, 2)
    np.testing.assert_allclose(pix, ref, atol=1e-8)


@settings(max_examples=15, deadline=None)
@given(f=st.floats(400, 1500), aspect=st.floats(0.95, 1.05), k1=st.floats(-0.3, 0.2), seed=st.integers(0, 1000))
def test_exact_data_is_recovered_exactly(f, aspect, k1, seed):
    K = np.array([[f * aspect, 0, 322.0], [0, f, 236.0], [0, 0, 1]])
    objs, imgs = _synthetic(6, seed=seed, K=K, d=np.array([k1, 0.05, 0.0005, -0.0003, 0.0]))
    cal = calibrate_camera(objs, imgs, (640, 480))
    np.testing.assert_allclose(cal.camera_matrix, K, rtol=1e-7)
    assert cal.rms < 1e-6


def test_zhang_functions_check_their_arguments():
    # regression: the public zhang functions took anything (and lm.Problem read past short arrays)
    from cvcore.calibration import zhang

    with pytest.raises(ValueError, match=r"homographies\[0\] must be a 3x3"):
        zhang.intrinsics_from_homographies([np.eye(2)], (640, 480))
    with pytest.raises(ValueError, match="singular"):
        zhang.pose_from_homography(np.zeros((3, 3)), K_TRUE)
    with pytest.raises(TypeError, match="estimate_skew"):
        zhang.intrinsics_from_homographies([np.eye(3)] * 3, (640, 480), estimate_skew=1)
    with pytest.raises(zhang.DegenerateViewsError, match="views"):
        zhang.intrinsics_from_homographies([np.eye(3)] * 3, (640, 480))
    board = chessboard_points((4, 3))
    with pytest.raises(ValueError, match="n_coeffs"):
        zhang.initial_radial_distortion([board], [board[:, :2]], K_TRUE, [[0, 0, 0]], [[0, 0, 5]], n_coeffs=4)
    with pytest.raises(ValueError, match="tvecs must hold one vector per view"):
        zhang.initial_radial_distortion([board], [board[:, :2]], K_TRUE, [[0, 0, 0]], [[0, 0, 5]] * 2)


def test_modules_share_internals_only_through_private_modules():
    # regression: calibration.images imported chessboard._grey, datasets called _ext directly
    import ast
    import importlib
    import pathlib

    import cvcore

    root = pathlib.Path(cvcore.__file__).parent
    files = sorted((root / "calibration").glob("*.py")) + [root / "datasets.py"]
    for f in files:
        package = "cvcore.calibration" if f.parent.name == "calibration" else "cvcore"
        for node in ast.walk(ast.parse(f.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level \
                else node.module
            for alias in node.names:
                if alias.name.startswith("_") and alias.name != "__version__":
                    # a private name is only fine when it is a module (made for sharing)
                    assert importlib.util.find_spec(f"{base}.{alias.name}") is not None, \
                        f"{f.name} imports the private name {alias.name} from {base}"
        if f.name == "datasets.py":
            assert "_ext" not in f.read_text()


def test_undistort_image_stops_on_ctrl_c(interrupt_check):
    # maps and remap run in row blocks: a 48-megapixel undistortion stops within the limit
    interrupt_check("""
import numpy as np
from cvcore.calibration import undistort_image
img = np.zeros((6000, 8000), np.float32)
K = [[5000, 0, 4000], [0, 5000, 3000], [0, 0, 1]]
print("READY", flush=True)
for _ in range(20):
    undistort_image(img, K, [-0.2, 0.1, 0, 0, 0])
""")


# --------------------------------------------------------------------------- robust refinement (issue 12)

def _corrupt(imgs, fraction, seed):
    """Move ``fraction`` of all corners by 5-20 px in random directions; returns the copies and the (view, point) set."""
    rng = np.random.default_rng(seed)
    out = [i.copy() for i in imgs]
    pairs = [(v, j) for v, i in enumerate(imgs) for j in range(len(i))]
    chosen = rng.choice(len(pairs), int(round(fraction * len(pairs))), replace=False)
    moved = set()
    for c in chosen:
        v, j = pairs[c]
        angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(5, 20)
        out[v][j] += length * np.array([np.cos(angle), np.sin(angle)])
        moved.add((v, j))
    return out, moved


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_robust_calibration_ignores_three_percent_gross_outliers(seed):
    objs, imgs = _synthetic(12, noise=0.2, seed=seed)
    clean = calibrate_camera(objs, imgs, (640, 480))
    bad, moved = _corrupt(imgs, 0.03, seed)
    plain = calibrate_camera(objs, bad, (640, 480))
    robust = calibrate_camera(objs, bad, (640, 480), robust=True)
    # every corrupted corner is reported, and few good ones with them
    dropped = set(map(tuple, robust.outliers.tolist()))
    assert moved <= dropped and len(dropped - moved) <= 0.01 * sum(len(i) for i in imgs)
    assert abs(robust.fx / clean.fx - 1) < 1e-3 and abs(robust.fy / clean.fy - 1) < 1e-3
    assert abs(robust.cx - clean.cx) < 1.0 and abs(robust.cy - clean.cy) < 1.0
    # the plain least squares is visibly pulled away (the test would catch a no-op)
    assert plain.rms > 3 * robust.rms
    assert plain.outliers is None and robust.rms < 0.3


def test_robust_on_clean_points_keeps_nearly_all_and_changes_little():
    objs, imgs = _synthetic(8, noise=0.2, seed=4)
    clean = calibrate_camera(objs, imgs, (640, 480))
    robust = calibrate_camera(objs, imgs, (640, 480), robust=True)
    assert len(robust.outliers) <= 0.005 * sum(len(i) for i in imgs)
    assert abs(robust.fx / clean.fx - 1) < 1e-3


def test_robust_refuses_a_view_of_mostly_outliers_and_validates():
    objs, imgs = _synthetic(6, noise=0.1, seed=5)
    bad = [i.copy() for i in imgs]
    bad[2] = bad[2] + np.random.default_rng(0).uniform(-30, 30, bad[2].shape)
    with pytest.raises(ValueError, match="view 2"):
        calibrate_camera(objs, bad, (640, 480), robust=True)
    with pytest.raises(TypeError, match="robust"):
        calibrate_camera(objs, imgs, (640, 480), robust="yes")


def test_outliers_attribute_is_validated_and_not_saved(tmp_path):
    objs, imgs = _synthetic(4, noise=0.1, seed=6)
    cal = calibrate_camera(objs, imgs, (640, 480), robust=True)
    assert cal.outliers.shape[1] == 2 and cal.outliers.dtype == np.intp
    with pytest.raises(ValueError, match="outliers"):
        cal.replace(outliers=[[0, 1, 2]])
    with pytest.raises(ValueError, match="outliers"):
        cal.replace(outliers=[[9, 0]])
    cal.save(tmp_path / "cam.json")
    assert CameraCalibration.load(tmp_path / "cam.json").outliers is None
