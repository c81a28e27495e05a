# Per-pixel derived features for cvcore.segmentation.pixel_features.
#
# Input: a Gaussian-smoothed image G (H, W*C), channels interleaved, and, for
# the difference of Gaussians, the wider smoothing. One pass over the rows
# writes, straight into columns of the (H, W, F) feature array, the intensity,
# the difference of Gaussians and, from central finite differences of G
# (borders: nearest), the gradient magnitude, the Laplacian, the Hessian
# eigenvalues and the products that make up the structure tensor; a second
# kernel turns the smoothed tensor into its eigenvalues. Rows are split among
# OpenMP threads (cvcore._ext._parallel); every pixel is computed from its
# inputs alone, so results do not depend on the thread count.
from libc.math cimport sqrt
from cython.parallel cimport prange

from cvcore._ext._parallel cimport chunks, chunk_start

ctypedef Py_ssize_t intp


cdef inline void _eig2(double a, double b, double c, double* hi, double* lo) noexcept nogil:
    """Eigenvalues (descending) of the symmetric matrix [[a, b], [b, c]]."""
    cdef double m = 0.5 * (a + c)
    cdef double h = 0.5 * (a - c)
    cdef double r = sqrt(h * h + b * b)
    hi[0] = m + r
    lo[0] = m - r


cdef struct Columns:
    intp intensity, dog, grad, log, hess   # first column of each feature (< 0: not wanted)
    bint prod                              # write the structure-tensor products


cdef void _derived_rows(const float[:, ::1] g, const float[:, ::1] wider, intp nch, double s1, double s2,
                        float[:, :, ::1] out, Columns cols, float[:, ::1] prod,
                        intp row_start, intp row_stop) noexcept nogil:
    cdef intp H = g.shape[0], W = g.shape[1] // nch
    cdef intp y, x, c, y0, y1, x0, x1
    cdef double gx, gy, gxx, gyy, gxy, v, l1, l2
    for y in range(row_start, row_stop):
        y0 = y - 1 if y > 0 else 0
        y1 = y + 1 if y + 1 < H else H - 1
        for x in range(W):
            x0 = x - 1 if x > 0 else 0
            x1 = x + 1 if x + 1 < W else W - 1
            for c in range(nch):
                if cols.intensity >= 0:
                    out[y, x, cols.intensity + c] = g[y, x * nch + c]
                if cols.dog >= 0:
                    out[y, x, cols.dog + c] = g[y, x * nch + c] - wider[y, x * nch + c]
                v = g[y, x * nch + c]
                gx = 0.5 * (g[y, x1 * nch + c] - g[y, x0 * nch + c])
                gy = 0.5 * (g[y1, x * nch + c] - g[y0, x * nch + c])
                if cols.grad >= 0:
                    out[y, x, cols.grad + c] = <float>(s1 * sqrt(gx * gx + gy * gy))
                if cols.prod:
                    prod[y, (x * nch + c) * 3] = <float>(s1 * s1 * gx * gx)
                    prod[y, (x * nch + c) * 3 + 1] = <float>(s1 * s1 * gx * gy)
                    prod[y, (x * nch + c) * 3 + 2] = <float>(s1 * s1 * gy * gy)
                if cols.log >= 0 or cols.hess >= 0:
                    gxx = g[y, x1 * nch + c] - 2.0 * v + g[y, x0 * nch + c]
                    gyy = g[y1, x * nch + c] - 2.0 * v + g[y0, x * nch + c]
                    if cols.log >= 0:
                        out[y, x, cols.log + c] = <float>(s2 * (gxx + gyy))
                    if cols.hess >= 0:
                        gxy = 0.25 * (g[y1, x1 * nch + c] - g[y1, x0 * nch + c]
                                      - g[y0, x1 * nch + c] + g[y0, x0 * nch + c])
                        _eig2(gxx, gxy, gyy, &l1, &l2)
                        out[y, x, cols.hess + c] = <float>(s2 * l1)
                        out[y, x, cols.hess + nch + c] = <float>(s2 * l2)


def derived(const float[:, ::1] g, const float[:, ::1] wider, intp nch, double grad_scale, double second_scale,
            float[:, :, ::1] out, intp col_intensity, intp col_dog, intp col_grad, intp col_log, intp col_hess,
            float[:, ::1] prod, intp row_start, intp row_stop, int n_threads=1):
    """Features of rows ``row_start .. row_stop - 1`` of the smoothed image ``g``
    (H, W*nch), on ``n_threads`` OpenMP threads; the Python layer calls it on
    row blocks.

    Writes, for each channel ``c`` (a column index < 0 skips that feature):
      out[..., col_intensity + c]   G
      out[..., col_dog + c]         G - wider (float32 subtraction; ``wider`` has g's shape)
      out[..., col_grad + c]        grad_scale * |grad G|
      out[..., col_log + c]         second_scale * (Gxx + Gyy)
      out[..., col_hess + c]        second_scale * larger Hessian eigenvalue
      out[..., col_hess + nch + c]  second_scale * smaller Hessian eigenvalue
    and, when ``prod`` has ``3 * nch`` channels (shape (H, W*3*nch)), the
    structure-tensor products ``grad_scale^2 * (Gx^2, Gx Gy, Gy^2)`` of channel
    ``c`` at channels ``3c, 3c+1, 3c+2``.
    """
    cdef intp H = g.shape[0], W = g.shape[1] // nch
    cdef Columns cols
    cdef intp rows = row_stop - row_start, nc, t
    cols.intensity = col_intensity
    cols.dog = col_dog if wider.shape[0] == H and wider.shape[1] == g.shape[1] else -1
    cols.grad = col_grad
    cols.log = col_log
    cols.hess = col_hess
    cols.prod = prod.shape[0] == H and prod.shape[1] == W * 3 * nch
    nc = chunks(rows, n_threads)
    with nogil:
        for t in prange(nc, num_threads=nc if nc > 0 else 1, schedule='static'):
            _derived_rows(g, wider, nch, grad_scale, second_scale, out, cols, prod,
                          row_start + chunk_start(rows, nc, t), row_start + chunk_start(rows, nc, t + 1))


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
