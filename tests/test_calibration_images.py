"""calibrate_images, the report, and the `cvcore calibrate` command."""
import json

import cv2
import numpy as np
import pytest

from cvcore.calibration import CalibrationError, CameraCalibration, calibrate_camera, calibrate_images
from cvcore.calibration.report import calibration_warnings, coverage, draw_report, view_spread_degrees
from cvcore.cli import main
from cvcore.datasets import synthetic_chessboard_views
from cvcore.io import imread, imwrite


@pytest.fixture(scope="module")
def views():
    return synthetic_chessboard_views(6, image_size=(480, 360), random_state=21)


@pytest.fixture(scope="module")
def view_files(tmp_path_factory, views):
    root = tmp_path_factory.mktemp("views")
    paths = []
    for k, img in enumerate(views.images):
        p = root / f"view{k:02d}.png"
        imwrite(p, img)
        paths.append(p)
    return root, paths


def test_calibrate_images_from_arrays_and_paths(views, view_files):
    cal = calibrate_images(views.images, (9, 6), 30.0, progress=False)
    assert cal.n_views == 6 and not cal.skipped
    assert abs(cal.fx / views.camera_matrix[0, 0] - 1) < 5e-3
    # the same as calibrate_camera on the detected corners
    ref = calibrate_camera(cal.object_points, cal.image_points, (480, 360))
    np.testing.assert_allclose(cal.camera_matrix, ref.camera_matrix)
    calls = []
    cal2 = calibrate_images(view_files[1], "9x6", 30.0, progress=lambda *a: calls.append(a))
    assert cal2.view_names == [p.name for p in view_files[1]]
    np.testing.assert_allclose(cal2.camera_matrix, cal.camera_matrix)
    assert calls == [(k, 6, "calibration images") for k in range(1, 7)]        # cvcore's progress convention
    old = []
    with pytest.warns(DeprecationWarning, match="progress callable"):
        calibrate_images(view_files[1][:3], "9x6", 30.0, progress=lambda i, n, name, status: old.append(status),
                         reject_outliers=False)
    assert old == ["54 corners"] * 3


def test_views_without_board_and_unreadable_files_are_skipped(views, view_files, tmp_path):
    blank = tmp_path / "blank.png"
    imwrite(blank, np.full((360, 480), 200, np.uint8))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    cal = calibrate_images([*view_files[1], blank, broken], (9, 6), 30.0, progress=False)
    reasons = dict(cal.skipped)
    assert reasons["blank.png"] == "no chessboard-like pattern found"
    assert reasons["broken.jpg"].startswith("unreadable")
    assert cal.n_views == 6


def test_outlier_view_is_rejected_with_reason(views, monkeypatch):
    from cvcore.calibration import _detector

    rng = np.random.default_rng(0)
    noisy = [p + rng.normal(0, 3.0 if k == 2 else 0.05, p.shape) for k, p in enumerate(views.image_points)]

    def fake_detector(points):
        it = iter(points)
        return lambda grey, cols, rows, subpixel=True: (next(it), {"code": "found"})

    monkeypatch.setattr(_detector, "locate", fake_detector(noisy))
    cal = calibrate_images(views.images, (9, 6), 30.0, progress=False)
    assert cal.n_views == 5
    (name, reason), = cal.skipped
    assert name == "image 2" and reason.startswith("outlier: per-view error")
    monkeypatch.setattr(_detector, "locate", fake_detector(noisy))
    kept = calibrate_images(views.images, (9, 6), 30.0, progress=False, reject_outliers=False)
    assert kept.n_views == 6


