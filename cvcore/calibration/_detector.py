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
7. Sub-pixel refinement by gradient orthogonality on the full-resolution image,
   in a window that stays clear of every edge not through the corner.
8. Verification (never a wrong corner): squares too small are refused; every
   refined corner must converge to the same place from a nearby start and sit
   where a homography of its grid neighbours puts it; one failure refuses the
   board. :func:`locate` says why a board was not returned (:data:`REASONS`).
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

# Verification of a found board: thresholds chosen on stress_chessboard_views(300, random_state=1), subject to
# accepting every board of OpenCV's left01-14 and Learning OpenCV's 12x12 photos
MIN_SPACING = 3.0        # shortest distance (pixels) from a corner to an edge not through it
WINDOW = 0.5             # refinement half-window as a fraction of that distance
STABLE = 0.75            # pixels: refinements from nearby starts must agree this well
WINDOW_AGREE = 1.0       # pixels: where the window is small (half-size 3 to SMALL_WINDOW), one a pixel smaller
SMALL_WINDOW = 6         # must agree this well (these two chosen on stress_chessboard_views random_state=4-6)
CONSISTENT = 0.5         # pixels allowed from the neighbours' local homography, plus CONSISTENT_* d^2 px
CONSISTENT_INNER = 0.004  # (lens distortion and a bent board bend the grid by about the square of its spacing)
CONSISTENT_BORDER = 0.014  # border corners are extrapolated, hence the wider tolerance
BLURRY = 6.0             # pixels of edge width (10-90 % rise) beyond which a board is called too blurry


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
    return locate(grey, cols, rows, subpixel)[0]


def locate(grey, cols, rows, subpixel=True):
    """``(corners or None, verdict)``: the board, or None and what stood in the way.

    ``verdict`` is a dict with ``"code"`` (``"found"`` or a key of
    :data:`REASONS`) and details where known (``"seen"``, the grid size seen
    instead; ``"spacing"``, the shortest distance from a corner to an edge not
    through it; ``"sharpness"``, the edge width; ``"bad_corners"``).
    """
    P, info = _detect(grey, max(cols, rows) + 2, target=(rows, cols))
    R = None if P is None else _orient(P, cols, rows, grey)
    if R is None:      # nothing, or a grid of another size
        return None, _why_not(grey, cols, rows, info)
    spacing = _spacing(R)
    if spacing.min() < MIN_SPACING:
        # a refinement window that fits squares this small sees too few pixels to be trusted
        return None, {"code": "too_small", "spacing": float(spacing.min())}
    corners = np.ascontiguousarray(R.reshape(-1, 2), dtype=np.float64)
    verdict = {"code": "found", "spacing": float(spacing.min())}
    if subpixel:
        bad = _refine(grey, corners, R, spacing)
        if bad:
            width = sharpness(grey, R)
            code = "too_blurry" if width > BLURRY else "inconsistent"
            return None, {"code": code, "bad_corners": bad, "spacing": float(spacing.min()), "sharpness": width}
    return corners, verdict


#: Why a board was not accepted: reason code -> explanation.
REASONS = {
    "no_pattern": "no chessboard-like pattern found",
    "other_size": "a chessboard of another size was seen",
    "partly_outside": "the board seems to run past the image border",
    "too_blurry": "the board is too blurry",
    "too_small": "the squares are too small to place corners reliably",
    "ambiguous": "two boards of the requested size were seen",
    "inconsistent": "some refined corners disagree with their neighbours (refusing rather than guessing)",
}


def describe(verdict, cols, rows):
    """One line for a user: why no ``cols`` x ``rows`` board was returned."""
    text = REASONS[verdict["code"]]
    if verdict["code"] == "too_blurry" and verdict.get("seen") is None:
        text = "the image is too blurry to find a board in"
    if verdict.get("seen") is not None and verdict["code"] in ("other_size", "partly_outside", "too_blurry"):
        text += f" ({verdict['seen'][0]}x{verdict['seen'][1]} inner corners visible, {cols}x{rows} requested)"
    if verdict["code"] == "too_blurry":
        text += f"; edge width {verdict['sharpness']:.1f} px (sharp: below {BLURRY:.0f} px)"
    if verdict["code"] == "too_small":
        text += f"; corners only {verdict['spacing']:.1f} px from the next edge (need {MIN_SPACING:.0f})"
    if verdict["code"] == "inconsistent":
        text += f"; {verdict['bad_corners']} corner(s) failed"
    return text


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
        if info.get("ambiguous"):
            return None, info
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


