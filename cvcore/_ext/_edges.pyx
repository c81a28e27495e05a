# Edge and corner kernels: Canny non-maximum suppression + hysteresis,
# structure-tensor products and corner responses, maximum filter and greedy
# peak spacing for corner_peaks.
#
# All arrays arrive C-contiguous with the right dtype and shape (checked in
# cvcore.edges); nothing here validates.
from libc.math cimport sqrt
from libc.stdlib cimport malloc, free
from libc.string cimport memset

from cvcore._ext._types cimport real_t

ctypedef unsigned char u8


# ---------------------------------------------------------------- Canny

# OpenCV's fixed-point tan(22.5 deg) = round(0.41421356 * 2**15) / 2**15, so
# that integer gradients fall into the same direction sectors as cv2.Canny.
cdef double TG22 = 13573.0 / 32768.0


cdef inline void _mag_row(const real_t* gx, const real_t* gy, real_t* mag, Py_ssize_t w,
                          bint l2) noexcept nogil:
    cdef Py_ssize_t i
    cdef real_t a, b
    if l2:
        for i in range(w):
            mag[i] = gx[i] * gx[i] + gy[i] * gy[i]
    else:
        for i in range(w):
            a = gx[i]
            b = gy[i]
            mag[i] = (a if a >= 0 else -a) + (b if b >= 0 else -b)


def canny(const real_t[:, ::1] gx, const real_t[:, ::1] gy, const u8[:, ::1] mask,
          bint use_mask, bint l2, double low, double high, u8[:, ::1] edges,
          Py_ssize_t[::1] stack):
    """Non-maximum suppression (OpenCV's sector rule) and 8-connected hysteresis.

    With ``l2`` the magnitude is ``gx**2 + gy**2`` and ``low``/``high`` must
    already be squared. ``edges`` (H, W) receives 1 for edge pixels, 0
    elsewhere; ``stack`` needs H * W entries.
    """
    cdef Py_ssize_t h = gx.shape[0], w = gx.shape[1]
    cdef Py_ssize_t y, x, s, top = 0, p, yy, xx, q
    cdef Py_ssize_t stride = w + 2
    cdef real_t m, ax, ay, tg, lo = <real_t>low, hi = <real_t>high
    cdef real_t* ring = <real_t*>malloc(3 * stride * sizeof(real_t) + 64)
    cdef real_t* prev
    cdef real_t* cur
    cdef real_t* nxt
    cdef real_t* tmp
    cdef u8* state = <u8*>malloc(h * w + 64)   # 0 none, 1 weak, 2 strong
    cdef const real_t* rx
    cdef const real_t* ry
    cdef real_t tg22 = <real_t>TG22
    if ring == NULL or state == NULL:
        free(ring); free(state)
        raise MemoryError("cannot allocate Canny buffers")
    with nogil:
        memset(ring, 0, 3 * stride * sizeof(real_t))
        prev = ring + 1
        cur = ring + stride + 1
        nxt = ring + 2 * stride + 1
        _mag_row(&gx[0, 0], &gy[0, 0], cur, w, l2)
        for y in range(h):
            if y + 1 < h:
                _mag_row(&gx[y + 1, 0], &gy[y + 1, 0], nxt, w, l2)
            else:
                for x in range(w):
                    nxt[x] = 0
            rx = &gx[y, 0]
            ry = &gy[y, 0]
            for x in range(w):
                m = cur[x]
                state[y * w + x] = 0
                if not m > lo:
                    continue
                if use_mask and not mask[y, x]:
                    continue
                ax = rx[x] if rx[x] >= 0 else -rx[x]
                ay = ry[x] if ry[x] >= 0 else -ry[x]
                tg = ax * tg22
                if ay < tg:
                    if not (m > cur[x - 1] and m >= cur[x + 1]):
                        continue
                elif ay > tg + 2 * ax:
                    if not (m > prev[x] and m >= nxt[x]):
                        continue
                else:
                    s = -1 if (rx[x] < 0) != (ry[x] < 0) else 1
                    if not (m > prev[x - s] and m > nxt[x + s]):
                        continue
                if m > hi:
                    state[y * w + x] = 2
                    stack[top] = y * w + x
                    top += 1
                else:
                    state[y * w + x] = 1
            tmp = prev
            prev = cur
            cur = nxt
            nxt = tmp
        # hysteresis: grow strong edges through 8-connected weak pixels
        while top > 0:
            top -= 1
            p = stack[top]
            y = p // w
            x = p - y * w
            for yy in range(y - 1 if y > 0 else 0, y + 2 if y + 1 < h else h):
                for xx in range(x - 1 if x > 0 else 0, x + 2 if x + 1 < w else w):
                    q = yy * w + xx
                    if state[q] == 1:
                        state[q] = 2
                        stack[top] = q
                        top += 1
        for y in range(h):
            for x in range(w):
                edges[y, x] = state[y * w + x] == 2
    free(ring)
    free(state)


# ---------------------------------------------------------------- corners


