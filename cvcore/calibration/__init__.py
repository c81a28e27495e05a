"""Camera calibration from views of a planar chessboard (Zhang's method).

Pipeline: chessboard corners -> one homography per view -> Zhang's closed
form -> Levenberg-Marquardt over intrinsics, distortion and poses with an
analytic, block-structured Jacobian -> :class:`CameraCalibration` with
standard deviations, saved as JSON or OpenCV-compatible YAML (OpenCV's XML
and YAML files are read too). Three lens models, OpenCV's: ``"pinhole"``
(Brown-Conrady, 5 coefficients), ``"rational"`` (``CALIB_RATIONAL_MODEL``, 8)
and ``"fisheye"`` (``cv2.fisheye``'s Kannala-Brandt, 4), for calibration,
projection, undistortion of points and images (:mod:`.camera`).

Public modules (``camera``, ``chessboard``, ``homography``, ``zhang``,
``calibrate``, ``images``, ``model``, ``report``, ``stereo``) check their
arguments; the private modules they share (``_detector``, ``_geometry``,
``_homography``, ``_zhang``, ``_lm``, ``_solver``, ``_assemble``,
``_filestorage``, ``_render``, ``_stereo``) trust theirs. Stereo rigs:
:func:`stereo_calibrate` (both cameras, ``R``, ``T``, ``E``, ``F``) and
:func:`stereo_rectify` with its maps. Is a calibration good enough, and what to
capture next: :func:`assess_calibration` (projection uncertainty, coverage,
cross-validation, a verdict; for every lens model).

Examples
--------
>>> from cvcore.datasets import synthetic_chessboard_views
>>> from cvcore.calibration import calibrate_images
>>> views = synthetic_chessboard_views(6, image_size=(320, 240), random_state=0)
>>> cal = calibrate_images(views.images, views.pattern_size, views.square_size, unit="mm", progress=False)
>>> bool(abs(cal.fx / views.camera_matrix[0, 0] - 1) < 0.01), cal.unit
(True, 'mm')
"""
from .calibrate import calibrate_camera, chessboard_points
from .chessboard import NotFound, find_chessboard_corners
from .camera import (optimal_camera_matrix, project_points, rodrigues, undistort_image, undistort_maps,
                     undistort_points)
from .homography import find_homography
from .images import CalibrationError, calibrate_images
from .model import CameraCalibration
from .report import CalibrationAssessment, assess_calibration
from .stereo import (StereoCalibration, draw_rectified_pair, rectify_points, stereo_calibrate, stereo_rectify,
                     stereo_rectify_maps)

__all__ = [
    "CalibrationAssessment",
    "CalibrationError",
    "CameraCalibration",
    "NotFound",
    "StereoCalibration",
    "draw_rectified_pair",
    "rectify_points",
    "stereo_calibrate",
    "stereo_rectify",
    "stereo_rectify_maps",
    "assess_calibration",
    "calibrate_images",
    "calibrate_camera",
    "chessboard_points",
    "find_chessboard_corners",
    "find_homography",
    "optimal_camera_matrix",
    "project_points",
    "rodrigues",
    "undistort_image",
    "undistort_maps",
    "undistort_points",
]
