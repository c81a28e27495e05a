"""The chessboard inner-corner detector behind :mod:`cvcore.calibration.chessboard`.

Shared by the public detector functions and ``calibrate_images``; everything
here trusts its input (a float32 work image from :func:`work_image`).

1. Work image: grey float32, area-downsampled when large, Gaussian-smoothed.
2. Saddle response ``max(0, Ixy^2 - Ixx Iyy)`` (X-junctions are saddles of the
   intensity surface), non-maximum suppression.
3. Ring test: the intensity on a small circle around a chessboard corner has
   exactly four sign changes (bright, dark, bright, dark) with opposite
   quadrants alike; the four crossing angles are the directions of the two
   board edges through the corner, i.e. the directions to its four neighbours.
4. Grid reconstruction: from a seed corner and its four neighbours (found
   along those directions, each pointing back), a 3x3 seed is grown one full
   row or column at a time by extrapolating every line of the grid and
   matching the nearest candidate; growth stops where a row is incomplete.
5. Checks: the grid must have the requested size (either way round) and its
   cells must alternate dark/bright; anything else (a partial board, a board
   of another size, two boards of the requested size) is rejected, not guessed.
6. Ordering as OpenCV's: ``rows`` rows of ``cols`` corners, row direction x
   column direction clockwise in the image, first inner square dark when the
   colours tell the ends apart, otherwise the first corner above the last row
   and (square boards) nearest the image's top-left corner.
7. Sub-pixel refinement by gradient orthogonality on the full-resolution image.
"""
from __future__ import annotations

import numpy as np

from .. import _validate, filters
from .._ext import _chessboard

_WORK_MAX = 900          # detection runs on an image at most this large (longest side)
_SIGMA = 1.2             # smoothing of the work image
_RING = 5.0              # ring radius (work pixels)
_MAX_CAND = 4000
_COS_TOL = np.cos(np.deg2rad(28.0))


def work_image(image, name="image"):
    """The detector's ``(H, W)`` float32 grey image: the input policy's grey times 255.

    Integers are divided by their dtype's maximum and floats are taken as they
    are on a nominal [0, 1] scale (``_validate.grey_image``, BT.601 weights for
    colour); nothing depends on the image's own maximum. For uint8 the values
    are the grey levels themselves, exactly.
    """
    if isinstance(image, np.ndarray) and image.dtype == np.uint8:
        # 8 bits: the policy's grey levels are the uint8 grey itself (no float64 copy of a large photo)
        out = _validate.grey_uint8(image, name).astype(np.float32)
    else:
        g = _validate.grey_image(image, name, dtype=np.float64)
        with np.errstate(over="ignore"):
            out = np.ascontiguousarray(g * 255.0, dtype=np.float32)
        if not np.all(np.isfinite(out)):
            raise ValueError(f"{name} has values too large for chessboard detection (beyond float32's range)")
    if min(out.shape) < 16:
        raise ValueError(f"{name} is too small for chessboard detection: {out.shape[1]}x{out.shape[0]}")
    return out


def detect_grid(grey, limit):
    """Largest chessboard-like grid in the work image: ``(corners (R, C, 2) or None, info)``."""
    return _detect(grey, limit)


def find_corners(grey, cols, rows, subpixel=True):
    """Inner corners of a ``cols`` x ``rows`` board in OpenCV's order, or None (see the public wrapper)."""
    P, _ = _detect(grey, max(cols, rows) + 2, target=(rows, cols))
    if P is None:
        return None
    R = _orient(P, cols, rows, grey)
    if R is None:
        return None
    corners = np.ascontiguousarray(R.reshape(-1, 2), dtype=np.float64)
    if subpixel:
        _refine(grey, corners, R)
    return corners


class _Candidates:
    """Chessboard-corner candidates of a smoothed work image: positions, edge directions, contrast."""

    def __init__(self, smooth):
        resp = np.empty_like(smooth)
        _chessboard.saddle_response(smooth, resp)
        top = float(resp.max())
        self.ok = top > 0
        if not self.ok:
            return
        peaks = np.empty((_MAX_CAND * 4, 2), np.intp)
        n = _chessboard.local_maxima(resp, np.float32(top * 4e-3), 3, int(_RING) + 2, peaks)
        peaks = peaks[:min(n, len(peaks))]
        strength = resp[peaks[:, 0], peaks[:, 1]]
        if len(peaks) > _MAX_CAND:
            keep = np.argsort(-strength)[:_MAX_CAND]
            peaks, strength = peaks[keep], strength[keep]
        pts = np.ascontiguousarray(peaks[:, ::-1], dtype=np.float64)
        angles = np.empty((len(pts), 4))
        contrast = np.empty(len(pts))
        symmetry = np.empty(len(pts))
        _chessboard.ring_test(smooth, pts, _RING, 40, angles, contrast, symmetry)
        good = (contrast > 0) & (symmetry >= 0.75)
        if good.any():
            cmax = np.percentile(contrast[good], 90)
            good &= contrast > 0.15 * cmax
        # sub-pixel peak positions (parabola through the response and its neighbours)
        r, cc = peaks[good, 0], peaks[good, 1]
        v = resp[r, cc].astype(np.float64)
        def offset(lo, hi):
            den = 2.0 * v - lo - hi
            return np.clip(np.where(den > 0, 0.5 * (hi - lo) / np.maximum(den, 1e-12), 0.0), -0.5, 0.5)
        self.pts = pts[good] + np.stack([offset(resp[r, cc - 1], resp[r, cc + 1]),
                                         offset(resp[r - 1, cc], resp[r + 1, cc])], axis=1)
        self.angles = angles[good]
        self.contrast = contrast[good]
        self.dirs = np.ascontiguousarray(np.stack([np.cos(self.angles), np.sin(self.angles)], axis=2))  # (n, 4, 2)
        self.n = len(self.pts)


