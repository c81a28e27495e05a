# Per-pixel features for cvcore.segmentation.pixel_features.
#
# The Python layer smooths the image once per scale (and, for the difference of
# Gaussians, at the wider scale); for the structure tensor, `products` writes the
# gradient products of every scale's smoothing, the Python layer smooths them and
# `tensor_eigenvalues` turns each smoothed tensor into its two eigenvalues. Then
# one pass over the rows (`fill`) writes every feature of every scale of a pixel
# straight into its row of the (H, W, F) feature array: intensity, difference of
# Gaussians, and, from central finite differences of G (borders: nearest), the
# gradient magnitude, the Laplacian and the Hessian eigenvalues, plus the
# structure-tensor eigenvalues. A pixel's F values are written together, so the
# large feature array is streamed once instead of being revisited scale by scale.
# Rows are split among OpenMP threads (cvcore._ext._parallel); every pixel is
# computed from its inputs alone, so results do not depend on the thread count.
from libc.math cimport sqrt
from cython.parallel cimport prange

from cvcore._ext._parallel cimport chunks, chunk_start

ctypedef Py_ssize_t intp

#: columns of the table `fill` takes, per scale: first column of each kind (< 0: not wanted)
COL_INTENSITY, COL_DOG, COL_GRADIENT, COL_LOG, COL_HESSIAN, COL_STRUCTURE = range(6)


cdef inline void _eig2(double a, double b, double c, double* hi, double* lo) noexcept nogil:
    """Eigenvalues (descending) of the symmetric matrix [[a, b], [b, c]]."""
    cdef double m = 0.5 * (a + c)
    cdef double h = 0.5 * (a - c)
    cdef double r = sqrt(h * h + b * b)
    hi[0] = m + r
    lo[0] = m - r


cdef void _fill_rows(const float[:, :, ::1] g, const float[:, :, ::1] wider, const float[:, :, ::1] eig,
                     const intp[:, ::1] cols, const double[::1] s1, const double[::1] s2, intp nch,
                     float[:, :, ::1] out, intp out_row0, intp row_start, intp row_stop) noexcept nogil:
    cdef intp S = g.shape[0], H = g.shape[1], W = g.shape[2] // nch
    cdef intp y, x, c, i, y0, y1, x0, x1, k0, k1, kx0, kx1, ci, cd, cg, cl, ch, cs
    cdef double gx, gy, gxx, gyy, gxy, v, l1, l2, a1, a2
    cdef float* o
    cdef const float* gr
    cdef const float* gu
    cdef const float* gd
    for y in range(row_start, row_stop):
        y0 = y - 1 if y > 0 else 0
        y1 = y + 1 if y + 1 < H else H - 1
        for x in range(W):
            x0 = x - 1 if x > 0 else 0
            x1 = x + 1 if x + 1 < W else W - 1
            o = &out[y - out_row0, x, 0]
            for i in range(S):
                ci = cols[i, 0]
                cd = cols[i, 1]
                cg = cols[i, 2]
                cl = cols[i, 3]
                ch = cols[i, 4]
                cs = cols[i, 5]
                a1 = s1[i]
                a2 = s2[i]
                gr = &g[i, y, 0]
                gu = &g[i, y0, 0]
                gd = &g[i, y1, 0]
                for c in range(nch):
                    k0 = x * nch + c
                    kx0 = x0 * nch + c
                    kx1 = x1 * nch + c
                    v = gr[k0]
                    if ci >= 0:
                        o[ci + c] = gr[k0]
                    if cd >= 0:
                        o[cd + c] = gr[k0] - wider[i, y, k0]
                    if cg >= 0:
                        gx = 0.5 * (gr[kx1] - gr[kx0])
                        gy = 0.5 * (gd[k0] - gu[k0])
                        o[cg + c] = <float>(a1 * sqrt(gx * gx + gy * gy))
                    if cl >= 0 or ch >= 0:
                        gxx = gr[kx1] - 2.0 * v + gr[kx0]
                        gyy = gd[k0] - 2.0 * v + gu[k0]
                        if cl >= 0:
                            o[cl + c] = <float>(a2 * (gxx + gyy))
                        if ch >= 0:
                            gxy = 0.25 * (gd[kx1] - gd[kx0] - gu[kx1] + gu[kx0])
                            _eig2(gxx, gxy, gyy, &l1, &l2)
                            o[ch + c] = <float>(a2 * l1)
                            o[ch + nch + c] = <float>(a2 * l2)
                    if cs >= 0:
                        o[cs + c] = eig[i, y, x * 2 * nch + c]
                        o[cs + nch + c] = eig[i, y, x * 2 * nch + nch + c]


