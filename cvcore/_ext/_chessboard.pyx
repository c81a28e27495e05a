# Per-pixel kernels of the chessboard detector (cvcore.calibration.chessboard):
# area downsampling, the saddle (X-junction) response, non-maximum suppression,
# the ring test that tells chessboard corners from other saddles and measures
# the four edge directions, and gradient-orthogonality sub-pixel refinement.
from libc.math cimport sqrt, exp, floor, atan2, cos, sin, fabs, M_PI
from cvcore._ext._distortion cimport undistort


def downsample_area(const float[:, ::1] src, int f, float[:, ::1] dst):
    """dst[r, c] = mean of the f x f block of src at (r * f, c * f)."""
    cdef Py_ssize_t r, c, i, j
    cdef double acc
    cdef double inv = 1.0 / (f * f)
    with nogil:
        if f == 2:
            for r in range(dst.shape[0]):
                for c in range(dst.shape[1]):
                    dst[r, c] = 0.25 * (src[2 * r, 2 * c] + src[2 * r, 2 * c + 1]
                                        + src[2 * r + 1, 2 * c] + src[2 * r + 1, 2 * c + 1])
        else:
            _downsample(src, f, dst, inv)


cdef void _downsample(const float[:, ::1] src, int f, float[:, ::1] dst, double inv) noexcept nogil:
    cdef Py_ssize_t r, c, i, j
    cdef double acc
    if True:
        for r in range(dst.shape[0]):
            for c in range(dst.shape[1]):
                acc = 0.0
                for i in range(f):
                    for j in range(f):
                        acc = acc + src[r * f + i, c * f + j]
                dst[r, c] = <float>(acc * inv)


def saddle_response(const float[:, ::1] img, float[:, ::1] out):
    """out = max(0, Ixy^2 - Ixx Iyy): large at X-junctions (Hessian of opposite-sign eigenvalues)."""
    cdef Py_ssize_t H = img.shape[0], W = img.shape[1], r, c
    cdef float ixx, iyy, ixy, v
    with nogil:
        for c in range(W):
            out[0, c] = 0
            out[H - 1, c] = 0
        for r in range(1, H - 1):
            out[r, 0] = 0
            out[r, W - 1] = 0
            for c in range(1, W - 1):
                ixx = img[r, c + 1] + img[r, c - 1] - 2 * img[r, c]
                iyy = img[r + 1, c] + img[r - 1, c] - 2 * img[r, c]
                ixy = 0.25 * (img[r + 1, c + 1] + img[r - 1, c - 1] - img[r + 1, c - 1] - img[r - 1, c + 1])
                v = ixy * ixy - ixx * iyy
                out[r, c] = v if v > 0 else 0


def local_maxima(const float[:, ::1] resp, float threshold, int radius, int border,
                 Py_ssize_t[:, ::1] out):
    """Pixels above threshold that are the maximum of their (2 radius + 1)^2 window.

    Ties are broken towards the first pixel in raster order. Writes (row, col)
    rows into ``out`` and returns how many were found (at most len(out)).
    """
    cdef Py_ssize_t H = resp.shape[0], W = resp.shape[1], r, c, i, j, n = 0, cap = out.shape[0]
    cdef float v, w
    cdef bint ok
    if border < radius:
        border = radius
    with nogil:
        for r in range(border, H - border):
            for c in range(border, W - border):
                v = resp[r, c]
                if v <= threshold:
                    continue
                # cheap 3x3 rejection first
                if (resp[r, c - 1] >= v or resp[r, c + 1] > v or resp[r - 1, c] >= v or resp[r + 1, c] > v
                        or resp[r - 1, c - 1] >= v or resp[r - 1, c + 1] >= v or resp[r + 1, c - 1] > v
                        or resp[r + 1, c + 1] > v):
                    continue
                ok = True
                for i in range(r - radius, r + radius + 1):
                    for j in range(c - radius, c + radius + 1):
                        w = resp[i, j]
                        if w > v or (w == v and (i < r or (i == r and j < c))):
                            ok = False
                            break
                    if not ok:
                        break
                if ok:
                    if n < cap:
                        out[n, 0] = r
                        out[n, 1] = c
                    n += 1
    return n


