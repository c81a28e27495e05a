"""The result of a calibration and its file formats (JSON and OpenCV YAML).

JSON (``format: "cvcore.camera_calibration"``, ``version: 1``) round-trips
every number exactly. YAML is written in OpenCV's ``FileStorage`` dialect
(``%YAML:1.0`` with ``!!opencv-matrix`` nodes named ``camera_matrix`` and
``distortion_coefficients``, as OpenCV's calibration sample writes them), so
``cv2.FileStorage(path, cv2.FILE_STORAGE_READ)`` reads it; numbers are
written with 17 significant digits so they also round-trip exactly.
"""
from __future__ import annotations

import json
import os
import re

import numpy as np

from .lm import INTRINSIC_NAMES

__all__ = ["CameraCalibration"]

FORMAT = "cvcore.camera_calibration"
VERSION = 1


class CameraCalibration:
    """Intrinsics, distortion, poses and their uncertainty from a calibration.

    Attributes
    ----------
    camera_matrix : (3, 3) ndarray
        ``[[fx, s, cx], [0, fy, cy], [0, 0, 1]]`` (``s`` is 0 unless the skew
        was estimated).
    dist_coeffs : (5,) ndarray
        ``(k1, k2, p1, p2, k3)``, OpenCV's order.
    rvecs, tvecs : (n_views, 3) ndarray
        Pose of the board in each view (Rodrigues vector, translation in the
        units of the object points).
    rms : float
        Overall reprojection error in pixels, ``sqrt(sum of squared residuals
        / number of points)`` (OpenCV's definition).
    per_view_rms : (n_views,) ndarray
        The same per view.
    std_intrinsics : (10,) ndarray
        Standard deviations of ``fx, fy, cx, cy, skew, k1, k2, p1, p2, k3``
        (0 for fixed parameters), from ``sigma^2 (J'J)^-1`` at the optimum with
        ``sigma^2 = SSE / (2 N - p)``.
    std_extrinsics : (n_views, 6) ndarray
        Standard deviations of ``(rvec, tvec)`` per view.
    image_size : (int, int)
        ``(width, height)``.
    view_names : list of str
        Names of the views (file names when calibrating images), may be empty.
    flags : dict
        The options the calibration ran with.

    Examples
    --------
    >>> import numpy as np
    >>> cal = CameraCalibration(np.diag([500.0, 500.0, 1.0]), np.zeros(5), np.zeros((0, 3)),
    ...                         np.zeros((0, 3)), 0.0, np.zeros(0), np.zeros(10),
    ...                         np.zeros((0, 6)), (640, 480))
    >>> cal.fx, cal.image_size
    (500.0, (640, 480))
    """

    intrinsic_names = INTRINSIC_NAMES

    def __init__(self, camera_matrix, dist_coeffs, rvecs, tvecs, rms, per_view_rms,
                 std_intrinsics, std_extrinsics, image_size, *, view_names=None, flags=None,
                 iterations=0):
        self.camera_matrix = np.asarray(camera_matrix, dtype=np.float64).reshape(3, 3)
        self.dist_coeffs = np.asarray(dist_coeffs, dtype=np.float64).reshape(5)
        self.rvecs = np.asarray(rvecs, dtype=np.float64).reshape(-1, 3)
        self.tvecs = np.asarray(tvecs, dtype=np.float64).reshape(-1, 3)
        self.rms = float(rms)
        self.per_view_rms = np.asarray(per_view_rms, dtype=np.float64).reshape(-1)
        self.std_intrinsics = np.asarray(std_intrinsics, dtype=np.float64).reshape(10)
        self.std_extrinsics = np.asarray(std_extrinsics, dtype=np.float64).reshape(-1, 6)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.view_names = [str(v) for v in (view_names or [])]
        self.flags = dict(flags or {})
        self.iterations = int(iterations)
        n = self.rvecs.shape[0]
        if not (self.tvecs.shape[0] == self.per_view_rms.shape[0] == self.std_extrinsics.shape[0] == n):
            raise ValueError("rvecs, tvecs, per_view_rms and std_extrinsics must describe the same views")
        if self.view_names and len(self.view_names) != n:
            raise ValueError("view_names must name every view")

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
        """Dict name -> (value, standard deviation) for the 10 intrinsics."""
        K, d = self.camera_matrix, self.dist_coeffs
        values = (K[0, 0], K[1, 1], K[0, 2], K[1, 2], K[0, 1], *d)
        return {n: (float(v), float(s)) for n, v, s in zip(INTRINSIC_NAMES, values, self.std_intrinsics)}

    def __repr__(self):
        return (f"CameraCalibration(fx={self.fx:.3f}, fy={self.fy:.3f}, cx={self.cx:.3f}, cy={self.cy:.3f}, "
                f"dist={np.array2string(self.dist_coeffs, precision=5)}, rms={self.rms:.4f}, "
                f"views={self.n_views}, image_size={self.image_size})")

    def __eq__(self, other):
        if not isinstance(other, CameraCalibration):
            return NotImplemented
        arrays = ("camera_matrix", "dist_coeffs", "rvecs", "tvecs", "per_view_rms", "std_intrinsics",
                  "std_extrinsics")
        return (all(np.array_equal(getattr(self, a), getattr(other, a), equal_nan=True) for a in arrays)
                and (self.rms == other.rms or (np.isnan(self.rms) and np.isnan(other.rms)))
                and self.image_size == other.image_size and self.view_names == other.view_names)

    # serialisation --------------------------------------------------------------
    def to_dict(self):
        """Plain-Python dict of everything (the JSON document)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "image_size": list(self.image_size),
            "camera_matrix": self.camera_matrix.tolist(),
            "dist_coeffs": self.dist_coeffs.tolist(),
            "rms": _num(self.rms),
            "per_view_rms": [_num(v) for v in self.per_view_rms],
            "rvecs": self.rvecs.tolist(),
            "tvecs": self.tvecs.tolist(),
            "std_intrinsics": [_num(v) for v in self.std_intrinsics],
            "std_extrinsics": [[_num(v) for v in row] for row in self.std_extrinsics],
            "intrinsic_names": list(INTRINSIC_NAMES),
            "view_names": list(self.view_names),
            "flags": self.flags,
            "iterations": self.iterations,
        }

    def save(self, path, *, format=None):
        """Write to ``path`` as JSON or OpenCV YAML (by ``format`` or the extension).

        Parameters
        ----------
        path : str or os.PathLike
        format : {"json", "yaml"}, optional
            Default: YAML for ``.yml``/``.yaml``, JSON otherwise.

        Examples
        --------
        >>> import numpy as np, tempfile, os
        >>> cal = CameraCalibration(np.diag([500.0, 500.0, 1.0]), np.zeros(5), np.zeros((0, 3)),
        ...                         np.zeros((0, 3)), 0.0, np.zeros(0), np.zeros(10),
        ...                         np.zeros((0, 6)), (640, 480))
        >>> path = os.path.join(tempfile.mkdtemp(), "camera.yml")
        >>> cal.save(path)
        >>> CameraCalibration.load(path) == cal
        True
        """
        path = os.fspath(path)
        fmt = format or ("yaml" if path.lower().endswith((".yml", ".yaml")) else "json")
        if fmt not in ("json", "yaml"):
            raise ValueError(f"format must be 'json' or 'yaml', got {format!r}")
        text = json.dumps(self.to_dict(), indent=1) if fmt == "json" else self._yaml()
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)

    def _yaml(self):
        w, h = self.image_size
        lines = ["%YAML:1.0", "---", f'format: "{FORMAT}"', f"version: {VERSION}",
                 f"image_width: {w}", f"image_height: {h}"]
        lines += _yaml_matrix("camera_matrix", self.camera_matrix)
        lines += _yaml_matrix("distortion_coefficients", self.dist_coeffs.reshape(1, 5))
        lines.append(f"rms: {_yaml_float(self.rms)}")
        lines.append(f"iterations: {self.iterations}")
        n = self.n_views
        if n:
            lines += _yaml_matrix("per_view_rms", self.per_view_rms.reshape(n, 1))
            lines += _yaml_matrix("rvecs", self.rvecs)
            lines += _yaml_matrix("tvecs", self.tvecs)
            lines += _yaml_matrix("std_extrinsics", self.std_extrinsics)
        lines += _yaml_matrix("std_intrinsics", self.std_intrinsics.reshape(1, 10))
        if self.view_names:
            lines.append("view_names:")
            lines += [f"   - {json.dumps(v)}" for v in self.view_names]
        for k, v in sorted(self.flags.items()):
            if isinstance(v, (bool, int, float)) and re.fullmatch(r"\w+", k):
                lines.append(f"flag_{k}: {int(v) if isinstance(v, bool) else _yaml_float(v)}")
        return "\n".join(lines) + "\n"

    @classmethod
    def load(cls, path):
        """Read a file written by :meth:`save` (JSON or YAML).

        OpenCV YAML/XML-free files holding at least ``camera_matrix``,
        ``distortion_coefficients``, ``image_width`` and ``image_height`` (as
        OpenCV's calibration sample writes them) are read too.

        Raises
        ------
        ValueError
            If the file is not a camera calibration or is corrupt.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"calibration file not found: {path}")
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except UnicodeDecodeError:
            raise ValueError(f"{path} is not a camera calibration file (not text)") from None
        stripped = text.lstrip()
        if stripped.startswith("{"):
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path} is not valid JSON ({exc})") from None
            return cls._from_json(doc, path)
        if stripped.startswith("%YAML"):
            return cls._from_yaml(text, path)
        raise ValueError(f"{path} is not a camera calibration file (expected JSON or OpenCV YAML)")

    @classmethod
    def _from_json(cls, doc, path):
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"{path} is not a cvcore camera calibration (missing format {FORMAT!r})")
        if doc.get("version") != VERSION:
            raise ValueError(f"{path} has unsupported version {doc.get('version')!r} (this cvcore reads {VERSION})")
        try:
            return cls._checked(
                doc["camera_matrix"], doc["dist_coeffs"], doc["rvecs"], doc["tvecs"], doc["rms"],
                doc["per_view_rms"], doc["std_intrinsics"], doc["std_extrinsics"], doc["image_size"],
                view_names=doc.get("view_names"), flags=doc.get("flags"), iterations=doc.get("iterations", 0),
                path=path,
            )
        except KeyError as exc:
            raise ValueError(f"{path} is corrupt: missing field {exc}") from None

    @classmethod
    def _from_yaml(cls, text, path):
        nodes = _parse_opencv_yaml(text, path)
        fmt = nodes.get("format")
        if fmt is not None and fmt != FORMAT:
            raise ValueError(f"{path} is not a cvcore camera calibration (format {fmt!r})")
        if "version" in nodes and nodes["version"] != VERSION:
            raise ValueError(f"{path} has unsupported version {nodes['version']!r}")
        for key in ("camera_matrix", "distortion_coefficients", "image_width", "image_height"):
            if key not in nodes:
                raise ValueError(f"{path} is not a camera calibration: missing {key!r}")
        n = 0
        if "rvecs" in nodes:
            n = np.asarray(nodes["rvecs"]).reshape(-1, 3).shape[0]
        flags = {k[5:]: v for k, v in nodes.items() if k.startswith("flag_")}
        return cls._checked(
            nodes["camera_matrix"], nodes["distortion_coefficients"], nodes.get("rvecs", np.zeros((0, 3))),
            nodes.get("tvecs", np.zeros((0, 3))), nodes.get("rms", np.nan),
            nodes.get("per_view_rms", np.full(n, np.nan)), nodes.get("std_intrinsics", np.zeros(10)),
            nodes.get("std_extrinsics", np.zeros((n, 6))),
            (nodes["image_width"], nodes["image_height"]), view_names=nodes.get("view_names"),
            flags=flags, iterations=nodes.get("iterations", 0), path=path,
        )

    @classmethod
    def _checked(cls, K, d, rvecs, tvecs, rms, per_view, std_i, std_e, size, *, view_names, flags,
                 iterations, path):
        try:
            K = np.asarray(K, dtype=np.float64)
            d = np.asarray(d, dtype=np.float64).ravel()
            if K.shape != (3, 3) or not np.all(np.isfinite(K)) or K[0, 0] <= 0 or K[1, 1] <= 0:
                raise ValueError("camera_matrix must be a finite 3x3 matrix with positive focal lengths")
            if d.size == 4:
                d = np.append(d, 0.0)
            if d.size != 5 or not np.all(np.isfinite(d)):
                raise ValueError("dist_coeffs must hold 4 or 5 finite numbers")
            rv = np.asarray(rvecs, dtype=np.float64).reshape(-1, 3)
            tv = np.asarray(tvecs, dtype=np.float64).reshape(-1, 3)
            std_i = np.asarray(std_i, dtype=np.float64).ravel()
            if std_i.size != 10:
                raise ValueError("std_intrinsics must hold 10 numbers")
            w, h = (int(v) for v in size)
            if w <= 0 or h <= 0:
                raise ValueError("image size must be positive")
            if view_names is not None and not isinstance(view_names, list):
                raise ValueError("view_names must be a list")
            if flags is not None and not isinstance(flags, dict):
                raise ValueError("flags must be a mapping")
            return cls(K, d, rv, tv, float(rms), np.asarray(per_view, dtype=np.float64).ravel(), std_i,
                       np.asarray(std_e, dtype=np.float64).reshape(-1, 6), (w, h), view_names=view_names,
                       flags=flags, iterations=int(iterations))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path} is corrupt: {exc}") from None


