"""Stereo rigs: joint calibration of two cameras, rectification, and the rig's file format.

:func:`stereo_calibrate` finds the rotation ``R`` and translation ``T`` that
take points from the left camera's frame to the right camera's
(``X_right = R X_left + T``, as ``cv2.stereoCalibrate``), optionally refining
both cameras' intrinsics with them, by Levenberg-Marquardt over the
reprojection error of both cameras in every view (the solver lives in the
private module ``_stereo``). :func:`stereo_rectify` computes Bouguet's
rectification as ``cv2.stereoRectify`` does, :func:`stereo_rectify_maps`
the resampling maps, :func:`rectify_points` and :func:`remap` apply them.

Files: JSON (``format: "cvcore-stereo-calibration"``, ``version: 1``) holds
both cameras (each as its own camera-calibration document), the rig and its
uncertainty; YAML is written in OpenCV's ``FileStorage`` dialect with the
names OpenCV's ``stereo_calib.cpp`` sample uses (``M1 D1 M2 D2 R T E F`` and
the rectification ``R1 R2 P1 P2 Q``) and read back (cameras and rig only).
Both are read through :mod:`cvcore._validate.modelfile` and validated.
"""
from __future__ import annotations

import os

import numpy as np

from .. import _validate
from .._ext import _calib
from .._validate import modelfile
from . import _filestorage, _geometry, _solver
from . import _stereo
from .calibrate import calibrate_camera
from .model import CameraCalibration, now_utc, this_version

__all__ = ["StereoCalibration", "draw_rectified_pair", "rectify_points", "remap", "stereo_calibrate", "stereo_rectify",
           "stereo_rectify_maps"]

FORMAT = "cvcore-stereo-calibration"
VERSION = 1
#: A camera embedded in a stereo file is a camera-calibration document of this format and version.
CAMERA_FORMAT, CAMERA_VERSION = "cvcore-camera-calibration", 2
MAX_FILE_BYTES = 32 << 20
_SUFFIXES = {"json": (".json",), "yaml": (".yml", ".yaml")}
_MAX_VIEWS = 10_000


def _skew_matrix(t):
    return np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0.0]])