cdef inline double _bilinear(const float* img, Py_ssize_t H, Py_ssize_t W, double x, double y) noexcept nogil:
    """Bilinear sample of a C-contiguous H x W image, clamped to the border."""
    cdef Py_ssize_t x0, y0, x1, y1
    cdef double ax, ay
    if x < 0:
        x = 0
    if y < 0:
        y = 0
    if x > W - 1:
        x = W - 1
    if y > H - 1:
        y = H - 1
    x0 = <Py_ssize_t>x          # x, y >= 0 here: truncation is floor
    y0 = <Py_ssize_t>y
    x1 = x0 + 1 if x0 + 1 < W else x0
    y1 = y0 + 1 if y0 + 1 < H else y0
    ax = x - x0
    ay = y - y0
    return ((1 - ay) * ((1 - ax) * img[y0 * W + x0] + ax * img[y0 * W + x1])
            + ay * ((1 - ax) * img[y1 * W + x0] + ax * img[y1 * W + x1]))


def ring_test(const float[:, ::1] img, const double[:, ::1] pts, double radius, int nsamp,
              double[:, ::1] angles, double[::1] contrast, double[::1] symmetry):
    """Classify saddle candidates by the intensity profile on a circle around them.

    A chessboard corner shows exactly four sign changes of (profile - mean),
    with opposite quadrants of the same sign. For those, ``angles[k]`` gets the
    four crossing angles (ascending, radians in [-pi, pi)), ``contrast[k]`` the
    difference of the bright and dark halves' means and ``symmetry[k]`` the
    fraction of samples whose opposite sample has the same sign. Others get
    ``contrast[k] = -1``. ``nsamp`` must be at most 256.
    """
    cdef Py_ssize_t n = pts.shape[0], k, i, nc
    cdef double prof[256]
    cdef double mean, hi, lo, a, b, t, th, same
    cdef int nhi, nlo
    cdef double cross[8]
    cdef double ox[256]
    cdef double oy[256]
    if nsamp > 256:
        nsamp = 256
    for i in range(nsamp):
        th = -M_PI + 2.0 * M_PI * i / nsamp
        ox[i] = radius * cos(th)
        oy[i] = radius * sin(th)
    with nogil:
        for k in range(n):
            mean = 0.0
            for i in range(nsamp):
                prof[i] = _bilinear(&img[0, 0], img.shape[0], img.shape[1], pts[k, 0] + ox[i], pts[k, 1] + oy[i])
                mean = mean + prof[i]
            mean = mean / nsamp
            hi = 0.0; lo = 0.0; nhi = 0; nlo = 0
            for i in range(nsamp):
                prof[i] = prof[i] - mean
                if prof[i] > 0:
                    hi = hi + prof[i]; nhi += 1
                else:
                    lo = lo + prof[i]; nlo += 1
            nc = 0
            for i in range(nsamp):
                a = prof[i]
                b = prof[(i + 1) % nsamp]
                if (a > 0) != (b > 0):
                    if nc < 8:
                        t = a / (a - b) if a != b else 0.5
                        cross[nc] = -M_PI + 2.0 * M_PI * (i + t) / nsamp
                        if cross[nc] >= M_PI:
                            cross[nc] = cross[nc] - 2.0 * M_PI
                    nc += 1
            if nc != 4 or nhi == 0 or nlo == 0:
                contrast[k] = -1.0
                symmetry[k] = 0.0
                for i in range(4):
                    angles[k, i] = 0.0
                continue
            same = 0.0
            for i in range(nsamp):
                if (prof[i] > 0) == (prof[(i + nsamp // 2) % nsamp] > 0):
                    same = same + 1.0
            symmetry[k] = same / nsamp
            contrast[k] = hi / nhi - lo / nlo
            # sort the four crossings
            for i in range(4):
                angles[k, i] = cross[i]
            for i in range(1, 4):
                t = angles[k, i]
                nc = i - 1
                while nc >= 0 and angles[k, nc] > t:
                    angles[k, nc + 1] = angles[k, nc]
                    nc -= 1
                angles[k, nc + 1] = t


def corner_subpix(const float[:, ::1] img, double[:, ::1] pts, int half_win, int max_iter, double eps):
    """Sub-pixel corners by gradient orthogonality (the principle of cv2.cornerSubPix).

    For the true corner ``c`` every image gradient ``g`` at ``q`` near ``c``
    satisfies ``g . (q - c) = 0``; ``c`` solves the Gaussian-weighted least
    squares ``sum(g g') c = sum(g g' q)`` over a (2 half_win + 1)^2 window
    (weights ``exp(-(dx^2 + dy^2) / half_win^2)``), iterated with the window
    re-sampled bilinearly at the new estimate until it moves less than ``eps``.
    A point that wanders more than ``half_win`` from its start is reset.
    """
    cdef Py_ssize_t n = pts.shape[0], k, i, j
    cdef int it, w = half_win, side = 2 * half_win + 3
    cdef double cx, cy, x0, y0, a, b, c, bb1, bb2, gx, gy, m, det, nx, ny, px, py
    cdef double fx0, fy0, ax, ay, w00, w01, w10, w11
    cdef Py_ssize_t ix, iy
    cdef double buf[64 * 64]
    cdef double mask[64]
    if side > 64:
        w = 30
        side = 2 * w + 3
    for i in range(2 * w + 1):
        mask[i] = exp(-((i - w) * (i - w)) / <double>(w * w))
    with nogil:
        for k in range(n):
            x0 = pts[k, 0]
            y0 = pts[k, 1]
            cx = x0
            cy = y0
            for it in range(max_iter):
                # the window is sampled at cx, cy + integer offsets: one set of
                # bilinear weights serves every sample when it lies inside the image
                fx0 = floor(cx) - w - 1
                fy0 = floor(cy) - w - 1
                if fx0 >= 0 and fy0 >= 0 and fx0 + side < img.shape[1] and fy0 + side < img.shape[0]:
                    ix = <Py_ssize_t>fx0
                    iy = <Py_ssize_t>fy0
                    ax = cx - floor(cx)
                    ay = cy - floor(cy)
                    w00 = (1 - ax) * (1 - ay)
                    w01 = ax * (1 - ay)
                    w10 = (1 - ax) * ay
                    w11 = ax * ay
                    for i in range(side):
                        for j in range(side):
                            buf[i * side + j] = (w00 * img[iy + i, ix + j] + w01 * img[iy + i, ix + j + 1]
                                                 + w10 * img[iy + i + 1, ix + j] + w11 * img[iy + i + 1, ix + j + 1])
                else:
                    for i in range(side):
                        for j in range(side):
                            buf[i * side + j] = _bilinear(&img[0, 0], img.shape[0], img.shape[1],
                                                          cx + j - w - 1, cy + i - w - 1)
                a = 0.0; b = 0.0; c = 0.0; bb1 = 0.0; bb2 = 0.0
                for i in range(2 * w + 1):
                    py = i - w
                    for j in range(2 * w + 1):
                        px = j - w
                        m = mask[i] * mask[j]
                        gx = buf[(i + 1) * side + j + 2] - buf[(i + 1) * side + j]
                        gy = buf[(i + 2) * side + j + 1] - buf[i * side + j + 1]
                        a = a + gx * gx * m
                        b = b + gx * gy * m
                        c = c + gy * gy * m
                        bb1 = bb1 + (gx * gx * px + gx * gy * py) * m
                        bb2 = bb2 + (gx * gy * px + gy * gy * py) * m
                det = a * c - b * b
                if fabs(det) <= 1e-12 * (a * c + 1e-300):
                    break
                nx = cx + (c * bb1 - b * bb2) / det
                ny = cy + (a * bb2 - b * bb1) / det
                m = (nx - cx) * (nx - cx) + (ny - cy) * (ny - cy)
                cx = nx
                cy = ny
                if m <= eps * eps:
                    break
            if fabs(cx - x0) > w or fabs(cy - y0) > w:
                cx = x0
                cy = y0
            pts[k, 0] = cx
            pts[k, 1] = cy


def undistort_grid(const double[::1] q, int ss, double[:, ::1] xn, double[:, ::1] yn):
    """Normalised undistorted coordinates of every sub-pixel sample of an image.

    ``xn``/``yn`` have shape (H * ss, W * ss); sample (r * ss + a, c * ss + b)
    belongs to pixel (r, c) at offset ``((b ss + a + 0.5) / ss^2 - 0.5,
    (a ss + b + 0.5) / ss^2 - 0.5)``. ``q`` = (fx, fy, cx, cy,
    skew, k1, k2, p1, p2, k3). The distortion is inverted by Newton's method,
    warm-started from the previous sample of the row.
    """
    cdef Py_ssize_t HH = xn.shape[0], WW = xn.shape[1], r, c
    cdef double fx = q[0], fy = q[1], cx = q[2], cy = q[3], sk = q[4]
    cdef double u, v, xd, yd, x, y, pxd = 0, pyd = 0
    with nogil:
        for r in range(HH):
            for c in range(WW):
                # n-rooks pattern: the ss * ss samples of a pixel all have distinct x
                # and distinct y offsets, so edges of any direction are anti-aliased
                # without a staircase bias
                u = (c // ss) + ((c % ss) * ss + (r % ss) + 0.5) / (ss * ss) - 0.5
                v = (r // ss) + ((r % ss) * ss + (c % ss) + 0.5) / (ss * ss) - 0.5
                yd = (v - cy) / fy
                xd = (u - cx - sk * yd) / fx
                if c == 0:
                    x = xd
                    y = yd
                else:
                    x = x + (xd - pxd)
                    y = y + (yd - pyd)
                pxd = xd
                pyd = yd
                undistort(xd, yd, &q[5], &x, &y, 30)
                xn[r, c] = x
                yn[r, c] = y


def render_board(const double[:, ::1] xn, const double[:, ::1] yn, const double[:, ::1] Hinv, int cols,
                 int rows, double square, double margin, double background, int ss, float[:, ::1] out):
    """Render a chessboard from precomputed sample rays (see ``undistort_grid``).

    ``Hinv`` maps normalised undistorted image coordinates (x, y, 1) to board
    coordinates (X, Y, W) (the inverse of [r1 r2 t]). Squares (i, j) for i in
    [-1, cols - 1], j in [-1, rows - 1] (board units ``square``) are dark when
    i + j is even, so the first inner square is dark; a white margin of
    ``margin`` squares surrounds them; outside is ``background``. Each output
    pixel averages its ss x ss samples; intensities in [0, 1].
    """
    cdef Py_ssize_t H = out.shape[0], W = out.shape[1], r, c
    cdef int a, b, i, j
    cdef double x, y, X, Y, Wh, acc, val
    cdef double lo_x = -(1.0 + margin) * square, hi_x = (cols + margin) * square
    cdef double lo_y = -(1.0 + margin) * square, hi_y = (rows + margin) * square
    cdef double inv_s = 1.0 / square
    with nogil:
        for r in range(H):
            for c in range(W):
                acc = 0.0
                for a in range(ss):
                    for b in range(ss):
                        x = xn[r * ss + a, c * ss + b]
                        y = yn[r * ss + a, c * ss + b]
                        Wh = Hinv[2, 0] * x + Hinv[2, 1] * y + Hinv[2, 2]
                        if Wh <= 0:
                            val = background
                        else:
                            X = (Hinv[0, 0] * x + Hinv[0, 1] * y + Hinv[0, 2]) / Wh
                            Y = (Hinv[1, 0] * x + Hinv[1, 1] * y + Hinv[1, 2]) / Wh
                            if X < lo_x or X >= hi_x or Y < lo_y or Y >= hi_y:
                                val = background
                            else:
                                i = <int>floor(X * inv_s)
                                j = <int>floor(Y * inv_s)
                                if i < -1 or i > cols - 1 or j < -1 or j > rows - 1:
                                    val = 1.0
                                elif (i + j) % 2 == 0:
                                    val = 0.0
                                else:
                                    val = 1.0
                        acc = acc + val
                out[r, c] = <float>(acc / (ss * ss))


def extend_grid(const double[:, ::1] pts, const Py_ssize_t[:, ::1] G, const unsigned char[::1] used,
                Py_ssize_t[::1] row):
    """Predict the row after the last row of grid ``G`` and match it to candidates.

    Each column is extrapolated from its last two (damped second order from
    three) points; the nearest unused candidate within 0.4 x the last spacing
    is taken. Fails (returns False) when a column finds none, two columns take
    the same candidate, or the spacing along the new row differs from the last
    row's by more than 0.4-2.5x. On success ``row`` holds the candidates.
    """
    cdef Py_ssize_t nr = G.shape[0], nc = G.shape[1], n = pts.shape[0], k, j, best, q
    cdef double ax, ay, bx, by, sx, sy, px, py, rad2, d2, bd, s_new, s_old, dx, dy
    cdef bint ok = True
    with nogil:
        for k in range(nc):
            ax = pts[G[nr - 1, k], 0]; ay = pts[G[nr - 1, k], 1]
            bx = pts[G[nr - 2, k], 0]; by = pts[G[nr - 2, k], 1]
            sx = ax - bx
            sy = ay - by
            rad2 = 0.16 * (sx * sx + sy * sy)
            if nr >= 3:
                sx = sx + 0.5 * (sx - (bx - pts[G[nr - 3, k], 0]))
                sy = sy + 0.5 * (sy - (by - pts[G[nr - 3, k], 1]))
            px = ax + sx
            py = ay + sy
            best = -1
            bd = rad2
            for j in range(n):
                if used[j]:
                    continue
                dx = pts[j, 0] - px
                dy = pts[j, 1] - py
                d2 = dx * dx + dy * dy
                if d2 <= bd:
                    bd = d2
                    best = j
            if best < 0:
                ok = False
                break
            for q in range(k):
                if row[q] == best:
                    ok = False
                    break
            if not ok:
                break
            row[k] = best
        if ok:
            for k in range(nc - 1):
                dx = pts[row[k + 1], 0] - pts[row[k], 0]
                dy = pts[row[k + 1], 1] - pts[row[k], 1]
                s_new = sqrt(dx * dx + dy * dy)
                dx = pts[G[nr - 1, k + 1], 0] - pts[G[nr - 1, k], 0]
                dy = pts[G[nr - 1, k + 1], 1] - pts[G[nr - 1, k], 1]
                s_old = sqrt(dx * dx + dy * dy)
                if s_new < 0.4 * s_old or s_new > 2.5 * s_old:
                    ok = False
                    break
    return ok


def find_neighbour(const double[:, ::1] pts, const double[:, :, ::1] dirs, Py_ssize_t i, double ux,
                   double uy, double cos_tol):
    """Best candidate j from candidate i within the cone (ux, uy) +/- acos(cos_tol)
    one of whose own four edge directions points back at i; -1 if none.

    "Best" is the smallest ``distance / cos(angle off the direction)^8``: on a
    steeply sheared board a diagonal neighbour can be nearer than the true
    one but lies well off the edge direction.
    """
    cdef Py_ssize_t n = pts.shape[0], j, k, best = -1
    cdef double dx, dy, dist, bd = 1e300, c, fwd, score
    cdef bint back
    with nogil:
        for j in range(n):
            if j == i:
                continue
            dx = pts[j, 0] - pts[i, 0]
            dy = pts[j, 1] - pts[i, 1]
            dist = sqrt(dx * dx + dy * dy)
            if dist <= 2.0 or dist >= bd:
                continue
            fwd = (dx * ux + dy * uy) / dist
            if fwd <= cos_tol:
                continue
            fwd = fwd * fwd
            fwd = fwd * fwd
            score = dist / (fwd * fwd)
            if score >= bd:
                continue
            back = False
            for k in range(4):
                c = -(dirs[j, k, 0] * dx + dirs[j, k, 1] * dy) / dist
                if c > cos_tol:
                    back = True
                    break
            if back:
                bd = score
                best = j
    return best
