"""The calibration solver shared by ``calibrate_camera`` and ``calibrate_images``.

A private module: the public functions check their arguments, then call
:func:`options` once (the flags, the initial guess) and :func:`solve` as often
as they need (``calibrate_images`` recalibrates after dropping outlier views).
"""
from __future__ import annotations

import numpy as np

from .. import _validate
from . import _geometry
from . import _lm as lm
from ._homography import homographies
from ._zhang import (DegenerateViewsError, initial_radial_distortion, intrinsics_from_homographies,
                    poses_from_homographies)


_DEFAULTS = {"model": "pinhole", "fix_principal_point": False, "fix_aspect_ratio": False, "zero_tangent_dist": False, "fix_k3": False,
             "estimate_skew": False, "intrinsic_guess": None, "max_iterations": 200, "robust": False}


def options(**given):
    """Validated options of :func:`calibrate_camera` (each checked once, also for ``calibrate_images``)."""
    unknown = sorted(set(given) - set(_DEFAULTS))
    if unknown:
        raise TypeError(f"unknown calibration option(s) {', '.join(unknown)}; "
                        f"the options are {', '.join(_DEFAULTS)}")
    o = {**_DEFAULTS, **given}
    model = o["model"] = _validate.lens_model(o["model"])
    if model == "fisheye":
        for name in ("zero_tangent_dist", "fix_k3"):
            if o[name] is not False:
                raise ValueError(f"{name} is an option of the pinhole and rational models; the fisheye model "
                                 "has no tangential terms and its k3 is another coefficient")
    for name in ("fix_principal_point", "fix_aspect_ratio", "zero_tangent_dist", "fix_k3", "estimate_skew", "robust"):
        o[name] = _validate.boolean(o[name], name)
    o["max_iterations"] = _validate.integer(o["max_iterations"], "max_iterations", low=0, high=100000)
    guess = o.pop("intrinsic_guess")
    nd = len(_geometry.COEFFS[model])
    o["guess_K"], o["guess_d"] = None, np.zeros(nd)
    if guess is not None:
        if isinstance(guess, (tuple, list)) and len(guess) == 2:
            o["guess_K"] = _validate.camera_matrix(guess[0], "intrinsic_guess[0]")
            o["guess_d"] = _validate.dist_coeffs(guess[1], "intrinsic_guess[1]", model=model)
        else:
            o["guess_K"] = _validate.camera_matrix(guess, "intrinsic_guess")
        if not o["estimate_skew"] and o["guess_K"][0, 1] != 0:
            raise ValueError("intrinsic_guess has a non-zero skew but estimate_skew is False")
    o["aspect"] = None
    if o["fix_aspect_ratio"]:
        if o["estimate_skew"]:
            raise ValueError("fix_aspect_ratio and estimate_skew cannot be combined")
        o["aspect"] = 1.0 if o["guess_K"] is None else o["guess_K"][0, 0] / o["guess_K"][1, 1]
    # free parameters: fx, fy, cx, cy, skew, then the model's coefficients in OpenCV's order
    free = np.ones(5 + nd, bool)
    free[4] = o["estimate_skew"]
    free[2] = free[3] = not o["fix_principal_point"]
    if model != "fisheye":          # (k1, k2, p1, p2, k3[, k4, k5, k6])
        free[7] = free[8] = not o["zero_tangent_dist"]
        free[9] = not o["fix_k3"]
    o["free"] = free
    return o


def solve(objs, imgs, image_size, opts):
    """Calibrate checked views with checked options; returns the :class:`CameraCalibration` arguments."""
    return (_solve_robust if opts["robust"] else _solve)(objs, imgs, image_size, opts)