class StereoCalibration:
    """Two calibrated cameras and the rigid motion between them.

    Parameters
    ----------
    left, right : CameraCalibration
        The cameras; their ``rvecs``/``tvecs`` are the board poses of the
        stereo views in each camera (may be empty).
    R : (3, 3) array_like
        Rotation from the left camera's frame to the right camera's.
    T : (3,) array_like
        Translation, in the units of the board (``X_right = R X_left + T``).
    rms : float or None
        ``sqrt(sum of squared residuals of both cameras / (2 N))`` with ``N``
        points per camera (OpenCV's definition).
    per_view_rms : (n_views, 2) array_like or None
        RMS error of each view in the left and right image.
    std_rig : (6,) array_like or None
        Standard deviations of the rig's rotation vector and of ``T``.
    fix_intrinsics : bool
        Whether the cameras' intrinsics were held fixed.
    iterations : int
    cvcore_version, date : str, optional

    Attributes
    ----------
    left, right : CameraCalibration
    R : (3, 3) ndarray
    T : (3,) ndarray
    rvec : (3,) ndarray
        ``R`` as a rotation vector.
    E : (3, 3) ndarray
        Essential matrix ``[T]x R``.
    F : (3, 3) ndarray
        Fundamental matrix ``K_right^-T E K_left^-1``, scaled so ``F[2, 2] = 1``
        (when it is not 0), as OpenCV returns it.
    rms, per_view_rms, std_rig, fix_intrinsics, iterations, cvcore_version, date
        As given.
    image_size : (int, int)
    baseline : float
        ``|T|``.

    Examples
    --------
    >>> import numpy as np
    >>> cam = CameraCalibration(np.diag([500.0, 500.0, 1.0]), None, [], [], None, None, None, None, (640, 480))
    >>> rig = StereoCalibration(cam, cam, np.eye(3), [-60.0, 0, 0])
    >>> rig.baseline, rig.E[1].tolist()
    (60.0, [0.0, 0.0, 60.0])
    """

    def __init__(self, left, right, R, T, rms=None, per_view_rms=None, std_rig=None, *, fix_intrinsics=True,
                 iterations=0, cvcore_version=None, date=None):
        for name, cam in (("left", left), ("right", right)):
            if not isinstance(cam, CameraCalibration):
                raise TypeError(f"{name} must be a CameraCalibration, got {type(cam).__name__}")
        if left.image_size != right.image_size:
            raise ValueError(f"left and right must have the same image_size, got {left.image_size} and "
                             f"{right.image_size}")
        self.left, self.right = left, right
        R = np.asarray(_validate.array(R, "R", ndim=2), dtype=np.float64)
        if R.shape != (3, 3) or not np.all(np.isfinite(R)):
            raise ValueError(f"R must be a finite 3x3 matrix, got shape {R.shape}")
        if not np.allclose(R @ R.T, np.eye(3), atol=1e-9) or np.linalg.det(R) < 0:
            raise ValueError("R must be a rotation matrix (orthonormal with determinant 1)")
        self.R = np.ascontiguousarray(R)
        self.T = _validate.vector(np.ravel(_validate.array(T, "T")), "T", 3)
        if not np.any(self.T):
            raise ValueError("T must not be zero: the cameras of a stereo rig are apart")
        self.rms = None if rms is None else _validate.non_negative(rms, "rms")
        n = left.n_views
        if per_view_rms is None:
            self.per_view_rms = None
        else:
            pv = np.asarray(_validate.array(per_view_rms, "per_view_rms", ndim=(1, 2), allow_empty=True), float)
            pv = pv.reshape(-1, 2) if pv.size == 0 else pv
            if pv.shape != (n, 2) or not np.all(np.isfinite(pv)) or np.any(pv < 0):
                raise ValueError(f"per_view_rms must be ({n}, 2) non-negative finite values, got shape {pv.shape}")
            self.per_view_rms = np.ascontiguousarray(pv)
        self.std_rig = None if std_rig is None else _validate.vector(np.ravel(_validate.array(std_rig, "std_rig")),
                                                                     "std_rig", 6)
        if self.std_rig is not None and np.any(self.std_rig < 0):
            raise ValueError("std_rig must not be negative")
        self.fix_intrinsics = _validate.boolean(fix_intrinsics, "fix_intrinsics")
        self.iterations = _validate.integer(iterations, "iterations", low=0, high=10**6)
        for key, value in (("cvcore_version", cvcore_version), ("date", date)):
            if value is not None and (not isinstance(value, str) or len(value) > 64):
                raise TypeError(f"{key} must be a string of at most 64 characters")
        self.cvcore_version, self.date = cvcore_version, date

    image_size = property(lambda self: self.left.image_size)
    baseline = property(lambda self: float(np.linalg.norm(self.T)))
    rvec = property(lambda self: _geometry.rotation_to_rvec(self.R))

    @property
    def E(self):
        return _skew_matrix(self.T) @ self.R

    @property
    def F(self):
        F = np.linalg.inv(self.right.camera_matrix).T @ self.E @ np.linalg.inv(self.left.camera_matrix)
        return F / F[2, 2] if F[2, 2] != 0 else F

    @property
    def n_views(self):
        return self.left.n_views

    def outlier_views(self, factor=3.0, floor=0.5):
        """Views that fit much worse than the others, worst first (a wrong corner, a pair out of sync).

        A view's error is the worse of its two images' RMS errors; a view is
        an outlier when that exceeds ``factor`` times the median error of the
        other views, and ``floor`` pixels.

        Parameters
        ----------
        factor : float
            At least 1.
        floor : float
            Pixels; errors below it are never outliers.

        Returns
        -------
        list of int
            View indices (empty when ``per_view_rms`` is unknown or there are fewer than 3 views).

        Examples
        --------
        >>> import numpy as np
        >>> cam = CameraCalibration(np.diag([500.0, 500.0, 1.0]), None, np.zeros((4, 3)), np.ones((4, 3)),
        ...                         None, None, None, None, (64, 48))
        >>> rig = StereoCalibration(cam, cam, np.eye(3), [-60.0, 0, 0], 0.3,
        ...                         [[0.2, 0.3], [0.25, 0.2], [2.1, 0.3], [0.2, 0.22]])
        >>> rig.outlier_views()
        [2]
        """
        factor = _validate.real(factor, "factor", low=1.0)
        floor = _validate.non_negative(floor, "floor")
        if self.per_view_rms is None or self.n_views < 3:
            return []
        err = self.per_view_rms.max(axis=1)
        out = [v for v in range(len(err)) if err[v] > max(factor * np.median(np.delete(err, v)), floor)]
        return sorted(out, key=lambda v: -err[v])

    def __repr__(self):
        rms = "unknown" if self.rms is None else f"{self.rms:.4f}"
        return (f"StereoCalibration(T={np.array2string(self.T, precision=4)}, "
                f"rvec={np.array2string(self.rvec, precision=6)}, rms={rms}, views={self.n_views}, "
                f"image_size={self.image_size})")

    def __eq__(self, other):
        if not isinstance(other, StereoCalibration):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None

    # serialisation --------------------------------------------------------------
    def to_dict(self):
        """Plain-Python dict of everything saved (the JSON document without its header).

        Examples
        --------
        >>> import numpy as np
        >>> cam = CameraCalibration(np.diag([500.0, 500.0, 1.0]), None, [], [], None, None, None, None, (64, 48))
        >>> StereoCalibration(cam, cam, np.eye(3), [-60.0, 0, 0]).to_dict()["T"]
        [-60.0, 0.0, 0.0]
        """
        def camera(c):
            return {"format": CAMERA_FORMAT, "version": CAMERA_VERSION, **c.to_dict()}

        return {
            "left": camera(self.left),
            "right": camera(self.right),
            "R": self.R.tolist(),
            "T": self.T.tolist(),
            "rms": self.rms,
            "per_view_rms": None if self.per_view_rms is None else self.per_view_rms.tolist(),
            "std_rig": None if self.std_rig is None else self.std_rig.tolist(),
            "fix_intrinsics": self.fix_intrinsics,
            "iterations": self.iterations,
            "cvcore_version": self.cvcore_version,
            "date": self.date,
        }

    def save(self, path, *, format=None, alpha=None):
        """Write to ``path`` as JSON or OpenCV YAML (by ``format`` or the extension).

        Parameters
        ----------
        path : str or os.PathLike
            Ends in ``.json``, ``.yml`` or ``.yaml``. Written atomically.
        format : {"json", "yaml"}, optional
            Default: from the extension.
        alpha : float or None
            YAML only: the rectification written with the rig (``R1 R2 P1 P2
            Q``, see :func:`stereo_rectify`).

        Examples
        --------
        >>> import numpy as np, tempfile, os
        >>> cam = CameraCalibration(np.diag([500.0, 500.0, 1.0]), None, [], [], None, None, None, None, (64, 48))
        >>> rig = StereoCalibration(cam, cam, np.eye(3), [-60.0, 0, 0])
        >>> path = os.path.join(tempfile.mkdtemp(), "stereo.json")
        >>> rig.save(path)
        >>> StereoCalibration.load(path) == rig
        True
        """
        if format is not None:
            format = _validate.choice(format, "format", ("json", "yaml"))
        suffixes = _SUFFIXES[format] if format else _SUFFIXES["json"] + _SUFFIXES["yaml"]
        path = modelfile.writable_file(path, "path", suffixes=suffixes)
        fmt = format or ("yaml" if path.lower().endswith(_SUFFIXES["yaml"]) else "json")
        if fmt == "json":
            modelfile.write_json(path, self.to_dict(), kind=FORMAT, version=VERSION)
            return
        w, h = self.image_size
        R1, R2, P1, P2, Q = stereo_rectify(self, alpha=alpha)
        entries = [("format", FORMAT), ("version", VERSION), ("image_width", w), ("image_height", h),
                   ("M1", self.left.camera_matrix), ("D1", self.left.dist_coeffs.reshape(1, 5)),
                   ("M2", self.right.camera_matrix), ("D2", self.right.dist_coeffs.reshape(1, 5)),
                   ("R", self.R), ("T", self.T.reshape(3, 1)), ("E", self.E), ("F", self.F)]
        if self.rms is not None:
            entries.append(("rms", self.rms))
        entries += [("R1", R1), ("R2", R2), ("P1", P1), ("P2", P2), ("Q", Q)]
        modelfile.write_text(path, _filestorage.format_yaml(entries))

    @classmethod
    def load(cls, path):
        """Read a stereo calibration written by :meth:`save` (JSON or YAML; validated on load).

        From YAML (or any OpenCV ``FileStorage`` YAML with ``M1 D1 M2 D2 R T
        image_width image_height``) only the cameras, the rig and ``rms`` are
        read: the per-view results and uncertainties live in the JSON file.

        Raises
        ------
        FileNotFoundError, IsADirectoryError, PermissionError
            When the path cannot be read.
        ValueError
            If the file is not a cvcore stereo calibration, is of an unknown
            version, is corrupt or holds values that do not validate.
        """
        data = modelfile.read_bytes(path, max_bytes=MAX_FILE_BYTES)
        where = os.fspath(path)
        if data[:64].lstrip().startswith(b"%YAML"):
            return cls._from_yaml(data, where)
        fields = modelfile.Fields(modelfile.loads_json(data, where), where)
        modelfile.check_header(fields, kind=FORMAT, versions=(VERSION,))
        cams = {}
        for side in ("left", "right"):
            sub = fields.sub(side)
            modelfile.check_header(sub, kind=CAMERA_FORMAT, versions=(CAMERA_VERSION,))
            cams[side] = CameraCalibration.from_dict(fields.raw(side), sub.where)

        def optional(key, shape):
            return None if fields.raw(key, None) is None else fields.array(key, dtype=np.float64, shape=shape,
                                                                            max_size=2 * _MAX_VIEWS)

        try:
            return cls(cams["left"], cams["right"], fields.array("R", dtype=np.float64, shape=(3, 3)),
                       fields.array("T", dtype=np.float64, shape=(3,)),
                       None if fields.raw("rms", None) is None else fields.float("rms", low=0.0),
                       optional("per_view_rms", (None, 2)), optional("std_rig", (6,)),
                       fix_intrinsics=fields.bool("fix_intrinsics"),
                       iterations=fields.int("iterations", low=0, high=10**6, default=0),
                       cvcore_version=fields.str("cvcore_version", max_len=64, default=None),
                       date=fields.str("date", max_len=64, default=None))
        except (TypeError, ValueError) as exc:
            msg = str(exc)
            raise ValueError(msg if msg.startswith(where) else f"{where}: {msg}") from None


    @classmethod
    def _from_yaml(cls, data, where):
        try:
            nodes = _filestorage.parse_yaml(data.decode("utf-8"), where)
        except UnicodeDecodeError:
            raise ValueError(f"{where}: not UTF-8 text") from None
        fmt = nodes.get("format")
        if fmt is not None and (fmt != FORMAT or nodes.get("version") != VERSION):
            raise ValueError(f"{where}: not a {FORMAT} file of version {VERSION} (format {fmt!r}, version "
                             f"{nodes.get('version')!r})")
        missing = [k for k in ("M1", "D1", "M2", "D2", "R", "T", "image_width", "image_height") if k not in nodes]
        if missing:
            raise ValueError(f"{where}: not a stereo calibration: missing {', '.join(missing)}")

        def matrix(key):
            if not isinstance(nodes[key], _filestorage.Matrix):
                raise ValueError(f"{where}: {key} must be an opencv-matrix")
            return nodes[key].array(64)

        try:
            size = (nodes["image_width"], nodes["image_height"])
            cams = [CameraCalibration(matrix(f"M{k}"), matrix(f"D{k}"), [], [], None, None, None, None, size)
                    for k in (1, 2)]
            rms = nodes.get("rms")
            return cls(cams[0], cams[1], matrix("R"), matrix("T"), rms if isinstance(rms, float) else None)
        except (TypeError, ValueError) as exc:
            msg = str(exc)
            raise ValueError(msg if msg.startswith(where) else f"{where}: {msg}") from None


