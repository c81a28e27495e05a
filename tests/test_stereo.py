"""Stereo calibration and rectification, against OpenCV on the same corners and against rendered truth."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from numpy.testing import assert_allclose

from cvcore import filters
from cvcore.calibration import (CameraCalibration, calibrate_camera, chessboard_points, find_chessboard_corners,
                                project_points, rodrigues)
from cvcore.calibration import _geometry, _render, _stereo
from cvcore.calibration.stereo import (StereoCalibration, rectify_points, remap, stereo_calibrate, stereo_rectify,
                                       stereo_rectify_maps)
from cvcore.io import imwrite

BOARD = chessboard_points((9, 6), 30.0)
SIZE = (640, 480)


# --------------------------------------------------------------------------- data

@pytest.fixture(scope="module")
def pairs(shared_data):
    """cvcore's corners on OpenCV's left/right samples, as float32 values (OpenCV computes in float32)."""
    folder = shared_data / "calib" / "opencv_left_right"
    left, right = [], []
    for i in range(1, 15):
        a = find_chessboard_corners(cv2.imread(str(folder / f"left{i:02d}.jpg"), 0), (9, 6))
        b = find_chessboard_corners(cv2.imread(str(folder / f"right{i:02d}.jpg"), 0), (9, 6))
        if a is not None and b is not None:
            left.append(a.astype(np.float32).astype(np.float64))
            right.append(b.astype(np.float32).astype(np.float64))
    assert len(left) >= 12
    return left, right


def _opencv(left, right, K1, d1, K2, d2, flags):
    f32 = [BOARD.astype(np.float32)] * len(left)
    out = cv2.stereoCalibrateExtended(f32, [p.astype(np.float32) for p in left], [p.astype(np.float32) for p in right],
                                      K1.copy(), d1.copy(), K2.copy(), d2.copy(), SIZE, None, None, flags=flags)
    names = ("rms", "K1", "d1", "K2", "d2", "R", "T", "E", "F", "rvecs", "tvecs", "per_view")
    return dict(zip(names, out))


def _relative(a, b):
    return np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b)


def _rig_views(n, rig_r, rig_t, K, d, random_state=0, noise=0.0):
    """Corners of ``n`` random board poses seen by two cameras ``K, d`` (the right one through the rig)."""
    rng = np.random.default_rng(random_state)
    Rr = rodrigues(rig_r)
    left, right, poses = [], [], []
    for _ in range(n):
        r = rng.normal(0, 0.35, 3)
        t = np.array([rng.uniform(-150, 0), rng.uniform(-110, -40), rng.uniform(550, 800)])
        poses.append((r, t))
        left.append(project_points(BOARD, r, t, K[0], d[0]) + rng.normal(0, noise, (54, 2)))
        right.append(project_points(BOARD, _geometry.rotation_to_rvec(Rr @ rodrigues(r)), Rr @ t + rig_t, K[1], d[1])
                     + rng.normal(0, noise, (54, 2)))
    return left, right, poses


K_LEFT = np.array([[540.0, 0, 325], [0, 538, 236], [0, 0, 1]])
K_RIGHT = np.array([[530.0, 0, 318], [0, 531, 245], [0, 0, 1]])
D_LEFT = np.array([-0.28, 0.09, 0.001, -0.0004, 0.0])
D_RIGHT = np.array([-0.27, 0.08, -0.0007, 0.0006, 0.0])
RIG_R, RIG_T = np.array([0.01, -0.03, 0.005]), np.array([-100.0, 1.5, 0.8])


def render_pair(pose, K, d, rig_r, rig_t, size=(320, 240), ss=2, blur=0.6, noise=1.5, rng=None):
    """Photo-like left and right views of the 9x6 board (30 mm) at ``pose`` in the left camera."""
    out = []
    Rr = rodrigues(rig_r)
    r, t = pose
    for k, (rv, tv) in enumerate(((r, t), (_geometry.rotation_to_rvec(Rr @ rodrigues(r)), Rr @ t + rig_t))):
        rays = _render.sample_rays(_geometry.intrinsics_vector(K[k], d[k]), size, ss)
        img = 0.1 + 0.8 * _render.render_board(rays, rv, tv, (9, 6), 30.0, 0.5, ss)
        img = filters.gaussian(img, blur) * 255 + rng.normal(0, noise, img.shape)
        out.append(np.clip(np.rint(img), 0, 255).astype(np.uint8))
    return out


# --------------------------------------------------------------------------- the solver's pieces

def test_composition_jacobian_matches_finite_differences(rng):
    rig = np.r_[rng.normal(0, 1, 3), rng.normal(0, 50, 3)]
    poses = np.c_[rng.normal(0, 1, (5, 3)), rng.normal(0, 300, (5, 3))]
    poses[0, :3] = [0.0, 0.0, 1e-9]          # the series near the identity
    poses[1, :3] = [np.pi - 1e-3, 0.0, 0.0]  # near a half turn
    _, Ms, Mp = _stereo.compose(rig, poses)
    h = 1e-6
    for k in range(6):
        e = np.zeros(6)
        e[k] = h
        fd = (_stereo.compose(rig + e, poses, False)[0] - _stereo.compose(rig - e, poses, False)[0]) / (2 * h)
        assert_allclose(Ms[:, :, k], fd, atol=2e-6 * (1 + np.abs(fd).max()))
        fd = (_stereo.compose(rig, poses + e, False)[0] - _stereo.compose(rig, poses - e, False)[0]) / (2 * h)
        assert_allclose(Mp[2:, :, k], fd[2:], atol=2e-6 * (1 + np.abs(fd).max()))


def test_standard_deviations_equal_dense_jacobian():
    K, d = (K_LEFT, K_RIGHT), (D_LEFT, D_RIGHT)
    left, right, _ = _rig_views(5, RIG_R, RIG_T, K, d, random_state=1, noise=0.2)
    st = stereo_calibrate([BOARD] * 5, left, right, SIZE, fix_intrinsics=False, fix_k3=True)
    # brute force: the residual vector's Jacobian by central differences over every free parameter
    free = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 0], bool)
    qL = _geometry.intrinsics_vector(st.left.camera_matrix, st.left.dist_coeffs)
    qR = _geometry.intrinsics_vector(st.right.camera_matrix, st.right.dist_coeffs)
    x0 = np.concatenate([qL[free], qR[free], st.rvec, st.T, np.c_[st.left.rvecs, st.left.tvecs].ravel()])
    nf = int(free.sum())

    def residuals(x):
        a, b = qL.copy(), qR.copy()
        a[free], b[free] = x[:nf], x[nf:2 * nf]
        rig = x[2 * nf:2 * nf + 6]
        poses = x[2 * nf + 6:].reshape(-1, 6)
        rp = _stereo.compose(rig, poses, False)[0]
        return np.concatenate([(_geometry.project(BOARD, p[:3], p[3:], a) - im).ravel() for p, im in zip(poses, left)]
                              + [(_geometry.project(BOARD, p[:3], p[3:], b) - im).ravel() for p, im in zip(rp, right)])

    J = np.empty((4 * 54 * 5, len(x0)))
    for k in range(len(x0)):
        h = 1e-6 * max(1.0, abs(x0[k]))
        e = np.zeros(len(x0))
        e[k] = h
        J[:, k] = (residuals(x0 + e) - residuals(x0 - e)) / (2 * h)
    r = residuals(x0)
    sigma2 = r @ r / (len(r) - len(x0))
    std = np.sqrt(np.diag(np.linalg.inv(J.T @ J)) * sigma2)
    assert_allclose(st.left.std_intrinsics[free], std[:nf], rtol=1e-4)
    assert_allclose(st.right.std_intrinsics[free], std[nf:2 * nf], rtol=1e-4)
    assert_allclose(st.std_rig, std[2 * nf:2 * nf + 6], rtol=1e-4)
    assert_allclose(st.left.std_extrinsics, std[2 * nf + 6:].reshape(-1, 6), rtol=1e-4)
    assert st.left.std_intrinsics[4] == 0 and st.left.std_intrinsics[9] == 0


def test_recovers_the_rig_from_exact_points():
    K, d = (K_LEFT, K_RIGHT), (D_LEFT, D_RIGHT)
    left, right, poses = _rig_views(6, RIG_R, RIG_T, K, d)
    st = stereo_calibrate([BOARD] * 6, left, right, SIZE, fix_intrinsics=False, fix_k3=True)
    assert_allclose(st.rvec, RIG_R, atol=1e-9)
    assert_allclose(st.T, RIG_T, atol=1e-7)
    assert_allclose(st.left.camera_matrix, K_LEFT, atol=1e-6)
    assert_allclose(st.right.dist_coeffs, D_RIGHT, atol=1e-9)
    assert_allclose(st.left.rvecs, [p[0] for p in poses], atol=1e-9)
    assert st.rms < 1e-6
    # the epipolar constraint holds for every matched pair
    xl = np.c_[left[0], np.ones(54)]
    xr = np.c_[right[0], np.ones(54)]
    ul = np.c_[_stereo.normalised(left[0], _geometry.intrinsics_vector(K_LEFT, D_LEFT)), np.ones(54)]
    ur = np.c_[_stereo.normalised(right[0], _geometry.intrinsics_vector(K_RIGHT, D_RIGHT)), np.ones(54)]
    assert np.abs(np.einsum("ni,ij,nj->n", ur, st.E, ul)).max() < 1e-9
    assert xl.shape == xr.shape


# --------------------------------------------------------------------------- against OpenCV, same corners

def test_fixed_intrinsics_equal_opencv(pairs):
    left, right = pairs
    n = len(left)
    cl = calibrate_camera([BOARD] * n, left, SIZE)
    cr = calibrate_camera([BOARD] * n, right, SIZE)
    st = stereo_calibrate([BOARD] * n, left, right, SIZE, left=cl, right=cr)
    cv = _opencv(left, right, cl.camera_matrix, cl.dist_coeffs, cr.camera_matrix, cr.dist_coeffs,
                 cv2.CALIB_FIX_INTRINSIC)
    assert_allclose(st.rms, cv["rms"], rtol=1e-9)
    assert_allclose(st.R, cv["R"], rtol=0, atol=1e-9)
    assert_allclose(st.T, cv["T"].ravel(), rtol=1e-6)
    assert _relative(st.E, cv["E"]) < 1e-6 and _relative(st.F, cv["F"]) < 1e-6
    assert_allclose(st.per_view_rms, cv["per_view"], rtol=1e-6)
    assert_allclose(st.left.rvecs, np.array(cv["rvecs"]).reshape(-1, 3), atol=1e-8)
    assert_allclose(st.left.tvecs, np.array(cv["tvecs"]).reshape(-1, 3), rtol=1e-6)
    assert_allclose(st.left.camera_matrix, cl.camera_matrix, rtol=0)      # fixed means fixed
    assert st.left.std_intrinsics is cl.std_intrinsics or np.array_equal(st.left.std_intrinsics, cl.std_intrinsics)
    assert st.std_rig.shape == (6,) and np.all(st.std_rig > 0)


D_RATIONAL = (np.array([0.1, -0.05, 0.001, -0.001, 0.01, 0.4, 0.05, 0.01]),
              np.array([0.12, -0.04, -0.0008, 0.0005, 0.008, 0.42, 0.04, 0.012]))


def test_rational_fixed_intrinsics_equal_opencv(tmp_path):
    views = _rig_views(12, RIG_R, RIG_T, (K_LEFT, K_RIGHT), D_RATIONAL, random_state=3, noise=0.1)[:2]
    left, right = ([p.astype(np.float32).astype(np.float64) for p in ps] for ps in views)   # OpenCV's float32
    objs = [BOARD] * 12
    cl = calibrate_camera(objs, left, SIZE, model="rational")
    cr = calibrate_camera(objs, right, SIZE, model="rational")
    st = stereo_calibrate(objs, left, right, SIZE, left=cl, right=cr, model="rational")
    cv = _opencv(left, right, cl.camera_matrix, cl.dist_coeffs, cr.camera_matrix, cr.dist_coeffs,
                 cv2.CALIB_FIX_INTRINSIC | cv2.CALIB_RATIONAL_MODEL)
    assert st.left.model == st.right.model == "rational"
    assert_allclose(st.rms, cv["rms"], rtol=1e-6)
    assert_allclose(st.R, cv["R"], rtol=0, atol=1e-6)
    assert _relative(st.T, cv["T"].ravel()) < 1e-6
    assert _relative(st.E, cv["E"]) < 1e-6 and _relative(st.F, cv["F"]) < 1e-6
    assert_allclose(st.per_view_rms, cv["per_view"], rtol=1e-6)
    assert_allclose(st.right.dist_coeffs, cr.dist_coeffs, rtol=0)          # fixed means fixed
    # the rig read as a pinhole one (k4..k6 dropped) is another rig: the model is used
    pin = _opencv(left, right, cl.camera_matrix, cl.dist_coeffs[:5], cr.camera_matrix, cr.dist_coeffs[:5],
                  cv2.CALIB_FIX_INTRINSIC)
    assert pin["rms"] > 10 * st.rms
    # refined jointly from the views alone, and kept through a file
    joint = stereo_calibrate(objs, left, right, SIZE, fix_intrinsics=False, model="rational")
    assert joint.rms <= st.rms * (1 + 1e-9) and np.all(np.abs(joint.T - RIG_T) < 4 * joint.std_rig[3:])
    joint.save(tmp_path / "rig.json")
    back = StereoCalibration.load(tmp_path / "rig.json")
    assert back.left.model == "rational" and np.array_equal(back.right.dist_coeffs, joint.right.dist_coeffs)
    # rectification through the true rational lenses (the fits' six radial terms, free on a lens this mild,
    # fold before the image's corners) against OpenCV's, and the rectified corners are row-aligned
    true = [CameraCalibration(K, d, [], [], None, None, None, None, SIZE, model="rational")
            for K, d in ((K_LEFT, D_RATIONAL[0]), (K_RIGHT, D_RATIONAL[1]))]
    rig = stereo_calibrate(objs, left, right, SIZE, left=true[0], right=true[1], model="rational")
    R1, R2, P1, P2, _ = stereo_rectify(rig)
    cv_rect = _cv_rectify(rig, None)
    assert_allclose(R1, cv_rect[0], atol=1e-12)
    assert_allclose(R2, cv_rect[1], atol=1e-12)
    assert P1[0, 0] == pytest.approx(cv_rect[2][0, 0], rel=1e-12)
    # the principal points centre the undistorted image corners: OpenCV inverts their distortion with 5
    # fixed-point steps, which on these lenses leaves them 10-30 px short (we invert it exactly), so
    # the principal points differ by less than OpenCV's own error there
    corners = np.array([[[0.0, 0.0]], [[639, 0]], [[0, 479]], [[639, 479]]])
    exact = [cv2.undistortPoints(corners, K, d, criteria=(cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 200, 1e-15))
             for K, d in ((K_LEFT, D_RATIONAL[0]), (K_RIGHT, D_RATIONAL[1]))]
    assert_allclose(_stereo.normalised(corners[:, 0], _geometry.intrinsics_vector(K_LEFT, D_RATIONAL[0])),
                    exact[0][:, 0], atol=1e-12)
    short = [np.abs(cv2.undistortPoints(corners, K, d) - e).max() * P1[0, 0]
             for (K, d), e in zip(((K_LEFT, D_RATIONAL[0]), (K_RIGHT, D_RATIONAL[1])), exact)]
    assert min(short) > 10 and np.abs(P1[:2, 2] - cv_rect[2][:2, 2]).max() < min(short) / 2
    rl = np.concatenate([rectify_points(p, rig.left, R1, P1) for p in left])
    rr = np.concatenate([rectify_points(p, rig.right, R2, P2) for p in right])
    assert np.abs(rl[:, 1] - rr[:, 1]).max() < 0.5


@pytest.mark.parametrize("guess", [False, True], ids=["flags0", "use_intrinsic_guess"])
def test_joint_refinement_equals_opencv(pairs, guess):
    left, right = pairs
    n = len(left)
    cl = calibrate_camera([BOARD] * n, left, SIZE)
    cr = calibrate_camera([BOARD] * n, right, SIZE)
    kw = {"left": cl, "right": cr} if guess else {}
    st = stereo_calibrate([BOARD] * n, left, right, SIZE, fix_intrinsics=False, **kw)
    cv = _opencv(left, right, cl.camera_matrix, cl.dist_coeffs, cr.camera_matrix, cr.dist_coeffs,
                 cv2.CALIB_USE_INTRINSIC_GUESS if guess else 0)
    assert_allclose(st.rms, cv["rms"], rtol=1e-9)
    assert st.rms <= cv["rms"]
    assert_allclose(st.left.camera_matrix, cv["K1"], rtol=1e-6)
    assert_allclose(st.right.camera_matrix, cv["K2"], rtol=1e-6)
    # OpenCV's solver stops while its gradient is ~1e-2 (ours ends at ~1e-8), so the flat directions
    # (k3 and the rig's rotation) agree to a thousandth of their standard deviations: 5e-5 relative for
    # the distortion, 3e-7 rad for the rotation, 1e-7 of the baseline
    for cam, d in ((st.left, cv["d1"]), (st.right, cv["d2"])):
        assert _relative(cam.dist_coeffs, d.ravel()) < 1e-4
        assert np.all(np.abs(cam.dist_coeffs - d.ravel()) < 1e-3 * cam.std_intrinsics[5:])
    assert_allclose(st.R, cv["R"], rtol=0, atol=1e-6)
    assert _relative(st.T, cv["T"].ravel()) < 1e-6
    assert np.all(np.abs(st.rvec - cv2.Rodrigues(cv["R"])[0].ravel()) < 1e-3 * st.std_rig[:3])
    assert _relative(st.E, cv["E"]) < 1e-6 and _relative(st.F, cv["F"]) < 1e-5
    assert_allclose(st.per_view_rms, cv["per_view"], rtol=1e-5)


def test_opencv_joint_result_is_not_yet_the_minimum(pairs):
    """Started at OpenCV's answer, the same solver moves to a strictly lower error and stops at ours."""
    left, right = pairs
    n = len(left)
    cl = calibrate_camera([BOARD] * n, left, SIZE)
    cr = calibrate_camera([BOARD] * n, right, SIZE)
    cv = _opencv(left, right, cl.camera_matrix, cl.dist_coeffs, cr.camera_matrix, cr.dist_coeffs,
                 cv2.CALIB_USE_INTRINSIC_GUESS)
    ours = stereo_calibrate([BOARD] * n, left, right, SIZE, fix_intrinsics=False, left=cl, right=cr)
    prob = _stereo.StereoProblem([BOARD] * n, left, right)
    qa = _geometry.intrinsics_vector(cv["K1"], cv["d1"].ravel())
    qb = _geometry.intrinsics_vector(cv["K2"], cv["d2"].ravel())
    rig = np.r_[cv2.Rodrigues(cv["R"])[0].ravel(), cv["T"].ravel()]
    poses = np.c_[np.array(cv["rvecs"]).reshape(-1, 3), np.array(cv["tvecs"]).reshape(-1, 3)]
    cost = prob.evaluate(qa, qb, rig, poses)
    assert_allclose(np.sqrt(cost / (2 * prob.n_points)), cv["rms"], rtol=1e-12)     # same error definition
    free = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 1], bool)
    *_, info = _stereo.levenberg_marquardt(prob, qa, qb, rig, poses, free, free)
    assert info["cost"] < cost
    assert_allclose(np.sqrt(info["cost"] / (2 * prob.n_points)), ours.rms, rtol=1e-12)


