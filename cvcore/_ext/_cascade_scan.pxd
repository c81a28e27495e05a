# Shared by the Haar and LBP cascade scans (_cascade.pyx, _lbp.pyx): each band
# of window rows (here: each row, scheduled dynamically among the OpenMP threads)
# writes its accepted windows from its own offset of the output arrays
# (``chunk_start(rows, nc, t) * per_row``: room for every window of the band);
# ``pack_bands`` then moves them together in band order, so the output is the
# serial scan's whatever the number of threads and whichever thread ran a band.
from libc.stdint cimport int32_t
from libc.string cimport memmove

from cvcore._ext._parallel cimport chunk_start


cdef inline Py_ssize_t pack_bands(const Py_ssize_t* counts, Py_ssize_t nc, Py_ssize_t rows, Py_ssize_t per_row,
                                  int32_t* xy, double* sums) noexcept nogil:
    cdef Py_ssize_t t, start, n = 0
    for t in range(nc):
        start = chunk_start(rows, nc, t) * per_row
        if start != n and counts[t] > 0:
            memmove(xy + 2 * n, xy + 2 * start, counts[t] * 2 * sizeof(int32_t))
            memmove(sums + n, sums + start, counts[t] * sizeof(double))
        n += counts[t]
    return n


cdef inline Py_ssize_t write_row(const int32_t* xs, const double* sums, Py_ssize_t na, Py_ssize_t y,
                                 int32_t* out_xy, double* out_sum) noexcept nogil:
    """Append a row's accepted windows (columns ``xs``, last-stage sums ``sums``) to the outputs as
    ``(x, y)`` pairs and sums; returns ``na``."""
    cdef Py_ssize_t i
    for i in range(na):
        out_xy[2 * i] = xs[i]
        out_xy[2 * i + 1] = <int32_t>y
        out_sum[i] = sums[i]
    return na