# --------------------------------------------------------------------------- calibration


def _point_views(object_points, image_points, name):
    """``_validate.point_views`` with the messages naming ``image_points_left`` or ``_right``."""
    try:
        return _validate.point_views(object_points, image_points)
    except (TypeError, ValueError) as exc:
        raise type(exc)(str(exc).replace("image_points", name)) from None


def _camera_vector(cam):
    return _geometry.intrinsics_vector(cam.camera_matrix, cam.dist_coeffs)


def _check_camera(cam, name, size, model):
    if cam is None:
        return None
    if not isinstance(cam, CameraCalibration):
        raise TypeError(f"{name} must be a CameraCalibration or None, got {type(cam).__name__}")
    if cam.model != model:
        raise ValueError(f"{name} uses the {cam.model!r} lens model but model is {model!r}")
    if cam.image_size != size:
        raise ValueError(f"{name}.image_size {cam.image_size} differs from image_size {size}")
    return cam


def stereo_calibrate(object_points, image_points_left, image_points_right, image_size, *, left=None, right=None,
                     fix_intrinsics=True, model="pinhole", fix_principal_point=False, zero_tangent_dist=False,
                     fix_k3=False, estimate_skew=False, max_iterations=200, view_names=None):
    """Calibrate a stereo rig from views of a planar board seen by both cameras (``cv2.stereoCalibrate``).

    1. Each camera not given is calibrated alone (:func:`calibrate_camera`,
       with the options below).
    2. The board's pose in every view and camera follows from a homography
       on the undistorted points, refined with the intrinsics fixed
       (``solvePnP``); the rig starts at the per-component median of the
       views' relative poses, as OpenCV's does.
    3. Levenberg-Marquardt over the rig, the board poses in the left camera
       and (unless ``fix_intrinsics``) both cameras' free intrinsics,
       minimising the squared reprojection error of both cameras, with the
       analytic Jacobian of the camera kernel chained through the rig's
       composition and the poses eliminated at each step (Schur complement).

    On the same points the result equals ``cv2.stereoCalibrate`` with
    ``CALIB_FIX_INTRINSIC`` (``fix_intrinsics=True``) or with flags 0 /
    ``CALIB_USE_INTRINSIC_GUESS`` (``fix_intrinsics=False``), where OpenCV
    converges: when intrinsics are refined OpenCV's solver can stop while the
    gradient is still far from zero, and this one goes on to the minimum.

    Parameters
    ----------
    object_points : list of (N_i, 3) array_like
        Board corners per view, ``Z = 0`` (``(N_i, 2)`` accepted); the same
        points must be seen by both cameras.
    image_points_left, image_points_right : list of (N_i, 2) array_like
        The corners in the left and right images, in the same order.
    image_size : (width, height)
        Of both cameras' images.
    left, right : CameraCalibration, optional
        Calibrated cameras (their intrinsics are fixed, or the starting point
        of the joint refinement). Calibrated here from these views when None.
    fix_intrinsics : bool
        Keep both cameras' intrinsics and distortion as they are (default,
        OpenCV's default too) or refine them jointly with the rig.
    model : {"pinhole", "rational"}
        Lens model of both cameras: OpenCV's ``(k1, k2, p1, p2, k3)`` or
        ``CALIB_RATIONAL_MODEL`` (``k4, k5, k6`` added); the fisheye model
        is not supported by the stereo solver yet.
    fix_principal_point, zero_tangent_dist, fix_k3, estimate_skew : bool
        Options of each camera's own calibration, and of the joint refinement
        when the intrinsics are refined (as OpenCV applies its flags to both).
    max_iterations : int
        Cap on Levenberg-Marquardt iterations of the joint refinement.
    view_names : list of str, optional
        A name per view (e.g. the pair's file names), kept in both cameras
        (as are their ``skipped`` lists, units and pattern).

    Returns
    -------
    StereoCalibration
        The cameras hold the stereo views' board poses (in each camera), the
        per-camera RMS errors and, when the intrinsics were refined, their
        standard deviations from the joint fit (otherwise their own).

    Raises
    ------
    ValueError
        Mismatched points, a non-planar board, too few points for the
        unknowns, cameras of another image size or model, views that do
        not determine the rig, a rig whose cameras are at the same place, or
        left and right views that do not fit one rigid rig (an RMS error
        more than ``MISMATCH_FACTOR`` = 5 times the cameras' own and above
        1 px: pairs not matched, or not taken at the same moment).

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.calibration import chessboard_points, project_points, rodrigues
    >>> K = np.array([[800.0, 0, 320], [0, 800, 240], [0, 0, 1]])
    >>> board = chessboard_points((6, 5), 1.0)
    >>> rig_r, rig_t = [0.0, 0.05, 0.0], [-4.0, 0.0, 0.0]      # right camera 4 units to the right
    >>> poses = [([0.3, 0.1, 0.0], [-3, -2, 12]), ([-0.2, 0.4, 0.1], [-2, -3, 14]),
    ...          ([0.1, -0.35, -0.1], [-2, -2, 11]), ([0.2, 0.2, 0.05], [-1, -2, 13])]
    >>> Rr = rodrigues(rig_r)
    >>> left = [project_points(board, r, t, K) for r, t in poses]
    >>> right = [project_points(board @ (Rr @ rodrigues(r)).T, [0, 0, 0], Rr @ t + rig_t, K) for r, t in poses]
    >>> rig = stereo_calibrate([board] * 4, left, right, (640, 480), fix_k3=True)
    >>> (np.round(rig.T, 6) + 0.0).tolist(), (np.round(rig.rvec, 6) + 0.0).tolist()
    ([-4.0, 0.0, 0.0], [0.0, 0.05, 0.0])
    """
    objs, imgs_l = _point_views(object_points, image_points_left, "image_points_left")
    _, imgs_r = _point_views(object_points, image_points_right, "image_points_right")
    size = _validate.image_size(image_size)
    fix_intrinsics = _validate.boolean(fix_intrinsics, "fix_intrinsics")
    model = _validate.choice(model, "model", ("pinhole", "rational", "fisheye"))
    if model == "fisheye":
        raise ValueError("model 'fisheye' is not supported by stereo_calibrate yet; use 'pinhole' or 'rational'")
    left, right = _check_camera(left, "left", size, model), _check_camera(right, "right", size, model)
    for k, (a, b) in enumerate(zip(imgs_l, imgs_r)):
        if len(a) != len(b):
            raise ValueError(f"image_points_left[{k}] and image_points_right[{k}] must hold the same number of "
                             f"points, got {len(a)} and {len(b)}")
    for k, o in enumerate(objs):
        if np.abs(o[:, 2]).max() > 1e-9 * max(np.abs(o[:, :2]).max(), 1e-300):
            raise ValueError(f"object_points[{k}] must be planar with Z = 0 (a flat calibration board)")
    options = dict(model=model, fix_principal_point=fix_principal_point, zero_tangent_dist=zero_tangent_dist,
                   fix_k3=fix_k3, estimate_skew=estimate_skew)
    opts = _solver.options(max_iterations=max_iterations, **options)
    n_free = 6 + 6 * len(objs) + (0 if fix_intrinsics else 2 * int(opts["free"].sum()))
    if n_free >= 4 * sum(len(o) for o in objs):
        raise ValueError(f"too few points: {sum(len(o) for o in objs)} points per camera give "
                         f"{4 * sum(len(o) for o in objs)} equations for {n_free} unknowns")
    cams = []
    for name, cam, imgs in (("left", left, imgs_l), ("right", right, imgs_r)):
        if cam is None:
            try:
                cam = calibrate_camera(objs, imgs, size, **options)
            except ValueError as exc:
                raise ValueError(f"calibrating the {name} camera alone: {exc}") from None
        cams.append(cam)
    with np.errstate(all="ignore"):
        try:
            return _calibrate(objs, imgs_l, imgs_r, size, cams, fix_intrinsics, opts, view_names)
        except np.linalg.LinAlgError as exc:
            raise ValueError(f"the stereo calibration is numerically degenerate ({exc}); check that the points "
                             "are correct and the views are tilted differently") from None


