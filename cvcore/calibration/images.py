"""``calibrate_images``: from photographs of a chessboard to a calibrated camera."""
from __future__ import annotations

import os
import sys

import numpy as np

from .. import _validate
from .calibrate import calibrate_camera, chessboard_points
from . import _detector
from .report import calibration_warnings

__all__ = ["calibrate_images", "CalibrationError"]


class CalibrationError(ValueError):
    """Calibration from images is impossible (no board found, too few views, ...)."""


def _progress_bar(i, n, name, status, stream=sys.stderr):
    width = 24
    done = int(width * i / max(n, 1))
    stream.write(f"\r[{'#' * done}{'.' * (width - done)}] {i}/{n} {name[:40]:<40} {status[:30]:<30}")
    if i == n:
        stream.write("\n")
    stream.flush()


def _load(item, k):
    if isinstance(item, (str, os.PathLike)):
        from ..io import imread

        path = os.fspath(item)
        return os.path.basename(path), imread(path)
    return f"image {k}", item


def _suggest_pattern(greys, cols, rows):
    """Explain a wrong pattern size, using the grid the detector does see."""
    seen = {}
    for g in greys[:6]:
        grid, _ = _detector.detect_grid(g, 60)
        if grid is not None and min(grid.shape[:2]) >= 3:
            key = tuple(sorted(grid.shape[:2], reverse=True))
            seen[key] = seen.get(key, 0) + 1
    msg = (f"no {cols}x{rows} chessboard found in any image. The pattern size counts INNER corners "
           f"(where four squares meet): a board of {cols + 1}x{rows + 1} squares has {cols}x{rows} inner corners.")
    if seen:
        (a, b), _ = max(seen.items(), key=lambda kv: kv[1])
        if (a, b) == tuple(sorted((cols - 1, rows - 1), reverse=True)):
            msg += (f" The images show a board with {a}x{b} inner corners: it looks like squares were counted."
                    f" Try --pattern {a}x{b}.")
        elif (a, b) != tuple(sorted((cols, rows), reverse=True)):
            msg += f" The images show a chessboard with {a}x{b} inner corners: try --pattern {a}x{b}."
    return msg