def _neighbour(c, i, u):
    """Nearest candidate from ``i`` along unit direction ``u`` that points back at ``i``."""
    return _chessboard.find_neighbour(c.pts, c.dirs, i, float(u[0]), float(u[1]), float(_COS_TOL))


def _nearest(c, p, radius, used):
    d = np.hypot(c.pts[:, 0] - p[0], c.pts[:, 1] - p[1])
    d[used != 0] = np.inf
    j = int(np.argmin(d))
    return j if d[j] <= radius else -1


def _seed(c, i):
    nb = [_neighbour(c, i, c.dirs[i, k]) for k in range(4)]
    if min(nb) < 0 or len(set(nb)) < 4:
        return None
    p = c.pts[i]
    vec = [c.pts[j] - p for j in nb]
    lens = [np.hypot(*v) for v in vec]
    for k in range(2):  # opposite neighbours roughly collinear and of similar spacing
        a, b = vec[k], vec[k + 2]
        if -(a @ b) / (lens[k] * lens[k + 2]) < _COS_TOL or not 0.5 < lens[k] / lens[k + 2] < 2.0:
            return None
    # grid: columns along nb[0] (right), rows along nb[1]
    G = -np.ones((3, 3), np.intp)
    G[1, 1] = i
    G[1, 2], G[2, 1], G[1, 0], G[0, 1] = nb
    used = np.zeros(c.n, np.uint8)
    used[[i, *nb]] = 1
    for dr, dc in ((-1, -1), (-1, 1), (1, -1), (1, 1)):
        pred = c.pts[G[1, 1 + dc]] + c.pts[G[1 + dr, 1]] - p
        j = _nearest(c, pred, 0.35 * min(lens), used)
        if j < 0:
            return None
        G[1 + dr, 1 + dc] = j
        used[j] = 1
    return G, used


def _extend(c, G, used):
    """Try to add one full row below ``G`` (callers rotate ``G`` for other sides)."""
    G = np.ascontiguousarray(G)
    row = np.empty(G.shape[1], np.intp)
    if not _chessboard.extend_grid(c.pts, G, used, row):
        return None
    used[row] = 1
    return np.vstack([G, row[None]]), used


def _grow(c, G, used, limit):
    """Extend each side in turn as far as it goes; two rounds (a side may unblock)."""
    for _ in range(2):
        grew = False
        for _side in range(4):
            while max(G.shape) <= limit:
                res = _extend(c, G, used)
                if res is None:
                    break
                G, used = res
                grew = True
            G = np.rot90(G)  # four rotations restore the layout
        if not grew:
            break
    return G


def _cells_alternate(smooth, P):
    """Fraction of adjacent cell pairs whose brightness order matches a chessboard."""
    centres = (P[:-1, :-1] + P[1:, 1:] + P[:-1, 1:] + P[1:, :-1]) / 4.0
    H, W = smooth.shape
    x = np.clip(np.rint(centres[..., 0]).astype(int), 0, W - 1)
    y = np.clip(np.rint(centres[..., 1]).astype(int), 0, H - 1)
    val = smooth[y, x]
    parity = (np.add.outer(np.arange(val.shape[0]), np.arange(val.shape[1])) % 2).astype(bool)
    sign = np.where(parity, 1.0, -1.0)
    checks = []
    if val.shape[1] > 1:
        checks.append(((val[:, 1:] - val[:, :-1]) * sign[:, 1:] > 0).ravel())
    if val.shape[0] > 1:
        checks.append(((val[1:, :] - val[:-1, :]) * sign[1:, :] > 0).ravel())
    if not checks:
        return 1.0, val
    agree = np.concatenate(checks).mean()
    return max(agree, 1.0 - agree), val


def _scales(shape):
    """Downsampling factors to try, coarsest first (a coarse pass is 4x cheaper)."""
    H, W = shape
    f0 = max(1, int(np.ceil(max(H, W) / _WORK_MAX)))
    return [2 * f0, f0] if min(H, W) >= 400 * f0 else [f0]