def _calibrate(objs, imgs_l, imgs_r, size, cams, fix_intrinsics, opts, view_names):
    qL, qR = _camera_vector(cams[0]), _camera_vector(cams[1])
    if not fix_intrinsics and opts["zero_tangent_dist"]:
        qL[7:9] = qR[7:9] = 0.0
    poses0 = []
    for side, imgs, q in (("left", imgs_l, qL), ("right", imgs_r, qR)):
        try:
            poses0.append(_stereo.board_poses(objs, imgs, q))
        except ValueError as exc:
            raise ValueError(f"the {side} camera's views: {exc}") from None
    pL, pR = poses0
    rig0 = np.median(_stereo.relative_poses(pL, pR), axis=0)
    free = np.zeros_like(opts["free"]) if fix_intrinsics else opts["free"]
    problem = _stereo.StereoProblem(objs, imgs_l, imgs_r, opts["model"])
    qL, qR, rig, poses, info = _stereo.levenberg_marquardt(problem, qL, qR, rig0, pL, free, free,
                                                           max_iterations=opts["max_iterations"])
    cost = info["cost"]
    if not (np.isfinite(cost) and np.all(np.isfinite(rig)) and np.all(np.isfinite(poses)) and qL[0] > 0
            and qL[1] > 0 and qR[0] > 0 and qR[1] > 0):
        raise ValueError("the stereo calibration diverged (check that the left and right points match)")
    std = _stereo.covariance(problem, info["TL"], info["TR"])
    _check_rig(cost / (2 * problem.n_points), rig, std, poses, cams)
    right_poses = _stereo.compose(rig, poses, False)[0]
    counts = np.diff(problem.left.starts)
    per_view = np.stack([np.sqrt(problem.left.view_sq / counts), np.sqrt(problem.right.view_sq / counts)], axis=1)
    date, version = now_utc(), this_version()
    out = []
    for k, (cam, q, prob, ps) in enumerate(((cams[0], qL, problem.left, poses),
                                            (cams[1], qR, problem.right, right_poses))):
        std_q = cam.std_intrinsics if fix_intrinsics else (None if std is None else std[k])
        out.append(CameraCalibration(
            np.array([[q[0], q[4], q[2]], [0, q[1], q[3]], [0, 0, 1.0]]), q[5:], ps[:, :3], ps[:, 3:],
            float(np.sqrt(prob.view_sq.sum() / prob.n_points)), per_view[:, k], std_q,
            None if std is None else std[3 + k], size, view_names=out[0].view_names if out else view_names,
            flags={**cam.flags, "stereo_fix_intrinsics": fix_intrinsics}, iterations=cam.iterations,
            pattern_size=cam.pattern_size, square_size=cam.square_size, unit=cam.unit, skipped=cam.skipped,
            cvcore_version=version, date=date, model=cam.model))
    return StereoCalibration(out[0], out[1], _geometry.rotation(rig[:3]), rig[3:],
                             float(np.sqrt(cost / (2 * problem.n_points))), per_view,
                             None if std is None else std[2], fix_intrinsics=fix_intrinsics,
                             iterations=int(info["iterations"]), cvcore_version=version, date=date)