def calibrate_images(images_or_paths, pattern_size, square_size=1.0, *, reject_outliers=True,
                     outlier_factor=3.0, progress=None, min_views=3, **options):
    """Detect a chessboard in every image and calibrate the camera.

    Parameters
    ----------
    images_or_paths : sequence of arrays or paths
        Photographs of the chessboard (all from one camera, same size).
    pattern_size : (cols, rows) or str
        Inner corners per row and column, e.g. ``(9, 6)`` or ``"9x6"``.
    square_size : float
        Side of one square, in the unit wanted for the poses (e.g. mm).
    reject_outliers : bool
        Drop, one at a time, views whose RMS error exceeds ``outlier_factor``
        times the median of the others (and 0.5 px), then recalibrate.
    outlier_factor : float
    progress : bool or callable, optional
        True: a text progress bar on stderr; a callable gets
        ``(index, total, name, status)`` after each image; None: a bar only
        when stderr is a terminal.
    min_views : int
        Fewest usable views to accept (at least 3).
    **options
        Passed to :func:`calibrate_camera` (``fix_k3``, ``zero_tangent_dist``, ...).

    Returns
    -------
    CameraCalibration
        With extra attributes ``object_points`` and ``image_points`` (the views
        used), ``skipped`` (list of ``(name, reason)``: no board found,
        unreadable, other size, outlier) and ``warnings`` (list of str).

    Raises
    ------
    CalibrationError (a ValueError)
        No board in any image (with a hint when the pattern size looks wrong),
        fewer than ``min_views`` usable views, or degenerate views.

    Examples
    --------
    >>> from cvcore.datasets import synthetic_chessboard_views
    >>> views = synthetic_chessboard_views(6, image_size=(480, 360), random_state=2)
    >>> cal = calibrate_images(views.images, (9, 6), 30.0, progress=False)
    >>> cal.n_views, bool(abs(cal.fx / views.camera_matrix[0, 0] - 1) < 0.01)
    (6, True)
    """
    cols, rows = _validate.pattern_size(pattern_size)
    square = _validate.positive(square_size, "square_size")
    factor = _validate.real(outlier_factor, "outlier_factor", low=1.0)
    min_views = _validate.integer(min_views, "min_views", low=3)
    if isinstance(images_or_paths, (str, os.PathLike, np.ndarray)) and not (
            isinstance(images_or_paths, np.ndarray) and images_or_paths.ndim == 4):
        images_or_paths = [images_or_paths]
    try:
        items = list(images_or_paths)
    except TypeError:
        raise TypeError("images_or_paths must be a sequence of images (arrays) or image file paths, "
                        f"got {type(images_or_paths).__name__}") from None
    if not items:
        raise CalibrationError("no images given")
    if progress is None:
        progress = sys.stderr.isatty()
    report = progress if callable(progress) else (_progress_bar if progress else None)

    board = chessboard_points((cols, rows), square)
    found, skipped, greys, sizes = [], [], [], []
    n = len(items)
    for k, item in enumerate(items):
        try:
            name, img = _load(item, k)
            grey = _detector.work_image(img)
        except (ValueError, TypeError) as exc:
            name = os.path.basename(os.fspath(item)) if isinstance(item, (str, os.PathLike)) else f"image {k}"
            skipped.append((name, f"unreadable: {exc}"))
            if report:
                report(k + 1, n, name, "unreadable")
            continue
        size = (grey.shape[1], grey.shape[0])
        corners = _detector.find_corners(grey, cols, rows)
        if corners is None:
            skipped.append((name, "no complete chessboard found"))
            greys.append(grey)
            status = "no board"
        else:
            found.append((name, corners, size))
            status = f"{len(corners)} corners"
        sizes.append(size)
        if report:
            report(k + 1, n, name, status)
    if not found:
        if not greys:
            raise CalibrationError("none of the images could be read")
        raise CalibrationError(_suggest_pattern(greys, cols, rows))
    # one camera resolution: keep the most common size among the detected views
    counts = {}
    for _, _, s in found:
        counts[s] = counts.get(s, 0) + 1
    size = max(counts, key=lambda s: (counts[s], s))
    if len(counts) > 1:
        tied = [s for s in counts if counts[s] == counts[size]]
        if len(tied) > 1:
            listing = ", ".join(f"{w}x{h}" for w, h in sorted(tied))
            raise CalibrationError(f"the images have mixed sizes ({listing}, equally many); calibrate one "
                                   "camera resolution at a time")
        for name, _, s in found:
            if s != size:
                skipped.append((name, f"image size {s[0]}x{s[1]} differs from the {size[0]}x{size[1]} "
                                      "of the other views"))
        found = [f for f in found if f[2] == size]
    if len(found) < min_views:
        raise CalibrationError(f"only {len(found)} usable view(s) with a complete {cols}x{rows} board; at least "
                               f"{min_views} are needed (10-20 recommended)")
    names = [f[0] for f in found]
    pts = [f[1] for f in found]
    try:
        cal = calibrate_camera([board] * len(pts), pts, size, **options)
        while reject_outliers and len(pts) > min_views:
            rms = cal.per_view_rms
            worst = int(np.argmax(rms))
            others = np.delete(rms, worst)
            ref = float(np.median(others))
            if not (rms[worst] > factor * ref and rms[worst] > 0.5):
                break
            skipped.append((names[worst], f"outlier: per-view error {rms[worst]:.2f} px is "
                                          f"{rms[worst] / max(ref, 1e-12):.1f}x the median {ref:.2f} px of the others"))
            del names[worst], pts[worst]
            cal = calibrate_camera([board] * len(pts), pts, size, **options)
    except ValueError as exc:
        raise CalibrationError(str(exc)) from None
    cal.view_names = names
    cal.object_points = [board] * len(pts)
    cal.image_points = pts
    cal.skipped = skipped
    cal.warnings = calibration_warnings(cal, pts)
    cal.pattern_size = (cols, rows)
    cal.square_size = square
    return cal