# --------------------------------------------------------------------------- rendered truth

def test_rendered_stereo_views_recover_the_rig():
    rng = np.random.default_rng(3)
    scale = np.diag([0.5, 0.5, 1.0])           # the cameras at 320x240
    K, d = (scale @ K_LEFT, scale @ K_RIGHT), (D_LEFT, D_RIGHT)
    _, _, poses = _rig_views(8, RIG_R, RIG_T, K, d, random_state=5)
    left, right = [], []
    for pose in poses:
        a, b = render_pair(pose, K, d, RIG_R, RIG_T, rng=rng)
        ca, cb = find_chessboard_corners(a, (9, 6)), find_chessboard_corners(b, (9, 6))
        if ca is not None and cb is not None:
            left.append(ca)
            right.append(cb)
    assert len(left) >= 6
    n = len(left)
    st = stereo_calibrate([BOARD] * n, left, right, (320, 240), fix_intrinsics=False, fix_k3=True)
    assert st.rms < 0.2
    assert np.all(np.abs(st.T - RIG_T) < 4 * st.std_rig[3:] + 0.05)
    assert np.all(np.abs(st.rvec - RIG_R) < 4 * st.std_rig[:3] + 1e-4)
    assert abs(st.baseline / np.linalg.norm(RIG_T) - 1) < 0.005