def _num(v):
    v = float(v)
    return v if np.isfinite(v) else None if np.isnan(v) else v


def _yaml_float(v):
    v = float(v)
    if np.isnan(v):
        return ".nan"
    if np.isinf(v):
        return ".inf" if v > 0 else "-.inf"
    return repr(v)


def _yaml_matrix(name, M):
    M = np.asarray(M, dtype=np.float64)
    rows, cols = M.shape
    vals = [_yaml_float(v) for v in M.ravel()]
    out = [f"{name}: !!opencv-matrix", f"   rows: {rows}", f"   cols: {cols}", "   dt: d"]
    if not vals:
        out.append("   data: []")
        return out
    chunks = [", ".join(vals[i:i + 3]) for i in range(0, len(vals), 3)]
    out.append("   data: [ " + (",\n       ".join(chunks)) + " ]")
    return out


_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|\.nan|\.inf|-\.inf)$")


def _scalar(token, path):
    token = token.strip()
    if token.startswith('"') and token.endswith('"'):
        try:
            return json.loads(token)
        except json.JSONDecodeError:
            return token[1:-1]
    low = token.lower()
    if low in (".nan", "nan"):
        return float("nan")
    if low in (".inf", "inf", "+.inf"):
        return float("inf")
    if low in ("-.inf", "-inf"):
        return float("-inf")
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        return token


