"""Is the calibration good enough: uncertainty map, coverage, verdict, the report figure, the --sample verdict."""
import numpy as np
import pytest

from cvcore.calibration import _geometry, _uncertainty, calibrate_camera, chessboard_points, project_points
from cvcore.calibration.report import (GOOD_UNCERTAINTY, _distortion_field, assess_calibration, draw_report,
                                       projection_gap, residuals)
from cvcore.io import imread

K = np.array([[600.0, 0, 320], [0, 600, 240], [0, 0, 1]])
DIST = np.array([-0.2, 0.05, 0.0, 0.0, 0.0])
#: Each lens model's coefficients for the synthetic views (the pinhole's k3 is fixed at 0 when calibrating;
#: the rational lens is one whose fit on SPREAD keeps its denominator clear of zero over the whole image).
LENSES = {"pinhole": DIST, "rational": np.array([0.1, -0.05, 0.001, -0.001, 0.01, 0.4, 0.05, 0.01]),
          "fisheye": np.array([0.05, -0.02, 0.005, -0.001])}
BOARD = chessboard_points((7, 5), 30.0)


def _view(target, turn, distance=700.0, roll=0.0):
    """Board centred on pixel ``target``, turned by ``turn`` = (about y, about x) degrees."""
    ay, ax = np.deg2rad(turn)
    R = _geometry.rotation(np.array([0.0, ay, 0.0])) @ _geometry.rotation(np.array([ax, 0.0, roll]))
    ray = np.linalg.solve(K, [target[0], target[1], 1.0])
    t = ray / np.linalg.norm(ray) * distance - R @ BOARD.mean(axis=0)
    return _geometry.rotation_to_rvec(R), t


def _calibrate(targets_turns, noise=0.1, seed=0, distance=700.0, dist=None, model="pinhole"):
    rng = np.random.default_rng(seed)
    dist = LENSES[model] if dist is None else dist
    views = []
    for target, turn in targets_turns:
        r, t = _view(target, turn, distance)
        views.append(project_points(BOARD, r, t, K, dist, model=model) + rng.normal(0, noise, (len(BOARD), 2)))
    objs = [BOARD] * len(views)
    options = {"fix_k3": True} if model == "pinhole" else {}
    return calibrate_camera(objs, views, (640, 480), model=model, **options), objs, views


TURNS = [(25, 0), (-25, 0), (0, 25), (0, -25), (20, 20), (-20, -20), (20, -20), (-20, 20)]
CENTRE = [((320 + dx, 240 + dy), turn) for (dx, dy), turn in zip(
    [(-30, -20), (30, 20), (-30, 20), (30, -20), (0, 0), (10, -10), (-10, 10), (0, 15)], TURNS)]
SPREAD = [((x, y), TURNS[(i + j) % 8]) for i, x in enumerate((110, 320, 530)) for j, y in enumerate((85, 240, 395))]
SPREAD += [((200, 160), (25, 10)), ((440, 320), (-10, 25)), ((440, 160), (-25, -10))]