def test_errors_people_hit(views):
    with pytest.raises(CalibrationError, match="INNER corners.*looks like squares were counted.*--pattern 9x6"):
        calibrate_images(views.images[:2], (10, 7), progress=False)
    with pytest.raises(CalibrationError, match="9x6 inner corners: try --pattern 9x6"):
        calibrate_images(views.images[:2], (8, 6), progress=False)
    with pytest.raises(CalibrationError, match="only 2 usable"):
        calibrate_images(views.images[:2], (9, 6), progress=False)
    with pytest.raises(CalibrationError, match="no images"):
        calibrate_images([], (9, 6), progress=False)
    big = [cv2.resize(im, (640, 480)) for im in views.images[:3]]
    with pytest.raises(CalibrationError, match="mixed sizes"):
        calibrate_images(views.images[:3] + big, (9, 6), progress=False)
    cal = calibrate_images(views.images + big[:1], (9, 6), progress=False, reject_outliers=False)
    assert any("differs from the 480x360" in r for _, r in cal.skipped) and cal.n_views == 6
    # nearly parallel views: fronto-parallel boards at different places
    par = synthetic_chessboard_views(4, image_size=(480, 360), random_state=1, max_tilt=0.0)
    with pytest.raises(CalibrationError, match="parallel"):
        calibrate_images(par.images, (9, 6), progress=False)


def test_warnings_and_quality_measures(views):
    cal = calibrate_images(views.images, (9, 6), 30.0, progress=False)
    assert 0 < coverage(cal.image_points, cal.image_size) <= 1
    assert view_spread_degrees(cal.rvecs) > 15
    warn = calibration_warnings(cal, cal.image_points)
    assert any("only 6 views" in w for w in warn)
    few = calibration_warnings(cal, [p[:4] for p in cal.image_points])
    assert any("poor coverage" in w for w in few)


def test_report_figure(tmp_path, views):
    cal = calibrate_images(views.images, (9, 6), 30.0, progress=False)
    path = tmp_path / "report.png"
    img = draw_report(cal, cal.object_points, cal.image_points, path, warnings=cal.warnings)
    back = imread(path)
    assert back.shape == img.shape == (1200, 1600, 3)
    assert (back != 255).any(axis=2).mean() > 0.02      # something was drawn


def test_cli_calibrates_files(tmp_path, view_files, capsys):
    out, yml, rep = tmp_path / "cam.json", tmp_path / "cam.yml", tmp_path / "rep.png"
    rc = main(["calibrate", str(view_files[0]), "--pattern", "9x6", "--square", "30mm", "--out", str(out),
               "--yaml", str(yml), "--report", str(rep)])
    text = capsys.readouterr()
    assert rc == 0
    assert "RMS reprojection error" in text.out and "+/-" in text.out and "view03.png" in text.out
    assert "only 6 views" in text.err
    assert "\nverdict: capture more: add 4 or more views" in text.out
    cal = CameraCalibration.load(out)
    assert cal.n_views == 6 and cal.view_names[0] == "view00.png"
    assert json.loads(out.read_text())["format"] == "cvcore-camera-calibration"
    fs = cv2.FileStorage(str(yml), cv2.FILE_STORAGE_READ)
    np.testing.assert_array_equal(fs.getNode("camera_matrix").mat(), cal.camera_matrix)
    fs.release()
    assert imread(rep).shape == (1200, 1600, 3)


@pytest.mark.parametrize("model, names", [("rational", "k1, k2, p1, p2, k3, k4, k5, k6"),
                                          ("fisheye", "k1, k2, k3, k4")])
def test_cli_calibrates_with_each_lens_model(tmp_path, view_files, capsys, model, names):
    out, yml, rep = tmp_path / "cam.json", tmp_path / "cam.yml", tmp_path / "rep.png"
    rc = main(["calibrate", str(view_files[0]), "--pattern", "9x6", "--square", "30mm", "--model", model,
               "--out", str(out), "--yaml", str(yml), "--report", str(rep), "--quiet"])
    text = capsys.readouterr().out
    assert rc == 0
    cal = CameraCalibration.load(out)
    ref = calibrate_images(view_files[1], (9, 6), 30.0, progress=False, model=model)
    assert cal.model == ref.model == CameraCalibration.load(yml).model == model
    np.testing.assert_allclose(cal.dist_coeffs, ref.dist_coeffs, rtol=1e-9, atol=1e-12)
    assert cal.rms == pytest.approx(ref.rms, rel=1e-12)
    assert f"lens model: {model} ({names})" in text
    # the printed coefficients are the model's, with their standard deviations
    for name, (v, sd) in cal.intrinsics().items():
        if name != "skew":
            assert f"  {name:>5} = {v:14.6f} +/- {sd:.6f}" in text
    assert "\nverdict: capture more: add 4 or more views" in text
    assert imread(rep).shape == (1200, 1600, 3)