# --------------------------------------------------------------------------- rectification

@pytest.fixture(scope="module")
def rig(pairs):
    left, right = pairs
    return stereo_calibrate([BOARD] * len(left), left, right, SIZE)


def _cv_rectify(st, alpha, zero_disparity=True, new_size=(0, 0)):
    return cv2.stereoRectify(st.left.camera_matrix, st.left.dist_coeffs, st.right.camera_matrix, st.right.dist_coeffs,
                             SIZE, st.R, st.T.reshape(3, 1),
                             flags=cv2.CALIB_ZERO_DISPARITY if zero_disparity else 0,
                             alpha=-1 if alpha is None else alpha, newImageSize=new_size)


@pytest.mark.parametrize("alpha", [None, 0.0, 0.3, 1.0])
@pytest.mark.parametrize("zero_disparity", [True, False])
@pytest.mark.parametrize("new_size, distortion", [(None, 0.0), ((800, 500), 0.0), (None, 0.15)],
                         ids=["pinhole", "pinhole-resized", "mild-distortion"])
def test_rectify_equals_opencv(rig, alpha, zero_disparity, new_size, distortion):
    """Without distortion, or with distortion mild enough for OpenCV's 5 fixed-point steps to converge."""
    st = StereoCalibration(rig.left.replace(dist_coeffs=distortion * rig.left.dist_coeffs),
                           rig.right.replace(dist_coeffs=distortion * rig.right.dist_coeffs), rig.R, rig.T)
    ours = stereo_rectify(st, alpha, zero_disparity=zero_disparity, new_image_size=new_size)
    cv = _cv_rectify(st, alpha, zero_disparity, new_size or (0, 0))
    assert_allclose(ours[0], cv[0], atol=1e-12)
    assert_allclose(ours[1], cv[1], atol=1e-12)
    for a, b in zip(ours[2:], cv[2:5]):       # OpenCV undistorts the image corners in float32
        assert_allclose(a, b, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("T", [[1.5, -100.0, 0.8], [-2.0, 80.0, 5.0], [100.0, 1.0, 1.0]],
                         ids=["vertical-down", "vertical-up", "right-camera-on-the-left"])
@pytest.mark.parametrize("alpha", [None, 0.0, 1.0])
def test_rectify_other_rigs_equal_opencv(T, alpha):
    R = rodrigues([0.02, -0.01, 0.03])
    d = 0.1 * D_LEFT
    cams = [CameraCalibration(K, d, [], [], None, None, None, None, SIZE) for K in (K_LEFT, K_RIGHT)]
    ours = stereo_rectify(StereoCalibration(cams[0], cams[1], R, T), alpha)
    cv = cv2.stereoRectify(K_LEFT, d, K_RIGHT, d, SIZE, R, np.array(T).reshape(3, 1), flags=cv2.CALIB_ZERO_DISPARITY,
                           alpha=-1 if alpha is None else alpha)
    for a, b in zip(ours, cv[:5]):
        assert_allclose(a, b, rtol=1e-6, atol=1e-4)


def test_rectify_with_distortion_close_to_opencv(rig):
    ours = stereo_rectify(rig)
    cv = _cv_rectify(rig, None)
    assert_allclose(ours[0], cv[0], atol=1e-12)
    assert_allclose(ours[1], cv[1], atol=1e-12)
    # OpenCV inverts the distortion of the image corners with 5 fixed-point steps; we invert it exactly,
    # which moves the principal points by a tenth of a pixel on these strongly distorted lenses
    assert np.abs(ours[2] - cv[2]).max() < 0.2
    for alpha in (0.0, 1.0):      # the same through the scaling (OpenCV's border is bent the same way)
        ours, cv = stereo_rectify(rig, alpha)[2], _cv_rectify(rig, alpha)[2]
        assert abs(ours[0, 0] / cv[0, 0] - 1) < 3e-3 and np.abs(ours[:2, 2] - cv[:2, 2]).max() < 0.2
    exact = cv2.undistortPoints(np.array([[[0.0, 0.0]]]), rig.left.camera_matrix, rig.left.dist_coeffs,
                                criteria=(cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 200, 1e-15))
    ours_corner = _stereo.normalised(np.zeros((1, 2)), _geometry.intrinsics_vector(rig.left.camera_matrix,
                                                                                   rig.left.dist_coeffs))
    assert_allclose(ours_corner, exact.reshape(1, 2), atol=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_rectify_alpha_keeps_what_it_promises(rig, alpha):
    R1, R2, P1, P2, Q = stereo_rectify(rig, alpha)
    w, h = SIZE
    for cam, R, P, maps in ((rig.left, R1, P1, stereo_rectify_maps(rig, (R1, R2, P1, P2, Q))[0]),
                            (rig.right, R2, P2, stereo_rectify_maps(rig, (R1, R2, P1, P2, Q))[1])):
        mx, my = maps
        inside = (mx >= -0.5) & (mx <= w - 0.5) & (my >= -0.5) & (my <= h - 0.5)
        if alpha == 0.0:      # every rectified pixel comes from the image
            assert inside.mean() > 0.999
        grid = np.stack(np.meshgrid(np.arange(0, w, 4.0), np.arange(0, h, 4.0)), axis=-1).reshape(-1, 2)
        p = rectify_points(grid, cam, R, P)
        kept = np.all((p >= -0.5) & (p <= np.array([w, h]) - 0.5), axis=1).mean()
        if alpha == 1.0:      # (nearly) every source pixel lands in the rectified image: OpenCV's rule
            assert kept > 0.995   # samples the border at 7 points a side, so the corners may stick out


def test_rectify_maps_equal_opencv(rig):
    r = stereo_rectify(rig, 0.3, new_image_size=(500, 400))
    (lx, ly), (rx, ry) = stereo_rectify_maps(rig, r, new_image_size=(500, 400))
    for cam, R, P, mx, my in ((rig.left, r[0], r[2], lx, ly), (rig.right, r[1], r[3], rx, ry)):
        cx, cy = cv2.initUndistortRectifyMap(cam.camera_matrix, cam.dist_coeffs, R, P, (500, 400), cv2.CV_32FC1)
        assert mx.shape == (400, 500)
        assert np.abs(mx - cx).max() < 1e-3 and np.abs(my - cy).max() < 1e-3


def test_rectified_corners_have_sub_pixel_vertical_disparity(rig, pairs):
    left, right = pairs
    R1, R2, P1, P2, _ = stereo_rectify(rig, 0.0)
    dy = np.concatenate([rectify_points(a, rig.left, R1, P1)[:, 1] - rectify_points(b, rig.right, R2, P2)[:, 1]
                         for a, b in zip(left, right)])
    assert np.median(np.abs(dy)) < 0.2
    assert np.percentile(np.abs(dy), 95) < 0.7
    # the same through the images: remap both, find the board again, compare rows
    folder_pairs = [(a, b) for a, b in zip(left, right)][:1]
    assert folder_pairs


def test_remapped_images_are_row_aligned(rig, shared_data):
    folder = shared_data / "calib" / "opencv_left_right"
    a, b = cv2.imread(str(folder / "left03.jpg"), 0), cv2.imread(str(folder / "right03.jpg"), 0)
    r = stereo_rectify(rig, 0.0)
    (lx, ly), (rx, ry) = stereo_rectify_maps(rig, r)
    ra, rb = remap(a, lx, ly), remap(b, rx, ry)
    assert np.abs(ra.astype(int) - cv2.remap(a, lx, ly, cv2.INTER_LINEAR).astype(int)).max() <= 1
    ca, cb = find_chessboard_corners(ra, (9, 6)), find_chessboard_corners(rb, (9, 6))
    assert ca is not None and cb is not None
    assert np.abs(ca[:, 1] - cb[:, 1]).mean() < 0.3


# --------------------------------------------------------------------------- files

def test_json_round_trip_and_validation(rig, tmp_path):
    path = tmp_path / "stereo.json"
    rig.save(path)
    back = StereoCalibration.load(path)
    assert back == rig
    assert_allclose(back.R, rig.R, rtol=0, atol=0) and back.left == rig.left
    doc = json.loads(path.read_text())
    assert doc["format"] == "cvcore-stereo-calibration" and doc["version"] == 1
    assert doc["left"]["format"] == "cvcore-camera-calibration"
    for change, match in [(("version", 2), "version 2 is not supported"),
                          (("format", "cvcore-camera-calibration"), "not a cvcore-stereo-calibration"),
                          (("T", [0, 0, 0]), "T must not be zero"),
                          (("R", [[1, 0, 0], [0, 1, 0], [0, 0, 2]]), "rotation matrix"),
                          (("per_view_rms", [[0.1, 0.2]]), "per_view_rms"),
                          (("fix_intrinsics", "yes"), "true or false")]:
        bad = dict(doc)
        bad[change[0]] = change[1]
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=match):
            StereoCalibration.load(tmp_path / "bad.json")
    bad = json.loads(path.read_text())
    bad["left"]["camera_matrix"][0][0] = -5
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="bad.json"):
        StereoCalibration.load(tmp_path / "bad.json")
    (tmp_path / "nan.json").write_text(path.read_text().replace('"rms": 0.', '"rms": NaN, "x": 0.', 1))
    with pytest.raises(ValueError):
        StereoCalibration.load(tmp_path / "nan.json")
    with pytest.raises(FileNotFoundError):
        StereoCalibration.load(tmp_path / "missing.json")