def _spacing(R):
    """Per corner of the (rows, cols, 2) grid: distance to the nearest far edge of its four cells.

    The far edges are the sides of the polygon through the corner's eight grid
    neighbours (the grid is extended by one extrapolated corner on each side);
    a refinement window must stay inside it, or it sees edges that do not pass
    through the corner and converges between them.
    """
    rows, cols = R.shape[:2]
    E = np.empty((rows + 2, cols + 2, 2))
    E[1:-1, 1:-1] = R
    E[0, 1:-1], E[-1, 1:-1] = 2 * R[0] - R[1], 2 * R[-1] - R[-2]
    E[:, 0], E[:, -1] = 2 * E[:, 1] - E[:, 2], 2 * E[:, -2] - E[:, -3]
    ring = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]
    out = np.full((rows, cols), np.inf)
    for (ar, ac), (br, bc) in zip(ring, ring[1:] + ring[:1]):
        a = E[1 + ar:rows + 1 + ar, 1 + ac:cols + 1 + ac]
        b = E[1 + br:rows + 1 + br, 1 + bc:cols + 1 + bc]
        ab = b - a
        t = np.clip(np.sum((R - a) * ab, axis=2) / np.maximum(np.sum(ab * ab, axis=2), 1e-12), 0.0, 1.0)
        out = np.minimum(out, np.hypot(*np.moveaxis(a + t[..., None] * ab - R, -1, 0)))
    return out


def _local_residuals(P):
    """Per corner: distance to where a homography fitted to its grid neighbours puts it.

    Inner corners use their eight neighbours (interpolation), corners on the
    grid's border those within two rows and columns (extrapolation, so their
    tolerance is wider). All corners are solved at once: each one's DLT
    system is padded with zero rows, which leave its null vector unchanged.
    """
    rows, cols = P.shape[:2]
    dj, di = np.mgrid[-2:3, -2:3]
    dj, di = dj.ravel(), di.ravel()
    jj, ii = np.mgrid[0:rows, 0:cols]
    jj, ii = jj.ravel()[:, None], ii.ravel()[:, None]
    inner = ((jj > 0) & (jj < rows - 1) & (ii > 0) & (ii < cols - 1))
    reach = np.where(inner, 1, 2)
    nj, ni = jj + dj, ii + di                                          # (n, 25) neighbour grid positions
    valid = ((nj >= 0) & (nj < rows) & (ni >= 0) & (ni < cols) & ((dj != 0) | (di != 0))
             & (np.abs(dj) <= reach) & (np.abs(di) <= reach))
    flat = P.reshape(-1, 2)
    x = flat[np.clip(nj, 0, rows - 1) * cols + np.clip(ni, 0, cols - 1)] - flat[:, None, :]
    x = np.where(valid[..., None], x, 0.0)
    scale = np.maximum(np.abs(x).max(axis=(1, 2)), 1e-9)
    x = x / scale[:, None, None]
    g = np.broadcast_to(np.stack([di, dj], axis=1).astype(np.float64), x.shape)
    m = valid[..., None].astype(np.float64)
    # DLT for x ~ H g (grid offsets to image offsets); the corner itself is at g = 0
    A = np.zeros((len(flat), 25, 2, 9))
    A[:, :, 0, 0:2], A[:, :, 0, 2] = g * m, m[..., 0]
    A[:, :, 1, 3:5], A[:, :, 1, 5] = g * m, m[..., 0]
    A[:, :, 0, 6:8], A[:, :, 0, 8] = -g * x[..., :1], -x[..., 0]
    A[:, :, 1, 6:8], A[:, :, 1, 8] = -g * x[..., 1:], -x[..., 1]
    A = A.reshape(len(flat), 50, 9)
    # null vector: the eigenvector of A'A with the smallest eigenvalue (9 x 9 per corner, cheaper than an SVD)
    H = np.linalg.eigh(np.matmul(A.transpose(0, 2, 1), A))[1][:, :, 0].reshape(-1, 3, 3)
    w = H[:, 2, 2]
    ok = np.abs(w) > 1e-12
    out = np.full(len(flat), np.inf)
    out[ok] = np.hypot(H[ok, 0, 2] / w[ok], H[ok, 1, 2] / w[ok]) * scale[ok]
    return out.reshape(rows, cols)