def _detect(grey, limit, target=None):
    best, best_info = None, {"candidates": 0}
    for f in _scales(grey.shape):
        P, info = _detect_at(grey, f, limit, target)
        if P is not None and (best is None or P.shape[0] * P.shape[1] > best.shape[0] * best.shape[1]):
            best, best_info = P, info
        if best is not None and target is not None and sorted(best.shape[:2]) == sorted(target):
            break
    return best, best_info


def _detect_at(grey, f, limit, target):
    H, W = grey.shape
    if f > 1:
        work = np.empty((H // f, W // f), np.float32)
        _chessboard.downsample_area(grey, f, work)
    else:
        work = grey
    smooth = np.ascontiguousarray(filters.gaussian(work, _SIGMA, truncate=3.0), dtype=np.float32)
    c = _Candidates(smooth)
    info = {"scale": f, "candidates": 0 if not c.ok else c.n}
    if not c.ok or c.n < 9:
        return None, info
    order = np.argsort(-c.contrast)
    best = match = None
    tried = np.zeros(c.n, bool)
    attempts = 0
    for i in order:
        if tried[i]:
            continue
        attempts += 1
        if attempts > 12:
            break
        s = _seed(c, i)
        if s is None:
            continue
        G = _grow(c, s[0], s[1], limit)
        tried[G.ravel()] = True
        agree, _ = _cells_alternate(smooth, c.pts[G])
        if agree < 0.9:
            continue
        if target is not None and sorted(G.shape) == sorted(target):
            if match is not None:
                # two complete boards of the requested size: ambiguous, reject
                info["ambiguous"] = True
                return None, info
            match = G
            if np.count_nonzero(~tried) < G.size:
                break          # too few candidates left for a second board
            continue
        if best is None or G.size > best.size:
            best = G
        if target is not None and sorted(G.shape) > sorted(target):
            break
        if target is None and G.size >= 0.5 * c.n:
            break
    if match is not None:
        best = match
    if best is None:
        return None, info
    P = c.pts[best]
    info["grid_shape"] = best.shape
    info["spacing"] = float(np.median(np.hypot(*np.diff(P, axis=1).reshape(-1, 2).T))) * f
    P_full = (P + 0.5) * f - 0.5
    return P_full, info


def _orient(P, cols, rows, grey):
    """Put the (R, C, 2) grid in OpenCV's order as (rows, cols, 2)."""
    cand = []
    for G in (P, np.swapaxes(P, 0, 1)):
        for k in range(4):
            if (G.shape[k % 2], G.shape[1 - k % 2]) != (rows, cols):
                continue
            R = np.rot90(G, k)
            dx = R[0, 1] - R[0, 0]
            dy = R[1, 0] - R[0, 0]
            if dx[0] * dy[1] - dx[1] * dy[0] > 0:
                cand.append(R)
    if len(cand) <= 1:
        return cand[0] if cand else None
    if (cols + rows) % 2 == 1:
        # the two ends differ in colour: first inner square dark
        def first_cell_dark(R):
            centre = (R[0, 0] + R[1, 1]) / 2.0
            other = (R[0, 1] + R[1, 2]) / 2.0
            return _sample(grey, centre) < _sample(grey, other)
        dark = [R for R in cand if first_cell_dark(R)]
        if len(dark) == 1:
            return dark[0]
        cand = dark or cand
    down = [R for R in cand if R[-1, 0, 1] - R[0, 0, 1] > 0]
    cand = down or cand
    # square boards: the first corner nearest the image's top-left corner
    return min(cand, key=lambda R: R[0, 0, 0] + R[0, 0, 1])


def _sample(grey, p):
    H, W = grey.shape
    x = int(np.clip(round(p[0]), 0, W - 1))
    y = int(np.clip(round(p[1]), 0, H - 1))
    return float(grey[max(0, y - 1):y + 2, max(0, x - 1):x + 2].mean())


def _refine(grey, corners, R):
    """Sub-pixel refinement with a window of half-size min(11, spacing / 2) per corner.

    The window must not reach the neighbouring corners, so its size follows
    the distance to the nearest grid neighbour (11 is OpenCV's customary
    ``winSize=(11, 11)``).
    """
    rows, cols = R.shape[:2]
    near = np.full((rows, cols), np.inf)
    dx = np.hypot(*np.moveaxis(np.diff(R, axis=1), -1, 0))   # (rows, cols - 1)
    dy = np.hypot(*np.moveaxis(np.diff(R, axis=0), -1, 0))   # (rows - 1, cols)
    near[:, :-1] = np.minimum(near[:, :-1], dx)
    near[:, 1:] = np.minimum(near[:, 1:], dx)
    near[:-1, :] = np.minimum(near[:-1, :], dy)
    near[1:, :] = np.minimum(near[1:, :], dy)
    half = np.clip(np.floor(0.5 * near.ravel()), 2, 11).astype(int)
    for w in np.unique(half):
        idx = np.flatnonzero(half == w)
        sub = np.ascontiguousarray(corners[idx])
        _chessboard.corner_subpix(grey, sub, int(w), 30, 1e-3)
        corners[idx] = sub
