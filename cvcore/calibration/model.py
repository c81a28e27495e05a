"""The result of a calibration and its file formats (JSON, OpenCV YAML and XML).

* JSON (``format: "cvcore-camera-calibration"``, ``version: 3``) round-trips
  every number exactly. Version 3 added the lens ``model`` (``"pinhole"``,
  ``"rational"``, ``"fisheye"``); files of version 2 (always pinhole) and of
  version 1 (``format: "cvcore.camera_calibration"``, written by cvcore 0.1
  before the model-file layer) are still read; anything else is refused with a
  clear error.
* YAML is written in OpenCV's ``FileStorage`` dialect (``%YAML:1.0``,
  ``!!opencv-matrix`` nodes named ``camera_matrix`` and
  ``distortion_coefficients``, ``image_width``, ``board_width``,
  ``square_size``... as OpenCV's calibration sample names them), so
  ``cv2.FileStorage(path, cv2.FILE_STORAGE_READ)`` reads it; numbers are
  written with 17 significant digits so they round-trip exactly. The lens
  model is a ``model`` node; ``distortion_coefficients`` holds 5 (pinhole), 8
  (rational, as ``cv2.calibrateCamera`` gives them) or 4 (fisheye, as
  ``cv2.fisheye`` takes them) values.
* :meth:`CameraCalibration.load` also reads YAML and XML written by
  ``cv2.FileStorage`` (at least ``camera_matrix``, ``distortion_coefficients``,
  ``image_width`` and ``image_height``; ``avg_reprojection_error``,
  ``per_view_reprojection_errors`` and ``extrinsic_parameters`` are used when
  present). Without a ``model`` node (or ROS's ``distortion_model``:
  ``plumb_bob``, ``rational_polynomial``, ``equidistant``), 8 coefficients
  mean the rational model and 4 or 5 the pinhole one.

Every file goes through :mod:`cvcore._validate.modelfile`: sizes are capped
before anything is allocated, XML is parsed with ``defusedxml``, types are
strict, matrices are checked (shapes, finite values: NaN is refused), and the
constructor validates what the file holds like any other argument.
"""
from __future__ import annotations

import datetime
import os

import numpy as np

from .. import _validate
from .._validate import modelfile
from .._version import __version__
from . import _filestorage
from ._assemble import ARGUMENTS, SAVED
from ._geometry import COEFFS, intrinsic_names

__all__ = ["CameraCalibration"]

FORMAT = "cvcore-camera-calibration"
VERSION = 3
#: Versions of FORMAT this cvcore reads (2 had no lens model: always pinhole).
READ_VERSIONS = (2, 3)
#: ROS ``distortion_model`` names of the lens models.
_ROS_MODELS = {"plumb_bob": "pinhole", "rational_polynomial": "rational", "equidistant": "fisheye"}
#: The format name and version of files written before the model-file layer.
LEGACY_FORMAT, LEGACY_VERSION = "cvcore.camera_calibration", 1

#: Caps for files: size on disk, views, elements of any one matrix, string lengths.
MAX_FILE_BYTES = 16 << 20
MAX_VIEWS = 10_000
_MAX_ELEMENTS = 6 * MAX_VIEWS
_MAX_TEXT = 4096
_SUFFIXES = {"json": (".json",), "yaml": (".yml", ".yaml")}


def _rows(value, name, cols):
    """``(n, cols)`` finite float64 rows (an empty list or array gives ``(0, cols)``)."""
    arr = _validate.array(value, name, ndim=(1, 2), allow_empty=True)
    if arr.size == 0:
        return np.zeros((0, cols))
    if arr.ndim != 2 or arr.shape[1] != cols:
        raise ValueError(f"{name} must have shape (n_views, {cols}), got shape {arr.shape}")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite values")
    return out


def _non_negative(arr, name):
    if np.any(arr < 0):
        raise ValueError(f"{name} must not be negative")
    return arr


def _text(value, name, *, optional=True, max_len=_MAX_TEXT):
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if len(value) > max_len:
        raise ValueError(f"{name} is longer than {max_len} characters")
    return value


def _texts(value, name):
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a list of strings, got {type(value).__name__}")
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{name} must be a list of strings, got {type(value).__name__}") from None
    return [_text(v, f"{name}[{i}]", optional=False) for i, v in enumerate(items)]