def test_yaml_is_read_by_opencv(rig, tmp_path):
    path = tmp_path / "stereo.yml"
    rig.save(path, alpha=0.0)
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    assert_allclose(fs.getNode("M1").mat(), rig.left.camera_matrix, rtol=0)
    assert_allclose(fs.getNode("T").mat().ravel(), rig.T, rtol=0)
    for name, value in zip(("R1", "R2", "P1", "P2", "Q"), stereo_rectify(rig, 0.0)):
        assert_allclose(fs.getNode(name).mat(), value, rtol=0)
    fs.release()
    back = StereoCalibration.load(path)           # the cameras and the rig, exactly
    assert back.left.camera_matrix.tolist() == rig.left.camera_matrix.tolist() and back.rms == rig.rms
    assert back.R.tolist() == rig.R.tolist() and back.T.tolist() == rig.T.tolist()
    path.write_text(path.read_text().replace("M2:", "N2:"))
    with pytest.raises(ValueError, match="missing M2"):
        StereoCalibration.load(path)


# --------------------------------------------------------------------------- refusals

def test_bad_arguments_are_refused_with_clear_messages():
    K, d = (K_LEFT, K_RIGHT), (D_LEFT, D_RIGHT)
    left, right, _ = _rig_views(4, RIG_R, RIG_T, K, d)
    objs = [BOARD] * 4
    with pytest.raises(ValueError, match="model 'fisheye' is not supported"):
        stereo_calibrate(objs, left, right, SIZE, model="fisheye")
    pinhole = calibrate_camera(objs, left, SIZE)
    with pytest.raises(ValueError, match="left uses the 'pinhole' lens model but model is 'rational'"):
        stereo_calibrate(objs, left, right, SIZE, left=pinhole, model="rational")
    with pytest.raises(ValueError, match="model must be one of"):
        stereo_calibrate(objs, left, right, SIZE, model="tele")
    with pytest.raises(ValueError, match="same number of views"):
        stereo_calibrate(objs, left, right[:3], SIZE)
    with pytest.raises(ValueError, match=r"object_points\[1\] and image_points_right\[1\]"):
        stereo_calibrate(objs, left, [right[0], right[1][:50]] + right[2:], SIZE)
    with pytest.raises(ValueError, match="planar"):
        stereo_calibrate([BOARD + [0, 0, 1]] * 4, left, right, SIZE, left=None)
    cam = calibrate_camera(objs, left, SIZE)
    with pytest.raises(ValueError, match="image_size"):
        stereo_calibrate(objs, left, right, (320, 240), left=cam)
    with pytest.raises(TypeError, match="left must be a CameraCalibration"):
        stereo_calibrate(objs, left, right, SIZE, left=np.eye(3))
    with pytest.raises(TypeError, match="fix_intrinsics"):
        stereo_calibrate(objs, left, right, SIZE, fix_intrinsics=1)
    with pytest.raises(ValueError, match="view_names"):
        stereo_calibrate(objs, left, right, SIZE, view_names=["a"])
    with pytest.raises(ValueError, match="too few points"):
        stereo_calibrate([BOARD[:4]], [left[0][:4]], [right[0][:4]], SIZE, left=cam, right=cam, fix_intrinsics=False)
    with pytest.raises(ValueError, match="same place"):
        stereo_calibrate(objs, left, left, SIZE)
    with pytest.raises(ValueError, match="do not fit one rigid rig"):
        stereo_calibrate(objs, left, right[1:] + right[:1], SIZE, fix_k3=True)
    st = stereo_calibrate(objs, left, right, SIZE, left=cam, right=calibrate_camera(objs, right, SIZE))
    with pytest.raises(ValueError, match="alpha"):
        stereo_rectify(st, alpha=2)
    with pytest.raises(TypeError, match="stereo must be a StereoCalibration"):
        stereo_rectify(cam)
    with pytest.raises(ValueError, match="P1"):
        stereo_rectify_maps(st, (np.eye(3), np.eye(3), np.zeros((3, 4)), np.zeros((3, 4)), None))
    with pytest.raises(ValueError, match="map_x and map_y"):
        remap(np.zeros((4, 4)), np.zeros((2, 2)), np.zeros((2, 3)))