#: A stereo RMS error this many times the cameras' own (and above 1 px) means the pairs do not match.
MISMATCH_FACTOR = 5.0


def _check_rig(mean_sq, rig, std, poses, cams):
    """Refuse a rig no one should use: cameras at one place, or left and right views that do not match."""
    baseline = np.linalg.norm(rig[3:])
    spread = 3.0 * np.linalg.norm(std[2][3:]) if std is not None else 0.0
    if baseline <= max(spread, 1e-9 * np.median(np.linalg.norm(poses[:, 3:], axis=1))):
        raise ValueError(f"the two cameras are at the same place (baseline {baseline:.3g}, uncertainty "
                         f"{spread / 3:.3g}): are the left and right points from two cameras?")
    own = [c.rms for c in cams if c.rms is not None]
    rms = float(np.sqrt(mean_sq))
    if own and rms > max(MISMATCH_FACTOR * max(own), 1.0):
        raise ValueError(f"the left and right views do not fit one rigid rig (RMS error {rms:.2f} px against "
                         f"{max(own):.2f} px for the cameras alone): check that the pairs are matched and were "
                         "taken at the same moment")


# --------------------------------------------------------------------------- rectification


def stereo_rectify(stereo, alpha=None, *, zero_disparity=True, new_image_size=None):
    """Rotations and projections that make the two images row-aligned (``cv2.stereoRectify``).

    Bouguet's method, as OpenCV's: each camera turns by half the rig's
    rotation so both look the same way, then both turn so the baseline lies
    along the image rows (or columns, for a rig stacked vertically). The
    rectified cameras share one focal length, the mean of the two cameras'
    focal lengths across the baseline.

    Parameters
    ----------
    stereo : StereoCalibration
    alpha : float in [0, 1] or None
        Scaling: 0 zooms in until every rectified pixel is valid, 1 zooms out
        until every source pixel is kept, None (OpenCV's -1) keeps the
        default scale. Lens distortion is inverted exactly (OpenCV stops
        after 5 fixed-point iterations, which moves its principal points by
        up to a fraction of a pixel on strongly distorted lenses).
    zero_disparity : bool
        Give both rectified images the same principal point
        (``CALIB_ZERO_DISPARITY``, the default), so points at infinity have
        zero disparity; otherwise only the coordinate across the baseline is
        shared.
    new_image_size : (width, height), optional
        Size of the rectified images (default: the cameras' image size).

    Returns
    -------
    R1, R2 : (3, 3) ndarray
        Rotations from each camera's frame to its rectified frame.
    P1, P2 : (3, 4) ndarray
        Projections of the rectified cameras (in the left rectified frame);
        ``P2[0, 3] = f * Tx`` for a horizontal rig.
    Q : (4, 4) ndarray
        Disparity-to-depth matrix: ``Q @ [x, y, d, 1]`` is a homogeneous 3-D
        point in the left rectified frame.

    Examples
    --------
    >>> import numpy as np
    >>> cam = CameraCalibration([[500.0, 0, 319.5], [0, 500, 239.5], [0, 0, 1]], None, [], [], None, None, None,
    ...                         None, (640, 480))
    >>> R1, R2, P1, P2, Q = stereo_rectify(StereoCalibration(cam, cam, np.eye(3), [-60.0, 0, 0]))
    >>> float(P2[0, 3]), float(Q[3, 2])
    (-30000.0, 0.016666666666666666)
    """
    if not isinstance(stereo, StereoCalibration):
        raise TypeError(f"stereo must be a StereoCalibration, got {type(stereo).__name__}")
    alpha = None if alpha is None else _validate.real(alpha, "alpha", low=0.0, high=1.0)
    zero_disparity = _validate.boolean(zero_disparity, "zero_disparity")
    size = stereo.image_size
    new_size = size if new_image_size is None else _validate.image_size(new_image_size, "new_image_size")
    return _stereo.rectify(_camera_vector(stereo.left), _camera_vector(stereo.right), stereo.R, stereo.T, size,
                           new_size, alpha, zero_disparity)