def _solve(objs, imgs, image_size, opts):
    n_views = len(objs)
    total = sum(len(o) for o in objs)
    n_free = int(opts["free"].sum()) - (1 if opts["aspect"] is not None else 0) + 6 * n_views
    if n_free >= 2 * total:
        raise ValueError(
            f"too few points: {total} points give {2 * total} equations for {n_free} unknowns; "
            "use more views or more points per view"
        )
    with np.errstate(all="ignore"):
        try:
            return _calibrate(objs, imgs, image_size, n_free, opts)
        except np.linalg.LinAlgError as exc:
            raise ValueError(f"the calibration is numerically degenerate ({exc}); check that the points are "
                             "correct and the views are tilted differently") from None


def _calibrate(objs, imgs, image_size, n_free, opts):
    w, h = image_size
    total = sum(len(o) for o in objs)
    guess_K, aspect = opts["guess_K"], opts["aspect"]
    # initial values, then Levenberg-Marquardt over everything
    if opts["model"] == "fisheye":
        K, dist, poses = _initial_fisheye(objs, imgs, (w, h), opts)
    else:
        K, dist, poses = _initial_pinhole(objs, imgs, (w, h), opts)
    poses0 = poses
    problem = lm.Problem(objs, imgs, opts["model"])
    q0 = np.array([K[0, 0], K[1, 1], K[0, 2], K[1, 2], K[0, 1], *dist])
    q, poses, info = lm.levenberg_marquardt(problem, q0, poses, opts["free"], aspect,
                                            max_iterations=opts["max_iterations"])
    if opts["model"] == "rational" and guess_K is None:
        # The eight-term model has several minima on few views (its radial numerator and
        # denominator can trade places, or a pole can settle between the corners). Besides
        # OpenCV's start (above), start from the converged pinhole model with k4 = k5 = k6 = 0;
        # keep the better end.
        second = _rational_from_pinhole(objs, imgs, problem, K, dist, poses0, opts)
        if second[2]["cost"] < info["cost"] or not np.isfinite(info["cost"]):
            q, poses, info = second
    cost = problem.evaluate(q, poses, True)
    if not (np.isfinite(cost) and np.all(np.isfinite(q)) and np.all(np.isfinite(poses)) and q[0] > 0 and q[1] > 0):
        raise ValueError("the calibration diverged (check that image_points match object_points)")
    try:
        std_q, std_p = lm.covariance(problem, info["T"], n_free)
    except np.linalg.LinAlgError:
        std_q = std_p = np.array([np.nan])
    if not (np.all(np.isfinite(std_q)) and np.all(np.isfinite(std_p))):
        std_q = std_p = None          # the covariance is not determined
    K = np.array([[q[0], q[4], q[2]], [0, q[1], q[3]], [0, 0, 1.0]])
    counts = np.diff(problem.starts)
    flags = {name: opts[name] for name in ("fix_principal_point", "fix_aspect_ratio", "zero_tangent_dist", "fix_k3",
                                           "estimate_skew", "robust")}
    flags["intrinsic_guess"] = guess_K is not None
    c = np.ascontiguousarray
    return dict(model=opts["model"], camera_matrix=K, dist_coeffs=c(q[5:]), rvecs=c(poses[:, :3]),
                tvecs=c(poses[:, 3:]),
                rms=float(np.sqrt(cost / total)), per_view_rms=np.sqrt(problem.view_sq / counts),
                std_intrinsics=std_q, std_extrinsics=std_p, image_size=(w, h), flags=flags,
                iterations=int(info["iterations"]))


def _rational_from_pinhole(objs, imgs, problem, K, dist, poses, opts):
    """LM of the rational model started from the pinhole model's optimum; ``(q, poses, info)``."""
    pin = lm.Problem(objs, imgs, "pinhole")
    q0 = np.array([K[0, 0], K[1, 1], K[0, 2], K[1, 2], K[0, 1], *dist[:5]])
    q, poses, _ = lm.levenberg_marquardt(pin, q0, poses, opts["free"][:10], opts["aspect"],
                                         max_iterations=opts["max_iterations"])
    q0 = np.concatenate([q, np.zeros(3)])
    q, poses, info = lm.levenberg_marquardt(problem, q0, poses, opts["free"], opts["aspect"],
                                            max_iterations=opts["max_iterations"])
    if not np.isfinite(info["cost"]):
        info["cost"] = np.inf
    return q, poses, info


