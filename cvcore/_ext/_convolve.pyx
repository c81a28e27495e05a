# Linear filtering kernels: separable and general 2-D correlation.
#
# Layout: an image arrives as a C-contiguous (H, W * C) float32/float64 array
# (C channels interleaved, filtered independently). Borders are handled by
# index maps built in Python (cvcore.filters._index_map): ``ymap[p]`` is the
# source row of padded row ``p`` (``p = y + j`` for output row ``y`` and tap
# ``j``), ``xmap[p]`` the source column of padded column ``p``; -1 means
# "outside, use cval". The kernels never check anything.
#
# Speed: every inner loop runs over a contiguous run of floats with a fixed
# stride between taps so that gcc -O3 vectorises it. The separable filter does
# one fused pass per output row: the vertical (axis 0) taps are accumulated
# over whole input rows into the interior of a padded line buffer, the border
# of the buffer is filled from the map, and the horizontal (axis 1) taps run
# over the buffer into the output row. No full-size temporary is written.
# Symmetric and antisymmetric kernels use half the multiplications.
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from cvcore._ext._types cimport real_t


cdef inline void _fill_border(real_t* line, const Py_ssize_t* xmap, Py_ssize_t left,
                              Py_ssize_t width, Py_ssize_t npad, Py_ssize_t nch,
                              real_t cval) noexcept nogil:
    """Fill the padded positions of ``line`` (interior already at ``left``)."""
    cdef Py_ssize_t p = 0, c, s
    while p < npad:
        if p == left:
            p = left + width
            continue
        s = xmap[p]
        if s < 0:
            for c in range(nch):
                line[p * nch + c] = cval
        else:
            for c in range(nch):
                line[p * nch + c] = line[(left + s) * nch + c]
        p += 1


cdef inline void _taps(const real_t* line, real_t* out, Py_ssize_t n, Py_ssize_t step,
                       const real_t* k, Py_ssize_t klen, int sym) noexcept nogil:
    """out[i] = sum_j k[j] * line[i + j * step] for i in [0, n)."""
    cdef Py_ssize_t i, j, r = klen // 2
    cdef real_t kj
    cdef const real_t* a
    cdef const real_t* b
    if klen == 1:
        kj = k[0]
        for i in range(n):
            out[i] = kj * line[i]
        return
    if sym == 1:
        kj = k[r]
        a = line + r * step
        for i in range(n):
            out[i] = kj * a[i]
        for j in range(r):
            kj = k[j]
            a = line + j * step
            b = line + (klen - 1 - j) * step
            for i in range(n):
                out[i] += kj * (a[i] + b[i])
        return
    if sym == -1:
        # antisymmetric: k[j] == -k[klen-1-j], centre tap is 0
        kj = k[0]
        a = line
        b = line + (klen - 1) * step
        for i in range(n):
            out[i] = kj * (a[i] - b[i])
        for j in range(1, r):
            kj = k[j]
            a = line + j * step
            b = line + (klen - 1 - j) * step
            for i in range(n):
                out[i] += kj * (a[i] - b[i])
        return
    if klen == 2:
        kj = k[0]
        a = line + step
        for i in range(n):
            out[i] = kj * line[i] + k[1] * a[i]
        return
    kj = k[0]
    for i in range(n):
        out[i] = kj * line[i]
    for j in range(1, klen):
        kj = k[j]
        a = line + j * step
        for i in range(n):
            out[i] += kj * a[i]


cdef void _columns(const real_t** rows, real_t* out, Py_ssize_t n,
                   const real_t* k, Py_ssize_t klen, int sym) noexcept nogil:
    """out[i] = sum_j k[j] * rows[j][i] (vertical taps over whole rows)."""
    cdef Py_ssize_t i, j, r = klen // 2
    cdef real_t kj
    cdef const real_t* a
    cdef const real_t* b
    if klen == 1:
        kj = k[0]
        a = rows[0]
        if kj == 1:
            memcpy(out, a, n * sizeof(real_t))
        else:
            for i in range(n):
                out[i] = kj * a[i]
        return
    if sym == 1:
        kj = k[r]
        a = rows[r]
        for i in range(n):
            out[i] = kj * a[i]
        for j in range(r):
            kj = k[j]
            a = rows[j]
            b = rows[klen - 1 - j]
            for i in range(n):
                out[i] += kj * (a[i] + b[i])
        return
    if sym == -1:
        kj = k[0]
        a = rows[0]
        b = rows[klen - 1]
        for i in range(n):
            out[i] = kj * (a[i] - b[i])
        for j in range(1, r):
            kj = k[j]
            a = rows[j]
            b = rows[klen - 1 - j]
            for i in range(n):
                out[i] += kj * (a[i] - b[i])
        return
    kj = k[0]
    a = rows[0]
    for i in range(n):
        out[i] = kj * a[i]
    for j in range(1, klen):
        kj = k[j]
        a = rows[j]
        for i in range(n):
            out[i] += kj * a[i]