def _check_rectification(R, P, name):
    R = np.asarray(_validate.array(R, f"R{name}", ndim=2), dtype=np.float64)
    P = np.asarray(_validate.array(P, f"P{name}", ndim=2), dtype=np.float64)
    if R.shape != (3, 3) or not np.all(np.isfinite(R)):
        raise ValueError(f"R{name} must be a finite 3x3 matrix, got shape {R.shape}")
    if P.shape not in ((3, 3), (3, 4)) or not np.all(np.isfinite(P)):
        raise ValueError(f"P{name} must be a finite 3x4 (or 3x3) projection, got shape {P.shape}")
    if P[0, 0] <= 0 or P[1, 1] <= 0 or P[1, 0] != 0 or np.any(P[2, :3] != (0, 0, 1)):
        raise ValueError(f"P{name} must have the form [[f, s, cx, .], [0, f, cy, .], [0, 0, 1, .]] with f > 0")
    return np.ascontiguousarray(R), np.ascontiguousarray(P)


def stereo_rectify_maps(stereo, rectification=None, *, alpha=None, new_image_size=None):
    """Resampling maps of both cameras (``cv2.initUndistortRectifyMap`` for each, ``CV_32FC1``).

    Parameters
    ----------
    stereo : StereoCalibration
    rectification : (R1, R2, P1, P2, Q), optional
        As :func:`stereo_rectify` returns it; computed with ``alpha`` and
        ``new_image_size`` when None.
    alpha : float or None
    new_image_size : (width, height), optional
        Size of the rectified images.

    Returns
    -------
    (left_x, left_y), (right_x, right_y) : float32 ndarrays of shape (height, width)
        The source pixel of every rectified pixel; -1 where the ray points
        behind the camera. Use with :func:`remap` (or ``cv2.remap``).

    Examples
    --------
    >>> import numpy as np
    >>> cam = CameraCalibration([[500.0, 0, 319.5], [0, 500, 239.5], [0, 0, 1]], None, [], [], None, None, None,
    ...                         None, (640, 480))
    >>> (lx, ly), (rx, ry) = stereo_rectify_maps(StereoCalibration(cam, cam, np.eye(3), [-60.0, 0, 0]))
    >>> lx.shape, float(lx[0, 5]), float(ry[7, 0])
    ((480, 640), 5.0, 7.0)
    """
    if not isinstance(stereo, StereoCalibration):
        raise TypeError(f"stereo must be a StereoCalibration, got {type(stereo).__name__}")
    size = stereo.image_size if new_image_size is None else _validate.image_size(new_image_size, "new_image_size")
    if size[0] * size[1] > 1 << 28:
        raise ValueError(f"new_image_size {size[0]}x{size[1]} is too large")
    if rectification is None:
        rectification = stereo_rectify(stereo, alpha, new_image_size=size)
    try:
        R1, R2, P1, P2 = tuple(rectification)[:4]
    except (TypeError, ValueError):
        raise TypeError("rectification must be the (R1, R2, P1, P2, Q) of stereo_rectify") from None
    (R1, P1), (R2, P2) = _check_rectification(R1, P1, "1"), _check_rectification(R2, P2, "2")
    return (_stereo.rectify_maps(_camera_vector(stereo.left), R1, P1, size),
            _stereo.rectify_maps(_camera_vector(stereo.right), R2, P2, size))