def _subpix(grey, corners, half):
    out = np.array(corners)
    for w in np.unique(half):
        idx = np.flatnonzero(half == w)
        sub = np.ascontiguousarray(out[idx])
        _chessboard.corner_subpix(grey, sub, int(w), 30, 1e-3)
        out[idx] = sub
    return out


def _refine(grey, corners, R, d):
    """Sub-pixel refinement, verified; returns the number of corners that fail verification (0: trusted).

    Each corner is refined by gradient orthogonality in a window of half-size
    ``min(11, WINDOW * d)`` where ``d`` (rows, cols) is the distance to the
    nearest edge not through the corner (:func:`_spacing`); 11 is OpenCV's customary
    ``winSize=(11, 11)``. Then every corner must pass two checks:

    * convergence: refining again from a point 0.7-1 pixel away (diagonally)
      lands within ``STABLE`` pixels of the first result;
    * window independence, where the window had to shrink to fit small
      squares (half-size 3 to ``SMALL_WINDOW``): refining with a half-window
      one pixel smaller lands within ``WINDOW_AGREE`` pixels. On steep,
      blurred views of small squares the few pixels of such a window barely
      fix the corner's position along its edges, and the estimate follows
      what lies at the window's rim instead of the corner (large windows on
      real photos differ by more with a pixel less, yet match OpenCV there);
    * local consistency: a homography fitted to its neighbours predicts it
      within ``CONSISTENT + c d^2`` pixels, ``c`` being ``CONSISTENT_INNER``
      or, for corners on the grid's border (extrapolated),
      ``CONSISTENT_BORDER``: one corner off its grid stands out, while lens
      distortion and a slightly bent board on real photos, whose effect on
      the local fit grows with the square of the spacing, stay within it.
    """
    half = np.clip(np.floor(WINDOW * d.ravel()), 2, 11).astype(int)
    refined = _subpix(grey, corners, half)
    # restarted a little off (diagonally, up to a pixel), a converged corner comes back to the same place
    again = _subpix(grey, refined + np.minimum(0.25 * half, 1.0)[:, None] * 0.7, half)
    unstable = np.hypot(*(refined - again).T) > STABLE
    smaller = (half > 2) & (half <= SMALL_WINDOW)
    if smaller.any():
        narrow = _subpix(grey, corners[smaller], half[smaller] - 1)
        unstable[smaller] |= np.hypot(*(refined[smaller] - narrow).T) > WINDOW_AGREE
    corners[:] = refined
    border = np.ones(R.shape[:2], bool)
    border[1:-1, 1:-1] = False
    tolerance = CONSISTENT + np.where(border, CONSISTENT_BORDER, CONSISTENT_INNER) * d ** 2
    bad = unstable | (_local_residuals(refined.reshape(R.shape)) > tolerance).ravel()
    return int(np.count_nonzero(bad))