def _initial_pinhole(objs, imgs, image_size, opts):
    """Zhang's closed form (or the guess), poses from the homographies, a linear radial distortion."""
    w, h = image_size
    guess_K, aspect = opts["guess_K"], opts["aspect"]
    Hs = homographies([o[:, :2] for o in objs], imgs)
    if guess_K is None:
        # the rational model starts, as OpenCV's does, from the focal lengths of the closed form with the
        # principal point at the centre: its six radial terms can follow a start off-centre into a pole
        centre = opts["fix_principal_point"] or opts["model"] == "rational"
        pp = ((w - 1) / 2.0, (h - 1) / 2.0) if centre else None
        if len(objs) < 3 and pp is None and opts["estimate_skew"]:
            raise ValueError(f"need at least 3 views to estimate the skew and principal point, got {len(objs)}")
        try:
            K = intrinsics_from_homographies(Hs, (w, h), estimate_skew=opts["estimate_skew"], principal_point=pp,
                                             aspect_ratio=aspect)
        except DegenerateViewsError as exc:
            if pp is not None or opts["model"] == "pinhole":
                raise ValueError(str(exc)) from None
            # a wide-angle lens can bend the views past what the full closed form tolerates; with the
            # principal point at the centre (OpenCV's start) only the focal lengths are solved for
            try:
                K = intrinsics_from_homographies(Hs, (w, h), estimate_skew=opts["estimate_skew"],
                                                 principal_point=((w - 1) / 2.0, (h - 1) / 2.0), aspect_ratio=aspect)
            except DegenerateViewsError:
                raise ValueError(str(exc)) from None
        if aspect is not None:
            K[0, 0] = aspect * K[1, 1]
        dist = np.zeros(len(opts["guess_d"]))
    else:
        K = guess_K.copy()
        dist = opts["guess_d"].copy()
    rv, tv = poses_from_homographies(Hs, K)
    poses = np.ascontiguousarray(np.concatenate([rv, tv], axis=1))
    if guess_K is None and opts["model"] == "pinhole":
        # a linear radial distortion (k1, k2); the rational model starts undistorted, as OpenCV's does
        # (a polynomial start for a wide-angle lens can lead its denominator astray)
        try:
            k = initial_radial_distortion(objs, imgs, K, poses[:, :3], poses[:, 3:], n_coeffs=2)
        except np.linalg.LinAlgError:
            k = np.zeros(2)
        if np.all(np.isfinite(k)) and np.all(np.abs(k) < 10):
            dist[0], dist[1] = k
    return K, dist, poses


#: Focal lengths tried to start a fisheye calibration, as fractions of the image diagonal.
_FISHEYE_FOCALS = np.geomspace(0.08, 2.0, 25)


def _initial_fisheye(objs, imgs, image_size, opts):
    """A start for the fisheye model: the equidistant lens (k = 0) whose focal length best fits planes.

    OpenCV starts from ``f = max(w, h) / 2`` and the image centre, poses from
    each view's homography in the undistorted plane. Here the focal length is
    chosen, among a geometric range, as the one whose undistorted views are
    best explained by plane homographies (reprojected to pixels through the
    same lens), since a wrong focal length bends straight board lines; the
    poses follow from those homographies. A guess replaces the search.
    """
    w, h = image_size
    guess_K, aspect = opts["guess_K"], opts["aspect"]
    if guess_K is not None:
        candidates = [(guess_K, opts["guess_d"].copy())]
    else:
        c = ((w - 1) / 2.0, (h - 1) / 2.0)
        ratio = 1.0 if aspect is None else aspect
        candidates = [(np.array([[f * ratio, 0, c[0]], [0, f, c[1]], [0, 0, 1.0]]), np.zeros(4))
                      for f in _FISHEYE_FOCALS * np.hypot(w, h)]
    best = None
    for K, dist in candidates:
        rays = [_geometry.undistort(_geometry.pixels_to_normalized(i, K), dist, "fisheye") for i in imgs]
        if not all(np.all(np.isfinite(r)) for r in rays):
            continue          # some corner beyond 90 degrees: the focal length is too short
        try:
            Hs = homographies([o[:, :2] for o in objs], rays)
            rv, tv = poses_from_homographies(Hs, np.eye(3))
        except (ValueError, np.linalg.LinAlgError):
            continue
        poses = np.ascontiguousarray(np.concatenate([rv, tv], axis=1))
        q = _geometry.intrinsics_vector(K, dist)
        err = sum(float(np.sum((_geometry.project(o, p[:3], p[3:], q, "fisheye") - i) ** 2))
                  for o, i, p in zip(objs, imgs, poses))
        if np.isfinite(err) and (best is None or err < best[0]):
            best = (err, K, dist, poses)
    if best is None:
        raise ValueError("no fisheye camera explains the points (no focal length gives plane views); check that "
                         "image_points match object_points")
    return best[1].copy(), best[2].copy(), best[3]