def rectify_points(points, camera, R, P):
    """Rectified pixels of points seen by one camera (``cv2.undistortPoints(pts, K, d, R=R, P=P)``).

    Parameters
    ----------
    points : (N, 2) array_like
        Pixels in the camera's (distorted) image.
    camera : CameraCalibration
    R : (3, 3) array_like
        ``R1`` or ``R2`` of :func:`stereo_rectify`.
    P : (3, 4) or (3, 3) array_like
        ``P1`` or ``P2``.

    Returns
    -------
    (N, 2) ndarray
        NaN where the lens model has no undistorted point.

    Examples
    --------
    >>> import numpy as np
    >>> cam = CameraCalibration([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]], None, [], [], None, None, None,
    ...                         None, (640, 480))
    >>> rectify_points([[320, 240]], cam, np.eye(3), [[400, 0, 300, 0], [0, 400, 200, 0], [0, 0, 1, 0]]).tolist()
    [[300.0, 200.0]]
    """
    pts = _validate.points(points, "points", min_count=0)
    if not isinstance(camera, CameraCalibration):
        raise TypeError(f"camera must be a CameraCalibration, got {type(camera).__name__}")
    R, P = _check_rectification(R, P, "")
    return _stereo.rectified_points(pts, _camera_vector(camera), R, P)


