"""Quality checks and the report figure of a calibration.

``calibration_warnings`` states what limits a calibration (too few views,
corners covering little of the image, nearly parallel views, large errors);
``draw_report`` draws per-view reprojection errors, the residual vectors over
the image and a coverage map with :mod:`cvcore.draw`.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..draw import draw_boxes, draw_text, spread_colours
from ..io import check_image_path, imwrite
from .camera import project_points, rodrigues

__all__ = ["calibration_warnings", "coverage", "view_spread_degrees", "draw_report", "residuals"]

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
        out.append(project_points(o, r, t, calibration.camera_matrix, calibration.dist_coeffs) - np.asarray(i))
    return out


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


# --------------------------------------------------------------------------- figure

_INK = (40, 40, 40)
_GRID = (210, 210, 210)
_RED = (200, 40, 40)


def _text(img, s, org, scale=0.45, color=_INK, thick=1):
    draw_text(img, s, (int(org[0]), int(org[1])), colour=color, font_scale=scale, thickness=thick, out=img)


def _frame(img, x0, y0, w, h, title):
    draw_boxes(img, [[x0, y0, w + 1, h + 1]], labels=[title], colour=_INK, thickness=1, font_scale=0.5, out=img)


def _bars(img, box, values, overall, names):
    x0, y0, w, h = box
    _frame(img, x0, y0, w, h, "reprojection error per view (px RMS)")
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
        if n <= 40:
            _text(img, str(k + 1), (xa, y0 + h + 14), 0.33)
    if bars:
        draw_boxes(img, bars, colour=spread_colours(n), thickness=-1, out=img)
    yy = int(y0 + h - overall / top * h)
    cv2.line(img, (x0, yy), (x0 + w, yy), _RED, 1, cv2.LINE_AA)
    _text(img, f"overall {overall:.3f} px (red line); views numbered in input order", (x0, y0 + h + 34), 0.4, _RED)


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
    colours = spread_colours(len(res)).tolist()
    for col, p, r in zip(colours, image_points, res):
        for (x, y), (dx, dy) in zip(np.asarray(p), r):
            a = (int(ox + x * s), int(oy + y * s))
            b = (int(ox + (x + dx * gain) * s), int(oy + (y + dy * gain) * s))
            cv2.line(img, a, b, col, 1, cv2.LINE_AA)
            cv2.circle(img, a, 1, col, -1)
    _text(img, "residual vectors (projection - detection)", (box[0], box[1] - 8), 0.5)
    _text(img, f"residuals magnified {gain:.0f}x ({ref:.2f} px, the 95th percentile, = {0.03 * iw * s:.0f} drawn px)",
          (box[0], box[1] + box[3] + 16), 0.4)


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
            fills.append((shade, shade, 255) if counts[j, i] else (255, 235, 235))
    draw_boxes(img, cells, colour=fills, thickness=-1, out=img)
    draw_boxes(img, cells, colour=_GRID, thickness=1, out=img)
    for col, p in zip(spread_colours(len(image_points)).tolist(), image_points):
        for x, y in np.asarray(p):
            cv2.circle(img, (int(ox + x * s), int(oy + y * s)), 1, col, -1)
    draw_boxes(img, [outline], colour=_INK, thickness=1, out=img)
    cov = float((counts > 0).mean())
    _text(img, f"coverage: corners in {cov:.0%} of the image cells (empty cells red)", (box[0], box[1] - 8), 0.5)


def draw_report(calibration, object_points, image_points, path=None, *, view_names=None, warnings=None):
    """Draw the report figure; returns the RGB image and writes it to ``path`` if given (PNG).

    Panels: per-view RMS error bars, residual vectors over the image, coverage
    map of the detected corners, and a text summary with standard deviations
    and ``warnings``. Drawn with :mod:`cvcore.draw` (and OpenCV's lines and
    circles), written with :func:`cvcore.io.imwrite`; ``path`` is checked
    before anything is drawn.

    Examples
    --------
    >>> from cvcore.datasets import synthetic_chessboard_views
    >>> from cvcore.calibration import calibrate_camera
    >>> v = synthetic_chessboard_views(4, image_size=(320, 240), random_state=0)
    >>> cal = calibrate_camera([v.object_points] * 4, v.image_points, v.image_size)
    >>> draw_report(cal, [v.object_points] * 4, v.image_points).shape
    (900, 1280, 3)
    """
    if path is not None:
        path = check_image_path(path, "path")
    cal = calibration
    if cal.rms is None or cal.per_view_rms is None:
        raise ValueError("calibration has no reprojection errors (loaded from an OpenCV file?): "
                         "a report needs a calibration computed by cvcore")
    W, H = 1280, 900
    img = np.full((H, W, 3), 255, np.uint8)
    names = view_names if view_names is not None else cal.view_names
    res = residuals(cal, object_points, image_points)
    _text(img, "cvcore camera calibration report", (20, 30), 0.8, _INK, 2)
    _bars(img, (70, 80, 520, 260), cal.per_view_rms, cal.rms, names)
    _residual_panel(img, (660, 80, 600, 400), cal, image_points, res)
    _coverage_panel(img, (660, 540, 600, 330), cal, image_points)
    lines = [f"image size {cal.image_size[0]} x {cal.image_size[1]}, {cal.n_views} views, "
             f"RMS {cal.rms:.4f} px"]
    for name, (v, sd) in cal.intrinsics().items():
        if name == "skew" and v == 0 and sd == 0:
            continue
        lines.append(f"{name:>5} = {v:12.6g}  +/- {sd:.3g}")
    y = 420
    for line in lines:
        _text(img, line, (70, y), 0.5)
        y += 22
    for wmsg in (warnings or [])[:6]:
        words, cur = wmsg.split(), "warning: "
        for word in words:
            if len(cur) + len(word) > 80:
                _text(img, cur, (70, y), 0.42, _RED)
                y += 18
                cur = "   "
            cur += word + " "
        _text(img, cur, (70, y), 0.42, _RED)
        y += 20
    if path is not None:
        imwrite(path, img)
    return img
