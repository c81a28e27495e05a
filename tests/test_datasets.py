"""cvcore.datasets: the synthetic chessboard renderer against its own truth and OpenCV's model."""
import cv2
import numpy as np
import pytest

from cvcore.datasets import synthetic_chessboard_views, synthetic_clutter_images


def test_deterministic_and_seed_dependent():
    a = synthetic_chessboard_views(2, image_size=(320, 240), random_state=11)
    b = synthetic_chessboard_views(2, image_size=(320, 240), random_state=11)
    c = synthetic_chessboard_views(2, image_size=(320, 240), random_state=12)
    for x, y in zip(a.images, b.images):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.images[0], c.images[0])
    np.testing.assert_array_equal(a.rvecs, b.rvecs)


def test_truth_is_consistent_with_opencv_projection():
    v = synthetic_chessboard_views(3, image_size=(400, 300), random_state=2)
    assert v.object_points.shape == (54, 3) and len(v.images) == 3
    for img, pts, r, t in zip(v.images, v.image_points, v.rvecs, v.tvecs):
        assert img.shape == (300, 400) and img.dtype == np.uint8
        ref = cv2.projectPoints(v.object_points, r, t, v.camera_matrix, v.dist_coeffs)[0].reshape(-1, 2)
        np.testing.assert_allclose(pts, ref, atol=1e-9)
        assert np.all((pts > 0) & (pts < [400, 300]))


def test_rendered_corners_sit_at_the_true_positions():
    # noise-free, blur-free rendering: OpenCV's own detector lands on the truth
    v = synthetic_chessboard_views(3, random_state=5, noise=0, blur=0, uneven_light=0, supersampling=6)
    for img, pts in zip(v.images, v.image_points):
        ok, c = cv2.findChessboardCorners(img, v.pattern_size)
        assert ok
        c = cv2.cornerSubPix(img, c, (5, 5), (-1, -1), (3, 50, 1e-4)).reshape(-1, 2)
        assert np.sqrt(np.mean(np.sum((c - pts) ** 2, axis=1))) < 0.06


def test_first_inner_square_is_dark():
    v = synthetic_chessboard_views(1, random_state=0, noise=0, blur=0, uneven_light=0)
    p = v.image_points[0]
    centre = (p[0] + p[1] + p[9] + p[10]) / 4
    neighbour = (p[1] + p[2] + p[10] + p[11]) / 4
    img = v.images[0].astype(float)
    assert img[int(round(centre[1])), int(round(centre[0]))] < img[int(round(neighbour[1])), int(round(neighbour[0]))]


@pytest.mark.parametrize("kw, match", [
    (dict(n_views=0), "n_views"),
    (dict(pattern_size=(1, 4)), "inner corners"),
    (dict(square_size=0), "square_size"),
    (dict(image_size=(20, 20)), "at least 64x64"),
    (dict(max_tilt=85), "max_tilt"),
    (dict(noise=-1), "noise"),
    (dict(supersampling=0), "supersampling"),
    (dict(dist_coeffs=[1, 2, 3]), "dist_coeffs"),
])
def test_validation(kw, match):
    args = dict(n_views=1, image_size=(128, 96))
    args.update(kw)
    with pytest.raises((ValueError, TypeError), match=match):
        synthetic_chessboard_views(**args)


def test_random_state_takes_int_generator_and_the_deprecated_seed():
    a = synthetic_chessboard_views(1, image_size=(160, 120), random_state=4)
    b = synthetic_chessboard_views(1, image_size=(160, 120), random_state=np.random.default_rng(4))
    np.testing.assert_array_equal(a.images[0], b.images[0])
    with pytest.warns(DeprecationWarning, match="random_state"):
        c = synthetic_chessboard_views(1, image_size=(160, 120), seed=4)
    np.testing.assert_array_equal(a.images[0], c.images[0])
    with pytest.raises(TypeError, match="not both"):
        synthetic_chessboard_views(1, image_size=(160, 120), seed=4, random_state=4)
    with pytest.raises(TypeError, match="random_state"):
        synthetic_chessboard_views(1, image_size=(160, 120), random_state=1.5)


def test_memory_is_bounded_by_the_sample_count():
    # regression: 4096x4096 at supersampling 8 allocated two 8 GB ray tables
    with pytest.raises(ValueError, match="samples per view"):
        synthetic_chessboard_views(1, image_size=(4096, 4096), supersampling=8)


def test_datasets_reaches_kernels_only_through_calibration_modules():
    # regression: datasets called cvcore._ext._chessboard directly
    import ast
    import pathlib

    import cvcore.datasets as mod

    tree = ast.parse(pathlib.Path(mod.__file__).read_text())
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not any("_ext" in m for m in imported), imported


