# Haar-like feature evaluation over integral images (kernels only, no validation).
#
# A feature is up to three weighted rectangles.  Each rectangle is given as four
# offsets into a flattened integral image of row stride ``W + 1`` (OpenCV's
# ``p0 - p1 - p2 + p3`` corner order), so one window's value is
#     sum_k weight[k] * (I[o0] - I[o1] - I[o2] + I[o3]).
from libc.math cimport sqrt
from libc.stdint cimport int32_t, uint32_t, int64_t
from cython.parallel cimport prange

from cvcore._ext._parallel cimport chunks, chunk_start


# uint32 tables wrap modulo 2**32 (cvcore._ext._integral); a four-corner difference
# taken in uint32 is still the exact sum of a rectangle whose sum is below 2**32
ctypedef fused table_t:
    uint32_t
    int64_t
    double


def feature_values(const table_t[:, ::1] table, Py_ssize_t row_step, const int32_t[:, ::1] offsets,
                   const float[:, ::1] weights, const double[::1] scale, float[:, :] out, Py_ssize_t out_row0,
                   int n_threads):
    """out[out_row0 + i, f] = scale[i] * feature f of window i, for i < scale.shape[0].

    ``table`` is a summed-area table of row stride ``W + 1`` in which window i's
    top-left entry is row ``i * row_step`` (a stack of windows seen as one tall
    image, or a stack of integral images); ``offsets`` (n_features, 12) are
    relative to that entry; ``weights`` (n_features, 3) with 0 for unused rectangles.
    ``out`` may have any row stride; its rows must be contiguous (the caller checks).
    The windows are shared among ``n_threads`` OpenMP threads, each window's values
    computed as on one thread.
    """
    cdef Py_ssize_t nc = chunks(scale.shape[0], n_threads), t
    with nogil:
        for t in prange(nc, num_threads=nc, schedule='static'):
            _feature_values(table, row_step, offsets, weights, scale, out, out_row0,
                            chunk_start(scale.shape[0], nc, t), chunk_start(scale.shape[0], nc, t + 1))


cdef void _feature_values(const table_t[:, ::1] ii, Py_ssize_t row_step, const int32_t[:, ::1] ofs,
                          const float[:, ::1] w, const double[::1] scale, float[:, :] out, Py_ssize_t row0,
                          Py_ssize_t i0, Py_ssize_t i1) noexcept nogil:
    cdef Py_ssize_t n_feat = ofs.shape[0]
    cdef Py_ssize_t f0, f1, f, i
    cdef Py_ssize_t block = 512
    cdef const table_t* p
    cdef const int32_t* o
    cdef float* orow
    cdef double v, s
    f0 = 0
    while f0 < n_feat:
        f1 = min(f0 + block, n_feat)
        for i in range(i0, i1):
            p = &ii[i * row_step, 0]
            s = scale[i]
            orow = &out[row0 + i, 0]
            for f in range(f0, f1):
                o = &ofs[f, 0]
                # rectangle sums in the table's type first: exact for integer tables
                v = w[f, 0] * <double>(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]])
                v += w[f, 1] * <double>(p[o[4]] - p[o[5]] - p[o[6]] + p[o[7]])
                if w[f, 2] != 0:
                    v += w[f, 2] * <double>(p[o[8]] - p[o[9]] - p[o[10]] + p[o[11]])
                orow[f] = <float>(v * s)
        f0 = f1


def norm_factors(const table_t[:, ::1] sums, const table_t[:, ::1] sqsums, int win_w, int win_h,
                 Py_ssize_t row_step, float[:, ::1] out):
    """OpenCV's variance normalisation factor of windows in a summed-area table.

    ``out[i, j] = float32(1 / sqrt(A * sq - s * s))`` for the ``win_w x win_h``
    window whose top-left table entry is ``(i * row_step, j)``, with ``s`` and
    ``sq`` the sum and squared sum over the window shrunk by one pixel on every
    side (area ``A``); 0 when ``A * sq - s * s <= 0``. A stack of window tables
    is one tall table with ``row_step = H + 1``; an image's table gives every
    position with ``row_step = 1``.
    """
    with nogil:
        _norm_factors(sums, sqsums, win_w, win_h, row_step, out)


cdef void _norm_factors(const table_t[:, ::1] sums, const table_t[:, ::1] sqsums, int win_w, int win_h,
                        Py_ssize_t row_step, float[:, ::1] out) noexcept nogil:
    cdef Py_ssize_t i, j, r0, r1, c0, c1
    cdef double area = (win_w - 2) * (win_h - 2)
    cdef double s, q, nf
    for i in range(out.shape[0]):
        r0 = i * row_step + 1
        r1 = i * row_step + win_h - 1
        for j in range(out.shape[1]):
            c0 = j + 1
            c1 = j + win_w - 1
            # differences in the table's own type first: exact for int64 tables
            s = <double>(sums[r0, c0] - sums[r0, c1] - sums[r1, c0] + sums[r1, c1])
            q = <double>(sqsums[r0, c0] - sqsums[r0, c1] - sqsums[r1, c0] + sqsums[r1, c1])
            nf = area * q - s * s
            out[i, j] = <float>(1.0 / sqrt(nf)) if nf > 0 else 0
