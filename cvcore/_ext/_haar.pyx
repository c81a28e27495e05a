# Haar-like feature evaluation over integral images (kernels only, no validation).
#
# A feature is up to three weighted rectangles.  Each rectangle is given as four
# offsets into a flattened integral image of row stride ``W + 1`` (OpenCV's
# ``p0 - p1 - p2 + p3`` corner order), so one window's value is
#     sum_k weight[k] * (I[o0] - I[o1] - I[o2] + I[o3]).
from libc.math cimport sqrt
from libc.stdint cimport int32_t


def feature_values(const double[:, ::1] integrals, const int32_t[:, ::1] offsets,
                   const float[:, ::1] weights, const double[::1] scale,
                   float[:, ::1] out, Py_ssize_t out_row0):
    """out[out_row0 + i, f] = scale[i] * feature f on integral row i.

    ``integrals`` is (n_windows, (H+1)*(W+1)); ``offsets`` (n_features, 12);
    ``weights`` (n_features, 3) with 0 for unused rectangles.
    """
    with nogil:
        _feature_values(integrals, offsets, weights, scale, out, out_row0)


cdef void _feature_values(const double[:, ::1] ii, const int32_t[:, ::1] ofs,
                          const float[:, ::1] w, const double[::1] scale,
                          float[:, ::1] out, Py_ssize_t row0) noexcept nogil:
    cdef Py_ssize_t n_win = ii.shape[0], n_feat = ofs.shape[0]
    cdef Py_ssize_t f0, f1, f, i
    cdef Py_ssize_t block = 512
    cdef const double* p
    cdef const int32_t* o
    cdef double v, s
    f0 = 0
    while f0 < n_feat:
        f1 = min(f0 + block, n_feat)
        for i in range(n_win):
            p = &ii[i, 0]
            s = scale[i]
            for f in range(f0, f1):
                o = &ofs[f, 0]
                v = w[f, 0] * (p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]])
                v += w[f, 1] * (p[o[4]] - p[o[5]] - p[o[6]] + p[o[7]])
                if w[f, 2] != 0:
                    v += w[f, 2] * (p[o[8]] - p[o[9]] - p[o[10]] + p[o[11]])
                out[row0 + i, f] = <float>(v * s)
        f0 = f1


def window_integrals(const double[:, :, ::1] windows, double[:, ::1] sums,
                     double[:, ::1] sqsums):
    """Flattened (H+1)x(W+1) sum and squared-sum tables of each window."""
    with nogil:
        _window_integrals(windows, sums, sqsums)


cdef void _window_integrals(const double[:, :, ::1] win, double[:, ::1] sums,
                            double[:, ::1] sqsums) noexcept nogil:
    cdef Py_ssize_t n = win.shape[0], h = win.shape[1], w = win.shape[2]
    cdef Py_ssize_t k, r, c, stride = w + 1
    cdef double row, row2, v
    for k in range(n):
        for c in range(stride):
            sums[k, c] = 0
            sqsums[k, c] = 0
        for r in range(h):
            sums[k, (r + 1) * stride] = 0
            sqsums[k, (r + 1) * stride] = 0
            row = 0
            row2 = 0
            for c in range(w):
                v = win[k, r, c]
                row = row + v
                row2 = row2 + v * v
                sums[k, (r + 1) * stride + c + 1] = sums[k, r * stride + c + 1] + row
                sqsums[k, (r + 1) * stride + c + 1] = sqsums[k, r * stride + c + 1] + row2


def norm_factors(const double[:, ::1] sums, const double[:, ::1] sqsums,
                 const int32_t[::1] nofs, double area, double[::1] out):
    """OpenCV's variance normalisation: out = 1 / sqrt(area*sqsum - sum^2) (1 if <= 0)."""
    with nogil:
        _norm_factors(sums, sqsums, nofs, area, out)


cdef void _norm_factors(const double[:, ::1] sums, const double[:, ::1] sqsums,
                        const int32_t[::1] nofs, double area, double[::1] out) noexcept nogil:
    cdef Py_ssize_t i
    cdef double s, q, nf
    for i in range(sums.shape[0]):
        s = sums[i, nofs[0]] - sums[i, nofs[1]] - sums[i, nofs[2]] + sums[i, nofs[3]]
        q = sqsums[i, nofs[0]] - sqsums[i, nofs[1]] - sqsums[i, nofs[2]] + sqsums[i, nofs[3]]
        nf = area * q - s * s
        if nf > 0:
            out[i] = <float>(1.0 / sqrt(nf))
        else:
            out[i] = 1.0