# --------------------------------------------------------------------------- the command line

@pytest.fixture
def cli(monkeypatch, capsys):
    """``cvcore calibrate-stereo ...`` in this process: (exit status, stdout, stderr)."""
    from cvcore import cli as cli_module

    monkeypatch.setitem(cli_module.COMMANDS, "calibrate-stereo", "calibrate_stereo")   # until cli.py registers it

    def run(*argv):
        code = cli_module.main(["calibrate-stereo", *map(str, argv)])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_cli_calibrates_opencv_pairs(cli, shared_data, tmp_path):
    folder = shared_data / "calib" / "opencv_left_right"
    code, out, err = cli(folder / "left*.jpg", "--right", folder / "right*.jpg", "--pattern", "9x6", "--square", "30mm",
                         "--out", tmp_path / "s.json", "--yaml", tmp_path / "s.yml", "--report", tmp_path / "s.png",
                         "--alpha", "0")
    assert code == 0, err
    assert "14 pairs (matched by name)" in out
    assert "skipped left13.jpg + right13.jpg: right:" in out
    assert "warning: left02.jpg + right02.jpg fits worse than the other pairs" in err
    assert "baseline |T| = 100.0" in out and "mm +/- 0.0" in out
    st = StereoCalibration.load(tmp_path / "s.json")
    assert st.n_views == 13 and st.left.unit == "mm" and st.left.view_names[0] == "left01.jpg + right01.jpg"
    assert st.right.skipped[0][0] == "left13.jpg + right13.jpg" and st.right.pattern_size == (9, 6)
    assert abs(st.baseline - 100) < 1
    report = cv2.imread(str(tmp_path / "s.png"))
    assert report.shape == (480 + 24, 1280, 3)
    assert cv2.FileStorage(str(tmp_path / "s.yml"), cv2.FILE_STORAGE_READ).getNode("P2").mat().shape == (3, 4)


