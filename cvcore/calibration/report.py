"""Quality checks and the report figure of a calibration.

``calibration_warnings`` states what limits a calibration (too few views,
corners covering little of the image, nearly parallel views, large errors);
``assess_calibration`` answers "is it good enough, and what should I capture
next?" as data (a projection-uncertainty map from the parameter covariance,
coverage of the image and of board tilts, a one-line verdict);
``draw_report`` draws all of it in one figure with :mod:`cvcore.draw`.
"""
from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from .. import _validate
from ..draw import draw_boxes, draw_text, spread_colours
from ..io import check_image_path, imwrite
from . import _geometry, _uncertainty
from .calibrate import calibrate_camera
from .camera import project_points, rodrigues, undistort_points

__all__ = ["calibration_warnings", "coverage", "view_spread_degrees", "draw_report", "residuals",
           "assess_calibration", "CalibrationAssessment", "projection_gap"]

RECOMMENDED_VIEWS = 10


def residuals(calibration, object_points, image_points):
    """Per-view ``(N_i, 2)`` arrays of ``projection - observation`` in pixels.

    Examples
    --------
    >>> from cvcore.datasets import synthetic_chessboard_views
    >>> from cvcore.calibration import calibrate_camera
    >>> v = synthetic_chessboard_views(4, image_size=(320, 240), random_state=0)
    >>> cal = calibrate_camera([v.object_points] * 4, v.image_points, v.image_size)
    >>> bool(max(abs(r).max() for r in residuals(cal, [v.object_points] * 4, v.image_points)) < 1e-6)
    True
    """
    out = []
    for o, i, r, t in zip(object_points, image_points, calibration.rvecs, calibration.tvecs):
        out.append(project_points(o, r, t, calibration) - np.asarray(i))      # with the calibration's lens model
    return out


def projection_gap(calibration, camera_matrix, dist_coeffs=None, *, model=None, step=8):
    """How far apart a calibration and a known camera put the same rays: ``(median, 95th percentile)`` px.

    Every ``step``-th pixel of the calibration's image is unprojected by the
    known camera and projected by the calibration, in the camera frame (the
    two are not aligned: a principal point a fraction of a pixel off shifts
    every ray). It compares whole lenses, even of different models, where
    coefficients cannot be compared (the rational model's radial terms are
    not unique for a mild lens). Pixels the known camera cannot unproject
    are left out.

    Parameters
    ----------
    calibration : CameraCalibration
    camera_matrix, dist_coeffs, model
        The known camera (as :func:`~cvcore.calibration.undistort_points`).
    step : int
        Pixels between the samples (1-1000).

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> from cvcore.calibration import CameraCalibration
    >>> K = [[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]
    >>> cal = CameraCalibration(K, [-0.2, 0.05, 0, 0, 0], [], [], None, None, None, None, (640, 480))
    >>> projection_gap(cal, K, [-0.2, 0.05, 0, 0, 0]) == (0.0, 0.0)
    True
    >>> [round(g, 2) for g in projection_gap(cal, K, [-0.2, 0.05, 0, 0, 0.01])]
    [0.02, 0.71]
    """
    from .model import CameraCalibration

    if not isinstance(calibration, CameraCalibration):
        raise TypeError(f"calibration must be a CameraCalibration, got {type(calibration).__name__}")
    step = _validate.integer(step, "step", low=1, high=1000)
    w, h = calibration.image_size
    xs, ys = np.meshgrid(np.arange(0, w, step, dtype=np.float64), np.arange(0, h, step, dtype=np.float64))
    pix = np.stack([xs.ravel(), ys.ravel()], axis=1)
    rays = undistort_points(pix, camera_matrix, dist_coeffs, model=model)
    ok = np.all(np.isfinite(rays), axis=1)
    if not ok.any():
        raise ValueError("the known camera unprojects none of the calibration's pixels")
    seen = project_points(np.column_stack([rays[ok], np.ones(ok.sum())]), np.zeros(3), np.zeros(3), calibration)
    gap = np.hypot(*(seen - pix[ok]).T)
    return float(np.median(gap)), float(np.percentile(gap, 95))


def _cell_counts(image_points, image_size, grid):
    """``(gy, gx)`` counts of the corners falling in each cell of a grid over the image."""
    w, h = image_size
    gx, gy = grid
    counts = np.zeros((gy, gx), np.int64)
    for p in image_points:
        p = np.asarray(p)
        cx = np.clip((p[:, 0] / w * gx).astype(int), 0, gx - 1)
        cy = np.clip((p[:, 1] / h * gy).astype(int), 0, gy - 1)
        np.add.at(counts, (cy, cx), 1)
    return counts


def coverage(image_points, image_size, grid=(8, 6)):
    """Fraction of the cells of a ``grid`` over the image that hold at least one corner.

    Examples
    --------
    >>> coverage([[[10, 10], [630, 470]]], (640, 480))
    0.041666666666666664
    """
    return float((_cell_counts(image_points, image_size, grid) > 0).mean())


