"""Chessboard detector vs cv2.findChessboardCorners + cv2.cornerSubPix, and vs rendered truth."""
import cv2
import numpy as np
import pytest

from cvcore.calibration import calibrate_camera, find_chessboard_corners
from cvcore.calibration.chessboard import detect_chessboard_grid
from cvcore.datasets import synthetic_chessboard_views

CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 30, 1e-3)


def _opencv(grey, pattern):
    ok, c = cv2.findChessboardCorners(grey, pattern)
    if not ok:
        return None
    return cv2.cornerSubPix(grey, c, (11, 11), (-1, -1), CRITERIA).reshape(-1, 2)


def _rms(a, b):
    return float(np.sqrt(np.mean(np.sum((a - b) ** 2, axis=1))))


def _check_real_set(files, pattern):
    assert files
    for f in files:
        grey = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        ref = _opencv(grey, pattern)
        ours = find_chessboard_corners(grey, pattern)
        assert (ours is None) == (ref is None), f"{f.name}: detected by one detector only"
        if ref is not None:
            assert ours.shape == (pattern[0] * pattern[1], 2) and ours.dtype == np.float64
            assert _rms(ours, ref) < 0.05, f"{f.name}: {_rms(ours, ref):.4f} px RMS from OpenCV"


def test_left_images_match_opencv(shared_data):
    files = sorted((shared_data / "calib" / "opencv_left_right").glob("left*.jpg"))
    assert len(files) == 14
    _check_real_set(files, (9, 6))


def test_learning_opencv_12x12_match_opencv(shared_data):
    # 1600x1200 photos, three of them portrait; a square board (OpenCV's start corner reproduced)
    files = sorted((shared_data / "calib" / "learning_opencv3_12x12" / "calibration").glob("*.jpg"))
    assert len(files) == 23
    _check_real_set(files, (12, 12))


def test_rgb_input_and_float_input_agree(shared_data):
    path = shared_data / "calib" / "opencv_left_right" / "left03.jpg"
    grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    a = find_chessboard_corners(grey, (9, 6))
    b = find_chessboard_corners(rgb, (9, 6))
    c = find_chessboard_corners(grey / 255.0, (9, 6))
    np.testing.assert_allclose(a, b, atol=1e-3)
    np.testing.assert_allclose(a, c, atol=1e-3)


@pytest.fixture(scope="module")
def views():
    return synthetic_chessboard_views(10, random_state=7)


def test_synthetic_corners_close_to_truth(views):
    for img, truth in zip(views.images, views.image_points):
        ours = find_chessboard_corners(img, views.pattern_size)
        assert ours is not None
        assert _rms(ours, truth) < 0.08
        raw = find_chessboard_corners(img, views.pattern_size, subpixel=False)
        assert _rms(raw, truth) < 0.6


def test_synthetic_calibration_recovers_camera(views):
    found = [find_chessboard_corners(img, views.pattern_size) for img in views.images]
    cal = calibrate_camera([views.object_points] * len(found), found, views.image_size)
    K = views.camera_matrix
    assert abs(cal.fx / K[0, 0] - 1) < 1e-3 and abs(cal.fy / K[1, 1] - 1) < 1e-3
    assert np.hypot(cal.cx - K[0, 2], cal.cy - K[1, 2]) < 1.0
    assert cal.rms < 0.1


@pytest.mark.parametrize("name, kw", [
    ("strong tilt", dict(max_tilt=65)),
    ("strong distortion", dict(dist_coeffs=[-0.42, 0.2, 0, 0, -0.04])),
    ("heavy blur", dict(blur=2.5)),
    ("noise", dict(noise=8)),
    ("uneven light", dict(uneven_light=0.8)),
    ("everything", dict(max_tilt=55, blur=1.8, noise=5, uneven_light=0.6, dist_coeffs=[-0.35, 0.12, 0, 0, 0])),
])
def test_robust_to_photographic_conditions(name, kw):
    v = synthetic_chessboard_views(4, random_state=3, image_size=(640, 480), **kw)
    for img, truth in zip(v.images, v.image_points):
        ours = find_chessboard_corners(img, v.pattern_size)
        assert ours is not None, name
        assert _rms(ours, truth) < 0.25, name


@pytest.mark.parametrize("pattern", [(7, 7), (12, 12), (8, 6)])
def test_symmetric_boards_follow_the_conventions(pattern):
    v = synthetic_chessboard_views(3, random_state=4, pattern_size=pattern, image_size=(800, 600))
    cols, rows = pattern
    for img, truth in zip(v.images, v.image_points):
        ours = find_chessboard_corners(img, pattern)
        assert ours is not None
        # the same corners (the start corner of a symmetric board is a convention)
        d = np.hypot(*(ours[:, None, :] - truth[None, :, :]).transpose(2, 0, 1))
        assert d.min(axis=1).max() < 0.45 and np.sqrt(np.mean(d.min(axis=1) ** 2)) < 0.15
        G = ours.reshape(rows, cols, 2)
        dx, dy = G[0, 1] - G[0, 0], G[1, 0] - G[0, 0]
        assert dx[0] * dy[1] - dx[1] * dy[0] > 0          # clockwise in the image, as OpenCV
        if cols % 2 == 0 and rows % 2 == 0:
            assert G[-1, 0, 1] > G[0, 0, 1]               # OpenCV's rule for even x even