def test_cli_reject_leaves_out_the_pair_that_fits_worst(cli, shared_data, tmp_path):
    folder = shared_data / "calib" / "opencv_left_right"
    code, out, err = cli(folder, "--right", folder / "right*.jpg", "--pattern", "9x6", "--square", "30mm", "--reject",
                         "--out", tmp_path / "s.json")
    assert code == 2 and "28 left and 14 right images" in err    # a folder of both cameras' images is refused
    code, out, err = cli(folder / "left*.jpg", "--right", folder / "right*.jpg", "--pattern", "9x6", "--square",
                         "30mm", "--reject", "--out", tmp_path / "s.json")
    assert code == 0, err
    assert "rejected left02.jpg + right02.jpg: outlier" in out and "warning" not in err
    st = StereoCalibration.load(tmp_path / "s.json")
    assert st.n_views == 12 and st.rms < 0.3
    assert [name for name, _ in st.left.skipped] == ["left13.jpg + right13.jpg", "left02.jpg + right02.jpg"]


def test_cli_pairs_rendered_views_by_order_and_skips_a_pair_without_board(cli, tmp_path):
    rng = np.random.default_rng(7)
    scale = np.diag([0.5, 0.5, 1.0])
    K, d = (scale @ K_LEFT, scale @ K_RIGHT), (D_LEFT, D_RIGHT)
    _, _, poses = _rig_views(5, RIG_R, RIG_T, K, d, random_state=5)
    for i, pose in enumerate(poses):
        a, b = render_pair(pose, K, d, RIG_R, RIG_T, rng=rng)
        if i == 2:
            b = np.full_like(b, 128)                     # the right camera missed the board
        imwrite(tmp_path / f"a_{i}.png", a)
        imwrite(tmp_path / f"b_{i}.png", b)
    left = [tmp_path / f"a_{i}.png" for i in range(5)]
    right = [tmp_path / f"b_{i}.png" for i in range(5)]
    code, out, err = cli(*left, "--right", *right, "--pattern", "9x6", "--square", "30", "--refine-intrinsics",
                         "--fix-k3", "--out", tmp_path / "rig.json")
    assert code == 0, err
    assert "5 pairs (matched by order)" in out
    assert "skipped a_2.png + b_2.png: right: no chessboard" in out
    st = StereoCalibration.load(tmp_path / "rig.json")
    assert st.n_views == 4 and not st.fix_intrinsics
    assert np.all(np.abs(st.T - RIG_T) < 4 * st.std_rig[3:] + 0.1)