@pytest.mark.parametrize("argv, match", [
    (["--model", "fisheye", "--zero-tangent"], "--zero-tangent only apply to the pinhole and rational models"),
    (["--model", "fisheye", "--fix-k3", "--zero-tangent"], "--fix-k3 and --zero-tangent only apply to the pinhole"),
    (["--model", "thin-prism"], "--model"),
])
def test_cli_lens_model_errors_are_one_line(view_files, capsys, argv, match):
    rc = main(["calibrate", *map(str, view_files[1][:3]), "--pattern", "9x6", *argv])
    err = capsys.readouterr().err
    assert rc == 2 and match in err and "Traceback" not in err and err.count("\n") == 1
    rc = main(["calibrate", "--sample", "--model", "fisheye"])
    err = capsys.readouterr().err
    assert rc == 2 and "--sample renders a pinhole (Brown-Conrady) lens" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv, match", [
    (["--pattern", "10x7"], "looks like squares were counted"),
    (["--pattern", "9x6", "--square", "abc"], "--square must be"),
    ([], "--pattern is required"),
    (["--pattern", "1x6"], "inner corners"),
])
def test_cli_errors_are_one_line(view_files, capsys, argv, match):
    rc = main(["calibrate", *map(str, view_files[1][:3]), *argv])
    err = capsys.readouterr().err
    assert rc == 2 and match in err and "Traceback" not in err and err.count("\n") == 1