def _parse_opencv_yaml(text, path):
    """Top-level scalars, ``!!opencv-matrix`` nodes and string lists of an OpenCV YAML file."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("%YAML"):
        raise ValueError(f"{path} is not an OpenCV YAML file")
    nodes = {}
    i = 1
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.startswith("---") or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t":
            raise ValueError(f"{path} is corrupt: unexpected indentation at line {i}")
        if ":" not in line:
            raise ValueError(f"{path} is corrupt: cannot parse line {i}: {line!r}")
        key, _, rest = line.partition(":")
        key, rest = key.strip(), rest.strip()
        if rest.startswith("!!opencv-matrix"):
            body = {}
            data_text = None
            while i < len(lines) and lines[i][:1] in (" ", "\t"):
                sub = lines[i].strip()
                i += 1
                if sub.startswith("data:"):
                    data_text = sub[len("data:"):]
                    while "]" not in data_text and i < len(lines):
                        data_text += " " + lines[i].strip()
                        i += 1
                else:
                    k, _, v = sub.partition(":")
                    body[k.strip()] = v.strip()
            try:
                rows, cols = int(body["rows"]), int(body["cols"])
                if data_text is None or "[" not in data_text or "]" not in data_text:
                    raise ValueError("missing data")
                inner = data_text[data_text.index("[") + 1:data_text.rindex("]")]
                vals = [_scalar(t, path) for t in inner.split(",") if t.strip()]
                arr = np.array(vals, dtype=np.float64)
                if rows < 0 or cols < 0 or arr.size != rows * cols:
                    raise ValueError("data size does not match rows x cols")
            except (KeyError, ValueError, TypeError) as exc:
                raise ValueError(f"{path} is corrupt: bad matrix {key!r} ({exc})") from None
            nodes[key] = arr.reshape(rows, cols)
        elif rest == "":
            items = []
            while i < len(lines) and lines[i].strip().startswith("- "):
                items.append(_scalar(lines[i].strip()[2:], path))
                i += 1
            nodes[key] = [str(v) for v in items]
        else:
            nodes[key] = _scalar(rest, path)
    return nodes