def remap(image, map_x, map_y, *, cval=0.0):
    """Resample ``image`` at ``(map_x, map_y)`` bilinearly (``cv2.remap`` with ``INTER_LINEAR``).

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
    map_x, map_y : (h, w) array_like
        Source coordinates of every output pixel (as :func:`stereo_rectify_maps` returns).
    cval : float
        Value of output pixels that map outside the image.

    Returns
    -------
    (h, w) or (h, w, C) ndarray
        The image's dtype (integers rounded and clipped).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    >>> mx = np.array([[0.5, 3.0]], np.float32); my = np.array([[0.0, 2.0]], np.float32)
    >>> remap(img, mx, my).tolist()
    [[0, 11]]
    """
    img = _validate.image(image, "image")
    mx = np.asarray(_validate.array(map_x, "map_x", ndim=2), dtype=np.float32)
    my = np.asarray(_validate.array(map_y, "map_y", ndim=2), dtype=np.float32)
    if mx.shape != my.shape:
        raise ValueError(f"map_x and map_y must have the same shape, got {mx.shape} and {my.shape}")
    cval = _validate.real(cval, "cval")
    src = img if img.ndim == 3 else img[:, :, None]
    work = np.float64 if img.dtype == np.float64 else np.float32
    src = np.ascontiguousarray(src, dtype=work)
    mx, my = np.ascontiguousarray(np.nan_to_num(mx, nan=-2.0)), np.ascontiguousarray(np.nan_to_num(my, nan=-2.0))
    out = np.empty(mx.shape + (src.shape[2],), work)
    step = max(1, (1 << 20) // max(1, mx.shape[1]))      # row blocks: Ctrl-C stays prompt
    for r in range(0, mx.shape[0], step):
        _calib.remap_bilinear(src, mx[r:r + step], my[r:r + step], cval, out[r:r + step])
    if img.dtype.kind in "ui":
        info = np.iinfo(img.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    out = out.astype(img.dtype, copy=False)
    return out if img.ndim == 3 else out[:, :, 0]


# --------------------------------------------------------------------------- a picture of the rectification


def draw_rectified_pair(stereo, left_image, right_image, *, alpha=0.0, lines=12, path=None):
    """Both images rectified side by side, with horizontal lines where epipolar lines fall.

    After a good calibration every feature lies on the same row in both
    halves; a line crossing a corner in one half and missing it in the other
    shows a vertical disparity at a glance. A rig stacked vertically is drawn
    one image above the other, with vertical lines.

    Parameters
    ----------
    stereo : StereoCalibration
    left_image, right_image : (H, W) or (H, W, C) array_like
        A pair taken by the rig, of the calibration's image size.
    alpha : float in [0, 1] or None
        Scaling of the rectification (see :func:`stereo_rectify`).
    lines : int
        Number of horizontal lines (0 to 200).
    path : str or os.PathLike, optional
        Also write the picture there (PNG, JPEG...).

    Returns
    -------
    (H + 24, 2 W, 3) uint8 ndarray
        ``(2 H + 24, W, 3)`` for a vertical rig.

    Examples
    --------
    >>> import numpy as np
    >>> cam = CameraCalibration([[100.0, 0, 31.5], [0, 100, 23.5], [0, 0, 1]], None, [], [], None, None, None,
    ...                         None, (64, 48))
    >>> rig = StereoCalibration(cam, cam, np.eye(3), [-60.0, 0, 0], rms=0.1)
    >>> draw_rectified_pair(rig, np.zeros((48, 64)), np.zeros((48, 64)), lines=4).shape
    (72, 128, 3)
    >>> rig = StereoCalibration(cam, cam, np.eye(3), [0.0, -60.0, 0], rms=0.1)
    >>> draw_rectified_pair(rig, np.zeros((48, 64)), np.zeros((48, 64)), lines=4).shape
    (120, 64, 3)
    """
    from ..draw import draw_boxes, draw_text
    from ..io import check_image_path, imwrite

    if not isinstance(stereo, StereoCalibration):
        raise TypeError(f"stereo must be a StereoCalibration, got {type(stereo).__name__}")
    w, h = stereo.image_size
    imgs = []
    for name, image in (("left_image", left_image), ("right_image", right_image)):
        img = _validate.uint8_image(image, name)
        if img.shape[:2] != (h, w):
            raise ValueError(f"{name} must be {w}x{h} (the calibration's image size), got "
                             f"{img.shape[1]}x{img.shape[0]}")
        imgs.append(img)
    lines = _validate.integer(lines, "lines", low=0, high=200)
    if path is not None:
        path = check_image_path(path, "path")
    rectification = stereo_rectify(stereo, alpha)
    (lx, ly), (rx, ry) = stereo_rectify_maps(stereo, rectification)
    vertical = rectification[3][1, 3] != 0        # a rig stacked vertically: images one above the other
    band = 24
    canvas = np.full((2 * h + band, w, 3) if vertical else (h + band, 2 * w, 3), 255, np.uint8)
    for k, (img, mx, my) in enumerate(((imgs[0], lx, ly), (imgs[1], rx, ry))):
        rect = remap(img, mx, my)
        rect = rect if rect.ndim == 3 else rect[:, :, None]
        if vertical:
            canvas[band + k * h:band + (k + 1) * h] = rect
        else:
            canvas[band:, k * w:(k + 1) * w] = rect
    if lines:
        at = np.linspace(0, (w if vertical else h) - 1, lines + 2)[1:-1].round().astype(int)
        boxes = [[x, band, 1, 2 * h] for x in at] if vertical else [[0, band + y, 2 * w, 1] for y in at]
        draw_boxes(canvas, np.array(boxes, np.int32), colour=(0, 200, 0), thickness=1, out=canvas)
    rms = "?" if stereo.rms is None else f"{stereo.rms:.3f}"
    draw_text(canvas, f"rectified (alpha {alpha}), baseline {stereo.baseline:.2f}, rms {rms} px",
              (4, band - 7), font_scale=0.45, out=canvas)
    if path is not None:
        imwrite(path, canvas)
    return canvas