#: A point is an outlier when its residual exceeds this many sigmas (robust scale of the inliers' residuals).
ROBUST_SIGMAS = 4.0
#: ... but never within this many pixels (exact or nearly exact points would otherwise all look like outliers).
ROBUST_FLOOR = 0.1
_ROBUST_ROUNDS = 20


def _solve_robust(objs, imgs, image_size, opts):
    """:func:`solve` with iterated k-sigma rejection of outlier points; adds ``outliers`` ``(M, 2)``.

    Each round calibrates on the current inliers, measures every point's
    residual, estimates the noise ``sigma`` from the inliers' median residual
    (for 2-D Gaussian noise the residual's median is ``1.1774 sigma``) and
    keeps the points within ``ROBUST_SIGMAS * sigma`` (at least ``ROBUST_FLOOR``
    pixels); a point may come back
    when the fit improves. It stops when the set no longer changes.
    """
    keep = [np.ones(len(o), bool) for o in objs]
    for _ in range(_ROBUST_ROUNDS):
        values = _solve([o[m] for o, m in zip(objs, keep)], [i[m] for i, m in zip(imgs, keep)], image_size, opts)
        q = _geometry.intrinsics_vector(values["camera_matrix"], values["dist_coeffs"])
        res = [np.hypot(*(_geometry.project(o, r, t, q, opts["model"]) - i).T)
               for o, i, r, t in zip(objs, imgs, values["rvecs"], values["tvecs"])]
        sigma = np.median(np.concatenate([r[m] for r, m in zip(res, keep)])) / np.sqrt(2 * np.log(2))
        limit = max(ROBUST_SIGMAS * sigma, ROBUST_FLOOR)
        new = []
        for r in res:
            inlier = r <= limit
            if np.count_nonzero(~inlier) > len(r) // 4:
                # a gross outlier drags its view's pose and with it the view's other points: peel the worst first
                inlier = r <= max(limit, 0.5 * r.max())
            new.append(inlier)
        if all(np.array_equal(a, b) for a, b in zip(new, keep)):
            break
        keep = new
    overall = np.median(np.concatenate([r[m] for r, m in zip(res, keep)]))
    for v, (r, m) in enumerate(zip(res, keep)):
        if np.count_nonzero(m) < max(4, len(m) // 2):
            raise ValueError(f"view {v} has {len(m) - np.count_nonzero(m)} outliers among its {len(m)} points; "
                             "remove that view")
        if np.median(r[m]) > ROBUST_SIGMAS * max(overall, ROBUST_FLOOR / ROBUST_SIGMAS):
            # a view that is wrong as a whole (another board, a wrong order) is not a set of outlier points
            raise ValueError(f"view {v} does not fit the others (median residual {np.median(r[m]):.2f} px against "
                             f"{overall:.2f} px); remove that view")
    values["outliers"] = np.array([(v, j) for v, m in enumerate(keep) for j in np.flatnonzero(~m)],
                                  dtype=np.intp).reshape(-1, 2)
    return values