def tensor_products(const real_t[:, ::1] gx, const real_t[:, ::1] gy, real_t[:, ::1] out,
                    double scale):
    """out[y, 3x:3x+3] = scale * (gx*gx, gx*gy, gy*gy): the structure tensor
    entries interleaved as three channels, ready for one 3-channel smoothing pass."""
    cdef Py_ssize_t h = gx.shape[0], w = gx.shape[1], y, x
    cdef real_t a, b, sc = <real_t>scale
    cdef real_t* o
    with nogil:
        for y in range(h):
            o = &out[y, 0]
            for x in range(w):
                a = gx[y, x]
                b = gy[y, x]
                o[3 * x] = sc * a * a
                o[3 * x + 1] = sc * a * b
                o[3 * x + 2] = sc * b * b


def harris_response(const real_t[:, ::1] tensor, real_t[:, ::1] out, double k):
    """det(M) - k * trace(M)**2 from interleaved (xx, xy, yy) channels."""
    cdef Py_ssize_t h = out.shape[0], w = out.shape[1], y, x
    cdef real_t a, b, c, t, kk = <real_t>k
    cdef const real_t* m
    with nogil:
        for y in range(h):
            m = &tensor[y, 0]
            for x in range(w):
                a = m[3 * x]
                b = m[3 * x + 1]
                c = m[3 * x + 2]
                t = a + c
                out[y, x] = a * c - b * b - kk * t * t


def min_eigenvalue(const real_t[:, ::1] tensor, real_t[:, ::1] out):
    """Smaller eigenvalue of [[xx, xy], [xy, yy]] (Shi-Tomasi response)."""
    cdef Py_ssize_t h = out.shape[0], w = out.shape[1], y, x
    cdef real_t a, b, c, d
    cdef const real_t* m
    with nogil:
        for y in range(h):
            m = &tensor[y, 0]
            for x in range(w):
                a = m[3 * x]
                b = m[3 * x + 1]
                c = m[3 * x + 2]
                d = (a - c) * (a - c) + 4 * b * b
                out[y, x] = <real_t>0.5 * ((a + c) - sqrt(d))


# ---------------------------------------------------------------- peaks


def peak_mask(const double[:, ::1] img, Py_ssize_t radius, double threshold,
              Py_ssize_t border, u8[:, ::1] out):
    """out = (img == max over the (2r+1)^2 window, replicate border) & (img > threshold),
    with a ``border``-pixel frame cleared. Separable running max."""
    cdef Py_ssize_t h = img.shape[0], w = img.shape[1], y, x, j, lo, hi
    cdef double v
    cdef double* rowmax = <double*>malloc(h * w * sizeof(double) + 64)
    cdef double* colmax = <double*>malloc(w * sizeof(double) + 64)
    if rowmax == NULL or colmax == NULL:
        free(rowmax); free(colmax)
        raise MemoryError("cannot allocate peak buffers")
    with nogil:
        for y in range(h):
            for x in range(w):
                lo = x - radius if x >= radius else 0
                hi = x + radius if x + radius < w else w - 1
                v = img[y, lo]
                for j in range(lo + 1, hi + 1):
                    if img[y, j] > v:
                        v = img[y, j]
                rowmax[y * w + x] = v
        for y in range(h):
            lo = y - radius if y >= radius else 0
            hi = y + radius if y + radius < h else h - 1
            for x in range(w):
                colmax[x] = rowmax[lo * w + x]
            for j in range(lo + 1, hi + 1):
                for x in range(w):
                    if rowmax[j * w + x] > colmax[x]:
                        colmax[x] = rowmax[j * w + x]
            for x in range(w):
                v = img[y, x]
                out[y, x] = (v == colmax[x] and v > threshold and y >= border and y < h - border
                             and x >= border and x < w - border)
    free(rowmax)
    free(colmax)


def spaced_peaks(const Py_ssize_t[::1] order, Py_ssize_t h, Py_ssize_t w, Py_ssize_t dist,
                 Py_ssize_t max_out, Py_ssize_t[::1] keep):
    """Greedy spacing: walk candidates (flat indices, best first) and keep one
    unless a kept peak lies within Chebyshev distance ``dist``. Returns the count."""
    cdef Py_ssize_t n = order.shape[0], i, p, y, x, yy, xx, count = 0
    cdef u8* blocked = <u8*>malloc(h * w + 64)
    if blocked == NULL:
        raise MemoryError("cannot allocate peak buffers")
    with nogil:
        memset(blocked, 0, h * w)
        for i in range(n):
            if count >= max_out:
                break
            p = order[i]
            if blocked[p]:
                continue
            keep[count] = p
            count += 1
            y = p // w
            x = p - y * w
            for yy in range(y - dist if y >= dist else 0, y + dist + 1 if y + dist < h else h):
                for xx in range(x - dist if x >= dist else 0, x + dist + 1 if x + dist < w else w):
                    blocked[yy * w + xx] = 1
    free(blocked)
    return count