def sharpness(grey, R):
    """Median edge width (pixels, 10 %-90 % rise) across the board's edges, as ``cv2.estimateChessboardSharpness``.

    Each edge between two neighbouring corners of the (rows, cols, 2) grid is
    crossed at its midpoint by a profile along its normal, reaching 40 % of the
    shorter neighbouring cell; the width is the distance between the points
    where the profile, normalised between its two ends, passes 10 % and 90 %.
    A sharp edge is 1-2 pixels wide; Gaussian blur of sigma ``s`` adds about
    ``2.6 s``. NaN when no edge can be measured.
    """
    mids, normals, reach = [], [], []
    for G in (R, np.swapaxes(R, 0, 1)):
        if G.shape[0] < 2 or G.shape[1] < 2:
            continue
        a, b = G[:, :-1].reshape(-1, 2), G[:, 1:].reshape(-1, 2)
        d = b - a
        length = np.maximum(np.hypot(*d.T), 1e-9)
        mids.append((a + b) / 2)
        normals.append(np.stack([-d[:, 1], d[:, 0]], axis=1) / length[:, None])
        # the cells on either side are about as deep as the spacing across rows
        across = np.hypot(*np.diff(G, axis=0).reshape(-1, 2).T).min()
        reach.append(np.full(len(a), 0.4 * across))
    if not mids:
        return float("nan")
    m, n, L = np.concatenate(mids), np.concatenate(normals), np.concatenate(reach)
    t = np.linspace(-1.0, 1.0, 41)
    pts = m[:, None, :] + (L[:, None] * t)[..., None] * n[:, None, :]
    prof = _bilinear(grey, pts[..., 0], pts[..., 1])
    lo, hi = prof[:, :4].mean(axis=1), prof[:, -4:].mean(axis=1)
    span = hi - lo
    ok = np.abs(span) > 1e-3 * max(float(np.abs(grey).max()), 1e-12)
    if not ok.any():
        return float("nan")
    z = (prof[ok] - lo[ok, None]) / span[ok, None]
    step = L[ok] * (t[1] - t[0])

    def crossing(level):
        above = z >= level
        k = np.argmax(above, axis=1)                      # first sample at or above the level
        k = np.clip(k, 1, z.shape[1] - 1)
        z0, z1 = z[np.arange(len(z)), k - 1], z[np.arange(len(z)), k]
        frac = np.clip((level - z0) / np.where(z1 != z0, z1 - z0, 1.0), 0.0, 1.0)
        return (k - 1 + frac) * step

    return float(np.median(crossing(0.9) - crossing(0.1)))


def _bilinear(grey, x, y):
    H, W = grey.shape
    x = np.clip(x, 0, W - 1.001)
    y = np.clip(y, 0, H - 1.001)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    ax, ay = x - x0, y - y0
    return ((1 - ay) * ((1 - ax) * grey[y0, x0] + ax * grey[y0, x0 + 1])
            + ay * ((1 - ax) * grey[y0 + 1, x0] + ax * grey[y0 + 1, x0 + 1]))


def _image_edge_width(grey):
    """Edge width (10 %-90 % rise, pixels) of the image's sharpest edges, when no board grid is there to measure.

    A step of height ``h`` blurred by a Gaussian of sigma ``s`` has a largest
    gradient of ``h / (s sqrt(2 pi))``; with ``h`` the image's robust
    intensity range and the gradient's 99.9th percentile, ``2.56 s`` is the
    edge width. NaN for a flat image.
    """
    smooth = filters.gaussian(grey, 0.7, truncate=3.0)
    gy, gx = np.gradient(smooth)
    lo, hi = np.percentile(smooth, [0.5, 99.5])
    top = np.percentile(np.hypot(gx, gy), 99.9)
    if hi - lo < 10.0 or top <= 0:      # grey levels (x 255): no contrast worth measuring
        return float("nan")
    return float(2.563 * (hi - lo) / (np.sqrt(2 * np.pi) * top))


def _why_not(grey, cols, rows, info):
    """Reason a board of ``cols`` x ``rows`` was not found, from the largest grid the detector sees."""
    if info.get("ambiguous"):
        return {"code": "ambiguous"}
    G, _ = _detect(grey, 60)
    if G is None or min(G.shape[:2]) < 2:
        width = _image_edge_width(grey)
        if width > BLURRY:
            return {"code": "too_blurry", "sharpness": width}
        return {"code": "no_pattern"}
    seen = (G.shape[1], G.shape[0]) if G.shape[1] >= G.shape[0] else (G.shape[0], G.shape[1])
    verdict = {"seen": seen, "sharpness": sharpness(grey, G)}
    H, W = grey.shape
    # the next row or column beyond each side of the grid: outside the image means the board may go on there
    beyond = np.concatenate([2 * G[0] - G[1], 2 * G[-1] - G[-2], 2 * G[:, 0] - G[:, 1], 2 * G[:, -1] - G[:, -2]])
    outside = np.any((beyond < 0) | (beyond > [W - 1, H - 1]))
    smaller = seen[0] < max(cols, rows) or seen[1] < min(cols, rows)
    if outside and smaller:
        verdict["code"] = "partly_outside"
    elif verdict["sharpness"] > BLURRY and smaller:
        verdict["code"] = "too_blurry"
    else:
        verdict["code"] = "other_size"
    return verdict