def test_first_inner_square_is_dark_like_opencv(views):
    img = views.images[0]
    ours = find_chessboard_corners(img, views.pattern_size)
    np.testing.assert_allclose(ours, views.image_points[0], atol=0.3)   # not the 180-degree turn
    ref = _opencv(img, views.pattern_size)
    assert _rms(ours, ref) < 0.05


def test_rejects_wrong_size_partial_and_empty(views):
    img = views.images[0]
    assert find_chessboard_corners(img, (8, 6)) is None
    assert find_chessboard_corners(img, (10, 6)) is None
    assert find_chessboard_corners(img, (9, 7)) is None
    swapped = find_chessboard_corners(img, (6, 9))                  # rows and columns swapped
    assert swapped is not None and swapped.shape == (54, 2)
    grid, info = detect_chessboard_grid(img)
    assert sorted(grid.shape[:2]) == [6, 9]
    xs = views.image_points[0][:, 0]
    cut = int((xs.min() + xs.max()) / 2)
    assert find_chessboard_corners(np.ascontiguousarray(img[:, :cut]), (9, 6)) is None
    two = np.hstack([img, views.images[1]])                         # two boards: ambiguous
    assert find_chessboard_corners(two, (9, 6)) is None
    assert find_chessboard_corners(np.hstack([img, np.full_like(img, 128)]), (9, 6)) is not None
    rng = np.random.default_rng(0)
    assert find_chessboard_corners((rng.random((480, 640)) * 255).astype(np.uint8), (9, 6)) is None
    assert find_chessboard_corners(np.full((480, 640), 128, np.uint8), (9, 6)) is None


def test_input_validation():
    img = np.zeros((100, 100), np.uint8)
    with pytest.raises(ValueError, match="inner corners"):
        find_chessboard_corners(img, (1, 6))
    with pytest.raises(TypeError, match="pattern_size"):
        find_chessboard_corners(img, 9)
    with pytest.raises(ValueError, match="2-D or 3-D"):
        find_chessboard_corners(np.zeros((2, 2, 2, 2)), (9, 6))
    with pytest.raises(ValueError, match="too small"):
        find_chessboard_corners(np.zeros((8, 8)), (3, 3))
    with pytest.raises(ValueError, match="finite"):
        bad = np.zeros((64, 64))
        bad[0, 0] = np.nan
        find_chessboard_corners(bad, (3, 3))
    assert find_chessboard_corners(img, "9x6") is None


def test_input_policy_scales_by_dtype_never_by_the_image_maximum(views):
    # regression: uint16 was divided by the image's own maximum and floats above 1 were
    # taken as 0..255, so one bright pixel or one float > 1 changed every other value
    from cvcore.calibration._detector import work_image

    img = views.images[0]
    np.testing.assert_array_equal(work_image(img), img.astype(np.float32))       # uint8: the grey levels
    np.testing.assert_array_equal(work_image(img.astype(np.uint16) * 257), img.astype(np.float32))
    dim = img.astype(np.uint16)                                                  # a dark 16-bit image
    bright = dim.copy()
    bright[0, 0] = 65535
    np.testing.assert_array_equal(work_image(dim)[1:], work_image(bright)[1:])
    np.testing.assert_allclose(work_image(dim), img / 257.0, rtol=1e-6)
    unit = img / 255.0
    np.testing.assert_allclose(work_image(unit * 2.0), 2.0 * work_image(unit), rtol=1e-6)
    rgb = np.repeat(img[:, :, None], 3, axis=2)
    np.testing.assert_array_equal(work_image(rgb), work_image(img))              # BT.601 grey of grey is grey
    # the detector does not care about the overall scale: the same corners on every version
    ref = find_chessboard_corners(img, views.pattern_size)
    for other in (dim, unit * 0.01, unit * 3.0, img.astype(np.int32), np.dstack([rgb, rgb[:, :, :1]])):
        np.testing.assert_allclose(find_chessboard_corners(other, views.pattern_size), ref, atol=1e-6)


def test_subpixel_must_be_a_bool():
    with pytest.raises(TypeError, match="subpixel"):
        find_chessboard_corners(np.zeros((64, 64), np.uint8), (3, 3), subpixel=1)
    with pytest.raises(ValueError, match="channels|shape"):
        find_chessboard_corners(np.zeros((64, 64, 2), np.uint8), (3, 3))


def test_pattern_needs_three_corners_per_side_like_opencv():
    # regression: (2, n) was accepted and could never be found (the grid grows from a 3x3 seed)
    with pytest.raises(ValueError, match=r"pattern_size\[0\].*>= 3"):
        find_chessboard_corners(np.zeros((64, 64), np.uint8), (2, 5))
    with pytest.raises(ValueError, match="too large for chessboard detection"):
        find_chessboard_corners(np.full((64, 64), 1e300), (3, 3))
