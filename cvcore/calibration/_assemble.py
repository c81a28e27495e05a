"""Building a ``CameraCalibration`` from values cvcore computed and checked itself.

The public constructor validates every argument; the calibration pipeline has
already checked the user's arguments (pattern size, square size, unit...) and
computed the rest, so it assembles the result here instead of having each
value validated a second time on the same call path.
"""
from __future__ import annotations

#: Every constructor argument of ``CameraCalibration``, which is also every attribute it has.
ARGUMENTS = ("model", "camera_matrix", "dist_coeffs", "rvecs", "tvecs", "rms", "per_view_rms", "std_intrinsics",
             "std_extrinsics", "image_size", "view_names", "flags", "iterations", "pattern_size", "square_size",
             "unit", "skipped", "warnings", "object_points", "image_points", "cvcore_version", "date", "outliers")

#: What a file records (warnings, the points and the outlier points are not saved).
SAVED = tuple(a for a in ARGUMENTS if a not in ("warnings", "object_points", "image_points", "outliers"))

_EMPTY = {"model": lambda: "pinhole", "view_names": list, "flags": dict, "iterations": int, "skipped": list, "warnings": list}


def assemble(cls, values):
    """An instance of ``cls`` (CameraCalibration) holding ``values`` as they are.

    ``values`` must already be in the constructor's normalised form (float64
    arrays of the right shapes, tuples of ints, lists of str); arguments left
    out take the constructor's defaults.
    """
    unknown = set(values) - set(ARGUMENTS)
    if unknown:
        raise TypeError(f"unknown CameraCalibration argument(s) {', '.join(sorted(unknown))}")
    obj = cls.__new__(cls)
    attrs = vars(obj)
    for name in ARGUMENTS:
        attrs[name] = values[name] if name in values else _EMPTY.get(name, lambda: None)()
    return obj