@pytest.mark.parametrize("model", ["pinhole", "rational", "fisheye"])
def test_uncertainty_equals_dense_covariance_propagation(model):
    cal, objs, imgs = _calibrate(CENTRE[:5] if model == "pinhole" else SPREAD[:6], noise=0.2, model=model)
    assert cal.model == model
    d = _uncertainty.working_distance(cal)
    pix = np.array([[320.0, 240.0], [180.0, 350.0]])
    got = _uncertainty.projection_uncertainty(cal, objs, imgs, pix, d)
    # the whole covariance, inverted as one dense matrix, and the mapped projection differentiated numerically
    T, A, Wt, V, s2 = _uncertainty.information(cal, objs, imgs)
    m, n = T.shape[1], len(V)
    N = np.zeros((m + 6 * n, m + 6 * n))
    N[:m, :m] = A
    for i in range(n):
        b = slice(m + 6 * i, m + 6 * i + 6)
        N[:m, b], N[b, :m], N[b, b] = Wt[i], Wt[i].T, V[i]
    sd = np.sqrt(np.diag(N))           # scaled to a unit diagonal: the rational model's terms differ by 1e6
    cov = s2 * np.linalg.inv(N / np.outer(sd, sd)) / np.outer(sd, sd)
    q0 = _geometry.intrinsics_vector(cal.camera_matrix, cal.dist_coeffs)
    poses0 = np.concatenate([cal.rvecs, cal.tvecs], axis=1)
    for u, expected in zip(pix, got):
        xy = _geometry.undistort(np.array([[(u[0] - cal.cx) / cal.fx, (u[1] - cal.cy) / cal.fy]]), q0[5:], model)[0]
        ray = np.array([*xy, 1.0])
        pc = d * ray / np.linalg.norm(ray)
        pb = [_geometry.rotation(poses0[i, :3]).T @ (pc - poses0[i, 3:]) for i in range(n)]

        def mapped(theta):
            P = poses0 + theta[m:].reshape(n, 6)
            p = np.mean([_geometry.rotation(P[i, :3]) @ pb[i] + P[i, 3:] for i in range(n)], axis=0)
            return _geometry.project(p[None], np.zeros(3), np.zeros(3), q0 + T @ theta[:m], model)[0]

        J = np.empty((2, m + 6 * n))
        for j in range(m + 6 * n):
            e = np.zeros(m + 6 * n)
            e[j] = 1e-6 * (max(1.0, abs((T.T @ q0)[j])) if j < m else 1.0)
            J[:, j] = (mapped(e) - mapped(-e)) / (2 * e[j])
        assert expected == pytest.approx(np.sqrt(np.linalg.eigvalsh(J @ cov @ J.T)[-1]), rel=1e-4)


@pytest.mark.parametrize("model", ["rational", "fisheye"])
def test_assessment_and_report_use_the_lens_model(model, tmp_path):
    cal, objs, imgs = _calibrate(SPREAD, model=model)
    # residuals through the calibration's model: their rms is the one it reports (a fisheye's four
    # coefficients read as the pinhole's k1, k2, p1, p2 would give pixels off by far more)
    res = residuals(cal, objs, imgs)
    assert np.sqrt(np.mean(np.concatenate(res) ** 2) * 2) == pytest.approx(cal.rms, rel=1e-9)
    np.testing.assert_allclose([np.sqrt(np.mean(r ** 2) * 2) for r in res], cal.per_view_rms, rtol=1e-9)
    a = assess_calibration(cal, objs, imgs)
    assert a.good and a.missing == () and a.verdict.startswith("good: rms 0.1")
    assert np.isfinite(a.uncertainty_map).all() and a.uncertainty < GOOD_UNCERTAINTY
    # the halves agree about as well as the uncertainty predicts: the model fits
    assert 0.5 * a.uncertainty < a.cross_validation < 3 * a.uncertainty
    img = draw_report(cal, objs, imgs, tmp_path / "report.png")
    np.testing.assert_array_equal(imread(tmp_path / "report.png"), img)
    assert len(np.unique(img[560:800, 700:1080].reshape(-1, 3), axis=0)) > 50
    # the verdict line is green
    top = img[40:75, :1200].astype(int)
    assert ((top[..., 1] > 110) & (top[..., 0] < 90)).sum() > 200


@pytest.mark.parametrize("model", ["pinhole", "rational", "fisheye"])
def test_distortion_field_leads_from_the_pinhole_position_to_the_lens(model):
    cal = _calibrate(SPREAD[:6], model=model)[0]
    pix, disp, ok = _distortion_field(cal, 8, 6)
    assert ok.all() and pix.shape == disp.shape == (48, 2)
    # the undistorted pixel, seen as a ray through a pinhole camera with K, projects through the lens to pix
    ray = np.linalg.solve(cal.camera_matrix, np.column_stack([pix - disp, np.ones(48)]).T).T
    np.testing.assert_allclose(project_points(ray, np.zeros(3), np.zeros(3), cal), pix, atol=1e-6)
    assert np.hypot(*disp.T).max() > 10       # these lenses move the image's corners by many pixels