def view_spread_degrees(rvecs):
    """Largest angle between the board normals of any two views (degrees).

    Examples
    --------
    >>> round(view_spread_degrees([[0, 0, 0], [0.5, 0, 0]]), 3)
    28.648
    """
    normals = np.array([rodrigues(r)[:, 2] for r in rvecs])
    if len(normals) < 2:
        return 0.0
    cos = np.clip(np.abs(normals @ normals.T), -1.0, 1.0)
    return float(np.degrees(np.arccos(cos.min())))


def calibration_warnings(calibration, image_points):
    """Plain-language warnings about a calibration's reliability (list of str).

    Checks: fewer than 10 views, corners covering under 60 % of an 8 x 6 grid
    over the image, board orientations within 15 degrees of each other, RMS
    error above 1 px, focal length standard deviation above 1 %.

    Examples
    --------
    >>> from cvcore.datasets import synthetic_chessboard_views
    >>> from cvcore.calibration import calibrate_camera
    >>> v = synthetic_chessboard_views(4, image_size=(320, 240), random_state=0)
    >>> cal = calibrate_camera([v.object_points] * 4, v.image_points, v.image_size)
    >>> calibration_warnings(cal, v.image_points)[0][:19]
    'only 4 views were u'
    """
    warnings = []
    n = calibration.n_views
    if n < RECOMMENDED_VIEWS:
        warnings.append(f"only {n} views were used: {RECOMMENDED_VIEWS}-20 views from varied angles give "
                        "more reliable results")
    cov = coverage(image_points, calibration.image_size)
    if cov < 0.6:
        warnings.append(f"poor coverage: corners fall in only {cov:.0%} of the image; move the board into the "
                        "corners and edges of the view so the distortion is measured everywhere")
    spread = view_spread_degrees(calibration.rvecs)
    if n >= 2 and spread < 15.0:
        warnings.append(f"views are nearly parallel (board orientations differ by at most {spread:.1f} degrees); "
                        "tilt the board by 20-45 degrees in different directions")
    if calibration.rms is not None and calibration.rms > 1.0:
        warnings.append(f"high reprojection error ({calibration.rms:.2f} px RMS): check the pattern size, "
                        "the square size and the focus")
    rel = (np.zeros(2) if calibration.std_intrinsics is None
           else calibration.std_intrinsics[:2] / np.abs(np.diag(calibration.camera_matrix)[:2]))
    if np.any(rel > 0.01):
        warnings.append(f"focal length is uncertain ({100 * rel.max():.1f} % standard deviation); add views")
    return warnings


# --------------------------------------------------------------------------- is it good enough?

#: A side of the image counts as covered when some corner lies within this fraction of the image from it.
EDGE_MARGIN = 0.15
#: Boards should be tilted at least this much (degrees), left/right and up/down, for the focal length to be seen.
MIN_TILT = 20.0
#: Good calibration: worst-direction projection uncertainty (px) over 95 % of the image below this ...
GOOD_UNCERTAINTY = 0.5
#: ... and RMS reprojection error (px) below this.
GOOD_RMS = 1.0

_SIDES = (("left", "put the board near the left edge"), ("right", "put the board near the right edge"),
          ("top", "put the board near the top edge"), ("bottom", "put the board near the bottom edge"))


@dataclasses.dataclass(frozen=True, eq=False)
class CalibrationAssessment:
    """Is a calibration good enough, and what to capture next (see :func:`assess_calibration`).

    Attributes
    ----------
    verdict : str
        One line, starting with ``"good:"`` or ``"capture more:"``.
    good : bool
        RMS error and uncertainty below :data:`GOOD_RMS` / :data:`GOOD_UNCERTAINTY`,
        at least 10 views and nothing missing.
    rms : float
        RMS reprojection error (px).
    uncertainty : float
        95th percentile over the image of the worst-direction standard
        deviation of a projected point at ``distance`` (px); NaN if unknown.
    uncertainty_max : float
        Its largest value over the image (px).
    distance : float
        Working distance of the map (the calibration's length unit): the
        median distance of the boards.
    uncertainty_map : (gy, gx) ndarray
        The uncertainty (px) at the centres of a grid of cells over the image
        (NaN beyond the lens model's valid range).
    coverage : float
        Fraction of the cells of an 8 x 6 grid over the image holding a corner.
    edge_gaps : dict
        ``{"left", "right", "top", "bottom"}`` -> distance from that side to the
        nearest corner, as a fraction of the image width or height.
    tilts : (n_views,) ndarray
        Angle between each board's normal and the optical axis (degrees).
    turn : (n_views, 2) ndarray
        Each board's tilt about the image's vertical axis (turned left/right)
        and about its horizontal axis (up/down), in degrees.
    missing : tuple of str
        What is missing, in words (``"no corners within 15 % of the left edge"``).
    advice : tuple of str
        What to capture next, one item per entry of ``missing``.
    cross_validation : float
        Cross-validation (as mrcal does): the views split in two halves (even
        and odd positions), each calibrated alone with the same options; the
        95th percentile, over the cells of the map holding corners, of how far
        apart the two put the same point at ``distance`` (px, after the best
        rotation between them). Noise alone gives about ``sqrt(2)`` times the
        halves' uncertainty; much more means the lens model does not fit.
        NaN with fewer than 6 views or when a half cannot be calibrated.
    cross_validation_map : (gy, gx) ndarray
        That distance at every cell of the map.
    """

    verdict: str
    good: bool
    rms: float
    uncertainty: float
    uncertainty_max: float
    distance: float
    uncertainty_map: np.ndarray
    coverage: float
    edge_gaps: dict
    tilts: np.ndarray
    turn: np.ndarray
    missing: tuple
    advice: tuple
    cross_validation: float
    cross_validation_map: np.ndarray


