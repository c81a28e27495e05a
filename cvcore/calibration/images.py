"""``calibrate_images``: from photographs of a chessboard to a calibrated camera."""
from __future__ import annotations

import inspect
import os
import warnings

import numpy as np

from .. import _validate
from .._progress import progress_reporter
from . import _detector, _geometry, _solver
from ._assemble import assemble
from .model import CameraCalibration, now_utc, this_version
from .report import calibration_warnings

__all__ = ["calibrate_images", "CalibrationError"]


#: Images without a board kept to suggest the right pattern size.
_SUGGEST_FROM = 6


class CalibrationError(ValueError):
    """Calibration from images is impossible (no board found, too few views, ...)."""


def _load(item):
    if isinstance(item, (str, os.PathLike)):
        from ..io import imread

        return imread(os.fspath(item))
    return item


def _suggest_pattern(greys, cols, rows):
    """Explain a wrong pattern size, using the grid the detector does see."""
    seen = {}
    for g in greys[:_SUGGEST_FROM]:
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


def calibrate_images(images_or_paths, pattern_size, square_size=1.0, *, unit=None, reject_outliers=True,
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
    unit : str, optional
        That unit's name (e.g. ``"mm"``), recorded in the result and its files.
    reject_outliers : bool
        Drop, one at a time, views whose RMS error exceeds ``outlier_factor``
        times the median of the others (and 0.5 px), then recalibrate.
    outlier_factor : float
    progress : None, bool or callable
        cvcore's progress convention: None draws a bar on stderr only when it
        is a terminal, True/False force it on/off, a callable is called as
        ``progress(done, total, "calibration images")`` after each image.
    min_views : int
        Fewest usable views to accept (at least 3).
    **options
        Options of :func:`calibrate_camera` (``fix_k3``, ``zero_tangent_dist``,
        ``robust``, ...); with ``robust=True`` the result's ``outliers`` lists
        the corners left out as ``(view, point)`` indices into ``image_points``.

    Returns
    -------
    CameraCalibration
        With ``object_points`` and ``image_points`` (the views used),
        ``skipped`` (``(name, reason)`` pairs: no board found, unreadable, other
        size, outlier), ``warnings``, ``pattern_size``, ``square_size``,
        ``unit``, the cvcore version and the date.

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
    cols, rows = _validate.pattern_size(pattern_size, low=3)
    square = _validate.positive(square_size, "square_size")
    unit = None if unit is None else _validate_unit(unit)
    reject_outliers = _validate.boolean(reject_outliers, "reject_outliers")
    factor = _validate.real(outlier_factor, "outlier_factor", low=1.0)
    min_views = _validate.integer(min_views, "min_views", low=3)
    opts = _solver.options(**options)
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

    found, skipped, greys = [], [], []
    legacy = _legacy_callback(progress)
    with progress_reporter(len(items), "calibration images", False if legacy else progress) as bar:
        for k, item in enumerate(items):
            name = os.path.basename(os.fspath(item)) if isinstance(item, (str, os.PathLike)) else f"image {k}"
            try:
                grey = _detector.work_image(_load(item), f"images_or_paths[{k}]")
            except (ValueError, TypeError, OSError) as exc:
                skipped.append((name, f"unreadable: {exc}"[:1000]))
                bar.update(1, status=f"{name}: unreadable")
                if legacy:
                    legacy(k + 1, len(items), name, "unreadable")
                continue
            corners, verdict = _detector.locate(grey, cols, rows)
            if corners is None:
                skipped.append((name, _detector.describe(verdict, cols, rows)))
                if len(greys) < _SUGGEST_FROM:          # enough to suggest a pattern size; bounded memory
                    greys.append(grey)
                status = "no board"
            else:
                found.append((name, corners, (grey.shape[1], grey.shape[0])))
                status = f"{len(corners)} corners"
            bar.update(1, status=f"{name}: {status}")
            if legacy:
                legacy(k + 1, len(items), name, status)
    if not found:
        if not greys:
            raise CalibrationError("none of the images could be read")
        raise CalibrationError(_suggest_pattern(greys, cols, rows))
    size, found = _one_size(found, skipped)
    if len(found) < min_views:
        raise CalibrationError(f"only {len(found)} usable view(s) with a complete {cols}x{rows} board; at least "
                               f"{min_views} are needed (10-20 recommended)")
    names = [f[0] for f in found]
    pts = [f[1] for f in found]
    board = _geometry.board_points(cols, rows, square)
    try:
        result = _solver.solve([board] * len(pts), pts, size, opts)
        while reject_outliers and len(pts) > min_views:
            rms = result["per_view_rms"]
            worst = int(np.argmax(rms))
            ref = float(np.median(np.delete(rms, worst)))
            if not (rms[worst] > factor * ref and rms[worst] > 0.5):
                break
            skipped.append((names[worst], f"outlier: per-view error {rms[worst]:.2f} px is "
                                          f"{rms[worst] / max(ref, 1e-12):.1f}x the median {ref:.2f} px of the others"))
            del names[worst], pts[worst]
            result = _solver.solve([board] * len(pts), pts, size, opts)
    except ValueError as exc:
        raise CalibrationError(str(exc)) from None
    values = {**result, "view_names": names, "pattern_size": (cols, rows), "square_size": square, "unit": unit,
              "skipped": skipped, "object_points": [board] * len(pts), "image_points": pts,
              "cvcore_version": this_version(), "date": now_utc()}
    # the warnings read the finished calibration and belong to the result
    warns = calibration_warnings(assemble(CameraCalibration, values), pts)
    return assemble(CameraCalibration, {**values, "warnings": warns})


def _legacy_callback(progress):
    """A callable of the old form ``progress(index, total, name, status)``, kept working (deprecated), or None."""
    if not callable(progress) or isinstance(progress, bool):
        return None
    try:
        sig = inspect.signature(progress)
    except (TypeError, ValueError):
        return None
    try:
        sig.bind(1, 1, "")
        return None
    except TypeError:
        pass
    try:
        sig.bind(1, 1, "", "")
    except TypeError:
        return None
    warnings.warn("calibrate_images: a progress callable taking (index, total, name, status) is deprecated; "
                  "it now gets (done, total, description) like every cvcore progress callback",
                  DeprecationWarning, stacklevel=3)
    return progress


def _validate_unit(unit):
    if not isinstance(unit, str):
        raise TypeError(f"unit must be a string such as 'mm', got {type(unit).__name__}")
    if not 0 < len(unit) <= 32 or not unit.isprintable():
        raise ValueError(f"unit must be a short name such as 'mm', got {unit[:40]!r}")
    return unit


def _one_size(found, skipped):
    """One camera resolution: keep the most common size among the detected views."""
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
    return size, found