def test_projection_gap_compares_whole_lenses():
    cal = _calibrate(SPREAD, model="fisheye")[0]
    # the same camera: no gap; the principal point moved by 0.5 px: every ray moves by 0.5 px
    assert projection_gap(cal, cal.camera_matrix, cal.dist_coeffs, model="fisheye") == pytest.approx((0, 0), abs=1e-9)
    shifted = cal.camera_matrix + [[0, 0, 0.5], [0, 0, 0], [0, 0, 0]]
    assert projection_gap(cal, shifted, cal.dist_coeffs, model="fisheye") == pytest.approx((0.5, 0.5), abs=1e-9)
    # against the true lens (fx is 2 sd off on these views): far closer than against the undistorted camera
    true_gap = projection_gap(cal, K, LENSES["fisheye"], model="fisheye")
    assert true_gap[1] < 5 and projection_gap(cal, K)[1] > 5 * true_gap[1]
    with pytest.raises(TypeError, match="calibration must be a CameraCalibration"):
        projection_gap("cam.json", K)
    with pytest.raises(ValueError, match="step"):
        projection_gap(cal, K, step=0)


def test_uncertainty_grows_away_from_the_covered_area():
    cal, objs, imgs = _calibrate(CENTRE)
    a = assess_calibration(cal, objs, imgs, grid=(16, 12))
    u = a.uncertainty_map
    centre = u[5:7, 7:9].mean()
    assert centre < 0.05 and a.uncertainty > 20 * centre
    # the middle row and column grow from the middle outwards, 100-fold by the image's sides
    assert np.all(np.diff(u[6, 8:]) > 0) and np.all(np.diff(u[6, :8]) < 0)
    assert np.all(np.diff(u[6:, 8]) > 0) and np.all(np.diff(u[:6, 8]) < 0)
    assert min(u[6, 0], u[6, -1], u[0, 8], u[-1, 8]) > 100 * centre
    # the image's corners: farther still, or beyond where the distortion fitted in the middle is one-to-one
    corners = np.array([u[0, 0], u[0, -1], u[-1, 0], u[-1, -1]])
    assert np.all(np.isnan(corners) | (corners > 100 * centre))
    # more views, spread over the image: smaller everywhere
    spread = assess_calibration(*_calibrate(SPREAD), grid=(16, 12))
    assert spread.uncertainty_max < a.uncertainty_max / 2


def test_coverage_messages_on_crafted_views():
    a = assess_calibration(*_calibrate(CENTRE))
    for side in ("left", "right", "top", "bottom"):
        assert f"no corners within 15 % of the {side} edge" in a.missing
    assert a.edge_gaps["left"] > 0.15 and not a.good
    assert a.verdict.startswith("capture more: ")
    # the right half only: the left edge is missing, the right edge is not
    right = [((x + 180, y), t) for (x, y), t in CENTRE]
    right[0] = ((600, 100), right[0][1])
    b = assess_calibration(*_calibrate(right))
    assert "no corners within 15 % of the left edge" in b.missing
    assert "no corners within 15 % of the right edge" not in b.missing
    # boards nearly facing the camera
    flat = [(target, (np.sign(t[0]) * 12, np.sign(t[1]) * 12)) for target, t in SPREAD]
    c = assess_calibration(*_calibrate(flat, noise=0.02))
    assert "all boards tilted < 20 deg" in c.missing and c.tilts.max() < 20
    # turned left/right only
    lr = [(target, (25 if t[0] >= 0 else -25, 0)) for target, t in SPREAD]
    d = assess_calibration(*_calibrate(lr, noise=0.02))
    assert "no board turned up or down by 20 deg or more" in d.missing
    assert "no board turned left or right by 20 deg or more" not in d.missing
    assert np.abs(d.turn[:, 1]).max() < 1.0 and np.abs(d.turn[:, 0]).min() > 24


def test_good_verdict_when_nothing_is_missing():
    a = assess_calibration(*_calibrate(SPREAD))
    assert a.missing == () and a.good
    assert a.uncertainty <= GOOD_UNCERTAINTY and a.uncertainty <= a.uncertainty_max
    assert a.verdict == (f"good: rms {a.rms:.2f} px, worst-case uncertainty {a.uncertainty:.2f} px over 95 % "
                         "of the image")
    # the same views with ten times the noise: uncertain, and the verdict names where to add views
    b = assess_calibration(*_calibrate(SPREAD, noise=1.0))
    assert not b.good and "projection uncertainty" in " ".join(b.missing)
    assert b.uncertainty == pytest.approx(10 * a.uncertainty, rel=0.3)