def fill(const float[:, :, ::1] g, const float[:, :, ::1] wider, const float[:, :, ::1] eig, const intp[:, ::1] cols,
         const double[::1] grad_scale, const double[::1] second_scale, intp nch, float[:, :, ::1] out,
         intp out_row0, intp row_start, intp row_stop, int n_threads=1):
    """Every feature of rows ``row_start .. row_stop - 1`` into ``out[y - out_row0]``,
    on ``n_threads`` OpenMP threads; the Python layer calls it on row blocks.

    ``g[i]`` (S, H, W*nch) is the image smoothed at scale ``i`` (channels
    interleaved), ``wider[i]`` the wider smoothing of the difference of Gaussians
    (any shape when no scale asks for it), ``eig[i]`` (S, H, W*2*nch) the
    structure-tensor eigenvalues of scale ``i`` (larger at ``c``, smaller at
    ``nch + c``; any shape when unused). ``cols[i, k]`` is the first column of kind
    ``k`` (COL_INTENSITY ... COL_STRUCTURE) of scale ``i``, < 0 when not wanted;
    for each channel ``c``:
      intensity + c    G
      dog + c          G - wider (float32 subtraction)
      gradient + c     grad_scale[i] * |grad G|
      log + c          second_scale[i] * (Gxx + Gyy)
      hessian + c      second_scale[i] * larger Hessian eigenvalue (smaller at hessian + nch + c)
      structure + c    larger structure-tensor eigenvalue (smaller at structure + nch + c)
    """
    cdef intp rows = row_stop - row_start, nc, t
    nc = chunks(rows, n_threads)
    with nogil:
        for t in prange(nc, num_threads=nc if nc > 0 else 1, schedule='static'):
            _fill_rows(g, wider, eig, cols, grad_scale, second_scale, nch, out, out_row0,
                       row_start + chunk_start(rows, nc, t), row_start + chunk_start(rows, nc, t + 1))


cdef void _product_rows(const float[:, ::1] g, intp nch, double s1, float[:, ::1] prod,
                        intp row_start, intp row_stop) noexcept nogil:
    cdef intp H = g.shape[0], W = g.shape[1] // nch
    cdef intp y, x, c, y0, y1, x0, x1
    cdef double gx, gy, q = s1 * s1
    for y in range(row_start, row_stop):
        y0 = y - 1 if y > 0 else 0
        y1 = y + 1 if y + 1 < H else H - 1
        for x in range(W):
            x0 = x - 1 if x > 0 else 0
            x1 = x + 1 if x + 1 < W else W - 1
            for c in range(nch):
                gx = 0.5 * (g[y, x1 * nch + c] - g[y, x0 * nch + c])
                gy = 0.5 * (g[y1, x * nch + c] - g[y0, x * nch + c])
                prod[y, (x * nch + c) * 3] = <float>(q * gx * gx)
                prod[y, (x * nch + c) * 3 + 1] = <float>(q * gx * gy)
                prod[y, (x * nch + c) * 3 + 2] = <float>(q * gy * gy)


def products(const float[:, ::1] g, intp nch, double grad_scale, float[:, ::1] prod, intp row_start, intp row_stop,
             int n_threads=1):
    """Structure-tensor products ``grad_scale^2 * (Gx^2, Gx Gy, Gy^2)`` of channel
    ``c`` of ``g`` (H, W*nch) at ``prod[y, 3 * (x * nch + c) + 0, 1, 2]`` (prod:
    (H, W*3*nch)), rows ``row_start .. row_stop - 1``, on ``n_threads`` threads."""
    cdef intp rows = row_stop - row_start, nc, t
    nc = chunks(rows, n_threads)
    with nogil:
        for t in prange(nc, num_threads=nc if nc > 0 else 1, schedule='static'):
            _product_rows(g, nch, grad_scale, prod, row_start + chunk_start(rows, nc, t),
                          row_start + chunk_start(rows, nc, t + 1))


cdef void _eigen_rows(const float[:, ::1] t, intp nch, float[:, :, ::1] out, intp col,
                      intp row_start, intp row_stop) noexcept nogil:
    cdef intp W = t.shape[1] // (3 * nch)
    cdef intp y, x, c, k
    cdef double l1, l2
    for y in range(row_start, row_stop):
        for x in range(W):
            for c in range(nch):
                k = (x * nch + c) * 3
                _eig2(t[y, k], t[y, k + 1], t[y, k + 2], &l1, &l2)
                out[y, x, col + c] = <float>l1
                out[y, x, col + nch + c] = <float>l2


def tensor_eigenvalues(const float[:, ::1] t, intp nch, float[:, :, ::1] out, intp col,
                       intp row_start, intp row_stop, int n_threads=1):
    """Eigenvalues of smoothed structure tensors ``t`` (H, W*3*nch), rows
    ``row_start .. row_stop - 1``, into ``out[..., col + c]`` (larger) and
    ``out[..., col + nch + c]`` (smaller), on ``n_threads`` OpenMP threads."""
    cdef intp rows = row_stop - row_start, nc, i
    nc = chunks(rows, n_threads)
    with nogil:
        for i in prange(nc, num_threads=nc if nc > 0 else 1, schedule='static'):
            _eigen_rows(t, nch, out, col, row_start + chunk_start(rows, nc, i),
                        row_start + chunk_start(rows, nc, i + 1))