def sepfilter(const real_t[:, ::1] img, real_t[:, ::1] out, Py_ssize_t nch,
              const real_t[::1] ky, const Py_ssize_t[::1] ymap, int ysym,
              const real_t[::1] kx, const Py_ssize_t[::1] xmap, Py_ssize_t xleft, int xsym,
              double cval, double line_cval):
    """Separable correlation: ``ky`` along axis 0 first, then ``kx`` along axis 1.

    ``img`` and ``out`` are (H, W * nch); ``ymap`` has H + len(ky) - 1 entries,
    ``xmap`` W + len(kx) - 1; ``xleft`` is the horizontal anchor (left padding).
    Rows outside the image are ``cval``; columns outside the image in the
    line buffer (after the vertical pass) are ``line_cval``.
    """
    cdef Py_ssize_t h = img.shape[0], n = img.shape[1]
    cdef Py_ssize_t width = n // nch
    cdef Py_ssize_t kh = ky.shape[0], kw = kx.shape[0]
    cdef Py_ssize_t npad = width + kw - 1
    cdef Py_ssize_t y, j, i, s
    cdef real_t cv = <real_t>cval
    cdef real_t lcv = <real_t>line_cval
    cdef real_t* line = <real_t*>malloc(npad * nch * sizeof(real_t) + 64)
    cdef real_t* crow = <real_t*>malloc(n * sizeof(real_t) + 64)
    cdef const real_t** rows = <const real_t**>malloc(kh * sizeof(real_t*) + 64)
    if line == NULL or crow == NULL or rows == NULL:
        free(line); free(crow); free(rows)
        raise MemoryError("cannot allocate filter line buffers")
    with nogil:
        for i in range(n):
            crow[i] = cv
        for y in range(h):
            for j in range(kh):
                s = ymap[y + j]
                rows[j] = &img[s, 0] if s >= 0 else crow
            _columns(rows, line + xleft * nch, n, &ky[0], kh, ysym)
            if kw > 1:
                _fill_border(line, &xmap[0], xleft, width, npad, nch, lcv)
            _taps(line, &out[y, 0], n, nch, &kx[0], kw, xsym)
    free(line)
    free(crow)
    free(rows)


def correlate2d(const real_t[:, ::1] img, real_t[:, ::1] out, Py_ssize_t nch,
                const real_t[:, ::1] k, const Py_ssize_t[::1] ymap,
                const Py_ssize_t[::1] xmap, Py_ssize_t xleft, double cval):
    """General 2-D correlation ``out[y, x] = sum k[a, b] * pad[y + a, x + b]``.

    Padded rows are kept in a ring of ``kh`` line buffers so that each padded
    row is built once; zero taps are skipped.
    """
    cdef Py_ssize_t h = img.shape[0], n = img.shape[1]
    cdef Py_ssize_t width = n // nch
    cdef Py_ssize_t kh = k.shape[0], kw = k.shape[1]
    cdef Py_ssize_t npad = width + kw - 1
    cdef Py_ssize_t stride = npad * nch
    cdef Py_ssize_t y, a, b, i, s, p
    cdef real_t cv = <real_t>cval
    cdef real_t kv
    cdef real_t* line
    cdef real_t* o
    cdef const real_t* src
    cdef real_t* ring = <real_t*>malloc(kh * stride * sizeof(real_t) + 64)
    if ring == NULL:
        raise MemoryError("cannot allocate filter line buffers")
    with nogil:
        for y in range(h):
            for a in range(kh):
                p = y + a
                if y > 0 and a < kh - 1:
                    continue
                line = ring + (p % kh) * stride
                s = ymap[p]
                if s < 0:
                    for i in range(stride):
                        line[i] = cv
                else:
                    memcpy(line + xleft * nch, &img[s, 0], n * sizeof(real_t))
                    _fill_border(line, &xmap[0], xleft, width, npad, nch, cv)
            o = &out[y, 0]
            for i in range(n):
                o[i] = 0
            for a in range(kh):
                line = ring + ((y + a) % kh) * stride
                for b in range(kw):
                    kv = k[a, b]
                    if kv == 0:
                        continue
                    src = line + b * nch
                    for i in range(n):
                        o[i] += kv * src[i]
    free(ring)