def test_cross_validation_follows_the_noise_and_exposes_a_lens_model_that_does_not_fit():
    a = assess_calibration(*_calibrate(SPREAD, noise=0.1))
    b = assess_calibration(*_calibrate(SPREAD, noise=1.0))
    # the halves differ by about what the uncertainty predicts, ten times more with ten times the noise
    assert 0.5 * a.uncertainty < a.cross_validation < 3 * a.uncertainty
    assert b.cross_validation == pytest.approx(10 * a.cross_validation, rel=0.3)
    # a lens with a k3 term, calibrated without it: the halves disagree far beyond their uncertainty
    c = assess_calibration(*_calibrate(SPREAD, noise=0.1, dist=np.array([-0.2, 0.05, 0, 0, 0.4]), seed=1))
    assert c.cross_validation > 3 * c.uncertainty and c.cross_validation > 3 * a.cross_validation
    # too few views to split
    assert np.isnan(assess_calibration(*_calibrate(SPREAD[:5])).cross_validation)


def test_assess_calibration_validates():
    cal, objs, imgs = _calibrate(CENTRE[:4])
    with pytest.raises(ValueError, match="pass object_points and image_points"):
        assess_calibration(cal)
    with pytest.raises(ValueError, match="3 views but the calibration has 4"):
        assess_calibration(cal, objs[:3], imgs[:3])
    with pytest.raises(ValueError, match="distance"):
        assess_calibration(cal, objs, imgs, distance=-1)
    with pytest.raises(ValueError, match="grid"):
        assess_calibration(cal, objs, imgs, grid=(1, 5))
    with pytest.raises(ValueError, match="reprojection errors"):
        assess_calibration(cal.replace(rms=None, per_view_rms=None), objs, imgs)
    with pytest.raises(TypeError, match="skipped must be a list of"):
        draw_report(cal, objs, imgs, skipped=[("a.jpg",)])


def test_report_png_size_content_and_verdict_colour(tmp_path):
    cal, objs, imgs = _calibrate(CENTRE)
    cal = cal.replace(view_names=[f"photo_{i:02d}.jpg" for i in range(cal.n_views)],
                      skipped=[("blurry.jpg", "the board is too blurry")])
    path = tmp_path / "report.png"
    img = draw_report(cal, objs, imgs, path)
    back = imread(path)
    assert back.shape == img.shape == (1200, 1600, 3)
    np.testing.assert_array_equal(back, img)
    drawn = (img != 255).any(axis=2)
    assert 0.1 < drawn.mean() < 0.7
    # every quarter of the figure has something in it
    for part in (drawn[:600, :800], drawn[:600, 800:], drawn[600:, :800], drawn[600:, 800:]):
        assert part.mean() > 0.03
    # the verdict line (capture more) is written in red at the top
    top = img[40:75, :1200].astype(int)
    assert ((top[..., 0] > 150) & (top[..., 1] < 90)).sum() > 200
    # the uncertainty map is colour-mapped, not flat
    panel = img[560:800, 700:1080].reshape(-1, 3)
    assert len(np.unique(panel, axis=0)) > 50


def test_sample_verdict_names_the_parameters_beyond_their_deviations():
    from cvcore._commands.calibrate import sample_verdict

    cal, _, _ = _calibrate(SPREAD)
    true = {"fx": 600.0, "fy": 600.0, "cx": 320.0, "cy": 240.0, "k1": -0.2, "k2": 0.05}
    assert sample_verdict(cal, true).startswith("verdict: recovered parameters agree with the truth: all 6")
    true["cx"] = cal.cx + 10 * cal.intrinsics()["cx"][1]
    line = sample_verdict(cal, true)
    assert line.startswith("verdict: 1 of 6 recovered parameters beyond 3 standard deviations of the truth: cx")
    assert "(largest: cx at 10.0 sd)" in line
