"""Camera models: project, distort, undistort points, maps and images.

Three lens models, OpenCV's (``model=``):

* ``"pinhole"`` (the one of ``cv2.projectPoints``): a board point ``X`` goes to
  the camera frame ``Xc = R X + t`` (``R`` from the Rodrigues vector
  ``rvec``), to normalised coordinates ``x = Xc / Zc, y = Yc / Zc``, is
  distorted with ``r2 = x^2 + y^2``::

      xd = x (1 + k1 r2 + k2 r2^2 + k3 r2^3) + 2 p1 x y + p2 (r2 + 2 x^2)
      yd = y (1 + k1 r2 + k2 r2^2 + k3 r2^3) + p1 (r2 + 2 y^2) + 2 p2 x y

* ``"rational"`` (``cv2.CALIB_RATIONAL_MODEL``, coefficients ``k1, k2, p1,
  p2, k3, k4, k5, k6``): the radial factor becomes ``(1 + k1 r2 + k2 r2^2 +
  k3 r2^3) / (1 + k4 r2 + k5 r2^2 + k6 r2^3)``, which follows wide-angle
  lenses the polynomial cannot.
* ``"fisheye"`` (``cv2.fisheye``, Kannala-Brandt equidistant, ``k1..k4``):
  the ray's angle ``theta = atan(r)`` is mapped to ``theta_d = theta (1 + k1
  theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8)`` and ``(xd, yd) = (x, y)
  theta_d / r``, so rays up to 90 degrees off axis reach the image.

Pixels are ``u = fx xd + s yd + cx, v = fy yd + cy`` (the skew ``s = K[0,
1]`` is zero unless estimated; ``cv2.fisheye`` writes it ``alpha fx``). The
models are written once, in the kernels' ``_distortion.pxd``.

Every function takes the camera as ``camera_matrix, dist_coeffs`` and
``model`` (default: pinhole, or rational for 8 coefficients, as OpenCV
reads them), or as a :class:`~cvcore.calibration.CameraCalibration` in place
of ``camera_matrix`` (then ``dist_coeffs`` and ``model`` come from it).
"""
from __future__ import annotations

import numpy as np

from .. import _validate
from .._ext import _calib
from . import _geometry
from .model import CameraCalibration

__all__ = [
    "rodrigues",
    "project_points",
    "distort_normalized",
    "undistort_points",
    "undistort_maps",
    "undistort_image",
    "optimal_camera_matrix",
    "remap",
]