def test_stress_views_are_reproducible_varied_and_true():
    from cvcore.datasets import stress_chessboard_views

    a = stress_chessboard_views(4, image_size=(320, 240), random_state=3, progress=False)
    b = stress_chessboard_views(4, image_size=(320, 240), random_state=3, progress=False)
    for x, y in zip(a.images, b.images):
        np.testing.assert_array_equal(x, y)
    assert len(set(a.pattern_sizes)) > 1 and np.ptp(a.conditions["blur"]) > 0
    assert a.models == ["pinhole", "pinhole", "pinhole", "fisheye"]
    for img, pts, (cols, rows), K, d, model, r, t in zip(a.images, a.image_points, a.pattern_sizes,
                                                         a.camera_matrices, a.dist_coeffs, a.models, a.rvecs, a.tvecs):
        assert img.shape == (240, 320) and pts.shape == (cols * rows, 2)
        assert np.all((pts > 0) & (pts < [320, 240]))
        # the truth is OpenCV's projection of the board through that view's camera
        board = np.c_[np.mgrid[0:rows, 0:cols][::-1].reshape(2, -1).T * 25.0, np.zeros(cols * rows)]
        if model == "fisheye":
            ref = cv2.fisheye.projectPoints(board.reshape(-1, 1, 3), r, t, K, d[:4])[0].reshape(-1, 2)
        else:
            ref = cv2.projectPoints(board, r, t, K, d)[0].reshape(-1, 2)
        np.testing.assert_allclose(pts, ref, atol=1e-6)
    assert np.all(a.conditions["tilt"] <= 75.0 + 1e-9)


def test_stress_views_corners_sit_on_the_rendered_corners():
    # sharp, noise-free stress views: a small refinement window started at the truth stays on it
    from cvcore.datasets import stress_chessboard_views

    v = stress_chessboard_views(8, max_blur=0, max_noise=0, random_state=8, progress=False)
    assert "fisheye" in v.models
    errors = []
    for img, pts, sq in zip(v.images, v.image_points, v.conditions["square_px"]):
        w = int(max(2, min(5, sq // 3)))
        c = cv2.cornerSubPix(img, pts.astype(np.float32).reshape(-1, 1, 2), (w, w), (-1, -1), (3, 50, 1e-4))
        errors.append(np.hypot(*(c.reshape(-1, 2) - pts).T))
        assert np.median(errors[-1]) < 0.35       # tiny tilted squares bias a 2-pixel window a little
    assert np.median(np.concatenate(errors)) < 0.15


@pytest.mark.parametrize("kw, match", [(dict(n_views=0), "n_views"), (dict(image_size=(100, 100)), "160x120"),
                                       (dict(max_tilt=81), "max_tilt"), (dict(max_blur=-1), "max_blur"),
                                       (dict(max_noise=51), "max_noise"), (dict(progress="yes"), "progress")])
def test_stress_views_validation(kw, match):
    from cvcore.datasets import stress_chessboard_views

    args = dict(n_views=1, image_size=(160, 120))
    args.update(kw)
    with pytest.raises((ValueError, TypeError), match=match):
        stress_chessboard_views(**args)


def test_corner_errors_forgive_symmetric_orderings_only():
    from cvcore.datasets import corner_errors

    truth = np.array([[x, y] for y in range(3) for x in range(4)], float) * 10
    np.testing.assert_allclose(corner_errors(truth[::-1], truth, (4, 3)), 0)
    shifted = truth.copy()
    shifted[5] += [3, 4]
    assert corner_errors(shifted, truth, (4, 3)).max() == 5
    # a square board may also come transposed
    sq = np.array([[x, y] for y in range(3) for x in range(3)], float)
    np.testing.assert_allclose(corner_errors(sq.reshape(3, 3, 2).swapaxes(0, 1).reshape(-1, 2), sq, (3, 3)), 0)
    with pytest.raises(ValueError, match="both be"):
        corner_errors(truth[:5], truth, (4, 3))
    with pytest.raises(ValueError, match="finite"):
        corner_errors(np.full((12, 2), np.nan), truth, (4, 3))


def test_clutter_images_are_reproducible_varied_8bit_images():
    a = synthetic_clutter_images(12, image_size=(96, 64), random_state=7)
    b = synthetic_clutter_images(12, image_size=(96, 64), random_state=np.random.default_rng(7))
    assert len(a) == 12 and all(im.shape == (64, 96) and im.dtype == np.uint8 for im in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], synthetic_clutter_images(1, image_size=(96, 64), random_state=8)[0])
    assert min(float(im.std()) for im in a) > 1.0                      # noise at least: no blank images
    assert len({round(float(im.mean())) for im in a}) > 6               # different scenes, not one template
    edges = [cv2.Canny(im, 50, 150).mean() for im in a]
    assert max(edges) > 5 * min(edges) + 1                              # from smooth textures to busy clutter
    plain = synthetic_clutter_images(3, image_size=(32, 32), max_shapes=0, random_state=0)
    assert all(im.shape == (32, 32) for im in plain)


@pytest.mark.parametrize("kw, error, match", [
    (dict(n_images=0), ValueError, "n_images"),
    (dict(image_size=(7, 100)), ValueError, "between 8 and 4096"),
    (dict(image_size=100), TypeError, "image_size"),
    (dict(max_shapes=-1), ValueError, "max_shapes"),
    (dict(random_state="x"), TypeError, "random_state"),
])
def test_clutter_validation(kw, error, match):
    with pytest.raises(error, match=match):
        synthetic_clutter_images(**{"n_images": 1, "image_size": (16, 16), **kw})