def test_cli_missing_file_and_unwritable_output(tmp_path, view_files, capsys):
    assert main(["calibrate", str(tmp_path / "nope.jpg"), "--pattern", "9x6"]) == 2
    assert "no such image file" in capsys.readouterr().err
    rc = main(["calibrate", str(view_files[0]), "--pattern", "9x6", "--quiet", "--out", str(tmp_path)])
    assert rc == 2 and "is a directory" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_sample_rational(capsys):
    assert main(["calibrate", "--sample", "--quiet", "--model", "rational"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "lens model" not in lines[0] and any(line.startswith("     k6      0.00000") for line in lines)
    # the lens itself agrees with the truth (its radial terms are not unique), and the other parameters
    gap = [line for line in lines if line.startswith("the same rays through the recovered and the true camera")][0]
    assert float(gap.split("(median over the image), ")[1].split(" px")[0]) < 1.0
    assert lines[-1].startswith("verdict: recovered parameters agree with the truth: all 6 within 3 standard")


@pytest.mark.slow
def test_cli_sample(tmp_path, capsys):
    rc = main(["calibrate", "--sample", "--quiet", "--out", str(tmp_path / "s.json")])
    out = capsys.readouterr().out
    assert rc == 0 and "focal length error" in out
    pct = float(out.split("focal length error")[1].split("%")[0])
    assert pct < 0.1
    # it ends with a verdict on the recovered parameters against the true ones
    last = out.strip().splitlines()[-1]
    assert last.startswith("verdict: recovered parameters agree with the truth: all 9 within 3 standard deviations")


@pytest.mark.slow
def test_learning_opencv_12x12_set_matches_opencv_pipeline(shared_data):
    import glob

    files = sorted(glob.glob(str(shared_data / "calib" / "learning_opencv3_12x12" / "calibration" / "*.jpg")))
    cal = calibrate_images(files, (12, 12), 1.0, progress=False, reject_outliers=False)
    assert cal.n_views == 20 and len(cal.skipped) == 3        # the three portrait photos
    board = np.zeros((144, 3), np.float32)
    board[:, :2] = np.mgrid[0:12, 0:12].T.reshape(-1, 2)
    pts = []
    for f in files:
        g = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
        if g.shape != (1200, 1600):
            continue
        ok, c = cv2.findChessboardCorners(g, (12, 12))
        pts.append(cv2.cornerSubPix(g, c, (11, 11), (-1, -1), (3, 30, 1e-3)))
    rms, K, d, *_ = cv2.calibrateCamera([board] * len(pts), pts, (1600, 1200), None, None)
    np.testing.assert_allclose(cal.camera_matrix, K, rtol=2e-4, atol=1e-9)
    assert abs(cal.rms - rms) < 2e-3


def test_result_records_the_board_and_declares_its_attributes(views):
    cal = calibrate_images(views.images, (9, 6), 30.0, unit="mm", progress=False)
    assert (cal.pattern_size, cal.square_size, cal.unit) == ((9, 6), 30.0, "mm")
    assert cal.skipped == [] and cal.warnings and len(cal.image_points) == cal.n_views == 6
    assert cal.cvcore_version and cal.date.endswith("Z")
    # everything is a constructor argument: rebuilding from them gives the same calibration
    from cvcore.calibration._assemble import ARGUMENTS

    assert CameraCalibration(**{a: getattr(cal, a) for a in ARGUMENTS}) == cal
    assert set(vars(cal)) == set(ARGUMENTS)


def test_arguments_are_checked_once_and_strictly(views, monkeypatch):
    from cvcore import _validate

    with pytest.raises(TypeError, match="reject_outliers"):
        calibrate_images(views.images, (9, 6), reject_outliers=1, progress=False)
    with pytest.raises(TypeError, match="fix_k3"):
        calibrate_images(views.images, (9, 6), fix_k3="yes", progress=False)
    with pytest.raises(TypeError, match="unknown calibration option.*fix_k4"):
        calibrate_images(views.images, (9, 6), fix_k4=True, progress=False)
    with pytest.raises(TypeError, match="unit"):
        calibrate_images(views.images, (9, 6), unit=3, progress=False)
    with pytest.raises(TypeError, match="progress"):
        calibrate_images(views.images, (9, 6), progress="yes")
    calls = {}

    def counting(name):
        real = getattr(_validate, name)

        def wrapper(value, label=name, *a, **k):
            calls[label] = calls.get(label, 0) + 1
            return real(value, label, *a, **k)
        monkeypatch.setattr(_validate, name, wrapper)

    for name in ("pattern_size", "positive", "boolean"):
        counting(name)
    calibrate_images(views.images[:4], (9, 6), 30.0, progress=False, fix_k3=True)
    # pattern_size once, square_size once; booleans: reject_outliers + 5 options; nothing re-checked per view
    assert calls["pattern_size"] == 1 and calls["square_size"] == 1, calls
    assert all(calls[b] == 1 for b in ("reject_outliers", "fix_k3", "estimate_skew")), calls


def test_cli_prints_why_each_skipped_image_has_no_board_and_the_robust_outliers(tmp_path, views, capsys):
    from cvcore.io import imwrite

    folder = tmp_path / "imgs"
    folder.mkdir()
    for k, img in enumerate(views.images):
        imwrite(folder / f"view{k:02d}.png", img)
    imwrite(folder / "blank.png", np.full((360, 480), 128, np.uint8))
    imwrite(folder / "cropped.png", np.ascontiguousarray(views.images[0][:, :200]))
    rc = main(["calibrate", str(folder), "--pattern", "9x6", "--robust", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "skipped blank.png: no chessboard-like pattern found" in out
    assert "skipped cropped.png: " in out and "skipped cropped.png: no chessboard-like" not in out
    assert "robust: " in out


def test_calibrate_images_robust_reports_outlier_corners(views, monkeypatch):
    from cvcore.calibration import _detector

    pts = [p.copy() for p in views.image_points]
    pts[3][10] += [9.0, -6.0]
    it = iter(pts)
    monkeypatch.setattr(_detector, "locate", lambda grey, cols, rows, subpixel=True: (next(it), {"code": "found"}))
    cal = calibrate_images(views.images, (9, 6), 30.0, progress=False, robust=True)
    assert [3, 10] in cal.outliers.tolist() and cal.flags["robust"]