def rodrigues(rvec):
    """Rotation matrix of a rotation vector (axis times angle in radians).

    Parameters
    ----------
    rvec : (3,) array_like
        Rotation vector, as ``cv2.Rodrigues`` takes it.

    Returns
    -------
    (3, 3) ndarray
        The rotation matrix.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(rodrigues([0, 0, np.pi / 2]), 6).tolist()
    [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    return _geometry.rotation(_vector3(rvec, "rvec"))


def _vector3(value, name):
    return _validate.vector(np.ravel(_validate.array(value, name)), name, 3)


def rotation_to_rvec(R):
    """Rotation vector of a rotation matrix (inverse of :func:`rodrigues`).

    Parameters
    ----------
    R : (3, 3) array_like
        A rotation matrix (orthonormal, determinant 1).

    Returns
    -------
    (3,) ndarray

    Examples
    --------
    >>> import numpy as np
    >>> np.round(rotation_to_rvec(rodrigues([0.1, -0.2, 0.3])), 12).tolist()
    [0.1, -0.2, 0.3]
    """
    M = _validate.array(R, "R", ndim=2)
    if M.shape != (3, 3):
        raise ValueError(f"R must be a 3x3 matrix, got shape {M.shape}")
    M = np.asarray(M, dtype=np.float64)
    if not np.all(np.isfinite(M)):
        raise ValueError("R must contain only finite values")
    if not np.allclose(M @ M.T, np.eye(3), atol=1e-6) or np.linalg.det(M) < 0:
        raise ValueError("R must be a rotation matrix (orthonormal with determinant 1)")
    return _geometry.rotation_to_rvec(M)


def _camera(camera_matrix, dist_coeffs, model):
    """``(K, d, model)`` from explicit values or a CameraCalibration, checked."""
    if isinstance(camera_matrix, CameraCalibration):
        cal = camera_matrix
        if dist_coeffs is not None:
            raise ValueError("dist_coeffs must be None when camera_matrix is a CameraCalibration (it has its own)")
        if model is not None and _validate.lens_model(model) != cal.model:
            raise ValueError(f"model is {model!r} but the CameraCalibration is {cal.model!r}")
        return cal.camera_matrix, cal.dist_coeffs, cal.model
    K = _validate.camera_matrix(camera_matrix)
    if model is None:
        size = 0 if dist_coeffs is None else np.size(dist_coeffs)
        model = "rational" if size == 8 else "pinhole"      # OpenCV's reading of 8 coefficients
    model = _validate.lens_model(model)
    return K, _validate.dist_coeffs(dist_coeffs, model=model), model


def _rotation(value, name="rotation"):
    """A 3x3 rotation matrix (or a Rodrigues vector), checked."""
    arr = _validate.array(value, name)
    if arr.size == 3:
        return _geometry.rotation(_vector3(arr, name))
    if arr.shape != (3, 3):
        raise ValueError(f"{name} must be a 3x3 rotation matrix or a rotation vector, got shape {arr.shape}")
    R = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(R)) or not np.allclose(R @ R.T, np.eye(3), atol=1e-6) or np.linalg.det(R) < 0:
        raise ValueError(f"{name} must be a rotation matrix (orthonormal with determinant 1)")
    return R


def project_points(object_points, rvec, tvec, camera_matrix, dist_coeffs=None, *, model=None):
    """Project 3-D points of one view into the image (``cv2.projectPoints``, ``cv2.fisheye.projectPoints``).

    Parameters
    ----------
    object_points : (N, 3) array_like
        Points in the board (world) frame; ``(N, 2)`` means ``Z = 0``.
    rvec, tvec : (3,) array_like
        Pose: rotation vector and translation (board to camera).
    camera_matrix : (3, 3) array_like or CameraCalibration
        ``[[fx, s, cx], [0, fy, cy], [0, 0, 1]]``, or a calibration (which
        brings its coefficients and model).
    dist_coeffs : array_like, optional
        The model's coefficients (see the module); None means no distortion.
    model : {"pinhole", "rational", "fisheye"}, optional
        Default: pinhole for 4 or 5 coefficients, rational for 8.

    Returns
    -------
    (N, 2) ndarray
        Pixel coordinates.

    Examples
    --------
    >>> K = [[100, 0, 50], [0, 100, 40], [0, 0, 1]]
    >>> project_points([[0, 0, 0], [1, 0, 0]], [0, 0, 0], [0, 0, 10], K).tolist()
    [[50.0, 40.0], [60.0, 40.0]]

    A fisheye lens sees a point 60 degrees off axis (``tan 60 = 1.732``) at
    ``f theta = 100 pi / 3`` pixels from the centre:

    >>> u = project_points([[1.7320508, 0, 1]], [0, 0, 0], [0, 0, 0], K, [0, 0, 0, 0], model="fisheye")
    >>> round(float(u[0, 0]) - 50, 3)
    104.72
    """
    obj = _validate.points(object_points, "object_points", dims=3, min_count=0, allow_2d_for_3d=True)
    r, t = _vector3(rvec, "rvec"), _vector3(tvec, "tvec")
    K, d, model = _camera(camera_matrix, dist_coeffs, model)
    return _geometry.project(obj, r, t, _geometry.intrinsics_vector(K, d), model)


def distort_normalized(xy, dist_coeffs, *, model=None):
    """Apply the distortion model to normalised coordinates.

    Parameters
    ----------
    xy : (N, 2) array_like
        Normalised (undistorted) coordinates ``(X / Z, Y / Z)``.
    dist_coeffs : array_like
        The model's coefficients; None means no distortion.
    model : {"pinhole", "rational", "fisheye"}, optional
        Default: pinhole for 4 or 5 coefficients, rational for 8.

    Returns
    -------
    (N, 2) ndarray

    Examples
    --------
    >>> distort_normalized([[0.1, 0.0]], [-0.2, 0, 0, 0, 0]).round(6).tolist()
    [[0.0998, 0.0]]
    >>> distort_normalized([[1.0, 0.0]], [0, 0, 0, 0], model="fisheye").round(6).tolist()   # atan(1)
    [[0.785398, 0.0]]
    """
    p = _validate.points(xy, "xy", min_count=0)
    _, d, model = _camera(np.eye(3), dist_coeffs, model)
    return _geometry.distort(p, d, model)


def undistort_points(points, camera_matrix, dist_coeffs=None, *, model=None, new_camera_matrix=None,
                     rotation=None):
    """Remove lens distortion from pixel coordinates (``cv2.undistortPoints``, ``cv2.fisheye.undistortPoints``).

    The distortion is inverted with Newton's method to machine precision
    (OpenCV's pinhole default stops after 5 fixed-point iterations). A point
    that no undistorted point maps to (beyond the radius where strong barrel
    distortion folds back, or a fisheye angle of 90 degrees) comes out as NaN
    rather than as a wrong guess.

    Parameters
    ----------
    points : (N, 2) array_like
        Distorted pixel coordinates.
    camera_matrix : (3, 3) array_like or CameraCalibration
    dist_coeffs : array_like, optional
    model : {"pinhole", "rational", "fisheye"}, optional
    new_camera_matrix : (3, 3) array_like, optional
        Camera matrix of the output. None (the default, as OpenCV's ``P=None``)
        returns normalised coordinates; pass ``camera_matrix`` to get pixels.
    rotation : (3, 3) or (3,) array_like, optional
        A rotation applied to the rays before ``new_camera_matrix`` (OpenCV's
        ``R``, e.g. a stereo rectification).

    Returns
    -------
    (N, 2) ndarray

    Examples
    --------
    >>> K = [[100, 0, 50], [0, 100, 40], [0, 0, 1]]
    >>> undistort_points([[60, 40]], K, [0, 0, 0, 0]).tolist()
    [[0.1, 0.0]]
    >>> undistort_points([[150, 40]], K, [-0.5, 0, 0, 0]).tolist()   # beyond the fold at radius 0.544
    [[nan, nan]]
    """
    pts = _validate.points(points, "points", min_count=0)
    K, d, model = _camera(camera_matrix, dist_coeffs, model)
    P = None if new_camera_matrix is None else _validate.camera_matrix(new_camera_matrix, "new_camera_matrix")
    xy = _geometry.undistort(_geometry.pixels_to_normalized(pts, K), d, model)
    if rotation is not None:
        ray = np.concatenate([xy, np.ones((len(xy), 1))], axis=1) @ _rotation(rotation).T
        with np.errstate(all="ignore"):
            xy = np.where(ray[:, 2:] > 0, ray[:, :2] / ray[:, 2:], np.nan)
    return xy if P is None else _geometry.normalized_to_pixels(xy, P)


def undistort_maps(image_size, camera_matrix, dist_coeffs=None, new_camera_matrix=None, *, model=None,
                   rotation=None):
    """Source coordinates ``(map_x, map_y)`` (float32) of every output pixel.

    Equivalent to ``cv2.initUndistortRectifyMap`` (``cv2.fisheye.
    initUndistortRectifyMap`` for the fisheye model) with ``CV_32FC1`` maps;
    pixels whose ray points backwards (only with a ``rotation``) get NaN.

    Parameters
    ----------
    image_size : (width, height)
        Size of the output (undistorted) image.
    camera_matrix : (3, 3) array_like or CameraCalibration
    dist_coeffs : array_like, optional
    new_camera_matrix : (3, 3) array_like, optional
        Camera matrix of the output (default: ``camera_matrix``; see
        :func:`optimal_camera_matrix`).
    model : {"pinhole", "rational", "fisheye"}, optional
    rotation : (3, 3) or (3,) array_like, optional
        Rectifying rotation (OpenCV's ``R``).

    Returns
    -------
    map_x, map_y : (height, width) float32 ndarray

    Examples
    --------
    >>> mx, my = undistort_maps((4, 3), [[100, 0, 1.5], [0, 100, 1], [0, 0, 1]], None)
    >>> mx[0].tolist(), my[:, 0].tolist()
    ([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    """
    w, h = _validate.image_size(image_size)
    if w * h > 1 << 28:
        raise ValueError(f"image_size {w}x{h} is too large")
    K, d, model = _camera(camera_matrix, dist_coeffs, model)
    P = K if new_camera_matrix is None else _validate.camera_matrix(new_camera_matrix, "new_camera_matrix")
    PR = P if rotation is None else P @ _rotation(rotation)
    return _maps(w, h, K, d, np.ascontiguousarray(np.linalg.inv(PR)), model)


def _row_blocks(h, w):
    """Row slices of about a million pixels: one kernel call each, so Ctrl-C stays prompt."""
    step = max(1, (1 << 20) // w)
    return [slice(r, r + step) for r in range(0, h, step)]


def _maps(w, h, K, d, iP, model):
    map_x = np.empty((h, w), np.float32)
    map_y = np.empty((h, w), np.float32)
    code = _geometry.MODELS[model]
    for rows in _row_blocks(h, w):
        _calib.undistort_maps(code, K, d, iP, rows.start, map_x[rows], map_y[rows])
    return map_x, map_y


def optimal_camera_matrix(camera_matrix, dist_coeffs=None, image_size=None, alpha=0.0, *, model=None):
    """A camera matrix for undistorted images that keeps all, or only valid, pixels.

    ``alpha = 0`` zooms in until every output pixel sees the input image (no
    black borders); ``alpha = 1`` zooms out until every input pixel is in the
    output; values between interpolate. For the pinhole and rational models
    this is ``cv2.getOptimalNewCameraMatrix`` (the inner and outer rectangles
    of a 9 x 9 grid of undistorted image points); for the fisheye
    model it is ``cv2.fisheye.estimateNewCameraMatrixForUndistortRectify``
    with ``balance = alpha`` (where ``alpha = 1`` shows the whole image up to
    the edges' midpoints: a fisheye image cannot be flattened entirely).

    Parameters
    ----------
    camera_matrix : (3, 3) array_like or CameraCalibration
    dist_coeffs : array_like, optional
    image_size : (width, height), optional
        Default: the calibration's.
    alpha : float in [0, 1]
    model : {"pinhole", "rational", "fisheye"}, optional

    Returns
    -------
    (3, 3) ndarray

    Examples
    --------
    Barrel distortion squeezes the image: undistorted, it needs a shorter
    focal length to fit, the more so to keep every pixel:

    >>> K = [[100, 0, 49.5], [0, 100, 39.5], [0, 0, 1]]
    >>> [round(float(optimal_camera_matrix(K, [-0.3, 0, 0, 0], (100, 80), a)[0, 0]), 1) for a in (0, 1)]
    [91.2, 82.2]
    """
    if image_size is None:
        if not isinstance(camera_matrix, CameraCalibration):
            raise TypeError("image_size is required unless camera_matrix is a CameraCalibration")
        image_size = camera_matrix.image_size
    w, h = _validate.image_size(image_size)
    alpha = _validate.real(alpha, "alpha", low=0.0, high=1.0)
    K, d, model = _camera(camera_matrix, dist_coeffs, model)
    with np.errstate(all="ignore"):
        P = (_fisheye_new_camera if model == "fisheye" else _pinhole_new_camera)(K, d, model, w, h, alpha)
    if not np.all(np.isfinite(P)) or P[0, 0] <= 0 or P[1, 1] <= 0:
        raise ValueError("the lens model cannot be undistorted over this image (points beyond its valid range); "
                         "check the calibration and image_size")
    return P


def _pinhole_new_camera(K, d, model, w, h, alpha, n=9):
    """``cv2.getOptimalNewCameraMatrix``: interpolate the cameras of the inner and outer rectangles."""
    g = np.linspace(0.0, 1.0, n)
    yy, xx = np.meshgrid(g * (h - 1), g * (w - 1), indexing="ij")
    pts = np.stack([xx.ravel(), yy.ravel()], axis=1)
    xy = _geometry.undistort(_geometry.pixels_to_normalized(pts, K), d, model).reshape(n, n, 2)
    x, y = xy[..., 0], xy[..., 1]
    outer = (x.min(), y.min(), x.max(), y.max())
    inner = (x[:, 0].max(), y[0].max(), x[:, -1].min(), y[-1].min())

    def fit(rect):
        x0, y0, x1, y1 = rect
        fx, fy = (w - 1) / (x1 - x0), (h - 1) / (y1 - y0)
        return np.array([fx, fy, -fx * x0, -fy * y0])

    f = fit(inner) * (1.0 - alpha) + fit(outer) * alpha
    return np.array([[f[0], 0.0, f[2]], [0.0, f[1], f[3]], [0.0, 0.0, 1.0]])


def _fisheye_new_camera(K, d, model, w, h, balance):
    """``cv2.fisheye.estimateNewCameraMatrixForUndistortRectify`` (no rotation, same size, fov_scale 1)."""
    pts = np.array([[w // 2, 0], [w, h // 2], [w // 2, h], [0, h // 2]], dtype=np.float64)
    xy = _geometry.undistort(_geometry.pixels_to_normalized(pts, K), d, model)
    aspect = K[0, 0] / K[1, 1]
    centre = xy.mean(axis=0)
    centre[1] *= aspect
    xy[:, 1] *= aspect
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    f_all = (w * 0.5 / (centre[0] - lo[0]), w * 0.5 / (hi[0] - centre[0]),
             h * 0.5 * aspect / (centre[1] - lo[1]), h * 0.5 * aspect / (hi[1] - centre[1]))
    f = balance * min(f_all) + (1.0 - balance) * max(f_all)
    c = -centre * f + np.array([w, h * aspect]) * 0.5
    return np.array([[f, 0.0, c[0]], [0.0, f / aspect, c[1] / aspect], [0.0, 0.0, 1.0]])


def undistort_image(image, camera_matrix, dist_coeffs=None, new_camera_matrix=None, *, model=None, alpha=None):
    """Resample an image as the distortion-free camera would see it (``cv2.undistort``, ``cv2.fisheye.undistortImage``).

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
    camera_matrix : (3, 3) array_like or CameraCalibration
    dist_coeffs : array_like, optional
    new_camera_matrix : (3, 3) array_like, optional
        Camera matrix of the output image (default: ``camera_matrix``).
    model : {"pinhole", "rational", "fisheye"}, optional
    alpha : float in [0, 1], optional
        Instead of ``new_camera_matrix``: :func:`optimal_camera_matrix` with
        this ``alpha`` (0: no black borders, 1: every input pixel kept).

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``; bilinear interpolation, pixels that
        map outside the input are 0.

    Examples
    --------
    >>> import numpy as np
    >>> K = [[100, 0, 15.5], [0, 100, 11.5], [0, 0, 1]]
    >>> img = np.arange(24 * 32, dtype=np.uint8).reshape(24, 32)
    >>> bool((undistort_image(img, K, None) == img).all())
    True
    """
    img = _validate.image(image, "image")
    h, w = img.shape[:2]
    K, d, model = _camera(camera_matrix, dist_coeffs, model)
    if alpha is not None:
        if new_camera_matrix is not None:
            raise ValueError("give new_camera_matrix or alpha, not both")
        new_camera_matrix = optimal_camera_matrix(K, d, (w, h), alpha, model=model)
    map_x, map_y = undistort_maps((w, h), K, d, new_camera_matrix, model=model)
    return remap(img, map_x, map_y)


def remap(image, map_x, map_y):
    """Sample ``image`` bilinearly at ``(map_x, map_y)`` (``cv2.remap``, linear, constant 0 border).

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
    map_x, map_y : (H2, W2) array_like
        Source coordinates of every output pixel (e.g. from :func:`undistort_maps`).

    Returns
    -------
    (H2, W2[, C]) ndarray
        Of ``image``'s dtype (integers rounded and clipped).

    Examples
    --------
    >>> import numpy as np
    >>> remap(np.array([[0, 10], [20, 30]], np.uint8), np.array([[0.5]], np.float32),
    ...       np.array([[0.5]], np.float32)).tolist()
    [[15]]
    """
    img = _validate.image(image, "image")
    mx = np.ascontiguousarray(_validate.array(map_x, "map_x", ndim=2), dtype=np.float32)
    my = np.ascontiguousarray(_validate.array(map_y, "map_y", ndim=2), dtype=np.float32)
    if mx.shape != my.shape:
        raise ValueError(f"map_x and map_y must have the same shape, got {mx.shape} and {my.shape}")
    h, w = mx.shape
    src = img if img.ndim == 3 else img[:, :, None]
    work = np.float64 if img.dtype == np.float64 else np.float32
    src = np.ascontiguousarray(src, dtype=work)
    out = np.empty((h, w, src.shape[2]), work)
    for rows in _row_blocks(h, w):
        _calib.remap_bilinear(src, mx[rows], my[rows], 0.0, out[rows])
    if img.dtype.kind in "ui":
        info = np.iinfo(img.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    out = out.astype(img.dtype, copy=False)
    return out if img.ndim == 3 else out[:, :, 0]
