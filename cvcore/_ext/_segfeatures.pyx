# Per-pixel derived features for cvcore.segmentation.pixel_features.
#
# Input: a Gaussian-smoothed image G (H, W*C), channels interleaved. One pass
# computes, with central finite differences of G (borders: nearest), the
# gradient magnitude, the Laplacian, the Hessian eigenvalues and the products
# that make up the structure tensor; a second kernel turns the smoothed tensor
# into its eigenvalues. Results go straight into columns of the (H, W, F)
# feature array so that nothing is copied twice.
from libc.math cimport sqrt

ctypedef Py_ssize_t intp


cdef inline void _eig2(double a, double b, double c, double* hi, double* lo) noexcept nogil:
    """Eigenvalues (descending) of the symmetric matrix [[a, b], [b, c]]."""
    cdef double m = 0.5 * (a + c)
    cdef double h = 0.5 * (a - c)
    cdef double r = sqrt(h * h + b * b)
    hi[0] = m + r
    lo[0] = m - r


def derived(const float[:, ::1] g, intp nch, double grad_scale, double second_scale,
            float[:, :, ::1] out, intp col_grad, intp col_log, intp col_hess,
            float[:, ::1] prod, intp row_start, intp row_stop):
    """Derived features of rows ``row_start .. row_stop - 1`` of the smoothed
    image ``g`` (H, W*nch); the Python layer calls it on row blocks.

    Writes, for each channel ``c`` (a column index < 0 skips that feature):
      out[..., col_grad + c]        grad_scale * |grad G|
      out[..., col_log + c]         second_scale * (Gxx + Gyy)
      out[..., col_hess + c]        second_scale * larger Hessian eigenvalue
      out[..., col_hess + nch + c]  second_scale * smaller Hessian eigenvalue
    and, when ``prod`` has ``3 * nch`` channels (shape (H, W*3*nch)), the
    structure-tensor products ``grad_scale^2 * (Gx^2, Gx Gy, Gy^2)`` of channel
    ``c`` at channels ``3c, 3c+1, 3c+2``.
    """
    cdef intp H = g.shape[0], W = g.shape[1] // nch
    cdef intp y, x, c, y0, y1, x0, x1
    cdef double gx, gy, gxx, gyy, gxy, v, l1, l2
    cdef double s1 = grad_scale, s2 = second_scale
    cdef bint want_prod = prod.shape[0] == H and prod.shape[1] == W * 3 * nch
    with nogil:
        for y in range(row_start, row_stop):
            y0 = y - 1 if y > 0 else 0
            y1 = y + 1 if y + 1 < H else H - 1
            for x in range(W):
                x0 = x - 1 if x > 0 else 0
                x1 = x + 1 if x + 1 < W else W - 1
                for c in range(nch):
                    v = g[y, x * nch + c]
                    gx = 0.5 * (g[y, x1 * nch + c] - g[y, x0 * nch + c])
                    gy = 0.5 * (g[y1, x * nch + c] - g[y0, x * nch + c])
                    if col_grad >= 0:
                        out[y, x, col_grad + c] = <float>(s1 * sqrt(gx * gx + gy * gy))
                    if want_prod:
                        prod[y, (x * nch + c) * 3] = <float>(s1 * s1 * gx * gx)
                        prod[y, (x * nch + c) * 3 + 1] = <float>(s1 * s1 * gx * gy)
                        prod[y, (x * nch + c) * 3 + 2] = <float>(s1 * s1 * gy * gy)
                    if col_log >= 0 or col_hess >= 0:
                        gxx = g[y, x1 * nch + c] - 2.0 * v + g[y, x0 * nch + c]
                        gyy = g[y1, x * nch + c] - 2.0 * v + g[y0, x * nch + c]
                        if col_log >= 0:
                            out[y, x, col_log + c] = <float>(s2 * (gxx + gyy))
                        if col_hess >= 0:
                            gxy = 0.25 * (g[y1, x1 * nch + c] - g[y1, x0 * nch + c]
                                          - g[y0, x1 * nch + c] + g[y0, x0 * nch + c])
                            _eig2(gxx, gxy, gyy, &l1, &l2)
                            out[y, x, col_hess + c] = <float>(s2 * l1)
                            out[y, x, col_hess + nch + c] = <float>(s2 * l2)


def tensor_eigenvalues(const float[:, ::1] t, intp nch, float[:, :, ::1] out, intp col,
                       intp row_start, intp row_stop):
    """Eigenvalues of smoothed structure tensors ``t`` (H, W*3*nch), rows
    ``row_start .. row_stop - 1``, into ``out[..., col + c]`` (larger) and
    ``out[..., col + nch + c]`` (smaller)."""
    cdef intp H = t.shape[0], W = t.shape[1] // (3 * nch)
    cdef intp y, x, c, k
    cdef double l1, l2
    with nogil:
        for y in range(row_start, row_stop):
            for x in range(W):
                for c in range(nch):
                    k = (x * nch + c) * 3
                    _eig2(t[y, k], t[y, k + 1], t[y, k + 2], &l1, &l2)
                    out[y, x, col + c] = <float>l1
                    out[y, x, col + nch + c] = <float>l2