def _cross_validate(cal, objs, imgs, pixels, distance, covered):
    """The halves' projection difference over ``pixels`` (see :class:`CalibrationAssessment`), or NaNs."""
    nan = np.full(len(pixels), np.nan)
    if cal.n_views < 6:
        return nan
    opts = _uncertainty.calibration_options(cal)
    try:
        halves = [calibrate_camera([objs[i] for i in idx], [imgs[i] for i in idx], cal.image_size, **opts)
                  for idx in (range(0, cal.n_views, 2), range(1, cal.n_views, 2))]
    except ValueError:
        return nan
    return _uncertainty.projection_difference(halves[0], halves[1], pixels, distance, covered)


def _views_of(calibration, object_points, image_points):
    if object_points is None and image_points is None:
        object_points, image_points = calibration.object_points, calibration.image_points
        if image_points is None:
            raise ValueError("calibration has no points (computed by calibrate_camera?): pass object_points and "
                             "image_points")
    objs, imgs = _validate.point_views(object_points, image_points)
    if len(imgs) != calibration.n_views:
        raise ValueError(f"image_points has {len(imgs)} views but the calibration has {calibration.n_views}")
    return objs, imgs


def _region(iy, ix, shape):
    """Words for where cell ``(iy, ix)`` of a ``shape`` grid lies: 'top-left', 'centre', ..."""
    v = ("top", "", "bottom")[min(2, 3 * iy // shape[0])]
    h = ("left", "", "right")[min(2, 3 * ix // shape[1])]
    return "-".join(w for w in (v, h) if w) or "centre"


def assess_calibration(calibration, object_points=None, image_points=None, *, distance=None, grid=(32, 24)):
    """Is the calibration good enough, and what should be captured next? (data for the report's verdict)

    Measures the projection uncertainty over the image (how far the projection
    of a point at the working distance may move, one standard deviation in its
    worst direction, from the covariance of all the parameters at the
    solution, with the camera held fixed relative to the boards as mrcal
    does), the coverage of the image (empty cells, corners missing near each
    side) and of board tilts (all boards nearly facing the camera, none
    turned left/right or up/down), and sums it up in one line.

    Parameters
    ----------
    calibration : CameraCalibration
        Computed by cvcore (with its reprojection errors).
    object_points, image_points : lists of (N_i, 3) / (N_i, 2) array_like, optional
        The views it was computed from; default: the calibration's own (as
        :func:`calibrate_images` stores them).
    distance : float, optional
        Working distance for the uncertainty map (default: the median board
        distance), in the calibration's length unit.
    grid : (gx, gy)
        Cells of the uncertainty map (each 2-200).

    Returns
    -------
    CalibrationAssessment

    Examples
    --------
    >>> from cvcore.datasets import synthetic_chessboard_views
    >>> from cvcore.calibration import calibrate_camera
    >>> v = synthetic_chessboard_views(4, image_size=(320, 240), random_state=0)
    >>> a = assess_calibration(calibrate_camera([v.object_points] * 4, v.image_points, v.image_size),
    ...                        [v.object_points] * 4, v.image_points)
    >>> a.good, a.missing[0]
    (False, 'only 4 views (10 or more recommended)')
    """
    cal = calibration
    if cal.rms is None:
        raise ValueError("calibration has no reprojection errors (loaded from an OpenCV file?): an assessment "
                         "needs a calibration computed by cvcore")
    objs, imgs = _views_of(cal, object_points, image_points)
    distance = (_uncertainty.working_distance(cal) if distance is None
                else _validate.positive(distance, "distance"))
    gx, gy = _validate.pair(grid, "grid", lambda v, n: _validate.integer(v, n, low=2, high=200))
    w, h = cal.image_size
    xs, ys = (np.arange(gx) + 0.5) * w / gx - 0.5, (np.arange(gy) + 0.5) * h / gy - 0.5
    pix = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    umap = _uncertainty.projection_uncertainty(cal, objs, imgs, pix, distance).reshape(gy, gx)
    finite = umap[np.isfinite(umap)]
    u95 = float(np.percentile(finite, 95)) if finite.size else float("nan")
    umax = float(finite.max()) if finite.size else float("nan")
    covered = (_cell_counts(imgs, cal.image_size, (gx, gy)) > 0).ravel()
    xmap = _cross_validate(cal, objs, imgs, pix, distance, covered)
    x_covered = xmap[covered & np.isfinite(xmap)]
    x95 = float(np.percentile(x_covered, 95)) if x_covered.size else float("nan")

    pts = np.concatenate(imgs)
    gaps = {"left": float(max(pts[:, 0].min(), 0) / w), "right": float(max(w - 1 - pts[:, 0].max(), 0) / w),
            "top": float(max(pts[:, 1].min(), 0) / h), "bottom": float(max(h - 1 - pts[:, 1].max(), 0) / h)}
    normals = np.array([_geometry.rotation(np.asarray(r, np.float64))[:, 2] for r in cal.rvecs])
    normals *= np.where(normals[:, 2:] < 0, -1.0, 1.0)       # facing the camera or away: the same tilt
    tilts = np.degrees(np.arccos(np.clip(normals[:, 2], -1, 1)))
    turn = np.degrees(np.arctan2(normals[:, :2], normals[:, 2:]))
    cov = coverage(imgs, cal.image_size)

    missing, advice = [], []
    if cal.n_views < RECOMMENDED_VIEWS:
        missing.append(f"only {cal.n_views} views ({RECOMMENDED_VIEWS} or more recommended)")
        advice.append(f"add {RECOMMENDED_VIEWS - cal.n_views} or more views")
    for side, action in _SIDES:
        if gaps[side] > EDGE_MARGIN:
            missing.append(f"no corners within {EDGE_MARGIN:.0%} of the {side} edge".replace("%", " %"))
            advice.append(action)
    if cov < 0.6:
        missing.append(f"corners in only {cov:.0%} of the image cells".replace("%", " %"))
        advice.append("fill the empty cells of the coverage map")
    if tilts.max() < MIN_TILT:
        missing.append(f"all boards tilted < {MIN_TILT:.0f} deg")
        advice.append(f"tilt the board {MIN_TILT:.0f}-45 deg towards and away from the camera")
    else:
        for axis, (what, how) in enumerate((("left or right", "turn the board left and right"),
                                             ("up or down", "tip the board up and down"))):
            if np.abs(turn[:, axis]).max() < MIN_TILT:
                missing.append(f"no board turned {what} by {MIN_TILT:.0f} deg or more")
                advice.append(f"{how} by {MIN_TILT:.0f}-45 deg")
    if np.isfinite(u95) and u95 > GOOD_UNCERTAINTY:
        iy, ix = np.unravel_index(np.nanargmax(umap), umap.shape)
        missing.append(f"projection uncertainty {u95:.2f} px over 95 % of the image (worst at the "
                       f"{_region(iy, ix, umap.shape)})")
        advice.append(f"add views with the board at the {_region(iy, ix, umap.shape)}")
    if cal.rms > GOOD_RMS:
        missing.append(f"rms error {cal.rms:.2f} px is high")
        advice.append("check the pattern size, the square size and the focus")
    numbers = f"rms {cal.rms:.2f} px, worst-case uncertainty {u95:.2f} px over 95 % of the image"
    good = not missing and np.isfinite(u95)
    if good:
        verdict = f"good: {numbers}"
    else:
        first = advice[0] if advice else "add views"
        more = f" (+{len(advice) - 1} more, see the report)" if len(advice) > 1 else ""
        verdict = f"capture more: {first}{more}; {numbers}"
    return CalibrationAssessment(verdict, bool(good), float(cal.rms), u95, umax, float(distance), umap, cov, gaps,
                                 tilts, turn, tuple(missing), tuple(advice), x95, xmap.reshape(gy, gx))


# --------------------------------------------------------------------------- figure

_INK = (40, 40, 40)
_GRID = (210, 210, 210)
_RED = (200, 40, 40)
_GREEN = (30, 140, 60)
_NAN = (200, 200, 200)
SIZE = (1600, 1200)          # width, height of the report figure


def _text(img, s, org, scale=0.45, color=_INK, thick=1):
    draw_text(img, s, (int(org[0]), int(org[1])), colour=color, font_scale=scale, thickness=thick, out=img)


def _title(img, box, s):
    _text(img, s, (box[0], box[1] - 8), 0.5)


def _vertical_text(img, s, x, y_top, scale=0.35, color=_INK, max_len=18):
    """Text written bottom-to-top with its first letter at ``(x, y_top + length)``: bar labels."""
    s = s if len(s) <= max_len else s[:max_len - 2] + ".."
    (tw, th), base = cv2.getTextSize(s, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    tile = np.full((th + base + 2, tw + 2, 3), 255, np.uint8)
    _text(tile, s, (1, th + 1), scale, color)
    tile = np.rot90(tile)                                           # counter-clockwise: reads upwards
    H, W = img.shape[:2]
    h, w = tile.shape[:2]
    x0, y0 = int(x - w // 2), int(y_top)
    if x0 < 0 or y0 < 0 or x0 + w > W or y0 + h > H:
        return
    region = img[y0:y0 + h, x0:x0 + w]
    np.minimum(region, tile, out=region)


def _bars(img, box, values, overall, names):
    x0, y0, w, h = box
    _title(img, box, "reprojection error per view (px RMS)")
    draw_boxes(img, [[x0, y0, w + 1, h + 1]], colour=_INK, thickness=1, out=img)
    n = len(values)
    top = max(float(np.max(values)) if n else 1.0, overall, 1e-6) * 1.15
    for k in range(5):
        yv = top * k / 4
        yy = int(y0 + h - yv / top * h)
        cv2.line(img, (x0, yy), (x0 + w, yy), _GRID, 1)
        _text(img, f"{yv:.2f}", (x0 - 42, yy + 4), 0.35)
    bw = w / max(n, 1)
    bars = []
    for k, v in enumerate(values):
        xa = int(x0 + k * bw + 0.15 * bw)
        xb = max(xa + 1, int(x0 + (k + 1) * bw - 0.15 * bw))
        yy = int(y0 + h - v / top * h)
        bars.append([xa, yy, xb - xa + 1, y0 + h - yy + 1])
        if n <= 60:
            _vertical_text(img, names[k] if names else str(k + 1), (xa + xb) / 2, y0 + h + 4)
    if bars:
        draw_boxes(img, bars, colour=spread_colours(n), thickness=-1, out=img)
    yy = int(y0 + h - overall / top * h)
    cv2.line(img, (x0, yy), (x0 + w, yy), _RED, 1, cv2.LINE_AA)
    _text(img, f"overall {overall:.2f} px (red line)", (x0 + w - 190, y0 + 14), 0.4, _RED)


def _scatter(img, box, res, rms):
    """Residuals (dx, dy) of all corners, with the RMS circle."""
    x0, y0, w, h = box
    _title(img, box, "residuals dx, dy (px)")
    d = np.concatenate(res) if res else np.zeros((0, 2))
    lim = max(float(np.percentile(np.abs(d), 99)) * 1.2 if len(d) else 0.0, 3 * rms, 1e-3)
    cx, cy, s = x0 + w / 2, y0 + h / 2, (w / 2) / lim
    draw_boxes(img, [[x0, y0, w + 1, h + 1]], colour=_INK, thickness=1, out=img)
    cv2.line(img, (x0, int(cy)), (x0 + w, int(cy)), _GRID, 1)
    cv2.line(img, (int(cx), y0), (int(cx), y0 + h), _GRID, 1)
    for col, r in zip(spread_colours(len(res)).tolist(), res):
        for dx, dy in np.clip(r, -lim, lim):
            cv2.circle(img, (int(cx + dx * s), int(cy + dy * s)), 1, col, -1)
    cv2.circle(img, (int(cx), int(cy)), max(1, int(rms * s)), _RED, 1, cv2.LINE_AA)
    _text(img, f"+/-{lim:.2f}", (x0 + w - 70, y0 + h - 6), 0.35)
    _text(img, f"rms {rms:.2f} px (red)", (x0 + 4, y0 + 14), 0.35, _RED)


def _histogram(img, box, res):
    x0, y0, w, h = box
    _title(img, box, "histogram of |residual| (px)")
    mags = np.concatenate([np.hypot(*r.T) for r in res]) if res else np.zeros(0)
    lim = max(float(np.percentile(mags, 99.5)) * 1.1 if len(mags) else 0.0, 1e-3)
    counts, edges = np.histogram(np.clip(mags, 0, lim), bins=24, range=(0, lim))
    top = max(int(counts.max()), 1)
    draw_boxes(img, [[x0, y0, w + 1, h + 1]], colour=_INK, thickness=1, out=img)
    bw = w / len(counts)
    bars = [[int(x0 + k * bw) + 1, int(y0 + h - c / top * (h - 20)), max(1, int(bw) - 1), int(c / top * (h - 20)) + 1]
            for k, c in enumerate(counts) if c]
    if bars:
        draw_boxes(img, bars, colour=(90, 120, 200), thickness=-1, out=img)
    for k in range(5):
        _text(img, f"{lim * k / 4:.2f}", (x0 + k * w / 4 - 12, y0 + h + 14), 0.33)
    _text(img, f"max {top} corners per bin", (x0 + 4, y0 + 14), 0.35)


def _image_box(box, image_size):
    """Offset and scale that fit the image into ``box``, and the image's outline there."""
    x0, y0, w, h = box
    iw, ih = image_size
    s = min(w / iw, h / ih)
    ox, oy = x0 + (w - iw * s) / 2, y0 + (h - ih * s) / 2
    return ox, oy, s, [int(ox), int(oy), int(iw * s) + 1, int(ih * s) + 1]


def _residual_panel(img, box, cal, image_points, res):
    ox, oy, s, outline = _image_box(box, cal.image_size)
    iw = cal.image_size[0]
    draw_boxes(img, [outline], colour=_INK, thickness=1, out=img)
    mags = np.concatenate([np.hypot(*r.T) for r in res]) if res else np.zeros(1)
    ref = max(float(np.percentile(mags, 95)), 1e-9)
    gain = 0.03 * iw / ref  # the 95th-percentile residual is drawn as 3 % of the image width
    for col, p, r in zip(spread_colours(len(res)).tolist(), image_points, res):
        for (x, y), (dx, dy) in zip(np.asarray(p), r):
            a = (int(ox + x * s), int(oy + y * s))
            b = (int(ox + (x + dx * gain) * s), int(oy + (y + dy * gain) * s))
            cv2.line(img, a, b, col, 1, cv2.LINE_AA)
            cv2.circle(img, a, 1, col, -1)
    _title(img, box, "residual vectors over the image")
    _text(img, f"magnified {gain:.0f}x: {ref:.2f} px (95th percentile) = 3 % of the width",
          (box[0], box[1] + box[3] + 16), 0.38)


def _coverage_panel(img, box, cal, image_points):
    ox, oy, s, outline = _image_box(box, cal.image_size)
    iw, ih = cal.image_size
    gx, gy = 8, 6
    counts = _cell_counts(image_points, cal.image_size, (gx, gy))
    top = max(counts.max(), 1)
    cells, fills = [], []
    for j in range(gy):
        for i in range(gx):
            xa, ya = int(ox + i * iw / gx * s), int(oy + j * ih / gy * s)
            xb, yb = int(ox + (i + 1) * iw / gx * s), int(oy + (j + 1) * ih / gy * s)
            cells.append([xa, ya, xb - xa + 1, yb - ya + 1])
            shade = int(255 - 120 * counts[j, i] / top)
            fills.append((shade, shade, 255) if counts[j, i] else (255, 225, 225))
    draw_boxes(img, cells, colour=fills, thickness=-1, out=img)
    draw_boxes(img, cells, colour=_GRID, thickness=1, out=img)
    for col, p in zip(spread_colours(len(image_points)).tolist(), image_points):
        for x, y in np.asarray(p):
            cv2.circle(img, (int(ox + x * s), int(oy + y * s)), 1, col, -1)
    # the 15 % bands along the sides
    for side, (a, b) in (("left", ((0, 0), (EDGE_MARGIN * iw, ih))), ("right", (((1 - EDGE_MARGIN) * iw, 0), (iw, ih))),
                         ("top", ((0, 0), (iw, EDGE_MARGIN * ih))), ("bottom", ((0, (1 - EDGE_MARGIN) * ih), (iw, ih)))):
        del side
        cv2.rectangle(img, (int(ox + a[0] * s), int(oy + a[1] * s)), (int(ox + b[0] * s), int(oy + b[1] * s)),
                      (235, 200, 200), 1)
    draw_boxes(img, [outline], colour=_INK, thickness=1, out=img)
    cov = float((counts > 0).mean())
    _title(img, box, f"coverage: corners in {cov * 100:.0f} % of the cells (empty: red)")


def _colour_map(values, vmax):
    """RGB colours (viridis) of ``values`` scaled to [0, vmax]; NaN grey."""
    v = np.nan_to_num(np.clip(values / max(vmax, 1e-12), 0, 1), nan=0.0)
    rgb = cv2.applyColorMap(np.rint(v * 255).astype(np.uint8).reshape(-1, 1), cv2.COLORMAP_VIRIDIS)[:, 0, ::-1]
    rgb = rgb.reshape(values.shape + (3,)).copy()
    rgb[~np.isfinite(values)] = _NAN
    return rgb


def _uncertainty_panel(img, box, cal, image_points, a, unit):
    ox, oy, s, outline = _image_box(box, cal.image_size)
    umap = a.uncertainty_map
    # the scale shows the bulk of the image: up to twice the 95th percentile, the rest saturates (">=")
    vmax = max(2 * GOOD_UNCERTAINTY, min(a.uncertainty_max, 2 * a.uncertainty) if np.isfinite(a.uncertainty) else 0.0)
    tile = cv2.resize(_colour_map(umap, vmax), (outline[2], outline[3]), interpolation=cv2.INTER_LINEAR)
    img[outline[1]:outline[1] + outline[3], outline[0]:outline[0] + outline[2]] = tile
    for p in image_points:
        for x, y in np.asarray(p):
            cv2.circle(img, (int(ox + x * s), int(oy + y * s)), 1, (255, 255, 255), -1)
    draw_boxes(img, [outline], colour=_INK, thickness=1, out=img)
    dist = f"{a.distance:.3g} {unit}" if unit else f"{a.distance:.3g}"
    _title(img, box, f"projection uncertainty (px, 1 sd, worst direction) at {dist}")
    # colour bar
    bx, by, bh = outline[0] + outline[2] + 12, outline[1], outline[3]
    ramp = _colour_map(np.linspace(vmax, 0, bh)[:, None] * np.ones((1, 14)), vmax)
    img[by:by + bh, bx:bx + 14] = ramp
    for k in range(5):
        label = f"{vmax * (1 - k / 4):.2f}"
        saturated = k == 0 and np.isfinite(a.uncertainty_max) and a.uncertainty_max > vmax
        _text(img, (">=" if saturated else "") + label, (bx + 18, by + k * (bh - 1) / 4 + 8), 0.33)
    u = "n/a" if not np.isfinite(a.uncertainty) else f"{a.uncertainty:.2f}"
    _text(img, f"95 % of the image within {u} px; white dots: corners; grey: beyond the lens model",
          (box[0], box[1] + box[3] + 16), 0.38)


def _distortion_field(cal, gx, gy):
    """Pixel centres of a ``gx`` x ``gy`` grid, how far the lens moves each from its pinhole position, and validity."""
    iw, ih = cal.image_size
    K, d, model = cal.camera_matrix, np.asarray(cal.dist_coeffs, np.float64), cal.model
    xs, ys = np.meshgrid((np.arange(gx) + 0.5) * iw / gx - 0.5, (np.arange(gy) + 0.5) * ih / gy - 0.5)
    pix = np.stack([xs.ravel(), ys.ravel()], axis=1)
    seen = _geometry.pixels_to_normalized(pix, K)
    und = _geometry.undistort(seen, d, model)
    with np.errstate(invalid="ignore"):       # NaN beyond the model's valid range
        ok = np.hypot(*(_geometry.distort(und, d, model) - seen).T) < 1e-6
    ideal = _geometry.normalized_to_pixels(und, K)
    return pix, pix - ideal, ok


def _distortion_panel(img, box, cal):
    """Where the lens moves each pixel: magnitude as colour, arrows from the ideal (pinhole) to the observed position."""
    ox, oy, s, outline = _image_box(box, cal.image_size)
    iw = cal.image_size[0]
    pix, disp, ok = _distortion_field(cal, 64, 48)
    mag = np.where(ok, np.hypot(*disp.T), np.nan).reshape(48, 64)
    big = float(np.nanmax(mag)) if ok.any() else 0.0
    tile = cv2.resize(_colour_map(mag, max(big, 1e-9)), (outline[2], outline[3]), interpolation=cv2.INTER_LINEAR)
    img[outline[1]:outline[1] + outline[3], outline[0]:outline[0] + outline[2]] = tile
    pix, disp, ok = _distortion_field(cal, 16, 12)
    gain = 0.5 * (iw / 16) / max(big, 1e-9)          # the largest displacement is drawn half a cell long
    for (x, y), (dx, dy), good in zip(pix, disp, ok):
        if good:
            cv2.arrowedLine(img, (int(ox + (x - dx * gain) * s), int(oy + (y - dy * gain) * s)),
                            (int(ox + x * s), int(oy + y * s)), (255, 255, 255), 1, cv2.LINE_AA, tipLength=0.3)
    draw_boxes(img, [outline], colour=_INK, thickness=1, out=img)
    _title(img, box, "distortion: pixels moved by the lens (ideal -> observed)")
    _text(img, f"colour: 0 (dark) to {big:.1f} px (yellow); arrows scaled to it; grey: beyond the model",
          (box[0], box[1] + box[3] + 16), 0.38)


def _wrapped(img, text, x, y, width_chars, scale, colour, step):
    words, cur = text.split(), ""
    for word in words:
        if cur and len(cur) + len(word) + 1 > width_chars:
            _text(img, cur, (x, y), scale, colour)
            y += step
            cur = "    "
        cur += ("" if not cur or cur.endswith("    ") and not cur.strip() else " ") + word
    if cur.strip():
        _text(img, cur, (x, y), scale, colour)
        y += step
    return y


def draw_report(calibration, object_points, image_points, path=None, *, view_names=None, warnings=None,
                skipped=None, distance=None):
    """Draw the report figure; returns the RGB image and writes it to ``path`` if given (PNG).

    One 1600 x 1200 figure: the verdict line (:func:`assess_calibration`) at
    the top; per-view RMS bars labelled with the view names; a scatter and a
    histogram of the residuals; the residual vectors over the image; the
    coverage of the image (empty cells, the 15 % bands along the sides) and
    of board tilts, with what is missing; the projection-uncertainty map at
    the working distance; the cross-validation of two halves of the views;
    the distortion field; the intrinsics with their
    standard deviations, the rejected views with their reasons and the
    ``warnings``. Drawn with :mod:`cvcore.draw` and OpenCV's lines, written
    with :func:`cvcore.io.imwrite`; ``path`` is checked before anything is
    drawn.

    Parameters
    ----------
    calibration : CameraCalibration
    object_points, image_points : lists of (N_i, 3) / (N_i, 2) array_like
        The views used.
    path : str or path-like, optional
    view_names : list of str, optional
        Bar labels (default: the calibration's view names, else 1, 2, ...).
    warnings : list of str, optional
    skipped : list of (name, reason), optional
        Rejected views (default: the calibration's ``skipped``).
    distance : float, optional
        Working distance of the uncertainty map (default: median board distance).

    Examples
    --------
    >>> from cvcore.datasets import synthetic_chessboard_views
    >>> from cvcore.calibration import calibrate_camera
    >>> v = synthetic_chessboard_views(4, image_size=(320, 240), random_state=0)
    >>> cal = calibrate_camera([v.object_points] * 4, v.image_points, v.image_size)
    >>> draw_report(cal, [v.object_points] * 4, v.image_points).shape
    (1200, 1600, 3)
    """
    if path is not None:
        path = check_image_path(path, "path")
    cal = calibration
    if cal.rms is None or cal.per_view_rms is None:
        raise ValueError("calibration has no reprojection errors (loaded from an OpenCV file?): "
                         "a report needs a calibration computed by cvcore")
    a = assess_calibration(cal, object_points, image_points, distance=distance)
    W, H = SIZE
    img = np.full((H, W, 3), 255, np.uint8)
    names = view_names if view_names is not None else cal.view_names
    skipped = cal.skipped if skipped is None else skipped
    if not all(isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(x, str) for x in item)
               for item in skipped):
        raise TypeError("skipped must be a list of (name, reason) string pairs")
    image_points = [np.asarray(p, np.float64).reshape(-1, 2) for p in image_points]
    res = residuals(cal, object_points, image_points)
    _text(img, "cvcore camera calibration report", (20, 32), 0.8, _INK, 2)
    _text(img, a.verdict, (20, 64), 0.6, _GREEN if a.good else _RED, 2)

    _bars(img, (70, 110, 540, 220), cal.per_view_rms, cal.rms, names)
    _scatter(img, (70, 500, 250, 250), res, cal.rms)
    _histogram(img, (360, 500, 250, 250), res)
    _residual_panel(img, (680, 110, 420, 315), cal, image_points, res)
    _coverage_panel(img, (1150, 110, 420, 315), cal, image_points)
    _uncertainty_panel(img, (680, 500, 390, 315), cal, image_points, a, cal.unit)   # room for its colour bar
    _distortion_panel(img, (1150, 500, 420, 315), cal)

    # left: the numbers
    y = 800
    _text(img, f"image {cal.image_size[0]} x {cal.image_size[1]}, {cal.n_views} views, rms {cal.rms:.2f} px",
          (70, y), 0.45)
    y += 22
    for name, (v, sd) in cal.intrinsics().items():
        if name == "skew" and v == 0 and sd == 0:
            continue
        _text(img, f"{name:>5} = {v:#12.6g} +/- {sd:#.2g}", (70, y), 0.42)
        y += 19
    y += 6
    if skipped:
        _text(img, f"rejected views ({len(skipped)}):", (70, y), 0.42, _RED)
        y += 19
        for name, reason in skipped[:8]:
            y = _wrapped(img, f"{name}: {reason}", 80, y, 80, 0.36, _INK, 16)
        if len(skipped) > 8:
            _text(img, f"... and {len(skipped) - 8} more", (80, y), 0.36)
            y += 16
    else:
        _text(img, "rejected views: none", (70, y), 0.42)
        y += 19

    # right bottom: coverage of the image and of tilts, what is missing, warnings
    y2 = 880
    gaps = ", ".join(f"{k} {v * 100:.0f} %" for k, v in a.edge_gaps.items())
    _text(img, f"corners in {a.coverage * 100:.0f} % of the cells; gap to the sides: {gaps}", (680, y2), 0.42)
    y2 += 20
    _text(img, f"board tilt {a.tilts.min():.0f}-{a.tilts.max():.0f} deg; turned left/right up to "
               f"{np.abs(a.turn[:, 0]).max():.0f} deg, up/down up to {np.abs(a.turn[:, 1]).max():.0f} deg",
          (680, y2), 0.42)
    y2 += 24
    if np.isfinite(a.cross_validation):
        _text(img, f"cross-validation: calibrated alone, the even and odd views project points "
                   f"{a.cross_validation:.2f} px apart (95 % of the covered cells)", (680, y2), 0.42)
        y2 += 24
    if a.missing:
        _text(img, "missing (and what to capture next):", (680, y2), 0.45, _RED)
        y2 += 20
        for m, adv in zip(a.missing, a.advice):
            y2 = _wrapped(img, f"- {m}: {adv}", 690, y2, 100, 0.4, _RED, 18)
    else:
        _text(img, "nothing missing", (680, y2), 0.45, _GREEN)
        y2 += 20
    for wmsg in (warnings or [])[:4]:
        y2 = _wrapped(img, f"warning: {wmsg}", 690, min(y2, H - 20), 100, 0.38, _INK, 17)
    if path is not None:
        imwrite(path, img)
    return img