@pytest.mark.parametrize("argv, message", [
    (["a.png", "--right", "b.png", "c.png", "--pattern", "9x6"], "no such image file"),
    (["--right", "b.png", "--pattern", "9x6"], "error"),
    (["{d}/l*.png", "--right", "{d}/r0.png", "--pattern", "9x6"], "2 left and 1 right images"),
    (["{d}/l*.png", "--right", "{d}/r*.png", "--pattern", "9x6", "--pair-by", "name"], "do not pair up"),
    (["{d}/l*.png", "--right", "{d}/r*.png"], "--pattern is required"),
    (["{d}/l*.png", "--right", "{d}/r*.png", "--pattern", "9x6", "--out", "{d}"], "--out"),
    (["{d}/l*.png", "--right", "{d}/r*.png", "--pattern", "9x6", "--alpha", "2"], "--alpha must be"),
    (["{d}/l*.png", "--right", "{d}/r*.png", "--pattern", "9x6"], "at least 3 are needed"),
    (["{d}/l*.png", "--right", "{d}/r*.png", "--pattern", "9x6", "--report", "{d}/l0.png"], "would overwrite LEFT"),
])
def test_cli_bad_input_is_one_line_and_exit_2(cli, tmp_path, argv, message):
    for name in ("l0.png", "l1.png", "r0.png", "rx.png"):
        imwrite(tmp_path / name, np.full((64, 64), 200, np.uint8))
    code, out, err = cli(*[a.format(d=tmp_path) for a in argv])
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_pairing_by_name_ignores_the_side_marker():
    from cvcore._commands.calibrate_stereo import pair_files

    pairs, how = pair_files(["x/left02.png", "x/left01.png"], ["y/right01.png", "y/right02.png"], "auto")
    assert how == "name" and pairs == [("x/left01.png", "y/right01.png"), ("x/left02.png", "y/right02.png")]
    pairs, how = pair_files(["cam_L_1.png"], ["cam_R_1.png"], "name")
    assert pairs == [("cam_L_1.png", "cam_R_1.png")]
    assert pair_files(["p.png", "q.png"], ["s.png", "t.png"], "auto")[1] == "order"


@pytest.mark.parametrize("seed", range(6))
def test_garbage_points_are_refused_or_calibrated_never_a_crash(seed):
    rng = np.random.default_rng(seed)
    board = chessboard_points((4, 3), 1.0)
    n = int(rng.integers(1, 5))
    make = [lambda: rng.uniform(0, 640, (12, 2)), lambda: rng.uniform(0, 1e-9, (12, 2)),
            lambda: np.tile(rng.uniform(0, 640, (1, 2)), (12, 1)), lambda: rng.normal(320, 1e6, (12, 2))][seed % 4]
    left, right = [make() for _ in range(n)], [make() for _ in range(n)]
    cam = CameraCalibration([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]], rng.normal(0, 0.3, 5), [], [], None, None,
                            None, None, SIZE)
    for kw in ({}, {"left": cam, "right": cam}, {"left": cam, "right": cam, "fix_intrinsics": False}):
        try:
            st = stereo_calibrate([board] * n, left, right, SIZE, **kw)
        except ValueError:
            continue
        assert np.isfinite(st.rms) and st.baseline > 0