class _IntrinsicNames:
    """``CameraCalibration.intrinsic_names``: the pinhole names on the class, the model's on an instance."""

    def __get__(self, obj, owner=None):
        return intrinsic_names("pinhole" if obj is None else obj.model)


class CameraCalibration:
    """Intrinsics, distortion, poses and their uncertainty from a calibration.

    Parameters
    ----------
    camera_matrix : (3, 3) array_like
        ``[[fx, s, cx], [0, fy, cy], [0, 0, 1]]``, positive focal lengths.
    dist_coeffs : array_like or None
        The lens model's coefficients, OpenCV's order (None: no distortion):
        ``(k1, k2, p1, p2[, k3])`` for ``"pinhole"``, up to ``(k1, k2, p1, p2,
        k3, k4, k5, k6)`` for ``"rational"``, ``(k1, k2, k3, k4)`` for
        ``"fisheye"``.
    rvecs, tvecs : (n_views, 3) array_like
        Board poses (may be empty).
    rms : float or None
        Overall reprojection error in pixels (None when unknown, e.g. for a
        camera read from a file that does not record it).
    per_view_rms : (n_views,) array_like or None
        None when unknown (with no views, always an empty array).
    std_intrinsics : (5 + n_coeffs,) array_like or None
    std_extrinsics : (n_views, 6) array_like or None
    image_size : (width, height)
    view_names : list of str, optional
        One name per view, or empty.
    flags : dict of str to bool, optional
        The options the calibration ran with.
    iterations : int
        Levenberg-Marquardt iterations.
    pattern_size : (cols, rows), optional
        Inner corners of the chessboard.
    square_size : float, optional
        Side of a square (the unit of ``tvecs``).
    unit : str, optional
        Unit of ``square_size`` and ``tvecs`` (e.g. ``"mm"``).
    skipped : list of (name, reason), optional
        Views left out, and why.
    warnings : list of str, optional
        Plain-language reliability warnings (not saved).
    object_points, image_points : list of (N_i, 3) / (N_i, 2) arrays, optional
        The points of the views used (not saved).
    cvcore_version, date : str, optional
        The cvcore version that computed the calibration and when (ISO 8601, UTC).
    outliers : (M, 2) array_like of int, optional
        ``(view, point)`` indices of the points a robust calibration left out
        (not saved).
    model : {"pinhole", "rational", "fisheye"}
        The lens model (see :mod:`cvcore.calibration.camera`).

    Attributes
    ----------
    model : str
    camera_matrix : (3, 3) ndarray
    dist_coeffs : ndarray
        ``(k1, k2, p1, p2, k3)`` (pinhole), ``(k1, k2, p1, p2, k3, k4, k5,
        k6)`` (rational) or ``(k1, k2, k3, k4)`` (fisheye), OpenCV's order.
    rvecs, tvecs : (n_views, 3) ndarray
        Pose of the board in each view (Rodrigues vector, translation in the
        units of the object points).
    rms : float or None
        ``sqrt(sum of squared residuals / number of points)`` (OpenCV's definition).
    per_view_rms : (n_views,) ndarray or None
    std_intrinsics : ndarray or None
        Standard deviations of ``fx, fy, cx, cy, skew`` and the coefficients
        (``intrinsic_names``; 0 for fixed parameters), from ``sigma^2 (J'J)^-1`` at the optimum with
        ``sigma^2 = SSE / (2 N - p)``.
    std_extrinsics : (n_views, 6) ndarray or None
        Standard deviations of ``(rvec, tvec)`` per view.
    image_size : (int, int)
    view_names : list of str
    flags : dict
    iterations : int
    pattern_size : (int, int) or None
    square_size : float or None
    unit : str or None
    skipped : list of (str, str)
    warnings : list of str
    object_points, image_points : list of ndarray or None
    cvcore_version, date : str or None
    outliers : (M, 2) int ndarray or None
        None unless the calibration was robust (``calibrate_camera(...,
        robust=True)``); then the points it left out, possibly none.

    Examples
    --------
    >>> import numpy as np
    >>> cal = CameraCalibration(np.diag([500.0, 500.0, 1.0]), np.zeros(5), np.zeros((0, 3)),
    ...                         np.zeros((0, 3)), 0.0, np.zeros(0), np.zeros(10),
    ...                         np.zeros((0, 6)), (640, 480))
    >>> cal.fx, cal.image_size
    (500.0, (640, 480))
    """

    intrinsic_names = _IntrinsicNames()

    def __init__(self, camera_matrix, dist_coeffs, rvecs, tvecs, rms, per_view_rms, std_intrinsics,
                 std_extrinsics, image_size, *, view_names=None, flags=None, iterations=0, pattern_size=None,
                 square_size=None, unit=None, skipped=None, warnings=None, object_points=None,
                 image_points=None, cvcore_version=None, date=None, outliers=None, model="pinhole"):
        self.model = _validate.lens_model(model)
        self.camera_matrix = _validate.camera_matrix(camera_matrix)
        self.dist_coeffs = _validate.dist_coeffs(dist_coeffs, model=self.model)
        n_intrinsics = 5 + len(COEFFS[self.model])
        self.rvecs = _rows(rvecs, "rvecs", 3)
        self.tvecs = _rows(tvecs, "tvecs", 3)
        n = self.rvecs.shape[0]
        if self.tvecs.shape[0] != n:
            raise ValueError(f"rvecs and tvecs must describe the same views, got {n} and {self.tvecs.shape[0]}")
        self.rms = None if rms is None else _validate.non_negative(rms, "rms")
        if n == 0:      # nothing per view to know: empty, never None
            per_view_rms = np.zeros(0) if per_view_rms is None else per_view_rms
            std_extrinsics = np.zeros((0, 6)) if std_extrinsics is None else std_extrinsics
        self.per_view_rms = None if per_view_rms is None else _non_negative(
            _validate.vector(per_view_rms, "per_view_rms", n), "per_view_rms")
        self.std_intrinsics = None if std_intrinsics is None else _non_negative(
            _validate.vector(np.ravel(_validate.array(std_intrinsics, "std_intrinsics")), "std_intrinsics",
                             n_intrinsics),
            "std_intrinsics")
        self.std_extrinsics = None if std_extrinsics is None else _non_negative(
            _rows(std_extrinsics, "std_extrinsics", 6), "std_extrinsics")
        if self.std_extrinsics is not None and self.std_extrinsics.shape[0] != n:
            raise ValueError(f"std_extrinsics must have one row per view ({n}), got {self.std_extrinsics.shape[0]}")
        self.image_size = _validate.image_size(image_size)
        self.view_names = _texts(view_names, "view_names")
        if self.view_names and len(self.view_names) != n:
            raise ValueError(f"view_names must name every view ({n}), got {len(self.view_names)} names")
        self.flags = self._flags(flags)
        self.iterations = _validate.integer(iterations, "iterations", low=0, high=10**6)
        self.pattern_size = None if pattern_size is None else _validate.pattern_size(pattern_size)
        self.square_size = None if square_size is None else _validate.positive(square_size, "square_size")
        self.unit = _text(unit, "unit", max_len=32)
        self.skipped = self._skipped(skipped)
        self.warnings = _texts(warnings, "warnings")
        if (object_points is None) != (image_points is None):
            raise ValueError("object_points and image_points must be given together")
        if object_points is not None:
            object_points, image_points = _validate.point_views(object_points, image_points)
            if len(object_points) != n:
                raise ValueError(f"object_points and image_points must hold the {n} views, got {len(object_points)}")
        self.object_points = object_points
        self.image_points = image_points
        self.cvcore_version = _text(cvcore_version, "cvcore_version", max_len=64)
        self.date = _text(date, "date", max_len=64)
        self.outliers = None if outliers is None else self._outliers(outliers, n)

    @staticmethod
    def _outliers(outliers, n_views):
        arr = _validate.array(outliers, "outliers")
        if arr.size == 0:
            return np.zeros((0, 2), np.intp)
        if arr.ndim != 2 or arr.shape[1] != 2 or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"outliers must be an (M, 2) array of (view, point) indices, got shape {arr.shape}")
        arr = arr.astype(np.intp)
        if np.any(arr < 0) or (n_views and np.any(arr[:, 0] >= n_views)):
            raise ValueError(f"outliers must index the {n_views} views with non-negative indices")
        return arr

    @staticmethod
    def _flags(flags):
        if flags is None:
            return {}
        if not isinstance(flags, dict):
            raise TypeError(f"flags must be a dict of str to bool, got {type(flags).__name__}")
        out = {}
        for k, v in flags.items():
            if not isinstance(k, str) or not k.isidentifier():
                raise ValueError(f"flags keys must be identifiers, got {k!r}")
            out[k] = _validate.boolean(v, f"flags[{k!r}]")
        return out

    @staticmethod
    def _skipped(skipped):
        out = []
        for i, item in enumerate([] if skipped is None else skipped):
            if isinstance(item, (str, bytes)) or not hasattr(item, "__len__") or len(item) != 2:
                raise TypeError(f"skipped[{i}] must be a (name, reason) pair of strings")
            out.append((_text(item[0], f"skipped[{i}][0]", optional=False),
                        _text(item[1], f"skipped[{i}][1]", optional=False)))
        return out

    # convenient read-only views -------------------------------------------------
    fx = property(lambda self: float(self.camera_matrix[0, 0]))
    fy = property(lambda self: float(self.camera_matrix[1, 1]))
    cx = property(lambda self: float(self.camera_matrix[0, 2]))
    cy = property(lambda self: float(self.camera_matrix[1, 2]))
    skew = property(lambda self: float(self.camera_matrix[0, 1]))

    @property
    def n_views(self):
        return self.rvecs.shape[0]

    def intrinsics(self):
        """Dict name -> (value, standard deviation) for the intrinsics (NaN where not known).

        Examples
        --------
        >>> import numpy as np
        >>> cal = CameraCalibration(np.diag([500.0, 400.0, 1.0]), None, [], [], None, None, None, None, (64, 48))
        >>> cal.intrinsics()["fy"]
        (400.0, nan)
        """
        K, d = self.camera_matrix, self.dist_coeffs
        values = (K[0, 0], K[1, 1], K[0, 2], K[1, 2], K[0, 1], *d)
        names = self.intrinsic_names
        std = np.full(len(names), np.nan) if self.std_intrinsics is None else self.std_intrinsics
        return {n: (float(v), float(s)) for n, v, s in zip(names, values, std)}

    def __repr__(self):
        rms = "unknown" if self.rms is None else f"{self.rms:.4f}"
        model = "" if self.model == "pinhole" else f"model={self.model!r}, "
        return (f"CameraCalibration({model}fx={self.fx:.3f}, fy={self.fy:.3f}, cx={self.cx:.3f}, cy={self.cy:.3f}, "
                f"dist={np.array2string(self.dist_coeffs, precision=5)}, rms={rms}, "
                f"views={self.n_views}, image_size={self.image_size})")

    def replace(self, **changes):
        """A new calibration with some constructor arguments changed (validated like any others).

        Examples
        --------
        >>> import numpy as np
        >>> cal = CameraCalibration(np.diag([500.0, 400.0, 1.0]), None, [], [], None, None, None, None, (64, 48))
        >>> cal.replace(unit="mm").unit, cal.unit
        ('mm', None)
        """
        unknown = sorted(set(changes) - set(ARGUMENTS))
        if unknown:
            raise TypeError(f"replace() got unknown argument(s) {', '.join(unknown)}")
        return CameraCalibration(**{**{a: getattr(self, a) for a in ARGUMENTS}, **changes})

    def __eq__(self, other):
        """Equal when everything a file records is equal (warnings and points are not saved)."""
        if not isinstance(other, CameraCalibration):
            return NotImplemented
        for name in SAVED:
            a, b = getattr(self, name), getattr(other, name)
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                if a is None or b is None or not np.array_equal(a, b):
                    return False
            elif a != b:
                return False
        return True

    __hash__ = None

    # serialisation --------------------------------------------------------------
    def to_dict(self):
        """Plain-Python dict of everything saved (the JSON document without its header).

        Examples
        --------
        >>> import numpy as np
        >>> cal = CameraCalibration(np.diag([500.0, 400.0, 1.0]), None, [], [], None, None, None, None, (64, 48))
        >>> cal.to_dict()["camera_matrix"]
        [[500.0, 0.0, 0.0], [0.0, 400.0, 0.0], [0.0, 0.0, 1.0]]
        """
        def listed(a):
            return None if a is None else a.tolist()

        return {
            "model": self.model,
            "image_size": list(self.image_size),
            "camera_matrix": self.camera_matrix.tolist(),
            "dist_coeffs": self.dist_coeffs.tolist(),
            "rms": self.rms,
            "per_view_rms": listed(self.per_view_rms),
            "rvecs": self.rvecs.tolist(),
            "tvecs": self.tvecs.tolist(),
            "std_intrinsics": listed(self.std_intrinsics),
            "std_extrinsics": listed(self.std_extrinsics),
            "intrinsic_names": list(self.intrinsic_names),
            "view_names": list(self.view_names),
            "flags": dict(self.flags),
            "iterations": self.iterations,
            "pattern_size": None if self.pattern_size is None else list(self.pattern_size),
            "square_size": self.square_size,
            "unit": self.unit,
            "skipped": [list(s) for s in self.skipped],
            "cvcore_version": self.cvcore_version,
            "date": self.date,
        }

    @staticmethod
    def output_format(path, format=None):
        """Check that ``path`` can be written as a calibration file; returns ``(path, format)``.

        ``format`` is ``"json"`` or ``"yaml"``; None picks it from the
        extension (``.json``, ``.yml``, ``.yaml``). The extension must match
        the format. Raises ``IsADirectoryError``, ``FileNotFoundError`` (no such
        folder), ``PermissionError`` or ``ValueError`` before any work is done.

        Examples
        --------
        >>> import os, tempfile
        >>> CameraCalibration.output_format(os.path.join(tempfile.gettempdir(), "cam.yml"))[1]
        'yaml'
        """
        if format is not None:
            format = _validate.choice(format, "format", ("json", "yaml"))
            suffixes = _SUFFIXES[format]
        else:
            suffixes = _SUFFIXES["json"] + _SUFFIXES["yaml"]
        path = modelfile.writable_file(path, "path", suffixes=suffixes)
        if format is None:
            format = "yaml" if path.lower().endswith(_SUFFIXES["yaml"]) else "json"
        return path, format

    def save(self, path, *, format=None):
        """Write to ``path`` as JSON or OpenCV YAML (by ``format`` or the extension).

        Parameters
        ----------
        path : str or os.PathLike
            Ends in ``.json``, ``.yml`` or ``.yaml``. Written atomically.
        format : {"json", "yaml"}, optional
            Default: from the extension.

        Examples
        --------
        >>> import numpy as np, tempfile, os
        >>> cal = CameraCalibration(np.diag([500.0, 500.0, 1.0]), np.zeros(5), np.zeros((0, 3)),
        ...                         np.zeros((0, 3)), 0.0, np.zeros(0), np.zeros(10),
        ...                         np.zeros((0, 6)), (640, 480), unit="mm")
        >>> path = os.path.join(tempfile.mkdtemp(), "camera.yml")
        >>> cal.save(path)
        >>> CameraCalibration.load(path) == cal
        True
        """
        path, fmt = self.output_format(path, format)
        if max(self.n_views, len(self.skipped)) > MAX_VIEWS:
            raise ValueError(f"a calibration file holds at most {MAX_VIEWS} views (this one has {self.n_views} "
                             f"and {len(self.skipped)} skipped)")
        if fmt == "json":
            modelfile.write_json(path, self.to_dict(), kind=FORMAT, version=VERSION)
        else:
            modelfile.write_text(path, _filestorage.format_yaml(self._yaml_entries()))

    def _yaml_entries(self):
        w, h = self.image_size
        e = [("format", FORMAT), ("version", VERSION), ("model", self.model), ("image_width", w),
             ("image_height", h), ("camera_matrix", self.camera_matrix),
             ("distortion_coefficients", self.dist_coeffs.reshape(1, -1))]
        if self.rms is not None:
            e.append(("rms", self.rms))
        e.append(("iterations", self.iterations))
        n = self.n_views
        if n:
            e += [("rvecs", self.rvecs), ("tvecs", self.tvecs)]
            if self.per_view_rms is not None:
                e.append(("per_view_rms", self.per_view_rms.reshape(n, 1)))
            if self.std_extrinsics is not None:
                e.append(("std_extrinsics", self.std_extrinsics))
        if self.std_intrinsics is not None:
            e.append(("std_intrinsics", self.std_intrinsics.reshape(1, -1)))
        if self.view_names:
            e.append(("view_names", self.view_names))
        e += [(f"flag_{k}", v) for k, v in sorted(self.flags.items())]
        if self.pattern_size is not None:
            e += [("board_width", self.pattern_size[0]), ("board_height", self.pattern_size[1])]
        for key in ("square_size", "unit", "cvcore_version", "date"):
            if getattr(self, key) is not None:
                e.append((key, getattr(self, key)))
        if self.skipped:
            e += [("skipped_views", [s[0] for s in self.skipped]), ("skipped_reasons", [s[1] for s in self.skipped])]
        return e

    @classmethod
    def load(cls, path):
        """Read a calibration: cvcore JSON (versions 1 to 3) or OpenCV FileStorage YAML/XML.

        The kind is recognised from the content, not the extension.

        Raises
        ------
        FileNotFoundError, IsADirectoryError, PermissionError
            When the path cannot be read.
        ValueError
            If the file is not a camera calibration, is of an unknown version,
            is corrupt, too large, holds NaN or badly shaped matrices.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "cv.xml")
        >>> with open(path, "w") as fh:
        ...     _ = fh.write('''<?xml version="1.0"?><opencv_storage>
        ... <image_width>640</image_width><image_height>480</image_height>
        ... <camera_matrix type_id="opencv-matrix"><rows>3</rows><cols>3</cols><dt>d</dt>
        ... <data>500. 0. 320. 0. 500. 240. 0. 0. 1.</data></camera_matrix>
        ... <distortion_coefficients type_id="opencv-matrix"><rows>1</rows><cols>5</cols><dt>d</dt>
        ... <data>-0.1 0.01 0. 0. 0.</data></distortion_coefficients></opencv_storage>''')
        >>> cal = CameraCalibration.load(path)
        >>> cal.fx, float(cal.dist_coeffs[0]), cal.rms
        (500.0, -0.1, None)
        """
        data = modelfile.read_bytes(path, max_bytes=MAX_FILE_BYTES)
        where = os.fspath(path)
        head = data[:64].lstrip()
        if head.startswith(b"{"):
            return cls._from_json(modelfile.loads_json(data, where), where)
        if head.startswith(b"<"):
            root = modelfile.parse_xml(path, max_bytes=MAX_FILE_BYTES, max_elements=_MAX_ELEMENTS)
            return cls._from_nodes(_filestorage.parse_xml(root, where), where)
        if head.startswith(b"%YAML"):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError(f"{where}: not UTF-8 text") from None
            return cls._from_nodes(_filestorage.parse_yaml(text, where), where)
        raise ValueError(f"{where} is not a camera calibration file (expected cvcore JSON or OpenCV YAML/XML)")

    @classmethod
    def _from_json(cls, doc, where):
        fields = modelfile.Fields(doc, where)
        fmt = fields.raw("format", None)
        if fmt == LEGACY_FORMAT:
            modelfile.check_header(fields, kind=LEGACY_FORMAT, versions=(LEGACY_VERSION,))
        elif fmt == FORMAT:
            modelfile.check_header(fields, kind=FORMAT, versions=READ_VERSIONS)
        else:
            raise ValueError(f"{where}: not a cvcore camera calibration (format is {fmt!r}, expected {FORMAT!r})")
        return cls._from_fields(fields, legacy=fmt == LEGACY_FORMAT)

    @classmethod
    def _from_nodes(cls, nodes, where):
        """Map OpenCV FileStorage nodes (ours or OpenCV's) to the JSON layout, then read that."""
        fmt = nodes.get("format")
        if fmt is not None:
            if fmt not in (FORMAT, LEGACY_FORMAT):
                raise ValueError(f"{where}: not a cvcore camera calibration (format is {fmt!r})")
            want = READ_VERSIONS if fmt == FORMAT else (LEGACY_VERSION,)
            if nodes.get("version") not in want or isinstance(nodes.get("version"), bool):
                raise ValueError(f"{where}: {fmt} version {nodes.get('version')!r} is not supported by this "
                                 f"cvcore (reads version {', '.join(map(str, want))})")
        if fmt == LEGACY_FORMAT:
            nodes = _legacy_nodes(nodes)
        for key in ("camera_matrix", "distortion_coefficients", "image_width", "image_height"):
            if key not in nodes:
                raise ValueError(f"{where}: not a camera calibration: missing {key!r}")

        def matrix(key):
            node = nodes[key]
            if not isinstance(node, _filestorage.Matrix):
                raise ValueError(f"{where}: {key} must be an opencv-matrix")
            return node.array(_MAX_ELEMENTS)

        dist = matrix("distortion_coefficients")
        doc = {"model": _node_model(nodes, dist.size, where), "camera_matrix": matrix("camera_matrix"),
               "dist_coeffs": dist,
               "image_size": [nodes["image_width"], nodes["image_height"]],
               "rms": nodes.get("rms", nodes.get("avg_reprojection_error")),
               "iterations": nodes.get("iterations", 0)}
        if "rvecs" in nodes or "tvecs" in nodes:
            doc["rvecs"], doc["tvecs"] = matrix("rvecs"), matrix("tvecs")
        elif "extrinsic_parameters" in nodes:
            ext = matrix("extrinsic_parameters")
            if ext.ndim != 2 or ext.shape[1] != 6:
                raise ValueError(f"{where}: extrinsic_parameters must have 6 columns, got shape {ext.shape}")
            doc["rvecs"], doc["tvecs"] = ext[:, :3], ext[:, 3:]
        else:
            doc["rvecs"] = doc["tvecs"] = np.zeros((0, 3))
        for key, alias in (("per_view_rms", "per_view_reprojection_errors"), ("std_intrinsics", None),
                           ("std_extrinsics", None)):
            src = key if key in nodes else alias
            doc[key] = matrix(src) if src in nodes else None
        for key in ("per_view_rms", "std_intrinsics"):
            if doc[key] is not None:
                doc[key] = doc[key].ravel()
        if "board_width" in nodes or "board_height" in nodes:
            doc["pattern_size"] = [nodes.get("board_width"), nodes.get("board_height")]
        for key in ("view_names", "square_size", "unit", "cvcore_version", "date"):
            if key in nodes:
                doc[key] = nodes[key]
        if "skipped_views" in nodes or "skipped_reasons" in nodes:
            names, reasons = nodes.get("skipped_views"), nodes.get("skipped_reasons")
            if not (isinstance(names, list) and isinstance(reasons, list) and len(names) == len(reasons)):
                raise ValueError(f"{where}: skipped_views and skipped_reasons must be lists of the same length")
            doc["skipped"] = [list(p) for p in zip(names, reasons)]
        # flags are written 0/1 (FileStorage has no booleans)
        doc["flags"] = {k[5:]: (v == 1 if v in (0, 1) and not isinstance(v, float) else v)
                        for k, v in nodes.items() if k.startswith("flag_")}
        return cls.from_dict(doc, where)

    @classmethod
    def from_dict(cls, doc, where="calibration"):
        """A calibration from :meth:`to_dict`'s layout, checked as strictly as a file.

        For documents that embed a calibration (a stereo rig's cameras); errors
        name ``where``.

        Examples
        --------
        >>> import numpy as np
        >>> cal = CameraCalibration(np.diag([500.0, 400.0, 1.0]), None, [], [], None, None, None, None, (64, 48))
        >>> CameraCalibration.from_dict(cal.to_dict()) == cal
        True
        >>> CameraCalibration.from_dict({"model": "pinhole"}, "left")
        Traceback (most recent call last):
        ...
        ValueError: left: missing field 'camera_matrix'
        """
        if not isinstance(doc, dict):
            raise TypeError(f"{where}: a calibration must be a mapping, got {type(doc).__name__}")
        return cls._from_fields(modelfile.Fields(doc, where), legacy=False)

    @classmethod
    def _from_fields(cls, f, *, legacy):
        """Strictly typed fields (JSON layout) -> a validated calibration; errors name the file."""
        where = f.where

        def optional_array(key):
            value = f.raw(key, None)
            if value is None or (legacy and _has_none(value)):
                return None           # unknown (version 1 wrote "not determined" as null)
            return f.array(key, dtype=np.float64, max_size=_MAX_ELEMENTS)

        def rows(key, cols):
            value = f.raw(key)
            if isinstance(value, (list, np.ndarray)) and len(value) == 0:
                return np.zeros((0, cols))
            return f.array(key, dtype=np.float64, shape=(None, cols), max_size=_MAX_ELEMENTS)

        def string(value, label, max_len=_MAX_TEXT):
            if not isinstance(value, str):
                raise ValueError(f"{where}: {label} must be a string, got {type(value).__name__}")
            if len(value) > max_len:
                raise ValueError(f"{where}: {label} is longer than {max_len} characters")
            return value

        def pair(key):
            if f.raw(key, None) is None:
                return None
            items = f.list(key, min_len=2, max_len=2)
            sub = modelfile.Fields({"[0]": items[0], "[1]": items[1]}, f"{where}: {key}")
            return sub.int("[0]", low=0, high=1 << 20), sub.int("[1]", low=0, high=1 << 20)

        def text(key, max_len=_MAX_TEXT):
            value = f.raw(key, None)
            return None if value is None else string(value, key, max_len)

        names = [string(v, f"view_names[{i}]") for i, v in enumerate(f.list("view_names", max_len=MAX_VIEWS,
                                                                             default=[]))]
        skipped = []
        for i, item in enumerate(f.list("skipped", max_len=MAX_VIEWS, default=[])):
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise ValueError(f"{where}: skipped[{i}] must be a [name, reason] pair")
            skipped.append((string(item[0], f"skipped[{i}][0]"), string(item[1], f"skipped[{i}][1]")))
        flags = f.sub("flags", default=None)
        model = f.raw("model", "pinhole")
        if model not in COEFFS:
            raise ValueError(f"{where}: model must be one of {', '.join(COEFFS)}, got {model!r}")
        try:
            return cls(
                f.array("camera_matrix", dtype=np.float64, shape=(3, 3)),
                f.array("dist_coeffs", dtype=np.float64, max_size=16),
                rows("rvecs", 3), rows("tvecs", 3),
                None if f.raw("rms", None) is None else f.float("rms", low=0.0),
                optional_array("per_view_rms"), optional_array("std_intrinsics"),
                optional_array("std_extrinsics"),
                pair("image_size"),
                view_names=names,
                flags=None if flags is None else {k: flags.bool(k) for k in flags.data},
                iterations=f.int("iterations", low=0, high=10**6, default=0),
                pattern_size=pair("pattern_size"),
                square_size=None if f.raw("square_size", None) is None else f.float("square_size", low=0.0),
                unit=text("unit", 32), skipped=skipped,
                cvcore_version=text("cvcore_version", 64), date=text("date", 64), model=model,
            )
        except (TypeError, ValueError) as exc:
            msg = str(exc)
            raise ValueError(msg if msg.startswith(where) else f"{where}: {msg}") from None


def _node_model(nodes, n_coeffs, where):
    """The lens model of FileStorage nodes: a ``model`` (or ROS ``distortion_model``) node, else the coefficient count."""
    if "model" in nodes:
        model = nodes["model"]
        if model not in COEFFS:
            raise ValueError(f"{where}: model must be one of {', '.join(COEFFS)}, got {model!r}")
        return model
    if "distortion_model" in nodes:
        name = nodes["distortion_model"]
        if name not in _ROS_MODELS:
            raise ValueError(f"{where}: distortion_model {name!r} is not one cvcore has (it has "
                             f"{', '.join(_ROS_MODELS)})")
        return _ROS_MODELS[name]
    if n_coeffs == 8:
        return "rational"
    if n_coeffs in (12, 14):
        raise ValueError(f"{where}: {n_coeffs} distortion coefficients (OpenCV's thin-prism or tilted models) are "
                         "not a model cvcore has (pinhole: 4 or 5, rational: 8, fisheye: 4 with a model node)")
    return "pinhole"


def _legacy_nodes(nodes):
    """Version 1 YAML wrote quantities that were not determined as .nan: read them as unknown."""
    out = dict(nodes)
    if isinstance(out.get("rms"), float) and not np.isfinite(out["rms"]):
        del out["rms"]
    for key in ("per_view_rms", "std_intrinsics", "std_extrinsics"):
        node = out.get(key)
        if isinstance(node, _filestorage.Matrix) and not np.all(np.isfinite(node.array(_MAX_ELEMENTS))):
            del out[key]
    return out


def _has_none(value):
    stack = [value]
    while stack:
        v = stack.pop()
        if v is None:
            return True
        if isinstance(v, list):
            stack.extend(v)
    return False


def now_utc():
    """The current time as ISO 8601 in UTC (seconds), as calibrations record it."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def this_version():
    """The running cvcore's version string."""
    return __version__
